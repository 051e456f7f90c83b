#!/usr/bin/env bash
# cli_errors.sh NNSLIM — the command's bad-input paths: each gives a one-line
# error naming what is at fault, the right exit status, no crash, and no
# (half-)written output file.
set -u
NNS="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }

# expect STATUS PATTERN -- command...: exit status, one-line stderr matching PATTERN
expect() {
  local want="$1" pat="$2"; shift 3
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [[ $got -ne $want ]]; then bad "$* -> exit $got, want $want: $(head -c 300 "$T/err")"; return; fi
  if [[ -n "$pat" ]] && ! grep -q -- "$pat" "$T/err"; then bad "$* -> stderr lacks '$pat': $(head -c 300 "$T/err")"; return; fi
  if [[ $want -ne 0 && $(grep -c . "$T/err") -ne 1 ]]; then bad "$* -> stderr is not one line: $(cat "$T/err")"; return; fi
  ok
}

# idx FILE MAGIC3 DIMS... : write a raw IDX header (u8) and zero data of the given size
idx() {
  local f="$1" nd="$2"; shift 2
  local n=1
  printf "\\x00\\x00\\x08\\x$(printf %02x "$nd")" >"$f"
  for d in "$@"; do printf "\\x$(printf %02x $((d>>24&255)))\\x$(printf %02x $((d>>16&255)))\\x$(printf %02x $((d>>8&255)))\\x$(printf %02x $((d&255)))" >>"$f"; n=$((n*d)); done
  head -c "$n" /dev/zero >>"$f"
}

# usage errors: exit 2
expect 2 "unknown option '--bogus'" -- "$NNS" train --arch lenet5 --bogus -o "$T/x.onnx"
expect 2 "unknown command 'frobnicate'" -- "$NNS" frobnicate
expect 2 "exactly one of --arch" -- "$NNS" train -o "$T/x.onnx"
expect 2 "is required" -- "$NNS" train --arch lenet5
expect 2 "expects an integer" -- "$NNS" train --arch lenet5 --epochs many -o "$T/x.onnx"
expect 2 "needs a value" -- "$NNS" train --arch lenet5 -o
expect 2 "give one MODEL.onnx" -- "$NNS" info
expect 2 "--optimizer" -- "$NNS" train --arch lenet5 --optimizer rmsprop -o "$T/x.onnx"
for c in train eval info; do
  "$NNS" $c --help >"$T/out" 2>&1 && grep -q "usage: nnslim $c" "$T/out" && ok || bad "$c --help"
done

# bad values: exit 1, no output written
expect 1 "unknown architecture 'lenet9'" -- "$NNS" train --arch lenet9 -o "$T/x.onnx"
[[ ! -e "$T/x.onnx" ]] && ok || bad "output written after a failure"

# data files
mkdir -p "$T/d1"
expect 1 "$T/d1" -- "$NNS" train --arch lenet300 --data "$T/d1" -o "$T/x.onnx"
idx "$T/d1/train-images-idx3-ubyte" 3 5 28 28
idx "$T/d1/train-labels-idx1-ubyte" 1 4
idx "$T/d1/t10k-images-idx3-ubyte" 3 5 28 28
idx "$T/d1/t10k-labels-idx1-ubyte" 1 5
expect 1 "train-labels-idx1-ubyte" -- "$NNS" train --arch lenet300 --data "$T/d1" -o "$T/x.onnx"
idx "$T/d1/train-labels-idx1-ubyte" 1 5
printf '\x00\x00\x09\x03' | dd of="$T/d1/train-images-idx3-ubyte" conv=notrunc 2>/dev/null
expect 1 "train-images-idx3-ubyte" -- "$NNS" train --arch lenet300 --data "$T/d1" -o "$T/x.onnx"
idx "$T/d1/train-images-idx3-ubyte" 3 5 28 28
head -c 2000 "$T/d1/train-images-idx3-ubyte" >"$T/d1/t" && mv "$T/d1/t" "$T/d1/train-images-idx3-ubyte"
expect 1 "train-images-idx3-ubyte" -- "$NNS" train --arch lenet300 --data "$T/d1" -o "$T/x.onnx"
idx "$T/d1/train-images-idx3-ubyte" 3 5 28 28
gzip -c "$T/d1/train-images-idx3-ubyte" | head -c 60 >"$T/d1/train-images-idx3-ubyte.gz"
expect 1 "train-images-idx3-ubyte.gz" -- "$NNS" train --arch lenet300 --data "$T/d1" -o "$T/x.onnx"
rm "$T/d1/train-images-idx3-ubyte.gz"
# images of the wrong size for the model (an architecture is built for the data's images unless told)
mkdir -p "$T/d2"
idx "$T/d2/train-images-idx3-ubyte" 3 5 32 32
idx "$T/d2/train-labels-idx1-ubyte" 1 5
idx "$T/d2/t10k-images-idx3-ubyte" 3 5 32 32
idx "$T/d2/t10k-labels-idx1-ubyte" 1 5
expect 1 "input 'input'" -- "$NNS" train --arch lenet5 --input-shape 1,28,28 --data "$T/d2" --mean 0 --std 1 -o "$T/x.onnx"
[[ ! -e "$T/x.onnx" ]] && ok || bad "output written after a failure"

