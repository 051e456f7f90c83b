#!/usr/bin/env bash
# ab_speed.sh — this build against an earlier commit, side by side in one run: inference
# of the five built-in architectures (batch-1 median latency over 200 runs, batch-64
# images/s median of 20, from `nnslim compare --no-eval --json`) and training speed on
# vggsmall and mobilenet (`nnslim train --json`: train images/s, evaluation excluded).
# Each round runs OLD then NEW, the next NEW then OLD, so that drift of the machine hits
# both alike. Prints the medians over rounds and NEW/OLD ratios (> 1: the new build is
# faster) with the CPU's ISA, and appends them to bench/results/ab_speed.txt.
#
#   bash bench/ab_speed.sh [--old REV] [--repeats R] [--threads T] [--train-limit N]
#
# --old REV (default HEAD~1): built in a temporary git worktree (release, as
# scripts/build.sh does); --repeats 5; --threads 2; --train-limit 6400 images, 1 epoch.
# The models are the architectures trained for one short epoch by the NEW binary (their
# weights do not matter for speed; their shapes and BatchNorms do).
set -euo pipefail
cd "$(dirname "$0")/.."
old=HEAD~1 R=5 TH=2 TL=6400
while (($#)); do
  case "$1" in
    --old) old=$2; shift 2 ;;
    --repeats) R=$2; shift 2 ;;
    --threads) TH=$2; shift 2 ;;
    --train-limit) TL=$2; shift 2 ;;
    *) echo "usage: bash bench/ab_speed.sh [--old REV] [--repeats R] [--threads T] [--train-limit N]" >&2; exit 2 ;;
  esac
done
NEW=./build/nnslim
[[ -x $NEW ]] || bash scripts/build.sh build >/dev/null
T=$(mktemp -d)
trap 'git worktree remove --force "$T/old" >/dev/null 2>&1 || true; rm -rf "$T"' EXIT
git worktree add --detach "$T/old" "$old" >/dev/null 2>&1
cmake -S "$T/old" -B "$T/old/build" -DCMAKE_BUILD_TYPE=Release -DNNS_BUILD_TESTS=OFF >/dev/null
cmake --build "$T/old/build" -j"$(nproc)" --target nnslim >/dev/null
OLD=$T/old/build/nnslim
archs=(lenet300 lenet5 vggsmall resnet8 mobilenet)
for a in "${archs[@]}"; do
  "$NEW" train --arch "$a" --limit 512 --test-limit 100 --epochs 1 -o "$T/$a.onnx" >/dev/null 2>&1
done
flags=$(grep -m1 '^flags' /proc/cpuinfo)
isa=scalar
for f in avx2 avx512f avx512_vnni; do [[ " $flags " == *" $f "* ]] && isa=$f; done
num() { sed -E "s/.*\"$2\": ?([0-9.e+-]+).*/\\1/" <<<"$1"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A v
measure() { # WHICH BIN ROUND
  local j
  for a in "${archs[@]}"; do
    j=$("$2" compare "$T/$a.onnx" --no-eval --threads "$TH" --json 2>/dev/null)
    v[$1.$a.b1]+="$(num "$j" latency_ms_b1) "
    v[$1.$a.b64]+="$(num "$j" images_per_second_b64) "
  done
  for a in vggsmall mobilenet; do
    j=$("$2" train --arch "$a" --limit "$TL" --test-limit 100 --epochs 1 --threads "$TH" --json -o "$T/t.onnx" 2>/dev/null)
    v[$1.$a.train]+="$(num "$j" train_images_per_second) "
  done
}
for ((r = 1; r <= R; r++)); do
  if ((r % 2)); then measure old "$OLD"; measure new "$NEW"; else measure new "$NEW"; measure old "$OLD"; fi
done
med() { tr ' ' '\n' <<<"${v[$1]}" | grep . | median; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > 0) ? a / b : 0 }'; }
res=bench/results/ab_speed.txt
mkdir -p bench/results
{
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) new $(git rev-parse --short HEAD) old $(git rev-parse --short "$old") isa $isa threads $TH repeats $R load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-10s %10s %10s %7s | %12s %12s %7s\n' model "old b1 ms" "new b1 ms" "ratio" "old b64 i/s" "new b64 i/s" "ratio"
  for a in "${archs[@]}"; do
    o1=$(med old.$a.b1) n1=$(med new.$a.b1) o64=$(med old.$a.b64) n64=$(med new.$a.b64)
    printf '%-10s %10.4f %10.4f %7.3f | %12.0f %12.0f %7.3f\n' "$a" "$o1" "$n1" "$(div "$o1" "$n1")" \
      "$o64" "$n64" "$(div "$n64" "$o64")"
  done
  printf '%-10s %10s %10s %7s\n' train "old img/s" "new img/s" ratio
  for a in vggsmall mobilenet; do
    ot=$(med old.$a.train) nt=$(med new.$a.train)
    printf '%-10s %10.0f %10.0f %7.3f\n' "$a" "$ot" "$nt" "$(div "$nt" "$ot")"
  done
} | tee -a "$res"
