#!/usr/bin/env bash
# cli_prune_roundtrip.sh NNSLIM — what nnslim sensitivity --method channel
# suggests, nnslim prune applies: on lenet5 and resnet8 (trained briefly),
# the suggested --layer-ratios given to prune --method channel remove, per
# kind, exactly the conv channels and Gemm neurons the ratios ask for
# (round(ratio * size) of each layer), and JSON reports them. A layer that
# --round-to leaves whole is named; an unknown layer name is an error.
set -u
NNS="$1"
[[ -d /usr/share/datasets/fashion-mnist ]] || { echo "skipped: no fashion-mnist"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
D=(--limit 1024 --test-limit 300 --threads 2)

for arch in lenet5 resnet8; do
  "$NNS" train --arch "$arch" "${D[@]}" --epochs 1 -o "$T/$arch.onnx" >/dev/null 2>"$T/err" || { bad "train $arch: $(cat "$T/err")"; continue; }
  sens=$("$NNS" sensitivity "$T/$arch.onnx" --method channel --target 0.3 --eval-images 200 "${D[@]}" --json 2>"$T/err") ||
    { bad "sensitivity $arch: $(cat "$T/err")"; continue; }
  # the suggestion, and what it asks for: round(ratio * size) per layer and kind
  ratios=$(sed 's/.*"layer_ratios": {\(.*\)}}/\1/; s/"//g; s/: /=/g; s/, /,/g' <<<"$sens")
  want=$(grep -o '{"name": "[^"]*", "op": "[A-Za-z]*", "size": [0-9]*' <<<"$sens" |
         sed 's/{"name": "\([^"]*\)", "op": "\([A-Za-z]*\)", "size": \([0-9]*\)/\1 \2 \3/' |
         awk -v r="$ratios" 'BEGIN {n = split(r, kv, ","); for (i = 1; i <= n; i++) {split(kv[i], p, "="); q[p[1]] = p[2]}}
                             {k = int(q[$1] * $3 + 0.5); if ($2 == "Conv") c += k; else g += k}
                             END {printf "%d %d", c, g}')
  out=$("$NNS" prune "$T/$arch.onnx" --method channel --layer-ratios "$ratios" --finetune-epochs 0 "${D[@]}" \
        -o "$T/${arch}_p.onnx" --json 2>"$T/err") || { bad "prune $arch --layer-ratios $ratios: $(cat "$T/err")"; continue; }
  got=$(sed -n 's/.*"removed": {"conv_channels": \([0-9]*\), "conv_channels_before": [0-9]*, "gemm_neurons": \([0-9]*\),.*/\1 \2/p' <<<"$out")
  [[ -n "$got" && "$got" == "$want" ]] && ok || bad "$arch: --layer-ratios $ratios removed '$got' (conv, gemm), asked '$want'"
  grep -q '"skipped": \[\]' <<<"$out" && ok || bad "$arch: layers skipped with ratios as given: $out"
done

# --round-to that leaves a layer whole names it; a name the model lacks is an error
out=$("$NNS" prune "$T/lenet5.onnx" --method channel --sparsity 0.3 --finetune-epochs 0 "${D[@]}" -o "$T/r.onnx" --json 2>"$T/err")
grep -q 'left 1 layer whole: conv1; give --round-to 1' "$T/err" && grep -q '"skipped": \["conv1"\]' <<<"$out" && ok ||
  bad "--round-to 8 on conv1 (6 channels): $(cat "$T/err") $out"
"$NNS" prune "$T/lenet5.onnx" --method channel --layer-ratios nosuch=0.5 --finetune-epochs 0 "${D[@]}" -o "$T/x.onnx" >/dev/null 2>"$T/err"
rc=$?
[[ $rc == 1 ]] && grep -q "no node 'nosuch'" "$T/err" && [[ ! -e "$T/x.onnx" ]] && ok || bad "unknown layer: exit $rc: $(cat "$T/err")"

echo "cli_prune_roundtrip: $pass passed, $fail failed"
[[ $fail == 0 ]]
