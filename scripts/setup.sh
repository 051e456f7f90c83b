#!/usr/bin/env bash
# setup.sh — install the Debian packages nnslim needs (idempotent; runs
# apt-get update once, only when something is missing). Run as root.
#   scripts/setup.sh          build + run dependencies
#   scripts/setup.sh --test   also what the tests use (Node.js + npm for ONNX Runtime,
#                             libonnx-testdata for the conformance runner)
#   scripts/setup.sh --fuzz   also clang and libFuzzer for scripts/fuzz.sh
set -euo pipefail
PKGS=(build-essential cmake pkg-config libopenblas-openmp-dev libprotobuf-c-dev
      protobuf-c-compiler libonnx-dev zlib1g-dev dataset-fashion-mnist)
if [[ "${1:-}" == "--test" ]]; then
  command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
  command -v npm >/dev/null 2>&1 || PKGS+=(npm)
  PKGS+=(libonnx-testdata) # tests/test_conformance.c: the ONNX backend test data
fi
if [[ "${1:-}" == "--fuzz" ]]; then
  PKGS+=(clang libclang-rt-14-dev libomp-dev) # clang 14's libFuzzer, OpenMP for clang
fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
