#!/usr/bin/env bash
# run.sh — the main job: train the built-in vggsmall on Fashion-MNIST (Debian's
# dataset-fashion-mnist), evaluate it, save it as ONNX and show its layers.
# Environment: EPOCHS (default: the architecture's, 6), OUT (default out/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh build
OUT="${OUT:-out}"
mkdir -p "$OUT"
args=()
[[ -n "${EPOCHS:-}" ]] && args+=(--epochs "$EPOCHS")
echo "== train vggsmall" >&2
./build/nnslim train --arch vggsmall "${args[@]}" -o "$OUT/vggsmall.onnx"
echo "== eval" >&2
./build/nnslim eval "$OUT/vggsmall.onnx"
echo "== info" >&2
./build/nnslim info "$OUT/vggsmall.onnx"
