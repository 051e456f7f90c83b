#!/usr/bin/env bash
# cli_hostile_shapes.sh NNSLIM — the crafted models of tests/hostile/ (made by
# tools/make_hostile_models.py: input dims whose element count wraps, Reshape
# targets that overflow, windows and joins whose outputs exceed the tensor
# limit, initializers that claim more than they hold, a sparse initializer
# whose dense form exceeds NNS_MAX_MEMORY). Every command that loads
# a model must refuse each one with a one-line error naming the culprit and
# exit 1: no crash, no output file, and a peak resident size within 100 MB of
# the same command on a normal model.
set -u
NNS="$1"
SRC="${NNS_SOURCE_DIR:-$(dirname "$0")/..}"
H="$SRC/tests/hostile"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
bad() { fail=$((fail+1)); echo "FAIL: $*" >&2; }

# peak resident KB of a command (GNU time), its exit status in $T/rc
peak() {
  /usr/bin/time -f "%M" -o "$T/kb" "$@" >"$T/out" 2>"$T/err"
  echo $? >"$T/rc"
  tail -n 1 "$T/kb"
}

# what each model's error must name (its culprit)
culprit() {
  case "$1" in
    softmax_wrap|transpose_wrap|flatten_wrap|gap_wrap|relu_2p32) echo "graph input 'x'" ;;
    reshape_2p62|reshape_prod_wrap) echo "node 'Reshape_0' (Reshape)" ;;
    conv_pads_huge) echo "node 'Conv_0' (Conv)" ;;
    maxpool_pads_huge) echo "node 'MaxPool_0' (MaxPool)" ;;
    concat_over_limit) echo "node 'Concat_0' (Concat)" ;;
    init_claims_2p40|raw_claims_2p32|init_claims_2p30|raw_claims_2p30) echo "tensor 'w'" ;;
    sparse_dense_2p31) echo "sparse initializer 'w'" ;;
    *) echo "" ;;
  esac
}

[[ -x /usr/bin/time ]] || { echo "skipped: no /usr/bin/time"; exit 77; }
# a memory limit below this machine's, so that a sparse initializer whose
# dense form is 8 GiB is refused by the limit wherever the test runs
export NNS_MAX_MEMORY=1G
# an input array for 'run' (float32 [2,4]); the model is refused before it is read
printf '\x93NUMPY\x01\x00\x76\x00' >"$T/x.npy"
printf "%-117s\n" "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }" >>"$T/x.npy"
head -c 32 /dev/zero >>"$T/x.npy"

cmds=(info profile run)
have_data=0
[[ -d /usr/share/datasets/fashion-mnist ]] && { cmds+=(eval); have_data=1; }

args() { # COMMAND MODEL: the command line
  case "$1" in
    info) echo "$NNS info $2" ;;
    profile) echo "$NNS profile $2 --batch 2 --repeats 1 --threads 1" ;;
    run) echo "$NNS run $2 --input $T/x.npy -o $T/y.npy --threads 1" ;;
    eval) echo "$NNS eval $2 --threads 1" ;;
  esac
}

# the baseline: each command on a normal model
declare -A base
NORMAL="$SRC/tests/golden/lenet5.onnx"
for c in "${cmds[@]}"; do
  [[ $c == run ]] && { base[$c]=$(peak $NNS info "$NORMAL"); continue; }
  base[$c]=$(peak $(args "$c" "$NORMAL"))
  [[ $(cat "$T/rc") -eq 0 ]] || { bad "baseline $c on lenet5 failed: $(head -c 300 "$T/err")"; }
done

n_models=0
for m in "$H"/*.onnx; do
  name=$(basename "$m" .onnx)
  want=$(culprit "$name")
  [[ -n "$want" ]] || { bad "$name: no expected culprit listed in this script"; continue; }
  n_models=$((n_models+1))
  for c in "${cmds[@]}"; do
    rm -f "$T/y.npy"
    kb=$(peak $(args "$c" "$m"))
    rc=$(cat "$T/rc")
    what="nnslim $c $name"
    if [[ $rc -ne 1 ]]; then bad "$what -> exit $rc, want 1: $(head -c 300 "$T/err")"; continue; fi
    if [[ $(grep -c . "$T/err") -ne 1 ]]; then bad "$what -> stderr is not one line: $(head -c 600 "$T/err")"; continue; fi
    if ! grep -qF -- "$want" "$T/err"; then bad "$what -> stderr lacks \"$want\": $(cat "$T/err")"; continue; fi
    if [[ -e "$T/y.npy" ]]; then bad "$what -> left an output file"; continue; fi
    if (( kb > ${base[$c]} + 100 * 1024 )); then
      bad "$what -> peak ${kb} KB, baseline ${base[$c]} KB (more than 100 MB above)"; continue
    fi
    pass=$((pass+1))
  done
done
(( n_models >= 15 )) || bad "only $n_models crafted models found in $H"
[[ $have_data -eq 1 ]] || echo "note: fashion-mnist absent, 'eval' not run"
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