# a real model to break
if "$NNS" train --arch lenet300 --data "$T/d1" --mean 0 --std 1 --epochs 1 -o "$T/m.onnx" >/dev/null 2>"$T/err"; then
  ok
  expect 0 "" -- "$NNS" info "$T/m.onnx"
  expect 1 "input 'input'" -- "$NNS" eval "$T/m.onnx" --data "$T/d2" --mean 0 --std 1
  head -c 5000 "$T/m.onnx" >"$T/trunc.onnx"
  expect 1 "trunc.onnx" -- "$NNS" info "$T/trunc.onnx"
  expect 1 "trunc.onnx" -- "$NNS" eval "$T/trunc.onnx" --data "$T/d1"
  echo "this is not a model" >"$T/garbage.onnx"
  expect 1 "garbage.onnx" -- "$NNS" info "$T/garbage.onnx"
  expect 1 "missing.onnx" -- "$NNS" info "$T/missing.onnx"
  # a failing run leaves an existing output untouched
  cp "$T/m.onnx" "$T/keep.onnx"
  sum1=$(md5sum <"$T/keep.onnx")
  expect 1 "input 'input'" -- "$NNS" train --model "$T/m.onnx" --data "$T/d2" --mean 0 --std 1 -o "$T/keep.onnx"
  [[ "$(md5sum <"$T/keep.onnx")" == "$sum1" ]] && ok || bad "existing output changed by a failed run"
  # saving into a missing directory
  expect 1 "$T/nodir" -- "$NNS" train --model "$T/m.onnx" --data "$T/d1" --epochs 1 -o "$T/nodir/x.onnx"
  ls "$T"/nodir* >/dev/null 2>&1 && bad "something was written for a missing directory" || ok
  ls "$T" | grep -q tmp && bad "temporary file left behind: $(ls "$T")" || ok
else
  bad "training on a tiny data set failed: $(cat "$T/err")"
fi

# QuantizeLinear / DequantizeLinear with a scale that is not positive and finite
Q="${NNS_SOURCE_DIR:-$(dirname "$0")/..}/tests/qdq"
for m in scale_zero:0 scale_nan:nan scale_negative:-0.02; do
  expect 1 "node 'qx' (QuantizeLinear): scale 'x_s'\[0\] is ${m#*:}" -- "$NNS" run "$Q/${m%%:*}.onnx" --input "$Q/conv_qdq_x.npy" -o "$T/q.npy"
  [[ -e "$T/q.npy" ]] && bad "run on ${m%%:*}.onnx left $T/q.npy"
done

# com.microsoft QLinearGlobalAveragePool over channels-last data: refused by name
expect 1 "node 'qgap' (QLinearGlobalAveragePool): channels_last=1 is not supported" -- \
  "$NNS" run "$Q/qlinear_gap_channels_last.onnx" --input "$Q/qlinear_add_gap_x.npy" -o "$T/q.npy"
[[ -e "$T/q.npy" ]] && bad "run on qlinear_gap_channels_last.onnx left $T/q.npy"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
