#!/usr/bin/env bash
# check_stubs_fail.sh TEST_PROGRAM SOURCE_DIR NN_slug
# Every test case in TEST_PROGRAM (the chapter's tests linked against exercises/NN_slug) must FAIL
# while the exercise is the untouched stub: a test that passes against a stub asserts nothing.
#
# Whether the stub is untouched is decided by exercises/STUBS.sha256, with the rule the runner uses
# (tools/runner.py untouched: the exercise's source files are the ones recorded, each unchanged). If a
# student has edited the
# exercise there is nothing to check, so the test reports "skipped" (exit 77) — except under CI=true,
# where an exercise that differs from STUBS.sha256 is an error (run tools/update_stub_hashes.sh after
# changing a stub on purpose).
#
# Tests of given code (chapters/NN_slug/given/, code the course gives that does not call the chapter's own
# exercises, e.g. a helper built on an earlier chapter's reference) may pass against the stub. They
# opt out by living in a doctest test suite whose name starts with "given:", e.g.
#   TEST_SUITE("given: 11 transformer block") { TEST_CASE("feed_forward ...") { ... } }
# and are still run against the reference and the student's code like every other test.
#
# COURSE_STUBS_MANIFEST names another manifest to check against (tools/update_stub_hashes.sh uses it
# to test the stubs it is about to record).
set -u
program=$1
source_dir=$2
slug=$3
cd "$source_dir" || exit 1

manifest=${COURSE_STUBS_MANIFEST:-exercises/STUBS.sha256}
runner() { COURSE_ROOT=$PWD /usr/bin/python3 tools/runner.py "$@"; }
if ! runner untouched --stubs "$manifest" "$slug"; then
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: exercises/$slug does not match $manifest; after changing a stub, run tools/update_stub_hashes.sh"
    exit 1
  fi
  echo "exercises/$slug has been edited, so the untouched-stub check is skipped"
  exit 77
fi

listing=$(mktemp)
trap 'rm -f "$listing"' EXIT
"$program" --list-test-cases --reporters=xml --out="$listing" >/dev/null 2>&1
cases=$(runner names "$listing" --not-given)
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
