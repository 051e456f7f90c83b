#!/usr/bin/env bash
# cli_distill.sh NNSLIM — nnslim distill, train --teacher and prune --teacher end
# to end on a small teacher: each runs, reports the JSON keys, saves a student
# without hint adapters; bad input (mismatched teacher, missing or misfit hint
# layers, T <= 0, alpha outside [0, 1]) gives a one-line error and writes
# nothing.
set -u
NNS="$1"
[[ -d /usr/share/datasets/fashion-mnist ]] || { echo "skipped: no fashion-mnist"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
D=(--limit 600 --test-limit 300 --threads 2)
"$NNS" train --arch lenet5 "${D[@]}" --epochs 2 -o "$T/t.onnx" >/dev/null 2>"$T/err" || { echo "FAIL: train: $(cat "$T/err")"; exit 1; }

num() { sed -E "s/.*\"$2\": ([0-9.e+-]+|null).*/\\1/" <<<"$1"; }

# distill with a baseline: the three accuracies, the objects, a loadable student
if out=$("$NNS" distill --teacher "$T/t.onnx" --student lenet300 --baseline --epochs 2 "${D[@]}" -o "$T/s.onnx" --json 2>"$T/err"); then
  for k in teacher_accuracy student_accuracy baseline_accuracy gain teacher_images cached_images; do
    v=$(num "$out" "$k")
    [[ "$v" =~ ^[0-9.e+-]+$ ]] && ok || bad "distill json: $k = '$v'"
  done
  for k in '"teacher": {' '"student": {' '"baseline": {' latency_ms_b1 file_bytes macs; do
    grep -qF "$k" <<<"$out" && ok || bad "distill json lacks $k"
  done
  # 600 images, 2 epochs, no augmentation: the teacher ran once per image
  [[ $(num "$out" teacher_images) == 600 && $(num "$out" cached_images) == 600 ]] && ok || bad "teacher cache: $out"
  "$NNS" eval "$T/s.onnx" --test-limit 300 >/dev/null 2>&1 && ok || bad "eval of the distilled student failed"
else
  bad "distill: $(cat "$T/err")"
fi

# width student with a feature hint through an adapter; the adapter is not saved
if out=$("$NNS" distill --teacher "$T/t.onnx" --student-width 0.5 --hint conv2:conv2:0.5 --hint fc1:fc1 --epochs 1 \
        "${D[@]}" -o "$T/w.onnx" --json 2>"$T/err"); then
  [[ $(num "$out" hints) == 2 && $(num "$out" baseline_accuracy) == null ]] && ok || bad "width json: $out"
  info=$("$NNS" info "$T/w.onnx")
  grep -q nnslim_hint <<<"$info" && bad "adapter saved: $info" || ok
  grep -qE '^conv2 +Conv +\[1,8,10,10\]' <<<"$info" && ok || bad "width 0.5: conv2 not 8 channels: $info"
else
  bad "distill width: $(cat "$T/err")"
fi

# --hint auto: the penultimate features (lenet300's 100 -> lenet5's 84); the teacher's maps
# are cached with its logits, so it runs once per image; the adapter is not saved
if out=$("$NNS" distill --teacher "$T/t.onnx" --student lenet300 --hint auto:0.5 --epochs 2 "${D[@]}" -o "$T/a.onnx" \
        --json 2>"$T/err"); then
  [[ $(num "$out" hints) == 1 && $(num "$out" teacher_images) == 600 && $(num "$out" cached_images) == 600 ]] && ok ||
    bad "hint auto json: $out"
  [[ $("$NNS" info "$T/a.onnx" | grep -c '^fc[0-9]* ') == 3 ]] && ok || bad "hint auto: saved student: $("$NNS" info "$T/a.onnx")"
  "$NNS" info "$T/a.onnx" | grep -q nnslim_hint && bad "hint auto: adapter saved" || ok
else
  bad "distill --hint auto: $(cat "$T/err")"
fi

# the default: the penultimate hint where both models allow it, off with --hint none
out=$("$NNS" distill --teacher "$T/t.onnx" --student lenet300 --epochs 1 "${D[@]}" -o "$T/h1.onnx" --json 2>"$T/err")
[[ $(num "$out" hints) == 1 ]] && grep -q "hint: the penultimate features of both models (the default" "$T/err" && ok ||
  bad "default hint: $out $(cat "$T/err")"
out=$("$NNS" distill --teacher "$T/t.onnx" --student lenet300 --hint none --epochs 1 "${D[@]}" -o "$T/h0.onnx" --json 2>"$T/err")
[[ $(num "$out" hints) == 0 ]] && ! grep -q "hint:" "$T/err" && ok || bad "--hint none: $out $(cat "$T/err")"

# train --teacher and prune --teacher
if out=$("$NNS" train --arch lenet300 --teacher "$T/t.onnx" --temperature 3 --alpha 0.7 --epochs 1 "${D[@]}" -o "$T/tr.onnx" --json 2>"$T/err"); then
  grep -q '"teacher": "' <<<"$out" && ok || bad "train --teacher json: $out"
else
  bad "train --teacher: $(cat "$T/err")"
fi
if out=$("$NNS" prune "$T/t.onnx" --method magnitude --sparsity 0.8 --teacher "$T/t.onnx" --finetune-epochs 1 "${D[@]}" \
        -o "$T/p.onnx" --json 2>"$T/err"); then
  grep -q '"after"' <<<"$out" && ok || bad "prune --teacher json: $out"
else
  bad "prune --teacher: $(cat "$T/err")"
fi
if out=$("$NNS" prune "$T/t.onnx" --method channel --sparsity 0.5 --round-to 1 --teacher "$T/t.onnx" --hint conv2:conv2 \
        --finetune-epochs 1 "${D[@]}" -o "$T/pc.onnx" --json 2>"$T/err"); then
  "$NNS" info "$T/pc.onnx" | grep -q nnslim_hint && bad "prune: adapter saved" || ok
else
  bad "prune --teacher --hint: $(cat "$T/err")"
fi

# compare: the models side by side
if out=$("$NNS" compare "$T/t.onnx" "$T/s.onnx" --test-limit 300 --threads 2 --json 2>"$T/err"); then
  [[ $(grep -o '"model":' <<<"$out" | wc -l) == 2 && $(grep -o '"latency_ms_b1":' <<<"$out" | wc -l) == 2 ]] && ok || bad "compare json: $out"
  grep -q '"params": 61706' <<<"$out" && grep -q '"params": 266610' <<<"$out" && ok || bad "compare params: $out"
  # each model's batch-1 90th percentile is at least its median; a batch-64 session holds more than a batch-1 one
  grep -oE '"latency_ms_b1": [0-9.]+, "latency_p90_ms_b1": [0-9.]+, "images_per_second_b64": [0-9.]+, "memory_bytes_b1": [0-9]+, "memory_bytes_b64": [0-9]+' <<<"$out" |
    awk '{ n++; if ($4 + 0 < $2 + 0 || $10 + 0 <= $8 + 0) bad = 1 } END { exit bad || n != 2 }' && ok || bad "compare p90/memory: $out"
else
  bad "compare: $(cat "$T/err")"
fi
"$NNS" compare "$T/t.onnx" "$T/missing.onnx" --test-limit 100 >/dev/null 2>"$T/err" && bad "compare of a missing file succeeded" ||
  { grep -q "missing.onnx" "$T/err" && ok || bad "compare error: $(cat "$T/err")"; }

# errors: exit status, one line naming the fault, nothing written
expect() { # expect STATUS PATTERN ARGS...
  local want="$1" pat="$2"; shift 2
  rm -f "$T/bad.onnx"
  "$NNS" "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [[ $got -ne $want ]]; then bad "$* -> exit $got, want $want: $(head -c 300 "$T/err")"; return; fi
  grep -qF -- "$pat" "$T/err" || { bad "$* -> stderr lacks '$pat': $(cat "$T/err")"; return; }
  [[ $(grep -c . "$T/err") -eq 1 ]] || { bad "$* -> stderr is not one line: $(cat "$T/err")"; return; }
  [[ -e "$T/bad.onnx" ]] && { bad "$* -> wrote output"; return; }
  ok
}
# a valid ONNX model whose "logits" are [N, 784]: Flatten of the 28x28 input
printf '\x08\x08\x42\x02\x10\x0d\x3a\x61\x0a\x1e\x0a\x05\x69\x6e\x70\x75\x74\x12\x06\x6c\x6f\x67\x69\x74\x73\x1a\x04\x66\x6c\x61\x74\x22\x07\x46\x6c\x61\x74\x74\x65\x6e\x12\x01\x67\x5a\x20\x0a\x05\x69\x6e\x70\x75\x74\x12\x17\x0a\x15\x08\x01\x12\x11\x0a\x03\x12\x01\x4e\x0a\x02\x08\x01\x0a\x02\x08\x1c\x0a\x02\x08\x1c\x62\x1a\x0a\x06\x6c\x6f\x67\x69\x74\x73\x12\x10\x0a\x0e\x08\x01\x12\x0a\x0a\x03\x12\x01\x4e\x0a\x03\x08\x90\x06' >"$T/flat784.onnx"
# and one whose input is 1x14x14: it does not fit the 28x28 data
printf '\x08\x08\x42\x02\x10\x0d\x3a\x61\x0a\x1e\x0a\x05\x69\x6e\x70\x75\x74\x12\x06\x6c\x6f\x67\x69\x74\x73\x1a\x04\x66\x6c\x61\x74\x22\x07\x46\x6c\x61\x74\x74\x65\x6e\x12\x01\x67\x5a\x20\x0a\x05\x69\x6e\x70\x75\x74\x12\x17\x0a\x15\x08\x01\x12\x11\x0a\x03\x12\x01\x4e\x0a\x02\x08\x01\x0a\x02\x08\x0e\x0a\x02\x08\x0e\x62\x1a\x0a\x06\x6c\x6f\x67\x69\x74\x73\x12\x10\x0a\x0e\x08\x01\x12\x0a\x0a\x03\x12\x01\x4e\x0a\x03\x08\xc4\x01' >"$T/flat196.onnx"
S=(--student lenet5 --epochs 1 "${D[@]}" -o "$T/bad.onnx")
expect 1 "teacher '$T/flat196.onnx'" distill --teacher "$T/flat196.onnx" "${S[@]}"
expect 1 "teacher '$T/flat196.onnx'" train --arch lenet5 --teacher "$T/flat196.onnx" --epochs 1 "${D[@]}" -o "$T/bad.onnx"
expect 1 "teacher '$T/flat196.onnx'" prune "$T/t.onnx" --method magnitude --sparsity 0.5 --teacher "$T/flat196.onnx" "${D[@]}" -o "$T/bad.onnx"
expect 1 "784 classes but the student's output 'logits' has 10" distill --teacher "$T/flat784.onnx" --student-model "$T/t.onnx" \
  --epochs 1 "${D[@]}" -o "$T/bad.onnx"
expect 1 "the teacher has no layer 'nosuch'" distill --teacher "$T/t.onnx" --hint nosuch:conv1 "${S[@]}"
expect 1 "the student has no layer 'nosuch'" distill --teacher "$T/t.onnx" --hint conv1:nosuch "${S[@]}"
expect 1 "spatial sizes differ" distill --teacher "$T/t.onnx" --hint conv1:conv2 "${S[@]}"
expect 2 "--temperature must be > 0" distill --teacher "$T/t.onnx" --temperature 0 "${S[@]}"
expect 2 "--temperature must be > 0" distill --teacher "$T/t.onnx" --temperature -2 "${S[@]}"
expect 2 "--alpha must be in [0, 1]" distill --teacher "$T/t.onnx" --alpha 1.5 "${S[@]}"
expect 2 "--alpha must be in [0, 1]" distill --teacher "$T/t.onnx" --alpha -0.1 "${S[@]}"
expect 2 "not TEACHER_LAYER:STUDENT_LAYER" distill --teacher "$T/t.onnx" --hint conv1 "${S[@]}"
expect 2 "BETA must be a number > 0" distill --teacher "$T/t.onnx" --hint conv1:conv1:0 "${S[@]}"
expect 2 "BETA must be a number > 0" distill --teacher "$T/t.onnx" --hint auto:-1 "${S[@]}"
expect 1 "hint auto: the teacher's output 'logits'" distill --teacher "$T/flat784.onnx" --hint auto \
  --student-model "$T/flat784.onnx" --epochs 1 "${D[@]}" -o "$T/bad.onnx"
expect 2 "--student-width must be in (0, 1]" distill --teacher "$T/t.onnx" --student-width 1.5 --epochs 1 "${D[@]}" -o "$T/bad.onnx"
expect 2 "at most one of --student" distill --teacher "$T/t.onnx" --student lenet5 --student-width 0.5 -o "$T/bad.onnx"
expect 2 "--teacher T.onnx is required" distill --student lenet5 -o "$T/bad.onnx"
expect 1 "nope.onnx" distill --teacher "$T/nope.onnx" "${S[@]}"
expect 1 "784 classes" train --arch lenet5 --teacher "$T/flat784.onnx" --epochs 1 "${D[@]}" -o "$T/bad.onnx"
expect 2 "need --teacher" train --arch lenet5 --alpha 0.3 --epochs 1 "${D[@]}" -o "$T/bad.onnx"
expect 1 "the student has no layer 'nosuch'" prune "$T/t.onnx" --method magnitude --sparsity 0.5 --teacher "$T/t.onnx" \
  --hint conv1:nosuch "${D[@]}" -o "$T/bad.onnx"
expect 1 "784 classes" prune "$T/t.onnx" --method magnitude --sparsity 0.5 --teacher "$T/flat784.onnx" "${D[@]}" -o "$T/bad.onnx"

# compare: a model whose input does not fit the data is an error naming it (the last line, after
# the progress of the models measured before it); with --no-eval
# its size and speed are still measured (accuracy null)
"$NNS" compare "$T/t.onnx" "$T/flat196.onnx" --test-limit 50 --threads 1 >"$T/out" 2>"$T/err"; rc=$?
[[ $rc == 1 ]] && tail -1 "$T/err" | grep -q "flat196.onnx: model input" && ok ||
  bad "compare of a misfit model: status $rc, $(cat "$T/err")"
if out=$("$NNS" compare "$T/t.onnx" "$T/flat196.onnx" --no-eval --threads 1 --json 2>"$T/err"); then
  [[ $(grep -o '"accuracy": null' <<<"$out" | wc -l) == 2 && $(grep -o '"latency_ms_b1": [0-9]' <<<"$out" | wc -l) == 2 ]] &&
    ok || bad "compare --no-eval: $out"
else
  bad "compare --no-eval: $(cat "$T/err")"
fi

echo "$pass passed, $fail failed"
((fail == 0))
