#!/usr/bin/env bash
# measure_times.sh [RUNS] — the two timings the README promises, measured on this machine.
#   1. the student's loop: after editing one exercise file, how long `./course check NN` takes to
#      answer (rebuild + tests), as the median of RUNS edits of exercises/01 and of the last exercise,
#      each holding a finished exercise (the reference solution's code);
#   2. a clean build of everything plus all tests, in a fresh build directory.
# The exercise files are restored afterwards. Run it on a quiet machine; it prints wall-clock seconds.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-7}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
now() { date +%s.%N; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

./course check 01 >/dev/null 2>&1 || true # make sure build/ exists and is up to date
for nn in 01 $(ls -d exercises/[0-9][0-9]_* | tail -1 | xargs basename | cut -d_ -f1); do
  file=$(ls exercises/"$nn"_*/*.cpp | head -1)
  cp "$file" "$file.orig"
  # Time a finished exercise, not the stub: a stub that only throws compiles faster than real code.
  cp "solutions/$(basename "$(dirname "$file")")/$(basename "$file")" "$file"
  cp "$file" "$file.solved"
  times=()
  for i in $(seq "$runs"); do
    echo "// edit $i" >>"$file" # an edit that changes the file, as saving it in an editor would
    start=$(now)
    ./course check "$nn" >/dev/null 2>&1 || true
    times+=("$(minus "$(now)" "$start")")
    cp "$file.solved" "$file"
  done
  mv "$file.orig" "$file"
  touch "$file" # mv keeps the stub's old mtime, which would leave the solved object file "up to date"
  rm -f "$file.solved"
  ./course check "$nn" >/dev/null 2>&1 || true
  echo "course check $nn after an edit: median $(printf '%s\n' "${times[@]}" | median) s over $runs runs (${times[*]})"
done

tmp=$(mktemp -d)
start=$(now)
cmake -S . -B "$tmp" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp" >/dev/null
built=$(now)
(cd "$tmp" && ctest -j2 >/dev/null) || echo "(some tests failed)"
end=$(now)
rm -rf "$tmp"
echo "clean build: $(minus "$built" "$start") s; all tests: $(minus "$end" "$built") s; together: $(minus "$end" "$start") s"
