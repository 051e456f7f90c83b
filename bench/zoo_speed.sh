#!/usr/bin/env bash
# zoo_speed.sh — whole networks in nnslim, ONNX Runtime and PyTorch, side by side in one run.
#
#   bash bench/zoo_speed.sh [--size S] [--repeats R] [--threads T] [--iters K] [--batch B] [MODEL...]
#
# Models: names from tools/export_zoo.py (default: resnet18 mobilenet_v2
# squeezenet1_1 shufflenet_v2_x0_5 googlenet efficientnet_b0 and the five
# built-ins). Each is exported once (random weights, --size S, default 64) to
# bench/models/zoo<S>/NAME/model.onnx, which needs PyTorch; existing files are
# reused. For each model, R rounds (default 3) run the three engines in a
# rotating order, each with T threads (default 2):
#   nnslim     nnslim profile --batch 1 --repeats 50, then --batch B --repeats K
#              (its session line: the batch in lanes, as nnslim runs it)
#   ORT        node tools/ort_run.js --bench B --iters K --iters1 50
#   PyTorch    tools/torch_bench.py (the same architecture and weights in eval
#              mode, not the ONNX file: PyTorch cannot run ONNX)
# and prints the medians over rounds of batch-1 latency (ms) and batch-B
# throughput (images/s, B default 64, K default 10) with the ratios
# ORT/nnslim and PyTorch/nnslim for latency and nnslim/ORT, nnslim/PyTorch
# for throughput (> 1: nnslim is faster). A peer that is not installed is
# skipped, and the script says so. Appends everything to
# bench/results/zoo_speed.txt with the CPU's ISA.
set -euo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
PY=/usr/bin/python3
S=64 R=3 T=2 K=10 B=64
models=()
while (($#)); do
  case $1 in
    --size) S=$2; shift 2 ;;
    --repeats) R=$2; shift 2 ;;
    --threads) T=$2; shift 2 ;;
    --iters) K=$2; shift 2 ;;
    --batch) B=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) echo "zoo_speed.sh: unknown option '$1'" >&2; exit 2 ;;
    *) models+=("$1"); shift ;;
  esac
done
((${#models[@]})) || models=(resnet18 mobilenet_v2 squeezenet1_1 shufflenet_v2_x0_5 googlenet efficientnet_b0
                             lenet300 lenet5 vggsmall resnet8 mobilenet)
[[ -x $NNS ]] || { echo "zoo_speed.sh: $NNS not built (cmake --build build)" >&2; exit 1; }
dir=bench/models/zoo$S
for m in "${models[@]}"; do
  [[ -f $dir/$m/model.onnx ]] && continue
  $PY tools/export_zoo.py --out "$dir" --size "$S" --model "$m" >/dev/null ||
    { echo "zoo_speed.sh: cannot export $m (PyTorch missing?): put $dir/$m/model.onnx in place" >&2; exit 1; }
done
have_ort=1 have_torch=1
node tools/ort_run.js "$dir/${models[0]}/model.onnx" --bench 1 --iters 1 >/dev/null 2>&1 || have_ort=0
$PY tools/torch_bench.py --model lenet300 --batch 1 --iters 1 --iters1 1 >/dev/null 2>&1 || have_torch=0
((have_ort)) || echo "zoo_speed.sh: ONNX Runtime not installed (sh tools/setup_ort.sh): skipped"
((have_torch)) || echo "zoo_speed.sh: PyTorch not installed (apt-get install python3-torch python3-torchvision): skipped"

res=bench/results/zoo_speed.txt
num() { sed -E "s/.*\"$2\": ?([0-9.e+-]+).*/\\1/" <<<"$1"; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "nan"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { print (x == "nan" || y == "nan" || y == 0) ? "-" : sprintf("%.2f", x / y) }'; }
isa=$(grep -m1 -o -w -E 'avx512_bf16|avx512_vnni|avx512f|avx2' /proc/cpuinfo | head -1 || true)
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_vnni|avx512_bf16|avx_vnni)$' | tr '\n' ' ')
{
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) [${flags:-$isa}] NNS_ISA=${NNS_ISA:-default}"
  echo "# bash bench/zoo_speed.sh --size $S --repeats $R --threads $T --iters $K --batch $B ${models[*]}   load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '# %-20s %9s %9s %9s %7s %7s | %9s %9s %9s %7s %7s\n' model "nns b1" "ort b1" "torch b1" "ort/n" "pt/n" \
    "nns b$B" "ort b$B" "torch b$B" "n/ort" "n/pt"
} | tee -a "$res"
for m in "${models[@]}"; do
  f=$dir/$m/model.onnx
  n1=() n64=() o1=() o64=() t1=() t64=()
  for ((r = 0; r < R; r++)); do
    order=(nns ort torch)
    order=("${order[@]:r%3}" "${order[@]:0:r%3}")
    for who in "${order[@]}"; do
      case $who in
        nns)
          a=$("$NNS" profile "$f" --batch 1 --repeats 50 --threads "$T" --json)
          b=$("$NNS" profile "$f" --batch "$B" --repeats "$K" --threads "$T" --json)
          echo "nns $m b1 $(head -c 200 <<<"$a") b$B $(head -c 400 <<<"$b")" >>"$res"
          n1+=("$(num "$a" total_ms)"); n64+=("$(num "$b" session_images_per_second)") ;;
        ort)
          ((have_ort)) || continue
          a=$(node tools/ort_run.js "$f" --bench "$B" --iters "$K" --iters1 50 --threads "$T")
          echo "ort $m $a" >>"$res"
          o1+=("$(num "$a" latency_ms_b1)"); o64+=("$(num "$a" images_per_second)") ;;
        torch)
          ((have_torch)) || continue
          a=$($PY tools/torch_bench.py --model "$m" --size "$S" --batch "$B" --iters "$K" --threads "$T")
          echo "torch $m $a" >>"$res"
          t1+=("$(num "$a" latency_ms_b1)"); t64+=("$(num "$a" images_per_second)") ;;
      esac
    done
  done
  a=$(printf '%s\n' "${n1[@]}" | median); b=$( ((${#o1[@]})) && printf '%s\n' "${o1[@]}" | median || echo nan)
  c=$( ((${#t1[@]})) && printf '%s\n' "${t1[@]}" | median || echo nan)
  d=$(printf '%s\n' "${n64[@]}" | median); e=$( ((${#o64[@]})) && printf '%s\n' "${o64[@]}" | median || echo nan)
  g=$( ((${#t64[@]})) && printf '%s\n' "${t64[@]}" | median || echo nan)
  printf '  %-20s %9.3f %9s %9s %7s %7s | %9.1f %9s %9s %7s %7s\n' "$m" "$a" "$b" "$c" "$(ratio "$b" "$a")" \
    "$(ratio "$c" "$a")" "$d" "$e" "$g" "$(ratio "$d" "$e")" "$(ratio "$d" "$g")" | tee -a "$res"
done
