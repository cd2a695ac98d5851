#!/usr/bin/env bash
# docs_output.sh check|update DOC.md BIN_DIR
# A docs page shows the real output of the chapter programs. Each block
#
#   <!-- output: ch02_dot_product_attention --no-color --seed 3 -->
#   ```text
#   ...what the program printed...
#   ```
#   <!-- end output -->
#
# holds what that command prints (stdout and stderr), run from the repository root with NO_COLOR=1.
# The command must exit 0, unless the marker ends with "=> exit N".
# Each command may run COURSE_DOCS_TIMEOUT seconds (default 60). With COURSE_DOCS_SKIP_FULL=1 (the
# sanitizer build: its programs run some 20 times slower) blocks whose command has --full are left as
# they are, unchecked: the default run exercises the same code on smaller sizes.
#   check:  fail, with a diff, if any block differs from what the program prints now
#   update: rewrite the blocks in place
set -u
source "$(dirname "$0")/blas_kernel.sh"  # one OpenBLAS kernel: the same last bits on every machine
mode=$1
doc=$2
bin_dir=$3
root=$(cd "$(dirname "$doc")/.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0

{
  skipping=0
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ $line =~ ^\<\!--\ output:\ (.*)\ --\>$ ]]; then
      spec=${BASH_REMATCH[1]}
      want_exit=0
      if [[ $spec =~ ^(.*)\ =\>\ exit\ ([0-9]+)$ ]]; then
        spec=${BASH_REMATCH[1]}
        want_exit=${BASH_REMATCH[2]}
      fi
      read -r -a words <<<"$spec"
      printf '%s\n' "$line"
      if [ "${COURSE_DOCS_SKIP_FULL:-0}" = 1 ] && [[ " $spec " == *" --full "* ]]; then
        skipping=2  # copy the block as it stands
        continue
      fi
      printf '```text\n'
      text=$(cd "$root" && NO_COLOR=1 timeout "${COURSE_DOCS_TIMEOUT:-60}" "$bin_dir/${words[0]}" "${words[@]:1}" 2>&1 </dev/null)
      code=$?
      printf '%s\n' "$text"
      printf '```\n'
      if [ "$code" -ne "$want_exit" ]; then
        echo "FAIL: '$spec' exited with $code, expected $want_exit" >&2
        status=1
      fi
      skipping=1
      continue
    fi
    if [ "$skipping" -ne 0 ]; then
      [ "$skipping" -eq 2 ] && [ "$line" != "<!-- end output -->" ] && printf '%s\n' "$line"
      if [ "$line" = "<!-- end output -->" ]; then
        skipping=0
        printf '%s\n' "$line"
      fi
      continue
    fi
    printf '%s\n' "$line"
  done <"$doc"
} >"$out"

if ! grep -q '^<!-- output: ' "$doc"; then
  echo "FAIL: $doc has no <!-- output: ... --> block"
  exit 1
fi
case $mode in
  check)
    if ! diff -u "$doc" "$out"; then
      echo "FAIL: $doc does not show what the program prints now."
      echo "      Regenerate it with: tools/docs_output.sh update $doc $bin_dir"
      exit 1
    fi
    [ "$status" -eq 0 ] && echo "OK: $doc shows the programs' current output"
    exit "$status"
    ;;
  update)
    cp "$out" "$doc"
    echo "updated $doc"
    exit "$status"
    ;;
  *)
    echo "usage: docs_output.sh check|update DOC.md BIN_DIR" >&2
    exit 2
    ;;
esac
