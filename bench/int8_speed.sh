#!/usr/bin/env bash
# int8_speed.sh — the int8 plan's speed: for each model, its quantized file
# (bench/models/<m>_int8.onnx, from `nnslim quantize`, bench/quantize.sh)
# against the float model in nnslim, and against ONNX Runtime running the
# same quantized file, at batch 1 and batch 64, for each thread count and
# each ISA level asked for (NNS_ISA; ONNX Runtime runs once per thread count,
# it has no such switch). Each round runs `nnslim compare FLOAT INT8` (batch-1
# median of 200 runs, batch-64 median of 20; the order of the two files
# alternates between rounds) and tools/ort_run.js --bench 64 on the int8
# file, alternating which goes first. Prints the medians over rounds and the
# ratios (time of the other / time of nnslim int8: > 1 means nnslim int8 is
# faster) and appends everything to bench/results/int8_speed.txt.
#
#   bash bench/int8_speed.sh [--repeats R] [--threads "1 2"] [--isa "native avx2"] [MODEL...]
#
# MODEL: a name under bench/models (default: vggsmall resnet8 mobilenet, and
# vggsmall_c50 when bench/models/vggsmall_c50_int8.onnx exists); the float file
# is bench/models/MODEL.onnx, the quantized one bench/models/MODEL_int8.onnx.
# --isa: "native" (the best the CPU has) and any NNS_ISA level. Without
# onnxruntime-node (sh tools/setup_ort.sh) the ORT columns are empty.
set -euo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
R=5 THREADS="1 2" ISAS="native avx2"
models=()
while (($#)); do
  case "$1" in
    --repeats) R=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --isa) ISAS=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
if ((${#models[@]} == 0)); then
  models=(vggsmall resnet8 mobilenet)
  [[ -f bench/models/vggsmall_c50_int8.onnx ]] && models+=(vggsmall_c50)
fi
for m in "${models[@]}"; do
  for f in "bench/models/$m.onnx" "bench/models/${m}_int8.onnx"; do
    [[ -f $f ]] || { echo "int8_speed.sh: $f is missing (bench/quantize.sh makes the int8 files)" >&2; exit 1; }
  done
done
have_ort=1
node tools/ort_run.js "bench/models/${models[0]}_int8.onnx" --bench 1 --iters 1 >/dev/null 2>&1 || have_ort=0
res=bench/results/int8_speed.txt
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# compare JSON -> "float_b1 float_b64 int8_b1 int8_b64"
parse_compare() {
  python3 -c 'import json,sys
d = {m["model"]: m for m in json.load(sys.stdin)["models"]}
f, q = sys.argv[1], sys.argv[2]
print(d[f]["latency_ms_b1"], d[f]["images_per_second_b64"], d[q]["latency_ms_b1"], d[q]["images_per_second_b64"])' "$1" "$2"
}
parse_ort() { python3 -c 'import json,sys; d = json.load(sys.stdin); print(d["latency_ms_b1"], d["images_per_second"])'; }
{
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | grep -o 'avx512_vnni\|avx512f\|avx_vnni\|avx2' | sort -u | tr '\n' ' ')"
  echo "# bash bench/int8_speed.sh --repeats $R --threads \"$THREADS\" --isa \"$ISAS\" ${models[*]}"
  echo "# ratios: the other's time / nnslim int8's (b1: latency; b64: images/s of nnslim int8 / the other's); > 1: nnslim int8 faster"
  printf '# %-13s %2s %-10s | %9s %9s %9s %6s %6s | %8s %8s %8s %6s %6s\n' model th isa "f32 b1" "int8 b1" "ort b1" "x f32" "x ort" \
    "f32 b64" "int8 b64" "ort b64" "x f32" "x ort"
} | tee -a "$res"
for m in "${models[@]}"; do
  F=bench/models/$m.onnx Q=bench/models/${m}_int8.onnx
  for th in $THREADS; do
    ob1=() ob64=()
    for isa in $ISAS; do
      fb1=() fb64=() qb1=() qb64=()
      for ((r = 1; r <= R; r++)); do
        order=$( ((r % 2)) && echo "nns ort" || echo "ort nns")
        for who in $order; do
          if [[ $who == ort ]]; then
            ((have_ort)) && [[ $isa == "${ISAS%% *}" ]] || continue
            o=$(node tools/ort_run.js "$Q" --bench 64 --iters 20 --threads "$th" | parse_ort)
            echo "ort $Q th $th: $o" >>"$res"
            ob1+=("${o% *}") ob64+=("${o#* }")
          else
            env_isa=(); [[ $isa != native ]] && env_isa=(env NNS_ISA="$isa")
            pair=("$F" "$Q"); ((r % 2)) || pair=("$Q" "$F")
            o=$("${env_isa[@]}" "$NNS" compare "${pair[@]}" --no-eval --threads "$th" --json 2>/dev/null | parse_compare "$F" "$Q")
            echo "nns $m th $th isa $isa: $o" >>"$res"
            read -r a b c d <<<"$o"
            fb1+=("$a") fb64+=("$b") qb1+=("$c") qb64+=("$d")
          fi
        done
      done
      mf1=$(printf '%s\n' "${fb1[@]}" | median) mf64=$(printf '%s\n' "${fb64[@]}" | median)
      mq1=$(printf '%s\n' "${qb1[@]}" | median) mq64=$(printf '%s\n' "${qb64[@]}" | median)
      mo1=$( ((${#ob1[@]})) && printf '%s\n' "${ob1[@]}" | median || echo "")
      mo64=$( ((${#ob64[@]})) && printf '%s\n' "${ob64[@]}" | median || echo "")
      awk -v m="$m" -v th="$th" -v isa="$isa" -v f1="$mf1" -v q1="$mq1" -v o1="$mo1" -v f64="$mf64" -v q64="$mq64" -v o64="$mo64" 'BEGIN {
        xo1 = o1 == "" ? "-" : sprintf("%.2f", o1 / q1); xo64 = o64 == "" ? "-" : sprintf("%.2f", q64 / o64)
        printf "  %-13s %2d %-10s | %9.4f %9.4f %9s %6.2f %6s | %8.0f %8.0f %8s %6.2f %6s\n", m, th, isa, f1, q1, o1 == "" ? "-" : sprintf("%.4f", o1), f1 / q1, xo1, f64, q64, o64 == "" ? "-" : sprintf("%.0f", o64), q64 / f64, xo64 }' | tee -a "$res"
    done
  done
done
