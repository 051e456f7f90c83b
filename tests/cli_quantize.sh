#!/usr/bin/env bash
# cli_quantize.sh NNSLIM — nnslim quantize end to end on small models trained
# for one short epoch: the JSON report has its keys, every Conv and Gemm is
# W8A8 (or f32 when kept), the file shrinks, accuracy stays within a few
# points, nnslim info shows the precision, the saved model evaluates; QAT
# (learned scales, a teacher, --cle, BatchNormalization frozen after an
# epoch), --cle and --bias-correction (their
# JSON counts, accuracy, the file evaluates) and a 90%-pruned model that stays pruned and
# is stored at least 8x smaller than the dense float file; bad
# input gives a one-line error naming the value, exit 1 or 2, the input
# model untouched and no output file.
set -u
NNS="$1"
SRC_DIR="${NNS_SOURCE_DIR:-$(dirname "$0")/..}"
[[ -d /usr/share/datasets/fashion-mnist ]] || { echo "skipped: no fashion-mnist"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
D=(--limit 1024 --test-limit 500 --threads 2)
"$NNS" train --arch lenet5 "${D[@]}" --epochs 1 -o "$T/l5.onnx" >/dev/null 2>"$T/err" || { echo "FAIL: train: $(cat "$T/err")"; exit 1; }
"$NNS" train --arch resnet8 "${D[@]}" --epochs 1 -o "$T/r8.onnx" >/dev/null 2>"$T/err" || { echo "FAIL: train: $(cat "$T/err")"; exit 1; }
sum=$(md5sum <"$T/r8.onnx")

json_get() { sed -E "s/.*\"$2\": \\{([^}]*)\\}.*/\\1/" <<<"$1" | sed -E "s/.*\"$3\": ([0-9.e+-]+|null).*/\\1/"; }

for m in l5 r8; do
  if out=$("$NNS" quantize "$T/$m.onnx" --calib-samples 256 "${D[@]}" -o "$T/${m}q.onnx" --json 2>"$T/err"); then
    for k in before after accuracy params file_bytes latency_ms_b1 images_per_second_b64 layers precision folded_batchnorms calib_samples; do
      grep -q "\"$k\"" <<<"$out" && ok || bad "$m: json lacks $k"
    done
    ab=$(json_get "$out" before accuracy); aa=$(json_get "$out" after accuracy)
    fb=$(json_get "$out" before file_bytes); fa=$(json_get "$out" after file_bytes)
    awk -v a="$aa" -v b="$ab" 'BEGIN{exit !(a >= b - 0.03)}' && ok || bad "$m: accuracy $ab -> $aa"
    awk -v a="$fa" -v b="$fb" 'BEGIN{exit !(a <= 0.32*b)}' && ok || bad "$m: file $fb -> $fa"
    grep -q '"precision": "f32"' <<<"${out#*\"layers\": \[}" && bad "$m: a float layer is left" || ok
    grep -q '"after": {[^}]*"precision": "W8A8"' <<<"$out" && ok || bad "$m: the model's precision is not W8A8"
    "$NNS" info "$T/${m}q.onnx" | grep -q "W8A8" && ok || bad "$m: info shows no W8A8"
    "$NNS" eval "$T/${m}q.onnx" --test-limit 200 --threads 2 >/dev/null 2>"$T/err" && ok || bad "$m: eval: $(cat "$T/err")"
  else
    bad "$m: $(cat "$T/err")"
  fi
done
[[ "$(md5sum <"$T/r8.onnx")" == "$sum" ]] && ok || bad "the input model changed"
# every method, per tensor, int8 activations, a layer kept in float
for opt in "--calib percentile --percentile 99.9" "--calib entropy" "--calib mse" "--per-tensor" "--activations int8"; do
  # shellcheck disable=SC2086
  "$NNS" quantize "$T/l5.onnx" $opt --calib-samples 128 "${D[@]}" -o "$T/o.onnx" >/dev/null 2>"$T/err" && ok || bad "$opt: $(cat "$T/err")"
done
# weight-only: W8A32 layers, the file still shrinks
if out=$("$NNS" quantize "$T/l5.onnx" --activations float "${D[@]}" -o "$T/w.onnx" --json 2>"$T/err"); then
  grep -q '"after": {[^}]*"precision": "W8A32"' <<<"$out" && ok || bad "weight-only: precision: $out"
  fb=$(json_get "$out" before file_bytes); fa=$(json_get "$out" after file_bytes)
  awk -v a="$fa" -v b="$fb" 'BEGIN{exit !(a <= 0.32*b)}' && ok || bad "weight-only: file $fb -> $fa"
else
  bad "weight-only: $(cat "$T/err")"
fi
# 4-bit weights in groups of input channels (weight-only, opset 21): every
# layer W4A32 (grouped but the stem, whose one input channel has no group),
# the file at most a fifth of the float one, info and eval read it back
for gs in 32 64; do
  if out=$("$NNS" quantize "$T/r8.onnx" --weights int4 --group-size $gs "${D[@]}" -o "$T/w4.onnx" --json 2>"$T/err"); then
    grep -q "\"weights\": \"int4\", \"group_size\": $gs, \"activations\": \"float\"" <<<"$out" && ok || bad "int4 g$gs: json settings: $out"
    layers=${out#*\"layers\": \[}
    [[ $(grep -o '"precision": "W4A32g[0-9]*"' <<<"$layers" | wc -l) -ge 8 ]] && ok || bad "int4 g$gs: layers: $layers"
    grep -q '"precision": "\(f32\|W8A8\|W8A32\)"' <<<"$layers" && bad "int4 g$gs: a layer not 4-bit: $layers" || ok
    ab=$(json_get "$out" before accuracy); aa=$(json_get "$out" after accuracy)
    fb=$(json_get "$out" before file_bytes); fa=$(json_get "$out" after file_bytes)
    awk -v a="$aa" -v b="$ab" 'BEGIN{exit !(a >= b - 0.05)}' && ok || bad "int4 g$gs: accuracy $ab -> $aa"
    awk -v a="$fa" -v b="$fb" 'BEGIN{exit !(a <= 0.20*b)}' && ok || bad "int4 g$gs: file $fb -> $fa"
    "$NNS" info "$T/w4.onnx" | grep -q "W4A32g" && ok || bad "int4 g$gs: info shows no W4A32g"
    ev=$("$NNS" eval "$T/w4.onnx" --test-limit 500 --threads 2 --json 2>"$T/err") && ok || bad "int4 g$gs: eval: $(cat "$T/err")"
    grep -q "\"accuracy\": $aa" <<<"$ev" && ok || bad "int4 g$gs: eval of the file gives $ev, quantize said $aa"
  else
    bad "int4 g$gs: $(cat "$T/err")"
  fi
done
# 16-bit float weights: every layer f16 / bf16, the file about half, the
# accuracy within 0.5 points, eval of the file gives what quantize printed
for w in fp16 bf16; do
  p=${w/fp/f}
  if out=$("$NNS" quantize "$T/r8.onnx" --weights $w "${D[@]}" -o "$T/w16.onnx" --json 2>"$T/err"); then
    layers=${out#*\"layers\": \[}
    [[ $(grep -o "\"precision\": \"$p\"" <<<"$layers" | wc -l) -ge 8 ]] && ok || bad "$w: layers: $layers"
    grep -q '"precision": "\(f32\|W8A8\|W8A32\)"' <<<"$layers" && bad "$w: a layer not $p: $layers" || ok
    ab=$(json_get "$out" before accuracy); aa=$(json_get "$out" after accuracy)
    fb=$(json_get "$out" before file_bytes); fa=$(json_get "$out" after file_bytes)
    awk -v a="$aa" -v b="$ab" 'BEGIN{exit !(a >= b - 0.005)}' && ok || bad "$w: accuracy $ab -> $aa"
    awk -v a="$fa" -v b="$fb" 'BEGIN{exit !(a <= 0.55*b)}' && ok || bad "$w: file $fb -> $fa"
    "$NNS" info "$T/w16.onnx" | grep -q " $p\$" && ok || bad "$w: info shows no $p layer"
    ev=$("$NNS" eval "$T/w16.onnx" --test-limit 500 --threads 2 --json 2>"$T/err") && ok || bad "$w: eval: $(cat "$T/err")"
    grep -q "\"accuracy\": $aa" <<<"$ev" && ok || bad "$w: eval of the file gives $ev, quantize said $aa"
  else
    bad "$w: $(cat "$T/err")"
  fi
done
# 16-bit activations too: every layer W<t>A<t>, "activations" in the JSON,
# the accuracy within 0.5 points, eval of the file gives what quantize printed
for w in fp16 bf16; do
  p=${w/fp/f}
  if out=$("$NNS" quantize "$T/r8.onnx" --weights $w --activations $w "${D[@]}" -o "$T/a16.onnx" --json 2>"$T/err"); then
    layers=${out#*\"layers\": \[}
    [[ $(grep -o "\"precision\": \"W${p}A${p}\"" <<<"$layers" | wc -l) -ge 8 ]] && ok || bad "$w activations: layers: $layers"
    grep -q "\"activations\": \"$w\"" <<<"$out" && ok || bad "$w activations: JSON: $out"
    ab=$(json_get "$out" before accuracy); aa=$(json_get "$out" after accuracy)
    awk -v a="$aa" -v b="$ab" 'BEGIN{exit !(a >= b - 0.005)}' && ok || bad "$w activations: accuracy $ab -> $aa"
    "$NNS" info "$T/a16.onnx" | grep -q " W${p}A${p}\$" && ok || bad "$w activations: info shows no W${p}A${p} layer"
    ev=$("$NNS" eval "$T/a16.onnx" --test-limit 500 --threads 2 --json 2>"$T/err") && ok || bad "$w activations: eval: $(cat "$T/err")"
    grep -q "\"accuracy\": $aa" <<<"$ev" && ok || bad "$w activations: eval of the file gives $ev, quantize said $aa"
  else
    bad "$w activations: $(cat "$T/err")"
  fi
done
# W4A8: 4-bit weights per output channel with uint8 activations: every
# layer W4A8, accuracy within 2 points on this small training, the file
# at most 22% of the float one, eval of the file gives what quantize printed
if out=$("$NNS" quantize "$T/r8.onnx" --weights int4 --activations uint8 "${D[@]}" -o "$T/w4a8.onnx" --json 2>"$T/err"); then
  layers=${out#*\"layers\": \[}
  [[ $(grep -o '"precision": "W4A8"' <<<"$layers" | wc -l) -ge 8 ]] && ok || bad "W4A8: layers: $layers"
  grep -q '"weights": "int4", "group_size": 0, "activations": "uint8"' <<<"$out" && ok || bad "W4A8: json settings: $out"
  ab=$(json_get "$out" before accuracy); aa=$(json_get "$out" after accuracy)
  fb=$(json_get "$out" before file_bytes); fa=$(json_get "$out" after file_bytes)
  awk -v a="$aa" -v b="$ab" 'BEGIN{exit !(a >= b - 0.02)}' && ok || bad "W4A8: accuracy $ab -> $aa"
  awk -v a="$fa" -v b="$fb" 'BEGIN{exit !(a <= 0.22*b)}' && ok || bad "W4A8: file $fb -> $fa"
  ev=$("$NNS" eval "$T/w4a8.onnx" --test-limit 500 --threads 2 --json 2>"$T/err") && ok || bad "W4A8: eval: $(cat "$T/err")"
  grep -q "\"accuracy\": $aa" <<<"$ev" && ok || bad "W4A8: eval of the file gives $ev, quantize said $aa"
else
  bad "W4A8: $(cat "$T/err")"
fi
# --weights int4 alone: groups of 32; --group-size with int8: grouped W8A32
"$NNS" quantize "$T/r8.onnx" --weights int4 "${D[@]}" -o "$T/w4d.onnx" --json 2>"$T/err" | grep -q '"group_size": 32' && ok || bad "int4 default group: $(cat "$T/err")"
"$NNS" quantize "$T/r8.onnx" --group-size 32 "${D[@]}" -o "$T/w8g.onnx" --json 2>"$T/err" | grep -q '"precision": "W8A32g32"' && ok || bad "int8 --group-size 32: $(cat "$T/err")"
if out=$("$NNS" quantize "$T/l5.onnx" --keep fc3 --calib-samples 64 "${D[@]}" -o "$T/k.onnx" --json 2>"$T/err"); then
  grep -q '"name": "fc3", "op": "Gemm", "precision": "f32"' <<<"$out" && ok || bad "--keep fc3 left it quantized: $out"
else
  bad "--keep: $(cat "$T/err")"
fi
# --keep-as fp16: the kept layer's weights in 16 bits, the others int8
if out=$("$NNS" quantize "$T/l5.onnx" --keep fc3 --keep-as fp16 --calib-samples 64 "${D[@]}" -o "$T/kh.onnx" --json 2>"$T/err"); then
  grep -q '"name": "fc3", "op": "Gemm", "precision": "f16"' <<<"$out" && ok || bad "--keep-as fp16: fc3 not f16: $out"
  grep -q '"name": "fc1", "op": "Gemm", "precision": "W8A8"' <<<"$out" && ok || bad "--keep-as fp16: fc1 not W8A8: $out"
else
  bad "--keep-as: $(cat "$T/err")"
fi

# cross-layer equalization and bias correction: lenet5 has 3 pairs (conv1 ->
# pool -> conv2, fc1 -> fc2, fc2 -> fc3) and 5 layers to correct
if out=$("$NNS" quantize "$T/l5.onnx" --per-tensor --cle --bias-correction --calib-samples 128 "${D[@]}" -o "$T/cb.onnx" --json 2>"$T/err"); then
  grep -q '"cle": {"applied": true, "pairs": 3, ' <<<"$out" && ok || bad "--cle: json: $out"
  grep -q '"bias_correction": {"applied": true, "layers": 5, ' <<<"$out" && ok || bad "--bias-correction: json: $out"
  ab=$(json_get "$out" before accuracy); aa=$(json_get "$out" after accuracy)
  awk -v a="$aa" -v b="$ab" 'BEGIN{exit !(a >= b - 0.03)}' && ok || bad "--cle --bias-correction: accuracy $ab -> $aa"
  grep -q "cross-layer equalization: 3 layer pairs" "$T/err" && ok || bad "--cle: no progress line"
  "$NNS" eval "$T/cb.onnx" --test-limit 200 --threads 2 >/dev/null 2>"$T/err" && ok || bad "--cle: eval: $(cat "$T/err")"
else
  bad "--cle --bias-correction: $(cat "$T/err")"
fi
if out=$("$NNS" quantize "$T/l5.onnx" --calib-samples 64 "${D[@]}" -o "$T/o.onnx" --json 2>"$T/err"); then
  grep -q '"cle": {"applied": false, "pairs": 0, .*"bias_correction": {"applied": false, "layers": 0, ' <<<"$out" && ok || bad "defaults: json: $out"
else
  bad "defaults: $(cat "$T/err")"
fi
# weight-only layers are corrected too
if out=$("$NNS" quantize "$T/l5.onnx" --activations float --bias-correction --calib-samples 64 "${D[@]}" -o "$T/o.onnx" --json 2>"$T/err"); then
  grep -q '"bias_correction": {"applied": true, "layers": 5, ' <<<"$out" && ok || bad "weight-only --bias-correction: $out"
else
  bad "weight-only --bias-correction: $(cat "$T/err")"
fi
"$NNS" quantize --help | grep -q -- "--bias-correction" && "$NNS" quantize --help | grep -q -- "--cle " && ok || bad "--help lacks --cle or --bias-correction"

# quantization-aware training: one epoch, learned scales, from a teacher
if out=$("$NNS" quantize "$T/l5.onnx" --mode qat --epochs 1 --learn-scales --calib-samples 256 "${D[@]}" -o "$T/qat.onnx" --json 2>"$T/err"); then
  ab=$(json_get "$out" before accuracy); aa=$(json_get "$out" after accuracy)
  awk -v a="$aa" -v b="$ab" 'BEGIN{exit !(a >= b - 0.03)}' && ok || bad "qat: accuracy $ab -> $aa"
  grep -q '"mode": "qat", "epochs": 1, "learn_scales": true' <<<"$out" && ok || bad "qat: json settings"
  grep -q '"precision": "f32"' <<<"${out#*\"layers\": \[}" && bad "qat: a float layer is left" || ok
else
  bad "qat: $(cat "$T/err")"
fi
"$NNS" quantize "$T/l5.onnx" --mode qat --teacher "$T/l5.onnx" --calib-samples 128 "${D[@]}" -o "$T/qkd.onnx" >/dev/null 2>"$T/err" && ok || bad "qat --teacher: $(cat "$T/err")"
# QAT starts from equalized weights with --cle
if out=$("$NNS" quantize "$T/l5.onnx" --mode qat --cle --calib-samples 128 "${D[@]}" -o "$T/qc.onnx" --json 2>"$T/err"); then
  grep -q '"cle": {"applied": true, "pairs": 3, ' <<<"$out" && ok || bad "qat --cle: json: $out"
else
  bad "qat --cle: $(cat "$T/err")"
fi
# BatchNormalization following the batches for the first of two QAT epochs, then folded
if out=$("$NNS" quantize "$T/r8.onnx" --mode qat --epochs 2 --freeze-bn 1 --calib-samples 128 "${D[@]}" -o "$T/qbn.onnx" --json 2>"$T/err"); then
  grep -q '"epochs": 2, "learn_scales": false, "freeze_bn": 1' <<<"$out" && ok || bad "qat --freeze-bn: json settings"
  grep -q 'epochs 1 to 1 of 2, BatchNormalization following the batches' "$T/err" && ok || bad "qat --freeze-bn: first part: $(cat "$T/err")"
  grep -q 'epochs 2 to 2 of 2, BatchNormalization frozen' "$T/err" && ok || bad "qat --freeze-bn: second part"
  ab=$(json_get "$out" before accuracy); aa=$(json_get "$out" after accuracy)
  awk -v a="$aa" -v b="$ab" 'BEGIN{exit !(a >= b - 0.03)}' && ok || bad "qat --freeze-bn: accuracy $ab -> $aa"
  "$NNS" info "$T/qbn.onnx" | grep -q BatchNormalization && bad "qat --freeze-bn: a BatchNormalization is left" || ok
else
  bad "qat --freeze-bn: $(cat "$T/err")"
fi
# a model pruned to 90% stays pruned through QAT, stored sparse: >= 8x smaller than the dense float file
"$NNS" prune "$T/l5.onnx" --method magnitude --sparsity 0.9 --finetune-epochs 1 "${D[@]}" -o "$T/s.onnx" >/dev/null 2>"$T/err" || bad "prune: $(cat "$T/err")"
if out=$("$NNS" quantize "$T/s.onnx" --mode qat --calib-samples 256 "${D[@]}" -o "$T/sq.onnx" --json 2>"$T/err"); then
  p=$(json_get "$out" after params); nz=$(json_get "$out" after nonzero_params); fa=$(json_get "$out" after file_bytes)
  fd=$(stat -c %s "$T/l5.onnx")
  awk -v a="$nz" -v b="$p" 'BEGIN{exit !(a <= 0.11*b)}' && ok || bad "pruned qat: $nz of $p nonzero"
  awk -v a="$fa" -v b="$fd" 'BEGIN{exit !(8*a <= b)}' && ok || bad "pruned qat: file $fa vs dense float $fd"
  "$NNS" eval "$T/sq.onnx" --test-limit 200 --threads 2 >/dev/null 2>"$T/err" && ok || bad "pruned qat: eval: $(cat "$T/err")"
else
  bad "pruned qat: $(cat "$T/err")"
fi

# mixed precision for a budget: a generous one quantizes every layer
if out=$("$NNS" quantize "$T/l5.onnx" --max-loss 50 --eval-images 200 --calib-samples 64 "${D[@]}" -o "$T/mx.onnx" --json 2>"$T/err"); then
  grep -q '"after": {[^}]*"precision": "W8A8"' <<<"$out" && ok || bad "max-loss 50: not every layer quantized: $out"
  grep -q "choosing each layer's precision" "$T/err" && ok || bad "max-loss: no progress line"
else
  bad "max-loss: $(cat "$T/err")"
fi

# mixed precision for a file size: the chosen file fits the budget (all
# quantized plus 20 KB: room for some float layers, not all)
budget=$(( $(stat -c %s "$T/l5q.onnx") + 20000 ))
if out=$("$NNS" quantize "$T/l5.onnx" --max-bytes "$budget" --eval-images 200 --calib-samples 64 "${D[@]}" -o "$T/mb.onnx" --json 2>"$T/err"); then
  [[ $(stat -c %s "$T/mb.onnx") -le $budget ]] && ok || bad "max-bytes $budget: file $(stat -c %s "$T/mb.onnx")"
  grep -q "bytes; on those images" "$T/err" && ok || bad "max-bytes: no report line: $(cat "$T/err")"
else
  bad "max-bytes: $(cat "$T/err")"
fi

# which layer breaks quantization: one row per layer, JSON, SVG
if out=$("$NNS" sensitivity "$T/l5.onnx" --method quant --eval-images 200 --calib-samples 64 --svg "$T/q.svg" "${D[@]}" --json 2>"$T/err"); then
  for k in baseline_accuracy layers drop worst '"method": "quant"'; do grep -q -- "$k" <<<"$out" && ok || bad "sensitivity quant json lacks $k"; done
  [[ $(grep -o '"drop"' <<<"$out" | wc -l) -eq 5 ]] && ok || bad "sensitivity quant: not 5 layers: $out"
  grep -q "<svg" "$T/q.svg" && grep -q "fc3" "$T/q.svg" && ok || bad "sensitivity quant svg"
else
  bad "sensitivity quant: $(cat "$T/err")"
fi

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
expect 2 "--calib must be" -- "$NNS" quantize "$T/l5.onnx" --calib median -o "$T/bad.onnx"
expect 2 "--max-loss must be between 0 and 100 points, not -1" -- "$NNS" quantize "$T/l5.onnx" --max-loss -1 -o "$T/bad.onnx"
expect 1 "--max-bytes 1000 cannot be met: with every layer quantized the model takes" -- "$NNS" quantize "$T/l5.onnx" --max-bytes 1000 --eval-images 100 --calib-samples 32 "${D[@]}" -o "$T/bad.onnx"
expect 2 "--max-bytes must be a number of bytes >= 1, not '12kb'" -- "$NNS" quantize "$T/l5.onnx" --max-bytes 12kb -o "$T/bad.onnx"
expect 2 "--max-bytes is for --mode ptq, without --max-loss" -- "$NNS" quantize "$T/l5.onnx" --max-bytes 9000 --max-loss 1 -o "$T/bad.onnx"
expect 2 "--max-loss is for --mode ptq" -- "$NNS" quantize "$T/l5.onnx" --mode qat --max-loss 0.5 -o "$T/bad.onnx"
expect 2 "--target and --ratios are for the pruning methods" -- "$NNS" sensitivity "$T/l5.onnx" --method quant --target 0.5
expect 2 "--calib must be" -- "$NNS" sensitivity "$T/l5.onnx" --method quant --calib median
expect 2 "--keep-as must be f32, fp16 or bf16, not 'f8'" -- "$NNS" quantize "$T/l5.onnx" --keep-as f8 -o "$T/bad.onnx"
expect 2 "--keep-as is for --mode ptq with integer weights" -- "$NNS" quantize "$T/l5.onnx" --keep-as fp16 --mode qat -o "$T/bad.onnx"
expect 2 "--weights fp16 cannot be combined with --group-size" -- "$NNS" quantize "$T/l5.onnx" --weights fp16 --group-size 32 -o "$T/bad.onnx"
expect 2 "with --weights bf16, --activations must be float or bf16, not 'uint8'" -- "$NNS" quantize "$T/l5.onnx" --weights bf16 --activations uint8 -o "$T/bad.onnx"
expect 2 "with --weights fp16, --activations must be float or fp16, not 'bf16'" -- "$NNS" quantize "$T/l5.onnx" --weights fp16 --activations bf16 -o "$T/bad.onnx"
expect 2 "--activations must be uint8, int8 or float (fp16 and bf16 go with --weights of that type), not 'bf16'" -- "$NNS" quantize "$T/l5.onnx" --activations bf16 -o "$T/bad.onnx"
expect 2 "--weights fp16 cannot be combined with --mode qat" -- "$NNS" quantize "$T/l5.onnx" --weights fp16 --mode qat -o "$T/bad.onnx"
expect 2 "--weights must be int8, int4, fp16 or bf16, not 'int3'" -- "$NNS" quantize "$T/l5.onnx" --weights int3 -o "$T/bad.onnx"
expect 2 "--group-size must be a positive number of input channels, not 0" -- "$NNS" quantize "$T/r8.onnx" --weights int4 --group-size 0 -o "$T/bad.onnx"
expect 2 "--group-size expects an integer, not 'abc'" -- "$NNS" quantize "$T/r8.onnx" --weights int4 --group-size abc -o "$T/bad.onnx"
expect 2 "--group-size must be a positive number of input channels, not -32" -- "$NNS" quantize "$T/r8.onnx" --group-size -32 -o "$T/bad.onnx"
expect 1 "group size 48 does not divide its 64 input channels" -- "$NNS" quantize "$T/r8.onnx" --weights int4 --group-size 48 "${D[@]}" -o "$T/bad.onnx"
expect 2 "--weights int4 --activations uint8 (W4A8, one weight scale per output channel) cannot be combined with --group-size" -- "$NNS" quantize "$T/r8.onnx" --weights int4 --activations uint8 --group-size 32 -o "$T/bad.onnx"
expect 2 "--weights int4 --activations int8 (W4A8, one weight scale per output channel) cannot be combined with --per-tensor" -- "$NNS" quantize "$T/r8.onnx" --weights int4 --activations int8 --per-tensor -o "$T/bad.onnx"
expect 2 "--group-size is weight-only: --activations must be float, not 'int8'" -- "$NNS" quantize "$T/r8.onnx" --group-size 32 --activations int8 -o "$T/bad.onnx"
expect 2 "--weights int4 cannot be combined with --mode qat" -- "$NNS" quantize "$T/r8.onnx" --weights int4 --mode qat -o "$T/bad.onnx"
expect 2 "--group-size cannot be combined with --per-tensor" -- "$NNS" quantize "$T/r8.onnx" --group-size 32 --per-tensor -o "$T/bad.onnx"
expect 2 "--activations" -- "$NNS" quantize "$T/l5.onnx" --activations int16 -o "$T/bad.onnx"
expect 2 "--bias-correction is for --mode ptq" -- "$NNS" quantize "$T/l5.onnx" --mode qat --bias-correction -o "$T/bad.onnx"
expect 2 "--mode must be ptq or qat" -- "$NNS" quantize "$T/l5.onnx" --mode fancy -o "$T/bad.onnx"
expect 2 "are for --mode qat" -- "$NNS" quantize "$T/l5.onnx" --epochs 2 -o "$T/bad.onnx"
expect 2 "are for --mode qat" -- "$NNS" quantize "$T/l5.onnx" --freeze-bn 1 -o "$T/bad.onnx"
expect 2 "--freeze-bn must be an epoch count >= 0, not -1" -- "$NNS" quantize "$T/l5.onnx" --mode qat --freeze-bn -1 -o "$T/bad.onnx"
expect 2 "--epochs must be >= 1" -- "$NNS" quantize "$T/l5.onnx" --mode qat --epochs 0 -o "$T/bad.onnx"
expect 1 "$T/nodir" -- "$NNS" quantize "$T/l5.onnx" --mode qat --data "$T/nodir" -o "$T/bad.onnx"
expect 2 "--calib-samples must be >= 1" -- "$NNS" quantize "$T/l5.onnx" --calib-samples 0 -o "$T/bad.onnx"
expect 2 "--percentile" -- "$NNS" quantize "$T/l5.onnx" --calib percentile --percentile 120 -o "$T/bad.onnx"
expect 1 "no node 'conv9'" -- "$NNS" quantize "$T/l5.onnx" --keep conv9 "${D[@]}" -o "$T/bad.onnx"
expect 1 "nothing to quantize" -- "$NNS" quantize "$T/l5.onnx" --keep conv1,conv2,fc1,fc2,fc3 "${D[@]}" -o "$T/bad.onnx"
expect 1 "$T/nodir" -- "$NNS" quantize "$T/l5.onnx" --data "$T/nodir" -o "$T/bad.onnx"
expect 1 "input 'x' is \[-1,3,8,8\] per batch but the data's images are 1x28x28" -- "$NNS" quantize "$SRC_DIR/tests/qdq/conv_qdq.onnx" --limit 64 --test-limit 64 -o "$T/bad.onnx"
[[ "$(md5sum <"$T/r8.onnx")" == "$sum" ]] && ok || bad "the input model changed"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
