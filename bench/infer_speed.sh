#!/usr/bin/env bash
# infer_speed.sh — inference speed of nnslim beside ONNX Runtime on the same ONNX files,
# in one run: for each model, R rounds alternating `nnslim compare` (batch-1 median
# latency over 200 runs, batch-64 images/s from the median of 20) and ONNX Runtime
# (tools/ort_run.js --bench 64: batch-1 median and batch-64 median over as many runs,
# all graph optimisations on). Prints the medians over rounds and the ratios
# (ORT time / nnslim time: > 1 means nnslim is faster). Appends everything to
# bench/results/infer_speed.txt.
#
#   bash bench/infer_speed.sh [REPEATS=3] [THREADS=2] [MODEL.onnx...]
#
# Default models: the bench/models/ files that exist among vggsmall, vggsmall_c50, mobilenet,
# resnet8, lenet5, lenet300 (bench/accuracy.sh and bench/prune.sh make them).
# Needs onnxruntime-node (sh tools/setup_ort.sh); without it, exits 77.
set -euo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
R=${1:-3}
TH=${2:-2}
shift $(( $# > 2 ? 2 : $# ))
models=("$@")
if ((${#models[@]} == 0)); then
  for m in vggsmall vggsmall_c50 resnet8 mobilenet lenet5 lenet300; do
    [[ -f bench/models/$m.onnx ]] && models+=("bench/models/$m.onnx")
  done
fi
((${#models[@]})) || { echo "infer_speed.sh: no models (run bench/accuracy.sh)" >&2; exit 1; }
node tools/ort_run.js "${models[0]}" --bench 1 --iters 1 >/dev/null 2>&1 || {
  rc=$?; [[ $rc == 77 ]] && { echo "infer_speed.sh: onnxruntime-node missing (sh tools/setup_ort.sh)" >&2; exit 77; }
}
res=bench/results/infer_speed.txt
num() { sed -E "s/.*\"$2\": ?([0-9.e+-]+).*/\\1/" <<<"$1"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
{
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) threads $TH repeats $R load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# bash bench/infer_speed.sh $R $TH ${models[*]}"
} | tee -a "$res"
printf '# %-28s %12s %12s %8s | %14s %14s %8s\n' model "nns b1 ms" "ort b1 ms" "ratio" "nns b64 img/s" "ort b64 img/s" "ratio" | tee -a "$res"
for m in "${models[@]}"; do
  nb1=() nb64=() ob1=() ob64=()
  for ((r = 1; r <= R; r++)); do
    # alternate who goes first
    for who in $( ((r % 2)) && echo "nns ort" || echo "ort nns"); do
      if [[ $who == nns ]]; then
        out=$("$NNS" compare "$m" --no-eval --threads "$TH" --json 2>/dev/null)
        echo "nns $m $out" >>"$res"
        nb1+=("$(num "$out" latency_ms_b1)"); nb64+=("$(num "$out" images_per_second_b64)")
      else
        out=$(node tools/ort_run.js "$m" --bench 64 --iters 20 --threads "$TH" 2>/dev/null)
        echo "ort $m $out" >>"$res"
        ob1+=("$(num "$out" latency_ms_b1)"); ob64+=("$(num "$out" images_per_second)")
      fi
    done
  done
  a=$(printf '%s\n' "${nb1[@]}" | median); b=$(printf '%s\n' "${ob1[@]}" | median)
  c=$(printf '%s\n' "${nb64[@]}" | median); d=$(printf '%s\n' "${ob64[@]}" | median)
  printf '  %-28s %12.4f %12.4f %8.2f | %14.1f %14.1f %8.2f\n' "$(basename "$m")" "$a" "$b" \
    "$(awk -v x="$a" -v y="$b" 'BEGIN { print y / x }')" "$c" "$d" "$(awk -v x="$c" -v y="$d" 'BEGIN { print x / y }')" | tee -a "$res"
done
