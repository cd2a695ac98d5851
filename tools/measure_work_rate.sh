#!/usr/bin/env bash
# tools/measure_work_rate.sh [BUILD_DIR]
# How long the steps the chapter programs are made of take on this machine: a multiply-add in a plain
# loop and inside OpenBLAS, a random draw, an exp, a printed number. These are the numbers behind
# work_limit and the step costs in common/cli.hpp. Needs the course built (libcourse_common.a and
# ch01_tensors).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
lib=$build/common/libcourse_common.a
[ -f "$lib" ] || { echo "measure_work_rate.sh: $lib not found; build the course first" >&2; exit 2; }
exe=$(mktemp)
trap 'rm -f "$exe" "$exe.out"' EXIT
g++ -std=c++17 -O3 -DNDEBUG -DHAVE_CBLAS=1 -I"$root/common" "$root/tools/work_rate.cpp" "$lib" -lfmt -lopenblas \
  -o "$exe"
"$exe" | tee "$exe.out"
# A terminal costs more than /dev/null: chapter 01 with 50000 x 5 scores prints 5e5 numbers (the
# matrix and its heatmap); time it through a pseudo-terminal (script(1)), colour on, as ./course run does.
if command -v script >/dev/null && [ -x "$build/bin/ch01_tensors" ]; then
  start=$(date +%s.%N)
  script -qc "$build/bin/ch01_tensors --rows 50000 --cols 5" /dev/null >/dev/null
  end=$(date +%s.%N)
  madd=$(awk '/multiply-add, plain loop/ {print $4}' "$exe.out")
  awk -v s="$start" -v e="$end" -v m="$madd" \
    'BEGIN { ns = (e - s) * 1e9 / 5e5; printf "  printed number, terminal      %8.2f ns   %.0f\n", ns, ns / m }'
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
