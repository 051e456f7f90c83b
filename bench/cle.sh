#!/usr/bin/env bash
# cle.sh — what cross-layer equalization (--cle) and bias correction
# (--bias-correction) bring to post-training quantization, recorded with
# their commands in bench/results/cle.txt: test accuracy of PTQ with neither,
# each and both, per output channel and per tensor (min/max calibration, the
# default), on mobilenet, resnet8 and vggsmall trained by nnslim
# (bench/models/NAME.onnx, as bench/quantize.sh trains them), then the
# quantized files with both options in ONNX Runtime (tools/ort_eval.js) when
# onnxruntime-node is installed. MODELS="mobilenet" limits the models;
# MODELS_DIR reads the trained models from another directory, OUT_DIR writes
# the quantized files elsewhere, NODE_PATH finds an onnxruntime-node installed
# elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
NNS=${NNS:-./build/nnslim}
M=${MODELS_DIR:-bench/models}
OUT=${OUT_DIR:-bench/models}
mkdir -p bench/results "$OUT"
res=bench/results/cle.txt
isa=avx2
grep -q -w avx512f /proc/cpuinfo && isa=avx512f
grep -q -w avx512_vnni /proc/cpuinfo && isa=avx512_vnni
echo "# $(date -u +%Y-%m-%dT%H:%MZ) commit $(git rev-parse --short HEAD) isa ${isa:-?} load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$res"
log() { echo "$*" | tee -a "$res"; }
summary() { # one line from nnslim quantize --json
  python3 -c 'import json,sys; j=json.loads(sys.stdin.read()); print("float %.4f quantized %.4f (%+.2f pts) cle pairs %d sweeps %d clip_refused %d, bias-corrected layers %d max_shift %.4g" % (j["before"]["accuracy"], j["after"]["accuracy"], 100*(j["after"]["accuracy"]-j["before"]["accuracy"]), j["cle"]["pairs"], j["cle"]["sweeps"], j["cle"]["clip_refused"], j["bias_correction"]["layers"], j["bias_correction"]["max_shift"]))'
}
MEAN=0.286041 STD=0.353024
for a in ${MODELS:-mobilenet resnet8 vggsmall}; do
  for w in "" "--per-tensor"; do
    for o in "" "--cle" "--bias-correction" "--cle --bias-correction"; do
      # shellcheck disable=SC2086
      json=$("$NNS" quantize "$M/$a.onnx" $w $o --threads 2 -o "$OUT/${a}_cle_q.onnx" --json)
      log "$a PTQ ${w:-per-channel} ${o:-(neither)} | nnslim quantize $M/$a.onnx $w $o --threads 2 --json"
      log "  $(echo "$json" | summary)"
      echo "$json" >>"$res"
    done
    # the last file (both options) in ONNX Runtime
    if [[ -d third_party/node_modules/onnxruntime-node || -n "${NODE_PATH:-}" ]]; then
      log "  ort ${a} ${w:-per-channel} --cle --bias-correction | $(node tools/ort_eval.js "$OUT/${a}_cle_q.onnx" --mean $MEAN --std $STD --threads 2 || true)"
    fi
  done
done
