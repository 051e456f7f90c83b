#!/usr/bin/env bash
# cli_hostile_files.sh NNSLIM — files that are not what they claim to be.
# Models and data that are a FIFO, a character device or a directory; a model
# over NNS_MAX_MODEL_BYTES, empty or cut short; IDX and .npy files (raw and
# gzip) whose headers claim billions of samples that the file does not hold;
# a data set larger than NNS_MAX_MEMORY. Each command must refuse each one
# with a one-line error naming the file, exit 1, never block (a FIFO with no
# writer), leave no output, and keep its peak resident size within 100 MB of
# the same command on good files.
set -u
NNS="$1"
SRC="${NNS_SOURCE_DIR:-$(dirname "$0")/..}"
MODEL="$SRC/tests/golden/lenet5.onnx"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }
[[ -x /usr/bin/time ]] || { echo "skipped: no /usr/bin/time"; exit 77; }

# u32 big-endian as printf escapes
be32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((($1>>24)&255)) $((($1>>16)&255)) $((($1>>8)&255)) $(($1&255)); }
# idx_images N BYTES: a 28x28 IDX image header claiming N images, then BYTES bytes
idx_images() { printf "\x00\x00\x08\x03$(be32 "$1")\x00\x00\x00\x1c\x00\x00\x00\x1c"; head -c "$2" /dev/zero; }
# idx_labels N BYTES: a label header claiming N labels, then BYTES zero bytes
idx_labels() { printf "\x00\x00\x08\x01$(be32 "$1")"; head -c "$2" /dev/zero; }
# npy SHAPE DESCR BYTES: a .npy v1.0 header, then BYTES zero bytes
npy() {
  local d="{'descr': '$2', 'fortran_order': False, 'shape': $1, }"
  printf '\x93NUMPY\x01\x00\x76\x00'; printf "%-117s\n" "$d"; head -c "$3" /dev/zero
}
# a good data directory of 10 test images, and variants with one bad file
good() {
  mkdir -p "$1"
  { idx_images 10 0; head -c 7840 /dev/urandom; } >"$1/t10k-images-idx3-ubyte"
  idx_labels 10 10 >"$1/t10k-labels-idx1-ubyte"
}
good "$T/good"
mk() { rm -rf "$T/$1"; good "$T/$1"; }
mk img_claim; idx_images 4294967295 16 >"$T/img_claim/t10k-images-idx3-ubyte"
mk img_claim_gz; rm "$T/img_claim_gz/t10k-images-idx3-ubyte"
idx_images 4294967295 7840 | gzip -c >"$T/img_claim_gz/t10k-images-idx3-ubyte.gz"
mk lab_claim_gz; rm "$T/lab_claim_gz/t10k-labels-idx1-ubyte"
idx_labels 4294967295 10 | gzip -c >"$T/lab_claim_gz/t10k-labels-idx1-ubyte.gz"
mk img_fifo; rm "$T/img_fifo/t10k-images-idx3-ubyte"; mkfifo "$T/img_fifo/t10k-images-idx3-ubyte"
mk lab_dev; rm "$T/lab_dev/t10k-labels-idx1-ubyte"; ln -s /dev/zero "$T/lab_dev/t10k-labels-idx1-ubyte"
# 2^20 images: 3 GiB as float, over the 1 GiB NNS_MAX_MEMORY set below, in a
# gzip of 800 KB that really holds them
mk over_memory; rm "$T/over_memory/t10k-images-idx3-ubyte"
idx_images 1048576 822083584 | gzip -1 -c >"$T/over_memory/t10k-images-idx3-ubyte.gz"
idx_labels 1048576 1048576 >"$T/over_memory/t10k-labels-idx1-ubyte"
{ npy "(10, 1, 28, 28)" "|u1" 0; head -c 7840 /dev/urandom; } >"$T/x.npy"
npy "(10, 1, 28, 28)" "<f4" 31360 >"$T/xf.npy"; npy "(10,)" "<i8" 80 >"$T/y.npy"
npy "(1099511627776, 1, 28, 28)" "<f4" 64 | gzip -c >"$T/xclaim.npy.gz"
npy "(1099511627776,)" "<i8" 80 >"$T/yclaim.npy"
mkfifo "$T/model.fifo" "$T/x.fifo"
mkdir "$T/model.dir"
: >"$T/empty.onnx"
head -c 300 "$MODEL" >"$T/cut.onnx"

