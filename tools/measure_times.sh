#!/usr/bin/env bash
# measure_times.sh [RUNS] [--no-clean-build] — the timings the README promises, measured on this machine.
#   1. the student's loop: after editing one exercise file, how long `./course check NN` takes to
#      answer (rebuild in build-check/ + tests), as the median of RUNS edits of exercises/01 and of
#      the last exercise, each holding a finished exercise (the reference solution's code);
#   2. a crash report: after an edit that makes exercise 01 crash, how long `./course check 01` takes
#      to show the line (the crash, then the rebuild in build-check-asan/ and the sanitizer's run),
#      as the median of RUNS edits, once build-check-asan/ exists;
#   3. a clean build of everything plus all tests, in a fresh build directory (not with
#      --no-clean-build).
# The exercise files are restored afterwards. Run it on a quiet machine; it prints wall-clock seconds.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-7}
clean_build=yes
[ "${2:-}" = --no-clean-build ] && clean_build=no
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
now() { date +%s.%N; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# time_edits NN FILE_CONTENT_SOURCE: copies SOURCE over exercise NN's first file, then RUNS times appends
# an edit and times ./course check NN; prints the times. The stub is put back afterwards.
time_edits() {
  local nn=$1 source=$2 file times=() i start
  file=$(ls exercises/"$nn"_*/*.cpp | head -1)
  cp "$file" "$file.orig"
  cp "$source" "$file"
  cp "$file" "$file.solved"
  ./course check "$nn" >/dev/null 2>&1 || true # the first build of a directory is not what we time
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
  echo "median $(printf '%s\n' "${times[@]}" | median) s over $runs runs (${times[*]})"
}

# 1. the edit-check loop, on a finished exercise (a stub that only throws compiles faster than real code)
for nn in 01 $(ls -d exercises/[0-9][0-9]_* | tail -1 | xargs basename | cut -d_ -f1); do
  slug=$(basename "$(ls -d exercises/"$nn"_*)")
  echo "course check $nn after an edit: $(time_edits "$nn" "$(ls chapters/"$slug"/solution/*.cpp | head -1)")"
done

# 2. a crash: the reference for 01 with a write through a null pointer in softmax_rows
crashing=$(mktemp --suffix=.cpp)
sed 's|p(i, j) /= sum;|p(i, j) /= sum; *static_cast<volatile double*>(nullptr) = sum;|' \
  chapters/01_tensors/solution/tensors.cpp >"$crashing"
if grep -q nullptr "$crashing"; then
  echo "course check 01 showing a crash's line: $(time_edits 01 "$crashing")"
else
  echo "(crash timing skipped: chapters/01_tensors/solution/tensors.cpp has changed; update the sed above)"
fi
rm -f "$crashing"

# 3. a clean build and all tests
[ $clean_build = yes ] || exit 0
tmp=$(mktemp -d)
start=$(now)
cmake -S . -B "$tmp" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp" >/dev/null
built=$(now)
(cd "$tmp" && ctest -j2 >/dev/null) || echo "(some tests failed)"
end=$(now)
rm -rf "$tmp"
echo "clean build: $(minus "$built" "$start") s; all tests: $(minus "$end" "$built") s; together: $(minus "$end" "$start") s"
