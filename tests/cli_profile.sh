#!/usr/bin/env bash
# cli_profile.sh NNSLIM — nnslim profile: one timing per node of the model, in
# the order nnslim info lists them, a positive total, consistent shares; bad
# input (missing or truncated model, batch or repeats out of range) gives a
# one-line error and a non-zero exit.
set -u
NNS="$1"
[[ -d /usr/share/datasets/fashion-mnist ]] || { echo "skipped: no fashion-mnist"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
"$NNS" train --arch resnet8 --limit 256 --test-limit 100 --epochs 1 --threads 2 -o "$T/r.onnx" >/dev/null 2>"$T/err" \
  || { echo "FAIL: train: $(cat "$T/err")"; exit 1; }

names() { grep -oE '"name": "[^"]*"' | cut -d'"' -f4; }
for b in 1 3; do
  if out=$("$NNS" profile "$T/r.onnx" --batch $b --repeats 3 --threads 2 --json 2>"$T/err"); then
    [[ "$(names <<<"$out")" == "$("$NNS" info "$T/r.onnx" --json | names)" ]] && ok || bad "b$b: nodes differ from info's"
    grep -q "\"batch\": $b," <<<"$out" && ok || bad "b$b: batch key: $out"
    total=$(sed -E 's/.*"total_ms": ([0-9.e+-]+).*/\1/' <<<"$out")
    awk -v t="$total" 'BEGIN { exit !(t > 0) }' && ok || bad "b$b: total_ms '$total'"
    # every node's time is >= 0 and its share is ms / total
    if grep -oE '"ms": [0-9.e+-]+, "share": [0-9.e+-]+' <<<"$out" |
       awk -v t="$total" '{ ms = $2 + 0; sh = $4 + 0; if (ms < 0 || (sh - ms / t) > 1e-3 || (ms / t - sh) > 1e-3) bad = 1 }
                          END { exit bad }'; then ok; else bad "b$b: node ms/share: $out"; fi
    # the 90th percentile is at least the median; the session's memory grows with the batch
    p90=$(sed -E 's/.*"total_p90_ms": ([0-9.e+-]+).*/\1/' <<<"$out")
    mem=$(sed -E 's/.*"memory_bytes": ([0-9]+).*/\1/' <<<"$out")
    awk -v t="$total" -v p="$p90" 'BEGIN { exit !(p >= t && p > 0) }' && ok || bad "b$b: total_p90_ms '$p90' vs total_ms '$total'"
    [[ $mem =~ ^[0-9]+$ ]] && (( mem > 300000 )) && ok || bad "b$b: memory_bytes '$mem' (the weights alone are 300 KB)"
    eval "mem_b$b=$mem"
    # the convolutions did the work: a Conv node has a nonzero time
    grep -qE '"op": "Conv", "output_shape": [^}]*"ms": ([1-9][0-9]*\.|0\.0*[1-9])' <<<"$out" && ok || bad "b$b: no Conv time: $out"
  else
    bad "profile --batch $b: $(cat "$T/err")"
  fi
done
(( ${mem_b3:-0} > ${mem_b1:-0} )) && ok || bad "memory at batch 3 (${mem_b3:-}) not above batch 1's (${mem_b1:-})"
txt=$("$NNS" profile "$T/r.onnx" --repeats 2 --threads 1 2>&1) && grep -q "^total: .*90th percentile .* session memory " <<<"$txt" && ok || bad "text: $txt"
# a training step: forward and backward per node, the same node list
if out=$("$NNS" profile "$T/r.onnx" --train --batch 4 --repeats 2 --threads 2 --json 2>"$T/err"); then
  grep -q '"mode": "train"' <<<"$out" && ok || bad "train: mode: $out"
  [[ "$(names <<<"$out")" == "$("$NNS" info "$T/r.onnx" --json | names)" ]] && ok || bad "train: nodes differ from info's"
  grep -qE '"op": "Conv", [^}]*"fwd_ms": ([1-9][0-9]*\.|0\.0*[1-9])[^}]*"bwd_ms": ([1-9][0-9]*\.|0\.0*[1-9])' <<<"$out" && ok || bad "train: no Conv forward+backward time: $out"
else
  bad "profile --train: $(cat "$T/err")"
fi

# errors: one line, exit status 1 (bad input) or 2 (bad usage)
err() {  # err STATUS ARGS...
  local want=$1; shift
  "$NNS" profile "$@" >"$T/out" 2>"$T/e"; local rc=$?
  if [[ $rc == "$want" && $(wc -l <"$T/e") == 1 && ! -s "$T/out" ]]; then ok; else
    bad "profile $*: status $rc (want $want), stderr: $(cat "$T/e")"; fi
}
err 1 "$T/missing.onnx"
head -c 700 "$T/r.onnx" >"$T/trunc.onnx"
err 1 "$T/trunc.onnx"
err 2 "$T/r.onnx" --batch 0
err 2 "$T/r.onnx" --repeats 0
err 2 "$T/r.onnx" --bogus
err 2
"$NNS" profile "$T/trunc.onnx" 2>&1 | grep -qF "trunc.onnx" && ok || bad "the error does not name the file"

echo "cli_profile: $pass passed, $fail failed"
[[ $fail == 0 ]]
