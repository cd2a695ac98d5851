#!/usr/bin/env bash
# docs_full_output.sh check|update DOC.md BIN_DIR FIGURES_DIR
# For the runs too long for tools/docs_output.sh (its blocks must finish within 60 s and run in every
# ./course test): a docs page's block
#
#   <!-- full output: ch15_rnn_to_attention --no-color --full -->
#   ```text
#   ...what the program printed...
#   ```
#   <!-- end output -->
#
# holds what that command prints (stdout and stderr, run from the repository root with NO_COLOR=1),
# and FIGURES_DIR holds exactly the figures the same command writes with --svg. One block per page.
#   check:  fail, with a diff, if the block or a figure differs from what the program gives now
#   update: rewrite the block in place and copy the figures into FIGURES_DIR
# ch15.docs_full runs the check (CMake option COURSE_FULL_DOCS_TESTS: minutes, so off by default).
set -u
source "$(dirname "$0")/blas_kernel.sh"  # one OpenBLAS kernel, as tools/docs_output.sh
mode=$1
doc=$2
bin_dir=$3
figures=$4
root=$(cd "$(dirname "$doc")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
spec=$(sed -n 's/^<!-- full output: \(.*\) -->$/\1/p' "$doc" | head -1)
if [ -z "$spec" ]; then
  echo "FAIL: $doc has no <!-- full output: ... --> block"
  exit 1
fi
read -r -a words <<<"$spec"
if ! (cd "$root" && NO_COLOR=1 timeout 900 "$bin_dir/${words[0]}" "${words[@]:1}" --svg "$tmp/svg" >"$tmp/text" 2>&1 </dev/null); then
  echo "FAIL: $spec did not exit 0:"
  tail -5 "$tmp/text"
  exit 1
fi
# the figures line names the temporary directory: show it as FIGURES_DIR
rel=${figures#"$root"/}
sed -i "s|$tmp/svg|$rel|" "$tmp/text"
# the page with the block's body replaced by the new text
awk -v text="$tmp/text" '
  /^<!-- full output: / { print; print "```text"; while ((getline line < text) > 0) print line; print "```"; skip = 1; next }
  skip && /^<!-- end output -->$/ { skip = 0 }
  !skip { print }
' "$doc" >"$tmp/page"
status=0
case $mode in
  update)
    cp "$tmp/page" "$doc" && echo "updated the full output block of $doc"
    mkdir -p "$figures" && rm -f "$figures"/*.svg && cp "$tmp/svg"/*.svg "$figures"/ && echo "updated $figures"
    ;;
  check)
    if ! diff -u "$doc" "$tmp/page"; then
      echo "FAIL: the full output block of $doc differs from what '$spec' prints (tools/docs_full_output.sh update ...)"
      status=1
    fi
    if ! diff -r "$tmp/svg" "$figures" >/dev/null; then
      echo "FAIL: $figures differs from the figures '$spec' writes"
      status=1
    fi
    ;;
esac
[ "$status" -eq 0 ] && [ "$mode" = check ] && echo "OK: the full output block and figures of $doc are current"
exit "$status"
