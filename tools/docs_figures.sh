#!/usr/bin/env bash
# docs_figures.sh check|update PROGRAM FIGURES_DIR NN
# The figures in docs/figures/NN-*.svg are exactly what `PROGRAM --svg DIR` writes.
#   check:  fail if a figure differs, is missing, or is left over from an older program
#   update: copy the program's figures into FIGURES_DIR
set -u
source "$(dirname "$0")/blas_kernel.sh"  # one OpenBLAS kernel: the same last bits on every machine
mode=$1
program=$2
figures=$3
nn=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$program" --no-color --svg "$tmp" >/dev/null 2>"$tmp.err"; then
  echo "FAIL: $program --svg failed:"
  cat "$tmp.err"
  rm -f "$tmp.err"
  exit 1
fi
rm -f "$tmp.err"
written=$(cd "$tmp" && ls)
if [ -z "$written" ]; then
  echo "FAIL: $program --svg wrote no figures"
  exit 1
fi
status=0
for f in $written; do
  case $mode in
    update) cp "$tmp/$f" "$figures/$f" && echo "updated $figures/$f" ;;
    check)
      if ! cmp -s "$tmp/$f" "$figures/$f"; then
        echo "FAIL: $figures/$f differs from what the program writes (tools/docs_figures.sh update ...)"
        status=1
      fi
      ;;
  esac
done
for f in "$figures/$nn"-*.svg; do
  [ -e "$f" ] || continue
  if [ ! -e "$tmp/$(basename "$f")" ]; then
    echo "FAIL: $f is not written by $program any more: remove it"
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "OK: $(echo $written | wc -w) figure(s) of chapter $nn are current"
exit "$status"
