#!/usr/bin/env bash
# cli_prune.sh NNSLIM — nnslim prune end to end on a small model: each method
# runs and reports before/after as JSON; bad input gives a one-line error
# naming the value or node, leaves the input model untouched and writes no
# output.
set -u
NNS="$1"
[[ -d /usr/share/datasets/fashion-mnist ]] || { echo "skipped: no fashion-mnist"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
D=(--limit 512 --test-limit 500 --threads 2)
"$NNS" train --arch lenet5 "${D[@]}" --epochs 1 -o "$T/l5.onnx" >/dev/null 2>"$T/err" || { echo "FAIL: train: $(cat "$T/err")"; exit 1; }
"$NNS" train --arch resnet8 "${D[@]}" --epochs 1 -o "$T/r8.onnx" >/dev/null 2>"$T/err" || { echo "FAIL: train: $(cat "$T/err")"; exit 1; }
sum=$(md5sum <"$T/l5.onnx")

json_get() { sed -E "s/.*\"$2\": \\{([^}]*)\\}.*/\\1/" <<<"$1" | sed -E "s/.*\"$3\": ([0-9.e+-]+|null).*/\\1/"; }

# magnitude 90%: 10x fewer nonzeros, file shrinks
if out=$("$NNS" prune "$T/l5.onnx" --method magnitude --sparsity 0.9 --finetune-epochs 1 "${D[@]}" -o "$T/m.onnx" --json 2>"$T/err"); then
  nzb=$(json_get "$out" before nonzero_params); nza=$(json_get "$out" after nonzero_params)
  fb=$(json_get "$out" before file_bytes); fa=$(json_get "$out" after file_bytes)
  awk -v a="$nza" -v b="$nzb" 'BEGIN{exit !(a <= 0.11*b)}' && ok || bad "magnitude: nonzeros $nzb -> $nza"
  awk -v a="$fa" -v b="$fb" 'BEGIN{exit !(a < 0.5*b)}' && ok || bad "magnitude: file $fb -> $fa"
  for k in accuracy params nonzero_params macs file_bytes latency_ms_b1 images_per_second_b64; do
    grep -q "\"$k\"" <<<"$out" && ok || bad "json lacks $k"
  done
  # masks survive further training from the saved file
  "$NNS" train --model "$T/m.onnx" "${D[@]}" --epochs 1 -o "$T/m2.onnx" >/dev/null 2>"$T/err" || bad "retrain: $(cat "$T/err")"
  nz2=$("$NNS" info "$T/m2.onnx" --json | sed -E 's/^\{[^{]*"nonzero_params": ([0-9]+).*/\1/')
  [[ "$nz2" -le "$nza" ]] && ok || bad "masks lost in retraining: $nza -> $nz2 nonzeros"
else
  bad "magnitude: $(cat "$T/err")"
fi
# N:M 2:4
"$NNS" prune "$T/l5.onnx" --method nm --nm 2:4 --finetune-epochs 0 "${D[@]}" -o "$T/nm.onnx" --json >"$T/out" 2>"$T/err" && ok || bad "nm: $(cat "$T/err")"
# channels of a residual network: the result is smaller and still runs
if out=$("$NNS" prune "$T/r8.onnx" --method channel --sparsity 0.4 --finetune-epochs 0 "${D[@]}" -o "$T/c.onnx" --json 2>"$T/err"); then
  pb=$(json_get "$out" before params); pa=$(json_get "$out" after params)
  mb=$(json_get "$out" before macs); ma=$(json_get "$out" after macs)
  awk -v a="$pa" -v b="$pb" 'BEGIN{exit !(a < 0.75*b)}' && ok || bad "channel: params $pb -> $pa"
  awk -v a="$ma" -v b="$mb" 'BEGIN{exit !(a < 0.75*b)}' && ok || bad "channel: macs $mb -> $ma"
  "$NNS" eval "$T/c.onnx" --threads 2 >/dev/null 2>"$T/err" && ok || bad "pruned model does not evaluate: $(cat "$T/err")"
else
  bad "channel: $(cat "$T/err")"
fi
"$NNS" prune "$T/l5.onnx" --method neuron --sparsity 0.5 --finetune-epochs 0 "${D[@]}" -o "$T/n.onnx" >/dev/null 2>"$T/err" && ok || bad "neuron: $(cat "$T/err")"
"$NNS" prune "$T/l5.onnx" --method magnitude --schedule gradual --sparsity 0.8 --finetune-epochs 1 "${D[@]}" -o "$T/g.onnx" >/dev/null 2>"$T/err" && ok || bad "gradual: $(cat "$T/err")"

# sensitivity: table, JSON, SVG, suggested ratios usable by prune
if out=$("$NNS" sensitivity "$T/l5.onnx" --eval-images 200 --ratios 0.5,0.9 --target 0.5 --svg "$T/s.svg" --json --threads 2 2>"$T/err"); then
  for k in baseline_accuracy ratios layers layer_ratios max_drop; do grep -q "\"$k\"" <<<"$out" && ok || bad "sensitivity json lacks $k"; done
  grep -q "<svg" "$T/s.svg" && grep -q "conv1" "$T/s.svg" && ok || bad "sensitivity svg"
  lr=$("$NNS" sensitivity "$T/l5.onnx" --eval-images 200 --ratios 0.5,0.9 --target 0.5 --threads 2 2>/dev/null | sed -n 's/^--layer-ratios //p')
  [[ -n "$lr" ]] && "$NNS" prune "$T/l5.onnx" --method magnitude --layer-ratios "$lr" --finetune-epochs 0 "${D[@]}" -o "$T/lr.onnx" >/dev/null 2>"$T/err" && ok || bad "prune with suggested ratios '$lr': $(cat "$T/err")"
else
  bad "sensitivity: $(cat "$T/err")"
fi

# bad input
expect() {
  local want="$1" pat="$2"; shift 3
  rm -f "$T/bad.onnx"
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  [[ $got -eq $want ]] || { bad "$* -> exit $got, want $want: $(cat "$T/err")"; return; }
  grep -q -- "$pat" "$T/err" || { bad "$* -> stderr lacks '$pat': $(cat "$T/err")"; return; }
  [[ $(grep -c "^nnslim" "$T/err") -eq 1 ]] || { bad "$* -> not one error line: $(cat "$T/err")"; return; }
  [[ ! -e "$T/bad.onnx" ]] || { bad "$* -> output written"; return; }
  ok
}
expect 2 "sparsity" -- "$NNS" prune "$T/l5.onnx" --method magnitude --sparsity 1.0 -o "$T/bad.onnx"
expect 2 "sparsity" -- "$NNS" prune "$T/l5.onnx" --method magnitude --sparsity -0.1 -o "$T/bad.onnx"
expect 1 "no node 'conv9'" -- "$NNS" prune "$T/l5.onnx" --method magnitude --sparsity 0.5 --exclude conv9 "${D[@]}" -o "$T/bad.onnx"
expect 1 "no node 'conv9'" -- "$NNS" prune "$T/l5.onnx" --method channel --layer-ratios conv9=0.5 "${D[@]}" -o "$T/bad.onnx"
expect 1 "fc3" -- "$NNS" prune "$T/l5.onnx" --method neuron --layer-ratios fc3=0.5 --finetune-epochs 0 "${D[@]}" -o "$T/bad.onnx"
expect 2 "--method" -- "$NNS" prune "$T/l5.onnx" --method random --sparsity 0.5 -o "$T/bad.onnx"
expect 2 "N:M" -- "$NNS" prune "$T/l5.onnx" --method nm --nm 4:2 -o "$T/bad.onnx"
expect 2 "--ratios" -- "$NNS" sensitivity "$T/l5.onnx" --ratios 0.5,1.5
[[ "$(md5sum <"$T/l5.onnx")" == "$sum" ]] && ok || bad "input model changed"
ls "$T" | grep -q tmp && bad "temporary file left: $(ls "$T")" || ok
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
