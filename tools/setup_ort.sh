#!/bin/sh
# Install ONNX Runtime for Node (onnxruntime-node) into third_party/node_modules.
#
#   sh tools/setup_ort.sh
#
# Optional: only tools/ and bench/ use it (tools/ort_run.js); the library and
# its required tests never do. Idempotent: does nothing when the package is
# already there and loads. Installs with --ignore-scripts: the npm package
# ships prebuilt native bindings (bin/napi-v6/<os>/<arch>/), so its install
# script (which would download extra GPU bits) is not needed.
# Exits 0 with a warning when npm or node is missing or the registry cannot be
# reached, so callers can go on without ONNX Runtime. Exits 1 only when the
# package installed but its native binding fails to load.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
tp="$root/third_party"

warn() { echo "setup_ort: warning: $*" >&2; }

if ! command -v node >/dev/null 2>&1; then
    warn "node not found; ONNX Runtime comparisons will be skipped"
    exit 0
fi

check_load() {
    (cd "$tp" && node -e "
const ort = require('onnxruntime-node');
new ort.Tensor('float32', new Float32Array(1), [1]);
process.stdout.write('onnxruntime-node ' + ((ort.env.versions && ort.env.versions.node) || '?') + '\n');
")
}

if [ -f "$tp/node_modules/onnxruntime-node/package.json" ] && check_load >/dev/null 2>&1; then
    echo "setup_ort: $(check_load) already installed in third_party/node_modules"
    exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
    warn "npm not found; ONNX Runtime comparisons will be skipped"
    exit 0
fi

if [ ! -f "$tp/package.json" ]; then
    warn "third_party/package.json is missing; creating a minimal one"
    mkdir -p "$tp"
    cat > "$tp/package.json" <<'JSON'
{
  "name": "nnslim-third-party",
  "version": "0.0.0",
  "private": true,
  "license": "MIT",
  "dependencies": {
    "onnxruntime-node": "1.30.0"
  }
}
JSON
fi

echo "setup_ort: installing onnxruntime-node into third_party/node_modules"
t=""
command -v timeout >/dev/null 2>&1 && t="timeout 600"
if ! (cd "$tp" && $t npm install --ignore-scripts --no-audit --no-fund --loglevel=error); then
    warn "npm install failed (registry unreachable?); ONNX Runtime comparisons will be skipped"
    exit 0
fi

if ! out=$(check_load 2>&1); then
    echo "setup_ort: error: onnxruntime-node installed but does not load:" >&2
    echo "$out" >&2
    exit 1
fi
echo "setup_ort: $out installed"
exit 0
