#!/usr/bin/env bash
# prune40.sh — issue #4's 40% channel pruning of the residual and depthwise networks, and the
# speed of the result in nnslim and in ONNX Runtime:
#   - resnet8 and mobilenet (trained, bench/models/, from bench/accuracy.sh): pruned 40% with
#     the default 2 fine-tuning epochs (accuracy before/after in the JSON);
#   - torchvision's ResNet-18 and MobileNetV2 (random weights, 32x32x3, exported by
#     tools/export_torchvision.py into bench/models/tv/): pruned 40%, no fine-tuning;
# all with --round-to 8, then bench/infer_speed.sh on every original and pruned file.
# Appends the prune JSON lines to bench/results/prune.txt (infer_speed.sh writes its own).
#
#   bash bench/prune40.sh [REPEATS=3] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
R=${1:-3}
TH=${2:-2}
res=bench/results/prune.txt
mkdir -p bench/models/tv
echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) threads $TH load $(cut -d' ' -f1-3 /proc/loadavg) (bench/prune40.sh)" >>"$res"
files=()
for m in resnet8 mobilenet; do
  f=bench/models/$m.onnx
  [[ -f $f ]] || { echo "prune40.sh: $f is missing (bash bench/accuracy.sh $m)" >&2; exit 1; }
  cmd=("$NNS" prune "$f" --method channel --sparsity 0.4 --round-to 8 --threads "$TH" -o "bench/models/${m}_c40.onnx" --json)
  echo "$m 40% channels, round to 8, 2 FT epochs | ${cmd[*]}" | tee -a "$res"
  "${cmd[@]}" | tee -a "$res"
  files+=("$f" "bench/models/${m}_c40.onnx")
done
/usr/bin/python3 tools/export_torchvision.py --model all --out bench/models/tv --batch 4 >/dev/null
for m in resnet18 mobilenet_v2; do
  f=bench/models/tv/$m.onnx
  cmd=("$NNS" prune "$f" --method channel --sparsity 0.4 --round-to 8 --finetune-epochs 0 --threads "$TH"
       -o "bench/models/tv/${m}_c40.onnx" --json)
  echo "torchvision $m (random weights) 40% channels, round to 8 | ${cmd[*]}" | tee -a "$res"
  "${cmd[@]}" | tee -a "$res"
  files+=("$f" "bench/models/tv/${m}_c40.onnx")
done
bash bench/infer_speed.sh "$R" "$TH" "${files[@]}"
