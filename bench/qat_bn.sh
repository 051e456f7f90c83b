#!/usr/bin/env bash
# qat_bn.sh — quantization-aware training with BatchNormalization statistics
# frozen from the start (--freeze-bn 0, the default: folded before training)
# against following the batches for the first epoch (--freeze-bn 1), two QAT
# epochs each, on the models of bench/models (trained by nnslim with the
# default recipe; trained here when absent). Records each run's command and
# JSON in bench/results/qat_bn.txt and prints a table of test accuracies
# (float, then int8 after QAT) and each int8 file's accuracy in ONNX
# Runtime when onnxruntime-node is installed.
#
#   bash bench/qat_bn.sh [MODEL...]      (default: resnet8 mobilenet vggsmall)
set -euo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
M=bench/models
mkdir -p bench/results "$M"
res=bench/results/qat_bn.txt
isa=$(for f in avx512_vnni avx512f avx2; do grep -qw "$f" /proc/cpuinfo && { echo "$f"; break; }; done)
echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) isa ${isa:-?} load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$res"
log() { echo "$*" | tee -a "$res"; }
acc() { sed -n "s/.*\"$1\": {\"accuracy\": \([0-9.]*\).*/\1/p" <<<"$2"; }
models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(resnet8 mobilenet vggsmall)
table=()
for m in "${models[@]}"; do
  [[ -f "$M/$m.onnx" ]] || "$NNS" train --arch "$m" --threads 2 -o "$M/$m.onnx" --json >>"$res"
  for fb in 0 1; do
    out="$M/${m}_qat_fb$fb.onnx"
    cmd=("$NNS" quantize "$M/$m.onnx" --mode qat --epochs 2 --freeze-bn "$fb" --threads 2 -o "$out" --json)
    json=$("${cmd[@]}")
    log "${cmd[*]}"
    log "$json"
    ort="-"
    if [[ -d third_party/node_modules/onnxruntime-node ]]; then
      ort=$(node tools/ort_eval.js "$out" --mean 0.286041 --std 0.353024 --threads 2 | sed -n 's/.*"accuracy": *\([0-9.]*\).*/\1/p')
      log "ort $out accuracy $ort"
    fi
    table+=("| $m | $fb | $(acc before "$json") | $(acc after "$json") | $ort |")
  done
done
log "| model | --freeze-bn | float | int8 after 2 QAT epochs | ONNX Runtime, same file |"
log "| --- | --- | --- | --- | --- |"
for r in "${table[@]}"; do log "$r"; done
