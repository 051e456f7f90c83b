#!/usr/bin/env bash
# cli_user_model.sh NNSLIM — a new user's own model and data (tests/user/,
# tools/make_user_models.py): a PyTorch export with a fixed batch of 1 and a
# Reshape to [1, -1], and 3x16x16 .npy images. info, eval, train --model,
# prune --method channel, distill and compare run with no flag beyond the
# data paths (and the method's own); the trained model saves with a free
# batch; the same images channels-last get an error naming the layout and
# --layout nhwc reads them as the channels-first ones. A model pruned by
# PyTorch keeps its zeros through training with --keep-zeros (by itself when
# stored sparse); --dense writes dense weights.
set -u
NNS="$1"
SRC_DIR="${NNS_SOURCE_DIR:-$(dirname "$0")/..}"
U="$SRC_DIR/tests/user"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
acc() { sed -n 's/.*"accuracy": \([0-9.]*\).*/\1/p' <<<"$1" | head -1; }
TEST=(--test-x "$U/x.npy" --test-y "$U/y.npy")
D=(--train-x "$U/x.npy" --train-y "$U/y.npy" "${TEST[@]}" --threads 2)

"$NNS" info "$U/small_b1.onnx" >/dev/null 2>"$T/err" && ok || bad "info: $(cat "$T/err")"
"$NNS" eval "$U/small_b1.onnx" "${TEST[@]}" >/dev/null 2>"$T/err" && ok || bad "eval at the default batch: $(cat "$T/err")"
"$NNS" run "$U/small_b1.onnx" --input "$U/x3_f32.npy" -o "$T/y.npy" 2>"$T/err" && [[ -s "$T/y.npy" ]] && ok ||
  bad "run at the default batch: $(cat "$T/err")"
if "$NNS" train --model "$U/small_b1.onnx" --epochs 20 --batch-size 16 "${D[@]}" -o "$T/t.onnx" >/dev/null 2>"$T/err"; then
  out=$("$NNS" eval "$T/t.onnx" "${TEST[@]}" --json 2>"$T/err") && ok || bad "eval of the trained model: $(cat "$T/err")"
  a=$(acc "$out")
  awk -v a="$a" 'BEGIN{exit !(a >= 0.8)}' && ok || bad "trained model: accuracy $a"
else
  bad "train --model: $(cat "$T/err")"
fi
if "$NNS" prune "$T/t.onnx" --method channel --sparsity 0.5 --finetune-epochs 1 "${D[@]}" -o "$T/p.onnx" >"$T/out" 2>"$T/err"; then
  grep -Eq 'removed [1-9][0-9]* of' "$T/err" "$T/out" && ok || bad "prune --method channel removed nothing: $(cat "$T/err")"
else
  bad "prune --method channel: $(cat "$T/err")"
fi
"$NNS" distill --teacher "$T/t.onnx" --epochs 1 "${D[@]}" -o "$T/d.onnx" >/dev/null 2>"$T/err" &&
  grep -q "student: the teacher with half its channels (the default" "$T/err" && ok || bad "distill: $(cat "$T/err")"
grep -q ', 1 epoch, ' "$T/err" && ok || bad "distill: not '1 epoch': $(cat "$T/err")"
if out=$("$NNS" compare "$U/small_b1.onnx" "$T/t.onnx" "${TEST[@]}" --json 2>"$T/err"); then
  # the second model's speed against the first: a median and the rounds' range around it
  sp=$(grep -o '"speedup": {"b1": {"ratio": [0-9.]*, "low": [0-9.]*, "high": [0-9.]*, "no_change": [a-z]*}, "b64": {[^}]*}}' <<<"$out")
  [[ -n "$sp" ]] && ok || bad "compare --json: no speedup: $out"
  awk '{gsub(/[^0-9. ]/, " "); n = split($0, v, " "); exit !(n == 7 && v[3] <= v[2] && v[2] <= v[4] && v[6] <= v[5] && v[5] <= v[7])}' \
    <<<"${sp//b64/b}" && ok || bad "compare --json: ratio outside its range: $sp"
else
  bad "compare: $(cat "$T/err")"
fi

