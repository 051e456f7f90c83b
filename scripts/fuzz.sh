#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer targets (tests/fuzz/) with clang, ASan and
# UBSan in build-fuzz/, run each for SECONDS on a copy of its corpus, print
# its executions and coverage, and fail if any target crashed.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60, all targets)
# Environment: FUZZ_WORK (default build-fuzz/work) holds the corpus copies,
# the logs and the crash files; FUZZ_MERGE=1 merges each run's new inputs back
# into tests/fuzz/corpus/<target>/ (minimised with -merge=1); FUZZ_SEED (default
# 1, 0 for a random one) seeds the mutations, so that CI's run follows the same
# sequence as a developer's run of the same length.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2; }
bash scripts/setup.sh --fuzz
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in tests/fuzz/fuzz_*.c; do t=${f##*/fuzz_}; targets+=("${t%.c}"); done
fi
dir=build-fuzz
CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNNS_FUZZ=ON -DNNS_BUILD_TESTS=OFF >/dev/null
cmake --build "$dir" -j2 --target "${targets[@]/#/fuzz_}" >/dev/null
work=${FUZZ_WORK:-$dir/work}
mkdir -p "$work"
# An allocation above 512 MiB is a bug (the targets cap nnslim's memory at
# 256 MiB): ASan reports it with the stack that asked for it.
export ASAN_OPTIONS=max_allocation_size_mb=512:allocator_may_return_null=0:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMP_NUM_THREADS=1
failed=0
n_failed=0
for t in "${targets[@]}"; do
  corpus=$work/corpus_$t
  rm -rf "$corpus" "$work/crash_$t"
  mkdir -p "$corpus" "$work/crash_$t"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/
  log=$work/$t.log
  rc=0
  "$dir/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -max_len=65536 -seed="${FUZZ_SEED:-1}" -print_final_stats=1 -artifact_prefix="$work/crash_$t/" \
    "$corpus" >"$log" 2>&1 || rc=$?
  stats=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$stats")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$stats")
  echo "fuzz $t: ${secs}s, ${execs:-?} executions, ${speed:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}"
  crash=$(ls "$work/crash_$t"/ 2>/dev/null | head -1)
  if ((rc != 0)) || [[ -n "$crash" ]]; then
    failed=1
    n_failed=$((n_failed + 1))
    grep -E 'ERROR|SUMMARY|fuzz:' "$log" | head -5 >&2 || true
    echo "fuzz $t: FAILED (exit $rc); reproducer: $work/crash_$t/$crash; log: $log" >&2
    echo "  replay: $dir/fuzz_$t $work/crash_$t/$crash" >&2
  elif [[ "${FUZZ_MERGE:-0}" == 1 ]]; then
    "$dir/fuzz_$t" -merge=1 -max_len=65536 "tests/fuzz/corpus/$t" "$corpus" >>"$log" 2>&1
  fi
done
echo "fuzz: $((${#targets[@]} - n_failed)) passed, $n_failed failed"
exit $failed
