#!/usr/bin/env bash
# run.sh — the main job on Fashion-MNIST (Debian's dataset-fashion-mnist):
#   1. train the built-in vggsmall, evaluate it, save it as ONNX, show its layers;
#   2. prune half the channels of every convolution (a smaller dense model),
#      fine-tune 2 epochs, and print the before/after table;
#   3. prune 90% of the weights by magnitude (sparse storage), fine-tune, and
#      print the before/after table;
#   4. distill a small student (lenet5) from the trained vggsmall (soft outputs
#      and a hint on the penultimate features), beside the same lenet5 trained
#      alone;
#   5. quantize the trained model and the channel-pruned one to 8 bits
#      (post-training, 1000 calibration images, QDQ ONNX), and print each
#      layer's precision and the before/after table;
#   6. compare all of them side by side: accuracy, size, MACs, latency.
# Environment: EPOCHS (training epochs, default: the architecture's, 6),
# FT_EPOCHS (fine-tuning epochs, default 2), KD_EPOCHS (the student's epochs,
# default lenet5's 10), OUT (default out/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
OUT="${OUT:-out}"
FT="${FT_EPOCHS:-2}"
mkdir -p "$OUT"
args=()
[[ -n "${EPOCHS:-}" ]] && args+=(--epochs "$EPOCHS")
NNS=./build/nnslim
echo "== train vggsmall" >&2
$NNS train --arch vggsmall "${args[@]}" -o "$OUT/vggsmall.onnx"
echo "== eval" >&2
$NNS eval "$OUT/vggsmall.onnx"
echo "== info" >&2
$NNS info "$OUT/vggsmall.onnx"
echo "== prune: half the channels of every convolution, $FT fine-tuning epochs" >&2
$NNS prune "$OUT/vggsmall.onnx" --method channel --sparsity 0.5 --finetune-epochs "$FT" \
  -o "$OUT/vggsmall_channels50.onnx"
echo "== prune: 90% of the weights by magnitude, $FT fine-tuning epochs" >&2
$NNS prune "$OUT/vggsmall.onnx" --method magnitude --sparsity 0.9 --finetune-epochs "$FT" \
  -o "$OUT/vggsmall_sparse90.onnx"
kd=()
[[ -n "${KD_EPOCHS:-}" ]] && kd+=(--epochs "$KD_EPOCHS")
echo "== distill: lenet5 learns from the trained vggsmall (and, as the baseline, alone)" >&2
$NNS distill --teacher "$OUT/vggsmall.onnx" --student lenet5 --hint auto "${kd[@]}" --baseline \
  --baseline-output "$OUT/lenet5_alone.onnx" -o "$OUT/lenet5_distilled.onnx"
echo "== quantize: the trained model and the channel-pruned one to 8 bits (post-training)" >&2
$NNS quantize "$OUT/vggsmall.onnx" -o "$OUT/vggsmall_int8.onnx"
$NNS quantize "$OUT/vggsmall_channels50.onnx" -o "$OUT/vggsmall_channels50_int8.onnx"
echo "== compare: the trained model, the pruned ones, the distilled student, the quantized ones" >&2
$NNS compare "$OUT/vggsmall.onnx" "$OUT/vggsmall_channels50.onnx" "$OUT/vggsmall_sparse90.onnx" \
  "$OUT/lenet5_distilled.onnx" "$OUT/lenet5_alone.onnx" "$OUT/vggsmall_int8.onnx" \
  "$OUT/vggsmall_channels50_int8.onnx"