# imported sparsity: kept with --keep-zeros (and by itself for a model stored sparse), lost
# without it for a dense file; --dense writes no sparse initializers
sparsity() { "$NNS" info "$1" | sed -n 's/.*sparsity \([0-9.]*\)%.*/\1/p'; }
T2=(--epochs 2 --batch-size 16 "${D[@]}")
"$NNS" train --model "$U/small_pruned.onnx" "${T2[@]}" -o "$T/z0.onnx" >/dev/null 2>&1 || bad "train small_pruned"
"$NNS" train --model "$U/small_pruned.onnx" "${T2[@]}" --keep-zeros -o "$T/z1.onnx" >/dev/null 2>"$T/err" || bad "train --keep-zeros: $(cat "$T/err")"
grep -q 'keeping 2255 zero weights of 3796 parameters zero' "$T/err" && ok || bad "--keep-zeros: $(cat "$T/err")"
"$NNS" train --model "$U/small_sparse.onnx" "${T2[@]}" -o "$T/z2.onnx" >/dev/null 2>&1 || bad "train small_sparse"
"$NNS" train --model "$U/small_pruned.onnx" "${T2[@]}" --keep-zeros --dense -o "$T/z3.onnx" >/dev/null 2>&1 || bad "train --dense"
s0=$(sparsity "$T/z0.onnx"); s1=$(sparsity "$T/z1.onnx"); s2=$(sparsity "$T/z2.onnx"); s3=$(sparsity "$T/z3.onnx")
awk -v a="$s1" -v b="$s2" -v c="$s3" 'BEGIN{exit !(a >= 59.4 && b >= 59.4 && c >= 59.4)}' && ok ||
  bad "zeros not kept: --keep-zeros $s1%, stored sparse $s2%, --dense $s3%"
awk -v a="$s0" 'BEGIN{exit !(a < 10)}' && ok || bad "a dense file's zeros kept without --keep-zeros: $s0%"
[[ $(stat -c %s "$T/z3.onnx") -gt $(stat -c %s "$T/z1.onnx") ]] && ok || bad "--dense did not write dense weights"

# a built-in architecture on the user's 3x16x16 images and 4 classes, with no flag for them
for arch in resnet8 mobilenet lenet5; do
  if "$NNS" train --arch "$arch" --epochs 1 --batch-size 16 "${D[@]}" -o "$T/$arch.onnx" >/dev/null 2>"$T/err"; then
    info=$("$NNS" info "$T/$arch.onnx")
    grep -qE ' \[1,4\] ' <<<"$(tail -2 <<<"$info" | head -1)" && grep -qE '\[1,(16|6),16,16\]' <<<"$info" && ok ||
      bad "$arch for 3x16x16 images and 4 classes: $info"
  else
    bad "train --arch $arch on 3x16x16 images: $(cat "$T/err")"
  fi
done
"$NNS" train --arch resnet8 --input-shape 3,16 "${D[@]}" -o "$T/x.onnx" >/dev/null 2>"$T/err"
[[ $? == 2 ]] && grep -q -- "--input-shape takes C,H,W" "$T/err" && ok || bad "--input-shape 3,16: $(cat "$T/err")"

# per-channel normalisation, recorded in the model and used again by eval
out=$("$NNS" train --arch resnet8 --epochs 1 --batch-size 16 --mean 0.3,0.3,0.3 --std 0.2,0.25,0.3 "${D[@]}" \
      -o "$T/pc.onnx" --json 2>"$T/err") || bad "train with per-channel --mean/--std: $(cat "$T/err")"
a1=$(acc "$out"); a2=$(acc "$("$NNS" eval "$T/pc.onnx" "${TEST[@]}" --json 2>/dev/null)")
[[ -n "$a1" && "$a1" == "$a2" ]] && ok || bad "per-channel normalisation not reused by eval: train $a1, eval $a2"
"$NNS" train --arch resnet8 --mean 0.3,0.3 --std 1 "${D[@]}" -o "$T/x.onnx" >/dev/null 2>"$T/err"
[[ $? == 1 ]] && grep -q "2 mean/std values for images of 3 channels" "$T/err" && ok || bad "2 means for 3 channels: $(cat "$T/err")"

# channels-last images: an error that says so, and --layout nhwc
"$NNS" eval "$U/small_b1.onnx" --test-x "$U/x_nhwc.npy" --test-y "$U/y.npy" >/dev/null 2>"$T/err"
rc=$?
[[ $rc == 1 ]] && grep -q "channels last: give --layout nhwc" "$T/err" && [[ $(wc -l <"$T/err") == 1 ]] && ok ||
  bad "channels-last data: exit $rc: $(cat "$T/err")"
a1=$(acc "$("$NNS" eval "$U/small_b1.onnx" "${TEST[@]}" --json 2>/dev/null)")
a2=$(acc "$("$NNS" eval "$U/small_b1.onnx" --test-x "$U/x_nhwc.npy" --test-y "$U/y.npy" --layout nhwc --json 2>"$T/err")")
[[ -n "$a1" && "$a1" == "$a2" ]] && ok || bad "--layout nhwc: accuracy '$a2', channels first '$a1': $(cat "$T/err")"

echo "cli_user_model: $pass passed, $fail failed"
[[ $fail == 0 ]]
