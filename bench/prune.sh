#!/usr/bin/env bash
# prune.sh — the pruning scenarios of issue #4 on the trained baselines in
# bench/models/ (made by bench/accuracy.sh), recorded with their commands in
# bench/results/prune.txt. Latencies are only meaningful on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
mkdir -p bench/results bench/models
res=bench/results/prune.txt
echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$res"
run() {
  local name="$1"; shift
  local json
  json=$("$NNS" prune "$@" --json)
  echo "$name | nnslim prune $* --json" | tee -a "$res"
  echo "$json" | tee -a "$res"
}
scen="${1:-all}"
if [[ $scen == all || $scen == unstructured ]]; then
  run "lenet300 95% global, 2 FT epochs" bench/models/lenet300.onnx --method magnitude --sparsity 0.95 --finetune-epochs 2 -o bench/models/lenet300_s95.onnx
  run "lenet5 90% global, 2 FT epochs" bench/models/lenet5.onnx --method magnitude --sparsity 0.9 --finetune-epochs 2 -o bench/models/lenet5_s90.onnx
fi
if [[ $scen == all || $scen == channel ]]; then
  run "vggsmall half the channels of every conv, 2 FT epochs" bench/models/vggsmall.onnx --method channel --sparsity 0.5 --finetune-epochs 2 -o bench/models/vggsmall_c50.onnx
fi
if [[ $scen == all || $scen == gradual ]]; then
  run "lenet300 95% gradual over 10 epochs" bench/models/lenet300.onnx --method magnitude --sparsity 0.95 --schedule gradual --finetune-epochs 10 -o bench/models/lenet300_g95.onnx
  run "lenet5 90% gradual over 10 epochs" bench/models/lenet5.onnx --method magnitude --sparsity 0.9 --schedule gradual --finetune-epochs 10 -o bench/models/lenet5_g90.onnx
fi
