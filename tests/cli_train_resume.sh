#!/usr/bin/env bash
# cli_train_resume.sh NNSLIM — training that respects a person's time:
# --log writes one JSON line per epoch; Ctrl-C (SIGINT) stops a run with
# exit 130, keeps the last epoch's checkpoint and says where; --resume from
# it ends with the very model file the uninterrupted run writes; the default
# checkpoint is removed when a run ends; --save-best saves on validation
# accuracy; a checkpoint of another run is refused naming the value.
set -u
NNS="$1"
[[ -d /usr/share/datasets/fashion-mnist ]] || { echo "skipped: no fashion-mnist"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
R=(--arch lenet5 --limit 4096 --test-limit 500 --epochs 4 --threads 2)

"$NNS" train "${R[@]}" --log "$T/full.jsonl" -o "$T/full.onnx" >/dev/null 2>"$T/err" || bad "train: $(cat "$T/err")"
[[ $(grep -c '^{"epoch": [1-4], "epochs": 4, "loss": [0-9.]*, "train_accuracy": [0-9.]*, "val_accuracy": null' "$T/full.jsonl") == 4 ]] &&
  ok || bad "--log: $(cat "$T/full.jsonl")"
[[ ! -e "$T/full.onnx.checkpoint.onnx" && ! -e "$T/full.onnx.checkpoint.onnx.state" ]] && ok || bad "the default checkpoint was left"

# interrupted after its first epoch, then resumed
"$NNS" train "${R[@]}" --log "$T/part.jsonl" --checkpoint "$T/ck.onnx" -o "$T/part.onnx" >/dev/null 2>"$T/err" &
pid=$!
for _ in $(seq 600); do grep -q '"epoch": 1,' "$T/part.jsonl" 2>/dev/null && break; sleep 0.05; done
kill -INT "$pid"
wait "$pid"; rc=$?
if [[ $rc == 130 ]]; then
  grep -q "interrupted; the state after epoch [1-3] is in $T/ck.onnx" "$T/err" && ok || bad "Ctrl-C: $(cat "$T/err")"
  [[ ! -e "$T/part.onnx" ]] && ok || bad "an interrupted run wrote its output"
else
  echo "note: the run ended (exit $rc) before the interruption reached it" >&2
fi
"$NNS" train --resume "$T/ck.onnx" "${R[@]:2}" --log "$T/part.jsonl" -o "$T/part.onnx" >/dev/null 2>"$T/err" &&
  ok || bad "--resume: $(cat "$T/err")"
cmp -s "$T/full.onnx" "$T/part.onnx" && ok || bad "the resumed run's model differs from the uninterrupted one's"

# a checkpoint of another run, and --save-best
"$NNS" train --resume "$T/ck.onnx" --limit 4096 --epochs 5 --threads 2 -o "$T/x.onnx" >/dev/null 2>"$T/err"; rc=$?
[[ $rc == 1 ]] && grep -q "was written by a run of 4 epochs.*this run has 5" "$T/err" && ok || bad "other run's state: exit $rc: $(cat "$T/err")"
"$NNS" train "${R[@]}" --save-best "$T/best.onnx" -o "$T/x.onnx" >/dev/null 2>"$T/err"; rc=$?
[[ $rc == 2 ]] && grep -q -- "--save-best needs a validation set" "$T/err" && ok || bad "--save-best without validation: exit $rc"
"$NNS" train "${R[@]}" --val-split 0.1 --save-best "$T/best.onnx" -o "$T/x.onnx" >/dev/null 2>"$T/err" && [[ -s "$T/best.onnx" ]] &&
  grep -q "best so far (val acc" "$T/err" && ok || bad "--save-best: $(cat "$T/err")"

echo "cli_train_resume: $pass passed, $fail failed"
[[ $fail == 0 ]]
