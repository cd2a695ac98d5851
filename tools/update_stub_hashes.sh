#!/usr/bin/env bash
# update_stub_hashes.sh [BUILD_DIR] — record the untouched exercise stubs in exercises/STUBS.sha256.
# Run it after changing a stub on purpose. The course runner uses the file to tell "not started"
# from "in progress", `course reset` to find the stub in git history, and CI to check stubs fail.
#
# It refuses to record an exercise that is not a stub: every exercise whose files differ from the
# recorded ones is built against its tests (test_NN_exercise in BUILD_DIR, default build/, which must
# be configured: cmake --preset default) and each of its test cases must fail against it
# (tools/check_stubs_fail.sh), so a solved or half-solved exercise is never recorded as a stub.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
manifest=exercises/STUBS.sha256
new=$(mktemp)
trap 'rm -f "$new"' EXIT
# the exercises' source files and their checksums, as tools/runner.py untouched compares them
/usr/bin/python3 tools/runner.py stub-hashes >"$new"

# The chapters whose files differ from the recorded ones (added, changed or removed).
changed=$(diff <(cat "$manifest" 2>/dev/null || true) "$new" |
  sed -n 's|^[<>] [0-9a-f]*  exercises/\([0-9][0-9]_[^/]*\)/.*|\1|p' | LC_ALL=C sort -u)
for slug in $changed; do
  [ -d "exercises/$slug" ] || continue  # a chapter removed: nothing to check
  nn=${slug%%_*}
  target=test_${nn}_exercise
  if [ ! -f "$build/build.ninja" ] && [ ! -f "$build/Makefile" ]; then
    echo "update_stub_hashes.sh: $build is not configured; run cmake --preset default first" >&2
    exit 1
  fi
  if ! cmake --build "$build" --target help 2>/dev/null | grep -q "^$target[: ]"; then
    echo "exercises/$slug: no target $target (a DRAFT chapter?), so its stub is recorded unchecked"
    continue
  fi
  echo "exercises/$slug changed: building $target to check that it is still a stub"
  if ! cmake --build "$build" --target "$target" >/dev/null; then
    echo "update_stub_hashes.sh: $target does not build; nothing recorded" >&2
    exit 1
  fi
  if ! COURSE_STUBS_MANIFEST=$new bash tools/check_stubs_fail.sh "$build/bin/$target" . "$slug"; then
    echo "update_stub_hashes.sh: exercises/$slug is not an untouched stub (some of its tests pass);" \
      "nothing recorded" >&2
    exit 1
  fi
done
cp "$new" "$manifest"
echo "wrote $manifest ($(wc -l <"$manifest") files)"
