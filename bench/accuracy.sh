#!/usr/bin/env bash
# accuracy.sh [ARCH...] — train each built-in architecture with the anchors'
# recipe (nnslim's defaults) on Fashion-MNIST and record the test accuracy
# next to PyTorch's anchor (the project's PyTorch figures) in bench/results/accuracy.txt.
# Also keeps the trained models in bench/models/ (ignored by git) for the
# pruning and distillation benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
archs=("$@")
((${#archs[@]})) || archs=(lenet300 lenet5 vggsmall resnet8 mobilenet)
declare -A anchor=([lenet300]=0.8949 [lenet5]=0.9081 [vggsmall]=0.9339 [resnet8]=0.9240 [mobilenet]=0.9249)
mkdir -p bench/results bench/models
res=bench/results/accuracy.txt
{
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) threads: $(nproc)"
} >>"$res"
for a in "${archs[@]}"; do
  cmd="$NNS train --arch $a -o bench/models/$a.onnx --json"
  json=$($cmd)
  acc=$(sed -E 's/.*"test_accuracy": ([0-9.]+).*/\1/' <<<"$json")
  ips=$(sed -E 's/.*"train_images_per_second": ([0-9.]+).*/\1/' <<<"$json")
  diff=$(awk -v a="$acc" -v b="${anchor[$a]}" 'BEGIN{printf "%+.2f", (a-b)*100}')
  echo "$a test_accuracy $acc anchor ${anchor[$a]} diff ${diff} pts train_images_per_second $ips | $cmd" | tee -a "$res"
  echo "$json" >>"$res"
done