# run EXPECT_IN_STDERR COMMAND...: peak resident KB in $T/kb, exit in $T/rc
peak() {
  timeout 60 /usr/bin/time -f "%M" -o "$T/kb" "$@" >"$T/out" 2>"$T/err"
  echo $? >"$T/rc"
  tail -n 1 "$T/kb" 2>/dev/null || echo 0
}
base_kb=$(peak "$NNS" eval "$MODEL" --data "$T/good" --threads 1)
[[ $(cat "$T/rc") -eq 0 ]] || bad "baseline eval on good files failed: $(head -c 300 "$T/err")"
base_run=$(peak "$NNS" run "$MODEL" --input "$T/xf.npy" -o "$T/out.npy" --threads 1)
[[ $(cat "$T/rc") -eq 0 ]] || bad "baseline run failed: $(head -c 300 "$T/err")"
rm -f "$T/out.npy"

# case NAME WANT BASE_KB COMMAND...
case_() {
  local name=$1 want=$2 base=$3; shift 3
  local kb rc
  kb=$(peak "$@")
  rc=$(cat "$T/rc")
  if [[ $rc -eq 124 ]]; then bad "$name: timed out (blocked?)"; return; fi
  if [[ $rc -ne 1 ]]; then bad "$name: exit $rc, want 1: $(head -c 300 "$T/err")"; return; fi
  if [[ $(grep -c . "$T/err") -ne 1 ]]; then bad "$name: stderr is not one line: $(head -c 600 "$T/err")"; return; fi
  if ! grep -qF -- "$want" "$T/err"; then bad "$name: stderr lacks \"$want\": $(cat "$T/err")"; return; fi
  if [[ -e "$T/out.npy" ]]; then bad "$name: left an output file"; rm -f "$T/out.npy"; return; fi
  if (( kb > base + 100 * 1024 )); then bad "$name: peak ${kb} KB, baseline ${base} KB"; return; fi
  pass=$((pass+1))
}

case_ "model is a FIFO" "'$T/model.fifo' is a FIFO" "$base_kb" "$NNS" info "$T/model.fifo"
case_ "model is /dev/zero" "'/dev/zero' is a character device" "$base_kb" "$NNS" info /dev/zero
case_ "model is a directory" "'$T/model.dir' is a directory" "$base_kb" "$NNS" profile "$T/model.dir"
case_ "model is empty" "'$T/empty.onnx'" "$base_kb" "$NNS" info "$T/empty.onnx"
case_ "model is cut short" "'$T/cut.onnx'" "$base_kb" "$NNS" eval "$T/cut.onnx" --data "$T/good"
NNS_MAX_MODEL_BYTES=1K case_ "model over NNS_MAX_MODEL_BYTES" "NNS_MAX_MODEL_BYTES" "$base_kb" \
  "$NNS" info "$MODEL"
case_ "IDX images claim 2^32-1" "t10k-images-idx3-ubyte': truncated" "$base_kb" \
  "$NNS" eval "$MODEL" --data "$T/img_claim" --threads 1
case_ "gzip IDX images claim 2^32-1" "t10k-images-idx3-ubyte.gz': truncated" "$base_kb" \
  "$NNS" eval "$MODEL" --data "$T/img_claim_gz" --threads 1
case_ "gzip IDX labels claim 2^32-1" "t10k-labels-idx1-ubyte.gz': truncated" "$base_kb" \
  "$NNS" eval "$MODEL" --data "$T/lab_claim_gz" --threads 1
case_ "IDX images are a FIFO" "is a FIFO" "$base_kb" "$NNS" eval "$MODEL" --data "$T/img_fifo" --threads 1
case_ "IDX labels are /dev/zero" "is a character device" "$base_kb" \
  "$NNS" eval "$MODEL" --data "$T/lab_dev" --threads 1
NNS_MAX_MEMORY=1G case_ "data set over NNS_MAX_MEMORY" "NNS_MAX_MEMORY" "$base_kb" \
  "$NNS" eval "$MODEL" --data "$T/over_memory" --threads 1
case_ "gzip .npy claims 2^40 images" "xclaim.npy.gz': truncated" "$base_kb" \
  "$NNS" eval "$MODEL" --train-x "$T/x.npy" --train-y "$T/y.npy" --test-x "$T/xclaim.npy.gz" \
  --test-y "$T/y.npy" --threads 1
case_ ".npy labels claim 2^40" "yclaim.npy': truncated" "$base_kb" \
  "$NNS" eval "$MODEL" --train-x "$T/x.npy" --train-y "$T/y.npy" --test-x "$T/x.npy" \
  --test-y "$T/yclaim.npy" --threads 1
case_ "run input is a FIFO" "'$T/x.fifo' is a FIFO" "$base_run" \
  "$NNS" run "$MODEL" --input "$T/x.fifo" -o "$T/out.npy" --threads 1
case_ "run input is /dev/zero" "is a character device" "$base_run" \
  "$NNS" run "$MODEL" --input /dev/zero -o "$T/out.npy" --threads 1
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
