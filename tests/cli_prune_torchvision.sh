#!/usr/bin/env bash
# cli_prune_torchvision.sh NNSLIM — torchvision's ResNet-18 and MobileNetV2
# (random weights, 32x32x3 inputs, 10 classes, exported by
# tools/export_torchvision.py) channel-pruned by 40% with nnslim: the pruned
# ONNX loads in ONNX Runtime and gives nnslim's outputs (max abs difference
# <= 1e-4), and the file is smaller. Latencies in ONNX Runtime are printed
# (not asserted: timing on a shared machine is noisy).
# Skips (exit 77) when /usr/bin/python3 lacks torch/torchvision/onnx, when
# onnxruntime-node is not installed (tools/setup_ort.sh), or when this nnslim
# has no 'prune' command yet.
set -u
NNS="$1"
SRC="${NNS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
if [[ "${NNS_SANITIZED:-0}" == 1 ]]; then
  echo "skipped: too slow under the sanitizers (the release build runs it)"
  exit 77
fi
if ! "$NNS" prune --help >/dev/null 2>&1; then
  echo "skipped: this nnslim has no 'prune' command"
  exit 77
fi
if ! /usr/bin/python3 -c 'import torch, torchvision, onnx' >/dev/null 2>&1; then
  echo "skipped: /usr/bin/python3 lacks torch, torchvision or onnx"
  exit 77
fi
if ! command -v node >/dev/null 2>&1 || [[ ! -d "$SRC/third_party/node_modules/onnxruntime-node" ]]; then
  echo "skipped: onnxruntime-node is not installed (run tools/setup_ort.sh)"
  exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
if ! /usr/bin/python3 "$SRC/tools/export_torchvision.py" --model all --out "$T" --batch 4 >"$T/export.log" 2>&1; then
  echo "FAIL: export: $(tail -n 3 "$T/export.log")"
  exit 1
fi
for m in resnet18 mobilenet_v2; do
  # the import matches PyTorch
  if ! "$NNS" run "$T/$m.onnx" --input "$T/${m}_x.npy" -o "$T/${m}_nns0.npy" 2>"$T/err"; then
    echo "FAIL: $m: nnslim run: $(cat "$T/err")"; fail=$((fail+1)); continue
  fi
  if ! out=$(node "$SRC/tools/npy_compare.js" "$T/${m}_nns0.npy" "$T/${m}_y.npy" --tol 1e-4 2>&1); then
    echo "FAIL: $m: nnslim vs PyTorch before pruning: $out"; fail=$((fail+1)); continue
  fi
  # 40% of the channels, rounded to multiples of 8 (ONNX Runtime's blocked
  # kernels are much slower on odd channel counts)
  if ! "$NNS" prune "$T/$m.onnx" --method channel --sparsity 0.4 --criterion l1 --round-to 8 \
       -o "$T/${m}_p.onnx" >"$T/prune.log" 2>"$T/err"; then
    echo "FAIL: $m: nnslim prune: $(cat "$T/err")"; fail=$((fail+1)); continue
  fi
  if [[ ! -s "$T/${m}_p.onnx" ]]; then
    echo "FAIL: $m: no pruned model written"; fail=$((fail+1)); continue
  fi
  s0=$(stat -c %s "$T/$m.onnx"); s1=$(stat -c %s "$T/${m}_p.onnx")
  if (( s1 * 10 > s0 * 7 )); then
    echo "FAIL: $m: pruned file is $s1 bytes, original $s0 (expected < 70%)"; fail=$((fail+1)); continue
  fi
  if ! "$NNS" run "$T/${m}_p.onnx" --input "$T/${m}_x.npy" -o "$T/${m}_nns.npy" 2>"$T/err"; then
    echo "FAIL: $m: nnslim run (pruned): $(cat "$T/err")"; fail=$((fail+1)); continue
  fi
  if ! node "$SRC/tools/ort_run.js" "$T/${m}_p.onnx" "$T/${m}_x.npy" "$T/${m}_ort.npy" >/dev/null 2>"$T/err"; then
    echo "FAIL: $m: onnxruntime (pruned): $(cat "$T/err")"; fail=$((fail+1)); continue
  fi
  if out=$(node "$SRC/tools/npy_compare.js" "$T/${m}_nns.npy" "$T/${m}_ort.npy" --tol 1e-4 2>&1); then
    echo "$m: pruned $s0 -> $s1 bytes; nnslim vs onnxruntime: $out"; pass=$((pass+1))
  else
    echo "FAIL: $m: $out"; fail=$((fail+1)); continue
  fi
  for f in "$m.onnx" "${m}_p.onnx"; do
    lat=$(node "$SRC/tools/ort_run.js" "$T/$f" --bench 1 --iters 50 --warmup 5 2>/dev/null)
    echo "  onnxruntime $f: $lat"
  done
done
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
