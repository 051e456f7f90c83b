#!/usr/bin/env bash
# distill.sh — the distillation scenarios of issue #5 on Fashion-MNIST, with the
# trained vggsmall teacher in bench/models/ (made by bench/accuracy.sh; trained
# here if missing). Each result is appended with its command to
# bench/results/distill.txt. Accuracies are deterministic for a fixed thread
# count; latencies are only meaningful on a quiet machine.
#
#   bash bench/distill.sh [all|lenet5|recipes|width|prune]   (default all)
#
# lenet5:  lenet5 from vggsmall with the lenet5 baseline's recipe (10 epochs,
#          lr 0.05), default T and alpha, with --baseline (lenet5 alone); then
#          the same with --hint auto (the penultimate features). SEEDS="1 2 3"
#          repeats both for each seed (default: 1).
# recipes: the anchors' T/alpha grid (4/0.9, 4/0.5, 2/0.9, 2/0.5; RECIPES="T:A ..."
#          to choose), with the default gradient-gain safeguard and without it
#          (--kd-gain-limit 0).
# width:   a vggsmall of width 0.5 from vggsmall, 6 epochs, with --baseline;
#          then with --hint auto and 10 epochs, with --baseline.
# prune:   vggsmall with half its conv channels removed, 2 fine-tuning epochs
#          with the unpruned model as teacher (logits, then with --hint auto), and
#          without; lenet5 at 90% sparsity
#          fine-tuned with the dense lenet5 as teacher (needs bench/models/lenet5.onnx).
set -euo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
THREADS=${THREADS:-2}
mkdir -p bench/results bench/models
res=bench/results/distill.txt
T=bench/models/vggsmall.onnx
if [[ ! -f $T ]]; then
  echo "training the teacher $T" >&2
  "$NNS" train --arch vggsmall --threads "$THREADS" --mean 0.2860 --std 0.3530 -o "$T" >&2
fi
echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) threads $THREADS load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$res"
run() { # run NAME COMMAND ARGS...: the command's --json line, or its error
  local name="$1"; shift
  local json rc=0
  json=$("$NNS" "$@" --threads "$THREADS" --json) || rc=$?
  echo "$name | nnslim $* --threads $THREADS --json" | tee -a "$res"
  if ((rc)); then echo "exit $rc" | tee -a "$res"; else echo "$json" | tee -a "$res"; fi
}
scen="${1:-all}"
if [[ $scen == all || $scen == lenet5 ]]; then
  for seed in ${SEEDS:-1}; do
    run "lenet5 from vggsmall, defaults, seed $seed, with baseline" distill --teacher "$T" --student lenet5 \
      --seed "$seed" --baseline -o bench/models/lenet5_kd.onnx
    run "lenet5 from vggsmall, defaults + hint on the penultimate features, seed $seed, with baseline" distill \
      --teacher "$T" --student lenet5 --hint auto --seed "$seed" --baseline -o bench/models/lenet5_kd_hint.onnx
  done
fi
if [[ $scen == all || $scen == recipes ]]; then
  for ta in ${RECIPES:-4:0.9 4:0.5 2:0.9 2:0.5}; do
    t=${ta%%:*} a=${ta##*:}
    run "lenet5 from vggsmall, T $t alpha $a, safeguard on" distill --teacher "$T" --student lenet5 \
      --temperature "$t" --alpha "$a" -o bench/models/lenet5_kd_t${t}_a${a}.onnx
    run "lenet5 from vggsmall, T $t alpha $a, safeguard off" distill --teacher "$T" --student lenet5 \
      --temperature "$t" --alpha "$a" --kd-gain-limit 0 -o bench/models/lenet5_kd_t${t}_a${a}_raw.onnx
  done
fi
if [[ $scen == all || $scen == width ]]; then
  run "vggsmall width 0.5 from vggsmall, with baseline" distill --teacher "$T" --student-width 0.5 --baseline \
    -o bench/models/vggsmall_w50_kd.onnx
  run "vggsmall width 0.5 from vggsmall, hint on the penultimate features, 10 epochs, with baseline" distill \
    --teacher "$T" --student-width 0.5 --hint auto --epochs 10 --baseline -o bench/models/vggsmall_w50_kd_hint.onnx
fi
if [[ $scen == all || $scen == prune ]]; then
  run "vggsmall 50% channels, 2 FT epochs, teacher = unpruned" prune "$T" --method channel --sparsity 0.5 \
    --teacher "$T" -o bench/models/vggsmall_c50_kd.onnx
  run "vggsmall 50% channels, 2 FT epochs, teacher = unpruned, hint on the penultimate features" prune "$T" \
    --method channel --sparsity 0.5 --teacher "$T" --hint auto -o bench/models/vggsmall_c50_kd_hint.onnx
  run "vggsmall 50% channels, 2 FT epochs, no teacher" prune "$T" --method channel --sparsity 0.5 \
    -o bench/models/vggsmall_c50.onnx
  if [[ -f bench/models/lenet5.onnx ]]; then
    run "lenet5 90% global magnitude, 2 FT epochs, teacher = dense lenet5" prune bench/models/lenet5.onnx \
      --method magnitude --sparsity 0.9 --teacher bench/models/lenet5.onnx -o bench/models/lenet5_s90_kd.onnx
  fi
fi
