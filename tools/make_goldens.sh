#!/usr/bin/env bash
# make_goldens.sh — regenerate tests/golden/: PyTorch exports of the built-in
# architectures (random weights, seed 0, batch 4) with PyTorch's outputs.
# Needs Debian's python3-torch and python3-onnx (/usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 tools/export_torch.py --all --keep-bn --seed 0 --batch 4 --out "$tmp" >&2
mkdir -p "$out"
for a in lenet300 lenet5 resnet8 mobilenet; do
  cp "$tmp/$a.onnx" "$tmp/${a}_x.npy" "$tmp/${a}_y.npy" "$out/"
done
# BatchNorm kept (not folded by the exporter)
for a in resnet8 mobilenet vggsmall; do
  cp "$tmp/${a}_bn.onnx" "$out/"
done
cp "$tmp/vggsmall_x.npy" "$tmp/vggsmall_y.npy" "$out/"
ls -la "$out" >&2
