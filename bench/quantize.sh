#!/usr/bin/env bash
# quantize.sh — the quantization figures of issue #13 on Fashion-MNIST,
# recorded with their commands in bench/results/quantize.txt:
#   1. PTQ with the defaults (per-channel s8 weights, u8 activations, min/max,
#      1000 calibration images) of vggsmall, resnet8 and mobilenet trained by
#      nnslim (bench/models/NAME.onnx; trained here with the default recipe
#      when absent), and mobilenet with every calibration method, per tensor
#      and with s8 activations;
#   2. each quantized file's accuracy in ONNX Runtime (tools/ort_eval.js),
#      when onnxruntime-node is installed;
#   3. mixed precision on mobilenet for --max-loss 0.5 (min/max and entropy
#      calibration), and QAT of vggsmall, one epoch;
#   4. lenet5 pruned to 90% by magnitude, then QAT one epoch: sparsity kept,
#      accuracy, file size against the dense float file, gzip size;
#   5. peak resident memory of PTQ with --calib entropy and 1000 vs 10000
#      calibration images.
# Latencies are only meaningful on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
M=bench/models
mkdir -p bench/results "$M"
res=bench/results/quantize.txt
isa=$(for f in avx512_vnni avx512f avx2; do grep -qw "$f" /proc/cpuinfo && { echo "$f"; break; }; done)
echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) isa ${isa:-?} load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$res"
log() { echo "$*" | tee -a "$res"; }
train() { [[ -f "$M/$1.onnx" ]] || "$NNS" train --arch "$1" --threads 2 -o "$M/$1.onnx" --json | tee -a "$res"; }
ort() {
  local f="$1" mean="$2" std="$3"
  if [[ -d third_party/node_modules/onnxruntime-node ]]; then
    log "ort $f | $(node tools/ort_eval.js "$f" --mean "$mean" --std "$std" --threads 2)"
  fi
}
quant() {
  local name="$1"; shift
  local json
  json=$("$NNS" quantize "$@" --json)
  log "$name | nnslim quantize $* --json"
  log "$json"
}
for a in vggsmall resnet8 mobilenet; do train "$a"; done
# mean and std as nnslim recorded them (train --json prints them; the data set's)
MEAN=0.286041 STD=0.353024
for a in vggsmall resnet8 mobilenet; do
  quant "$a PTQ defaults" "$M/$a.onnx" --threads 2 -o "$M/${a}_int8.onnx"
  ort "$M/$a.onnx" $MEAN $STD
  ort "$M/${a}_int8.onnx" $MEAN $STD
done
for o in "--calib percentile" "--calib entropy" "--calib mse" "--per-tensor" "--activations int8"; do
  # shellcheck disable=SC2086
  quant "mobilenet PTQ $o" "$M/mobilenet.onnx" $o --threads 2 -o "$M/mobilenet_q.onnx"
done
quant "mobilenet mixed precision, --max-loss 0.5" "$M/mobilenet.onnx" --max-loss 0.5 --threads 2 -o "$M/mobilenet_mixed.onnx"
quant "mobilenet mixed precision, --calib entropy --max-loss 0.5" "$M/mobilenet.onnx" --calib entropy --max-loss 0.5 --threads 2 -o "$M/mobilenet_mixed_e.onnx"
quant "vggsmall QAT 1 epoch" "$M/vggsmall.onnx" --mode qat --epochs 1 --threads 2 -o "$M/vggsmall_qat.onnx"
ort "$M/vggsmall_qat.onnx" $MEAN $STD
train lenet5
"$NNS" prune "$M/lenet5.onnx" --method magnitude --sparsity 0.9 --finetune-epochs 2 --threads 2 -o "$M/lenet5_s90.onnx" --json | tee -a "$res"
quant "lenet5 90% pruned, QAT 1 epoch" "$M/lenet5_s90.onnx" --mode qat --epochs 1 --threads 2 -o "$M/lenet5_s90_qat.onnx"
log "lenet5 dense float file $(stat -c %s "$M/lenet5.onnx") bytes; pruned+QAT file $(stat -c %s "$M/lenet5_s90_qat.onnx") bytes, gzip -9 $(gzip -9 -c "$M/lenet5_s90_qat.onnx" | wc -c) bytes"
ort "$M/lenet5_s90_qat.onnx" $MEAN $STD
for n in 1000 10000; do
  /usr/bin/time -f "%M" -o /tmp/quant_rss.$$ "$NNS" quantize "$M/mobilenet.onnx" --calib entropy --calib-samples $n --threads 2 \
    -o "$M/mobilenet_e$n.onnx" >/dev/null 2>&1
  log "peak RSS, mobilenet PTQ --calib entropy --calib-samples $n: $(cat /tmp/quant_rss.$$) KiB"
done
rm -f /tmp/quant_rss.$$
