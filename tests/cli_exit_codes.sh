#!/usr/bin/env bash
# cli_exit_codes.sh NNSLIM — one exit-code rule for every command: 2 for a
# usage error found before any work (an unknown option, a value of the wrong
# type or out of its range, a missing operand), 1 for input that turns out bad
# (a file that does not exist or is not a model). Each case also gives one
# line on stderr and writes no output file.
set -u
NNS="$1"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
expect() {
  local want="$1"; shift
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  [[ $got == "$want" ]] || { bad "$* -> exit $got, want $want: $(head -c 300 "$T/err")"; return; }
  [[ $(grep -c . "$T/err") == 1 ]] || { bad "$* -> stderr is not one line: $(cat "$T/err")"; return; }
  [[ ! -e "$T/o.onnx" ]] || { bad "$* -> wrote an output"; rm -f "$T/o.onnx"; return; }
  ok
}
printf 'not a model' >"$T/junk.onnx"
M="$T/junk.onnx"
O=(-o "$T/o.onnx")

# every command: an unknown option, a bad count, a file that is not a model
for cmd in info eval run train prune distill quantize sensitivity compare profile; do
  expect 2 "$NNS" "$cmd" --no-such-option
done
for cmd in eval profile compare; do expect 2 "$NNS" "$cmd" "$M" --threads -1; done
for cmd in info eval profile compare; do expect 1 "$NNS" "$cmd" "$M"; done
expect 1 "$NNS" run "$M" --input "$M" -o "$T/o.npy"
expect 1 "$NNS" prune "$M" --method magnitude --sparsity 0.5 "${O[@]}"
expect 1 "$NNS" quantize "$M" "${O[@]}"
expect 1 "$NNS" sensitivity "$M" --method magnitude
expect 1 "$NNS" train --model "$M" "${O[@]}"
expect 1 "$NNS" distill --teacher "$M" --student lenet5 "${O[@]}"

# values out of range or of the wrong type: 2, before any data is read
expect 2 "$NNS" train --arch lenet5 --epochs 0 "${O[@]}"
expect 2 "$NNS" train --arch lenet5 --epochs two "${O[@]}"
expect 2 "$NNS" train --arch lenet5 --lr -1 "${O[@]}"
expect 2 "$NNS" train --arch lenet5 --momentum 1 "${O[@]}"
expect 2 "$NNS" train --arch lenet5 --weight-decay -0.1 "${O[@]}"
expect 2 "$NNS" train --arch lenet5 --label-smoothing 1 "${O[@]}"
expect 2 "$NNS" train --arch lenet5 --limit 0 "${O[@]}"
expect 2 "$NNS" train --arch lenet5 --layout hwc "${O[@]}"
expect 2 "$NNS" train --arch lenet5 --std 0 "${O[@]}"
expect 2 "$NNS" eval "$M" --test-limit 0
expect 2 "$NNS" run "$M" --batch-size 0 --input "$M" -o "$T/o.npy"
expect 2 "$NNS" prune "$M" --method magnitude --sparsity 1.5 "${O[@]}"
expect 2 "$NNS" prune "$M" --method magnitude --sparsity 0.5 --lr -1 "${O[@]}"
expect 2 "$NNS" distill --teacher "$M" --student lenet5 --lr 0 "${O[@]}"
expect 2 "$NNS" quantize "$M" --calib-samples 0 "${O[@]}"
expect 2 "$NNS" quantize "$M" --mode qat --epochs 0 "${O[@]}"
expect 2 "$NNS" quantize "$M" --mode qat --lr -1 "${O[@]}"
expect 2 "$NNS" quantize "$M" --max-loss -1 "${O[@]}"
expect 2 "$NNS" prune "$M" --method magnitude --sparsity 0.5 --nm 2:4 "${O[@]}"
expect 2 "$NNS" sensitivity "$M" --method channel --target 2
expect 2 "$NNS" sensitivity "$M" --method quant --calib-samples 0

# help: each option once, with one meaning
"$NNS" prune --help | grep -c -- '--schedule ' | grep -qx 1 && ok || bad "prune --help lists --schedule more than once"
"$NNS" prune --help | grep -q -- '--lr-schedule constant|step|cosine' && ok || bad "prune --help lacks --lr-schedule"

echo "cli_exit_codes: $pass passed, $fail failed"
[[ $fail == 0 ]]
