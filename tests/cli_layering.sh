#!/usr/bin/env bash
# cli_layering.sh [NNSLIM] — the layering of docs/architecture.md: every
# #include "..." (and <nnslim/...>) in src/*/ and cli/ must be allowed by the
# matrix below; a violation fails the test naming the file, the line and the
# include. The script first proves on a synthetic tree that it catches a
# violation. (NNSLIM, the binary ctest passes, is not used.)
set -u
SRC=${NNS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}

# Module -> what it may include besides itself. Internal modules are the
# src/ directories; api:X is the public header of module X
# (include/nnslim/X.h; status.h, tensor.h and graph.h are core's, nnslim.h
# the umbrella). Keep in step with docs/architecture.md.
declare -A ALLOW=(
  [core]="api:core"
  [kernels]="core api:core api:runtime"
  [ops]="core kernels api:core"
  [graph]="core ops api:core"
  [runtime]="core kernels ops api:core api:runtime"
  [data]="core api:core api:data"
  [arch]="core api:core api:arch"
  [onnx]="core ops graph api:core api:onnx"
  [train]="core ops runtime api:core api:data api:train"
  [prune]="core ops graph runtime api:core api:data api:train api:prune"
  [distill]="core ops graph runtime prune api:core api:data api:train api:prune api:distill"
  [quant]="core kernels ops graph runtime api:core api:data api:train api:prune api:quant"
  [cli]="api:*"
)

# Known exceptions, "file include" (each must still occur: a stale entry
# fails, so the list only shrinks). Each is explained in docs/architecture.md.
EXCEPT=(
)

api_module() {
  case "$1" in
    status|tensor|graph) echo core ;;
    nnslim) echo '*' ;;
    *) echo "$1" ;;
  esac
}

# check_tree DIR EXCEPTIONS...: prints violations, returns their count (capped)
check_tree() {
  local dir=$1; shift
  local -a exc=("$@")
  local -A used=()
  local bad=0 file lno text inc mod tgt ok e
  while IFS= read -r hit; do
    file=${hit%%:*}; hit=${hit#*:}
    lno=${hit%%:*}; text=${hit#*:}
    if [[ $text =~ \#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]]; then inc=${BASH_REMATCH[1]}
    elif [[ $text =~ \#[[:space:]]*include[[:space:]]*\<(nnslim/[^\>]+)\> ]]; then inc=${BASH_REMATCH[1]}
    else continue; fi
    case "$file" in
      cli/*) mod=cli ;;
      src/*/*) mod=${file#src/}; mod=${mod%%/*} ;;
      *) continue ;;
    esac
    case "$inc" in
      nnslim/*) tgt=${inc#nnslim/}; tgt="api:$(api_module "${tgt%.h}")" ;;
      */*) tgt=${inc%%/*} ;;
      *) tgt=$mod ;;   # a file beside it (cli.h, the generated onnx.pb-c.h)
    esac
    [[ $tgt == "$mod" ]] && continue
    if [[ -z ${ALLOW[$mod]+x} ]]; then
      echo "$file:$lno: module '$mod' is not in the layering matrix (tests/cli_layering.sh, docs/architecture.md)"
      bad=$((bad + 1)); continue
    fi
    ok=0
    for a in ${ALLOW[$mod]}; do
      [[ $a == "$tgt" || ($a == "api:*" && $tgt == api:*) ]] && ok=1
    done
    if (( !ok )); then
      for e in "${exc[@]}"; do
        [[ $e == "$file $inc" ]] && { ok=1; used[$e]=1; }
      done
    fi
    if (( !ok )); then
      echo "$file:$lno: #include \"$inc\": $mod may not include $tgt (allowed: ${ALLOW[$mod]})"
      bad=$((bad + 1))
    fi
  done < <(cd "$dir" && grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' src cli \
             --include='*.c' --include='*.h' 2>/dev/null | sort)
  for e in "${exc[@]}"; do
    [[ -n ${used[$e]+x} ]] || { echo "stale exception (no such include any more): $e"; bad=$((bad + 1)); }
  done
  return $(( bad > 100 ? 100 : bad ))
}

# 1. the checker catches a violation (and a stale exception) on a synthetic tree
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/src/core" "$T/src/prune" "$T/cli"
printf '#include "core/graph_impl.h"\n#include "ops/op.h"\n' > "$T/src/core/g.c"
printf '#include "nnslim/distill.h"\n#include "ops/op.h"\n' > "$T/src/prune/p.c"
printf '#include "cli.h"\n#include "nnslim/nnslim.h"\n' > "$T/cli/m.c"
out=$(check_tree "$T" "src/core/gone.c ops/op.h"); n=$?
if (( n != 3 )) || ! grep -q 'src/core/g.c:2: #include "ops/op.h"' <<<"$out" ||
   ! grep -q 'src/prune/p.c:1: #include "nnslim/distill.h"' <<<"$out" || ! grep -q 'stale exception' <<<"$out"; then
  echo "FAIL: the checker's self-test found $n problems, expected 3:"; echo "$out"; exit 1
fi

# 2. the real tree
out=$(check_tree "$SRC" "${EXCEPT[@]}"); n=$?
if (( n )); then
  echo "FAIL: $n include(s) outside the layering of docs/architecture.md:"; echo "$out"; exit 1
fi
echo "ok: every include in src/*/ and cli/ is allowed (${#EXCEPT[@]} documented exception(s))"
