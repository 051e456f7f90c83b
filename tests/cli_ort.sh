#!/usr/bin/env bash
# cli_ort.sh NNSLIM — every model nnslim saves runs in ONNX Runtime with the
# same outputs (max abs difference <= 1e-4), the weight-only grouped ones
# too (4-bit INT4 and grouped int8 weights, opset 21's blocked
# DequantizeLinear), and 16-bit float weights with 16-bit activations.
# Skips (exit 77) when
# onnxruntime-node is not installed (tools/setup_ort.sh installs it).
set -u
NNS="$1"
SRC="${NNS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
if ! command -v node >/dev/null 2>&1 || [[ ! -d "$SRC/third_party/node_modules/onnxruntime-node" ]]; then
  echo "skipped: onnxruntime-node is not installed (run tools/setup_ort.sh)"
  exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
# a small training set from the real data if present, else synthetic IDX
DATA=(--limit 128 --test-limit 200)
[[ -d /usr/share/datasets/fashion-mnist ]] || { echo "skipped: no fashion-mnist"; exit 77; }
# random inputs: 5 samples of 1x28x28
node -e '
const npy = require(process.argv[1] + "/tools/npy.js");
let s = 12345; const r = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 * 4 - 2; };
const d = new Float32Array(5 * 784); for (let i = 0; i < d.length; i++) d[i] = r();
npy.writeNpyF32(process.argv[2], [5, 1, 28, 28], d);' "$SRC" "$T/x.npy" 2>"$T/err" || {
  echo "FAIL: cannot write the input: $(cat "$T/err")"; exit 1; }
for a in lenet300 lenet5 vggsmall resnet8 mobilenet; do
  if ! "$NNS" train --arch "$a" "${DATA[@]}" --epochs 1 --batch-size 64 -o "$T/$a.onnx" >/dev/null 2>"$T/err"; then
    echo "FAIL: $a: train: $(cat "$T/err")"; fail=$((fail+1)); continue
  fi
  "$NNS" run "$T/$a.onnx" --input "$T/x.npy" -o "$T/${a}_nns.npy" 2>"$T/err" || {
    echo "FAIL: $a: nnslim run: $(cat "$T/err")"; fail=$((fail+1)); continue; }
  node "$SRC/tools/ort_run.js" "$T/$a.onnx" "$T/x.npy" "$T/${a}_ort.npy" >/dev/null 2>"$T/err" || {
    echo "FAIL: $a: onnxruntime: $(cat "$T/err")"; fail=$((fail+1)); continue; }
  if out=$(node "$SRC/tools/npy_compare.js" "$T/${a}_nns.npy" "$T/${a}_ort.npy" --tol 1e-4 2>&1); then
    echo "$a: $out"; pass=$((pass+1))
  else
    echo "FAIL: $a: $out"; fail=$((fail+1))
  fi
done
# weight-only grouped quantization: opset 21, INT4 / INT8 read through a blocked DequantizeLinear
for q in "resnet8 int4 32" "mobilenet int4 32" "resnet8 int8 16" "vggsmall int4 64"; do
  read -r a w gs <<<"$q"
  [[ -f "$T/$a.onnx" ]] || continue
  m="$T/${a}_${w}_g$gs"
  "$NNS" quantize "$T/$a.onnx" --weights "$w" --group-size "$gs" "${DATA[@]}" -o "$m.onnx" >/dev/null 2>"$T/err" || {
    echo "FAIL: $a $w g$gs: quantize: $(cat "$T/err")"; fail=$((fail+1)); continue; }
  "$NNS" run "$m.onnx" --input "$T/x.npy" -o "${m}_nns.npy" 2>"$T/err" || {
    echo "FAIL: $a $w g$gs: nnslim run: $(cat "$T/err")"; fail=$((fail+1)); continue; }
  node "$SRC/tools/ort_run.js" "$m.onnx" "$T/x.npy" "${m}_ort.npy" >/dev/null 2>"$T/err" || {
    echo "FAIL: $a $w g$gs: onnxruntime: $(cat "$T/err")"; fail=$((fail+1)); continue; }
  if out=$(node "$SRC/tools/npy_compare.js" "${m}_nns.npy" "${m}_ort.npy" --tol 1e-4 2>&1); then
    echo "$a $w g$gs: $out"; pass=$((pass+1))
  else
    echo "FAIL: $a $w g$gs: $out"; fail=$((fail+1))
  fi
done
# 16-bit float weights and activations (Casts to FLOAT16 / BFLOAT16 and back):
# both runtimes round the same activations, but a value computed a few float
# ulps apart can round to the neighbouring 16-bit number, so the outputs are
# compared within a few 16-bit steps (f16: 2^-11, bf16: 2^-8, relative)
for q in "resnet8 bf16 0.01" "mobilenet fp16 0.002" "lenet5 bf16 0.01" "vggsmall fp16 0.002"; do
  read -r a w tol <<<"$q"
  [[ -f "$T/$a.onnx" ]] || continue
  m="$T/${a}_${w}_a16"
  "$NNS" quantize "$T/$a.onnx" --weights "$w" --activations "$w" "${DATA[@]}" -o "$m.onnx" >/dev/null 2>"$T/err" || {
    echo "FAIL: $a $w activations: quantize: $(cat "$T/err")"; fail=$((fail+1)); continue; }
  "$NNS" run "$m.onnx" --input "$T/x.npy" -o "${m}_nns.npy" 2>"$T/err" || {
    echo "FAIL: $a $w activations: nnslim run: $(cat "$T/err")"; fail=$((fail+1)); continue; }
  node "$SRC/tools/ort_run.js" "$m.onnx" "$T/x.npy" "${m}_ort.npy" >/dev/null 2>"$T/err" || {
    echo "FAIL: $a $w activations: onnxruntime: $(cat "$T/err")"; fail=$((fail+1)); continue; }
  if out=$(node "$SRC/tools/npy_compare.js" "${m}_nns.npy" "${m}_ort.npy" --tol "$tol" 2>&1); then
    echo "$a $w activations: $out"; pass=$((pass+1))
  else
    echo "FAIL: $a $w activations: $out"; fail=$((fail+1))
  fi
done
# W4A8 (INT4 weights per output channel, uint8 activations): ONNX Runtime
# runs the QDQ graph in float, nnslim in integers; they agree within a few
# quantization steps of the logits
for a in resnet8 mobilenet; do
  [[ -f "$T/$a.onnx" ]] || continue
  m="$T/${a}_w4a8"
  "$NNS" quantize "$T/$a.onnx" --weights int4 --activations uint8 "${DATA[@]}" -o "$m.onnx" >/dev/null 2>"$T/err" || {
    echo "FAIL: $a W4A8: quantize: $(cat "$T/err")"; fail=$((fail+1)); continue; }
  "$NNS" run "$m.onnx" --input "$T/x.npy" -o "${m}_nns.npy" 2>"$T/err" || {
    echo "FAIL: $a W4A8: nnslim run: $(cat "$T/err")"; fail=$((fail+1)); continue; }
  node "$SRC/tools/ort_run.js" "$m.onnx" "$T/x.npy" "${m}_ort.npy" >/dev/null 2>"$T/err" || {
    echo "FAIL: $a W4A8: onnxruntime: $(cat "$T/err")"; fail=$((fail+1)); continue; }
  if out=$(node "$SRC/tools/npy_compare.js" "${m}_nns.npy" "${m}_ort.npy" --tol 0.05 2>&1); then
    echo "$a W4A8: $out"; pass=$((pass+1))
  else
    echo "FAIL: $a W4A8: $out"; fail=$((fail+1))
  fi
done
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
