#!/usr/bin/env bash
# check_stubs_fail.sh TEST_PROGRAM SOURCE_DIR NN_slug
# Every test case in TEST_PROGRAM (the chapter's tests linked against exercises/NN_slug) must FAIL
# while the exercise is the untouched stub: a test that passes against a stub asserts nothing.
#
# Whether the stub is untouched is decided by exercises/STUBS.sha256. If a student has edited the
# exercise there is nothing to check, so the test reports "skipped" (exit 77) — except under CI=true,
# where an exercise that differs from STUBS.sha256 is an error (run tools/update_stub_hashes.sh after
# changing a stub on purpose).
set -u
program=$1
source_dir=$2
slug=$3
cd "$source_dir" || exit 1

manifest=exercises/STUBS.sha256
listed=$(grep -c " exercises/$slug/" "$manifest" 2>/dev/null)
present=$(find "exercises/$slug" -type f ! -name HINTS.md | wc -l)
if [ "${listed:-0}" -eq 0 ] || [ "$listed" -ne "$present" ] ||
   ! grep " exercises/$slug/" "$manifest" | sha256sum --check --status 2>/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: exercises/$slug does not match $manifest; after changing a stub, run tools/update_stub_hashes.sh"
    exit 1
  fi
  echo "exercises/$slug has been edited, so the untouched-stub check is skipped"
  exit 77
fi

cases=$("$program" --list-test-cases --no-colors=true 2>/dev/null | grep -v '^\[doctest\]' | grep -v '^=\+$' | grep -v '^$')
if [ -z "$cases" ]; then
  echo "FAIL: $program lists no test cases"
  exit 1
fi
total=0
passed=0
while IFS= read -r name; do
  total=$((total + 1))
  filter=${name//,/\\,}
  if "$program" --test-case="$filter" --no-colors=true >/dev/null 2>&1; then
    echo "FAIL: passes against the untouched stub: $name"
    passed=$((passed + 1))
  fi
done <<<"$cases"
if [ "$passed" -ne 0 ]; then
  echo "$passed of $total test cases of exercise $slug pass against its stub: they assert nothing"
  exit 1
fi
echo "OK: all $total test cases of exercise $slug fail against its untouched stub"
