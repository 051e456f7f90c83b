#!/usr/bin/env bash
# cli_function_length.sh [NNSLIM] — no function in src/ or cli/ longer than
# 120 lines (from the first line of its signature to its closing brace): a
# function does one job and fits on a screen or two. A longer one fails the
# test, named with its file, line and length. The scanner first proves on a
# synthetic file that it catches a function one line too long (and passes
# one at the limit). (NNSLIM, the binary ctest passes, is not used.)
#
# Our style, which the scanner relies on: a function definition starts at
# column 0 (return type and name, the signature possibly over several lines,
# its "{" at the end of the signature's last line) and ends with "}" alone at
# column 0.
set -u
SRC=${NNS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
MAX=120

# Print "file:line: NAME is N lines" for each function over MAX lines.
scan() {
  awk -v max="$MAX" '
    FNR == 1 { infn = 0; pending = "" }
    infn {
      if ($0 ~ /^}/) {
        len = FNR - start + 1
        if (len > max) printf "%s:%d: %s is %d lines (at most %d)\n", FILENAME, start, name, len, max
        infn = 0
      }
      next
    }
    pending == "" && /^[A-Za-z_][A-Za-z0-9_ \t*]*\(/ { pending = $0; start = FNR }
    pending != "" {
      if ($0 ~ /;[ \t]*$/ && $0 !~ /\{/) { pending = ""; next }
      if ($0 ~ /\{[ \t]*$/ && $0 !~ /=[ \t]*\{[ \t]*$/) {
        name = pending
        sub(/\(.*/, "", name)
        n = split(name, w, /[ \t*]+/)
        name = w[n]
        infn = 1
        pending = ""
      } else if ($0 ~ /\{/ || $0 ~ /^}/) {
        pending = ""
      }
    }
  ' "$@"
}

# Self-test: a function of MAX lines passes, one of MAX+1 fails.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
make_fn() { # name, total lines
  printf 'static int %s(int a,\n' "$1"
  printf '        int b) {\n'
  local i
  for ((i = 3; i < $2; i++)); do printf '    a += b;\n'; done
  printf '}\n'
}
{ make_fn at_limit "$MAX"; make_fn too_long $((MAX + 1)); printf 'int proto(int x);\nstatic const int t[] = {\n1,\n};\n'; } > "$T/syn.c"
got=$(scan "$T/syn.c")
if [[ "$got" != *"too_long is $((MAX + 1)) lines"* || "$got" == *at_limit* ]]; then
  echo "FAIL: the scanner does not tell a function of $((MAX + 1)) lines from one of $MAX: '$got'"
  exit 1
fi

mapfile -t files < <(cd "$SRC" && find src cli -name '*.c' -o -name '*.h' | sort)
if ((${#files[@]} < 10)); then
  echo "FAIL: found only ${#files[@]} source files under $SRC/src and $SRC/cli"
  exit 1
fi
bad=$(cd "$SRC" && scan "${files[@]}")
if [[ -n "$bad" ]]; then
  echo "FAIL: functions over $MAX lines:"
  echo "$bad"
  exit 1
fi
echo "ok: ${#files[@]} files, no function over $MAX lines"
