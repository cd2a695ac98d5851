#!/usr/bin/env bash
# How long ./course grade takes for a class: N checkouts (30 by default) in which every exercise is
# done (the reference, each file with a line of its own added, so no two students' files are the same
# bytes), graded against build-check/ once it is built (the first ./course grade or ./course check
# builds it; that build is not timed here). Prints the machine, then grade's own table and timing.
#
#   tools/bench_grade.sh [N] [--jobs J]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=30
JOBS=()
while [ $# -gt 0 ]; do
  case $1 in
    --jobs) JOBS=(--jobs "${2:?--jobs needs a number}"); shift 2 ;;
    *) [[ $1 =~ ^[1-9][0-9]{0,2}$ ]] || { echo "bench_grade: error: N must be 1 to 999, not '$1'" >&2; exit 2; }; N=$1; shift ;;
  esac
done
TMP=$(mktemp -d /tmp/bench-grade.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
for i in $(seq -w 1 "$N"); do
  /usr/bin/python3 "$ROOT/tools/test_grade.py" --make reference-all "$TMP/student$i"
  for f in "$TMP/student$i"/exercises/*/*.cpp; do printf '// student %s\n' "$i" >>"$f"; done
  printf 'student%s\n' "$i" >>"$TMP/class.txt"
done
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$ROOT/course" grade --list "$TMP/class.txt" "${JOBS[@]}" --out "$TMP/grades" --scratch "$TMP/scratch"
