#!/usr/bin/env bash
# quantize_int4.sh — weight-only grouped quantization figures on
# Fashion-MNIST, recorded with their commands in
# bench/results/quantize_int4.txt: vggsmall, resnet8 and mobilenet
# (bench/models/NAME.onnx, or $M/NAME.onnx) with 4-bit weights in groups of
# 32, 64 and 128 input channels (nnslim quantize --weights int4
# --group-size N), and 8-bit weights in groups of 32: the float and
# quantized accuracy on the test set, the file sizes and their ratio, the
# quantized file's accuracy in nnslim eval (the file read back) and in ONNX
# Runtime (tools/ort_eval.js, when onnxruntime-node is installed). A group
# size that does not fit a model is recorded with nnslim's error.
set -uo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
M=${M:-bench/models}
OUT=${OUT:-$(mktemp -d)}
MEAN=0.286041 STD=0.353024
mkdir -p bench/results
res=bench/results/quantize_int4.txt
isa=$(for f in avx512_vnni avx512f avx2; do grep -qw "$f" /proc/cpuinfo && { echo "$f"; break; }; done)
echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) isa ${isa:-?} load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$res"
log() { echo "$*" | tee -a "$res"; }
get() { sed -E "s/.*\"$1\": \\{([^}]*)\\}.*/\\1/" <<<"$3" | sed -E "s/.*\"$2\": ([0-9.e+-]+).*/\\1/"; }
log "model weights group | float_acc quant_acc | float_bytes quant_bytes ratio | nnslim_eval_acc ort_acc"
for m in vggsmall resnet8 mobilenet; do
  for wg in "int4 32" "int4 64" "int4 128" "int8 32"; do
    read -r w g <<<"$wg"
    f="$OUT/${m}_${w}_g$g.onnx"
    cmd=("$NNS" quantize "$M/$m.onnx" --weights "$w" --group-size "$g" --threads 2 -o "$f" --json)
    echo "# ${cmd[*]}" >>"$res"
    if ! json=$("${cmd[@]}" 2>"$OUT/err"); then
      log "$m $w $g | refused: $(tail -n 1 "$OUT/err")"
      continue
    fi
    fa=$(get before accuracy "$json") qa=$(get after accuracy "$json")
    fb=$(get before file_bytes "$json") qb=$(get after file_bytes "$json")
    ev=$("$NNS" eval "$f" --threads 2 --json 2>/dev/null | sed -E 's/.*"accuracy": ([0-9.]+).*/\1/')
    ort="-"
    if [[ -d third_party/node_modules/onnxruntime-node ]]; then
      ort=$(node tools/ort_eval.js "$f" --mean "$MEAN" --std "$STD" --threads 2 | sed -E 's/.*"accuracy":([0-9.]+).*/\1/')
    fi
    log "$m $w $g | $fa $qa | $fb $qb $(awk -v a="$qb" -v b="$fb" 'BEGIN{printf "%.2f%%", 100*a/b}') | $ev $ort"
  done
done
