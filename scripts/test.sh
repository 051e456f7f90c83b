#!/usr/bin/env bash
# test.sh — install what is needed, build nnslim and run the whole test suite.
#   scripts/test.sh              release build in build/
#   scripts/test.sh --sanitize   ASan + UBSan debug build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
# ONNX Runtime (npm) for the interoperability tests; they skip without it.
bash tools/setup_ort.sh || true
if [[ "${1:-}" == "--sanitize" ]]; then
  dir=build-asan
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DNNS_SANITIZE=ON >/dev/null
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  dir=build
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure -j2 --timeout 900
