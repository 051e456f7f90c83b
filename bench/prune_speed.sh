#!/usr/bin/env bash
# prune_speed.sh — the speed side of vggsmall channel pruning, nnslim and PyTorch in
# one run: `nnslim compare` of the dense and the 50%-channel-pruned model (batch-1
# median latency over 200 runs, batch-64 throughput over 20), alternated R times
# with PyTorch's dense and ln_structured-masked vggsmall (bench/prune_speed_torch.py).
# Needs bench/models/vggsmall.onnx and vggsmall_c50.onnx (bench/accuracy.sh and
# bench/prune.sh channel). Appends to bench/results/prune_speed.txt.
#
#   bash bench/prune_speed.sh [REPEATS=3] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
R=${1:-3}
TH=${2:-2}
res=bench/results/prune_speed.txt
for f in bench/models/vggsmall.onnx bench/models/vggsmall_c50.onnx; do
  [[ -f $f ]] || { echo "prune_speed.sh: $f is missing (run bench/accuracy.sh and bench/prune.sh channel)" >&2; exit 1; }
done
echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) threads $TH load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$res"
for ((r = 1; r <= R; r++)); do
  echo "nnslim compare bench/models/vggsmall.onnx bench/models/vggsmall_c50.onnx --threads $TH --test-limit 1000 --json" >>"$res"
  "$NNS" compare bench/models/vggsmall.onnx bench/models/vggsmall_c50.onnx --threads "$TH" --test-limit 1000 --json 2>/dev/null | tee -a "$res"
  echo "/usr/bin/python3 bench/prune_speed_torch.py --threads $TH" >>"$res"
  /usr/bin/python3 bench/prune_speed_torch.py --threads "$TH" | tee -a "$res"
done
