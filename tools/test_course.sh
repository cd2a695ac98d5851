#!/usr/bin/env bash
# test_course.sh FAILURE_OUTPUT_DEMO — regression tests of the course runner (ctest label "runner").
#
# Runs ./course on a scratch copy of the repository, without a terminal, in under a minute: nothing
# here compiles the course (the real builds are what `./course check` is timed on by hand, see
# tools/measure_times.sh). Where a command would build, the test sources ./course and replaces the
# build step with a stand-in program that prints what a real one prints (a doctest crash, an
# AddressSanitizer report), so the runner's own logic is what is tested:
#   help            ends with the usage text (no stray shell line)
#   packages        install refuses an unknown group; test says last what it skipped without Chromium
#   hint            one hint at a time, remembered in .course/, per function, --all for all of them
#   reset           refuses without a terminal or --yes; keeps a copy of the work it overwrites
#   watch           checks the exercise whose files were saved (polling, and inotify if installed)
#   stubs           one rule for an untouched stub in ./course and tools/check_stubs_fail.sh
#   check           (doctest's XML report, read by tools/runner.py) a crash is reported without
#                   bash's "Segmentation fault" line, and traced to the student's file and line; an
#                   index out of range likewise; failures are short, with the real exercise number
#                   in "./course check NN --all"; per function, which passed (tools/runner.py results)
#   CHECK_CLOSE     (FAILURE_OUTPUT_DEMO) names the result that differs, the first differing index
#                   with both values, short excerpts; no doctest internals; CHECK_NEAR and
#                   CHECK_GRADIENT print both values; a captured const char* prints as text
#   run             on the student's code, says whether the output equals the reference's
#   CMake           COURSE_USE_EXERCISES links the student's code for the exercises done and the
#                   reference for the rest, across the whole chain of chapters
set -u
demo=$(realpath "${1:?usage: test_course.sh FAILURE_OUTPUT_DEMO}")
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
background=''
cleanup() {
  [ -n "$background" ] && kill -- "-$background" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
ok() { echo "ok: $*"; }
bad() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
# expect FILE PATTERN WHAT: FILE has a line matching the extended regex PATTERN.
expect() { if grep -qE -- "$2" "$1"; then ok "$3"; else bad "$3 (no line matching '$2' in:)" && sed 's/^/    | /' "$1"; fi; }
# refuse FILE PATTERN WHAT: no line of FILE matches PATTERN.
refuse() { if grep -qE -- "$2" "$1"; then bad "$3 (found '$2' in:)" && sed 's/^/    | /' "$1"; else ok "$3"; fi; }

# --- a scratch copy: the repository's files, no builds, no .course/, a git history of its own -----
course=$tmp/course
mkdir -p "$course"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$course" 2>/dev/null)
else
  (cd "$src" && tar --exclude='./build*' --exclude=./.course -cf - .) | (cd "$course" && tar -xf -)
fi
command -v git >/dev/null || {
  echo "git is not installed: skipped"
  exit 77
}
git -C "$course" init -q && git -C "$course" add -A &&
  git -C "$course" -c user.name=test -c user.email=test@example.com commit -qm scratch || exit 1
cd "$course" || exit 1
export CI=true NO_COLOR=1
out=$tmp/out
err=$tmp/err

# --- help ----------------------------------------------------------------------------------------
./course help >"$out" 2>"$err" </dev/null
expect "$out" '^  \./course check NN' "help lists ./course check"
refuse "$out" 'set -u|^#' "help prints only the usage text (no 'set -u')"
[ "$(tail -1 "$out" | cut -c1-2)" != "se" ] || bad "help's last line"
./course bogus >"$out" 2>"$err" </dev/null
[ $? -eq 2 ] && [ "$(wc -l <"$err")" -eq 1 ] && ok "an unknown command: one line, exit 2" || bad "an unknown command"

# --- packages (packages.txt) ---------------------------------------------------------------------
./course install no_such_group >"$out" 2>"$err" </dev/null
[ $? -eq 2 ] && [ "$(wc -l <"$err")" -eq 1 ] && expect "$err" 'browser' "install of an unknown group: one line naming the groups, exit 2" ||
  bad "install of an unknown group"
./course setup --browser >"$out" 2>"$err" </dev/null
[ $? -eq 2 ] && expect "$err" 'course install' "setup takes no flag and points to ./course install" || bad "setup --browser"
(
  source ./course
  configure() { :; }
  cmake() { :; }
  ctest() { echo "100% tests passed, 0 tests failed out of 3"; }
  missing_packages() { for p; do [ "$p" = chromium ] && echo "$p"; done; }
  cmd_test
) >"$out" 2>&1 </dev/null
tail -1 "$out" | grep -qE 'Skipped: site\.browser .*\./course install browser$' &&
  ok "test without Chromium says in its last line what it skipped and the command that adds it" ||
  { bad "test's last line without Chromium:" && sed 's/^/    | /' "$out"; }
[ "$(source ./course && packages_in data)" = "$(awk '$2 == "data" { print $1 }' packages.txt)" ] &&
  ok "packages_in data reads packages.txt" || bad "packages_in data"

# --- hint ----------------------------------------------------------------------------------------
./course hint 01 >"$out" 2>&1 </dev/null
expect "$out" '^Hint 1 of [0-9]+ for matmul' "hint 01 shows matmul's first hint"
refuse "$out" '^2\. |^#' "hint 01 shows one hint, not the file"
./course hint 01 >"$out" 2>&1 </dev/null
expect "$out" '^Hint 2 of [0-9]+ for matmul' "the next call shows the next hint"
[ -s .course/hints_01_tensors ] && ok "hints seen are remembered in .course/" || bad "no .course/hints_01_tensors"
./course hint 01 softmax_rows >"$out" 2>&1 </dev/null
expect "$out" '^Hint 1 of [0-9]+ for softmax_rows' "hint 01 softmax_rows starts that function's hints"
./course hint 1 >"$out" 2>&1 </dev/null
expect "$out" '^Hint 3 of [0-9]+ for matmul' "hint 1 (no leading zero) goes on with matmul"
./course hint 01 --all >"$out" 2>&1 </dev/null
cmp -s "$out" exercises/01_tensors/HINTS.md && ok "hint 01 --all prints every hint" || bad "hint --all"
./course hint 01 no_such_function >"$out" 2>"$err" </dev/null
[ $? -eq 2 ] && expect "$err" 'softmax_rows' "an unknown function name lists the ones with hints"
# hints point the student at the docs pages, not at the contributors' notes
cat exercises/*/HINTS.md >"$out"
refuse "$out" 'CONTRIBUTING' "hints cite docs/NN pages, never CONTRIBUTING.md"

# --- reset ---------------------------------------------------------------------------------------
file=$(ls exercises/01_tensors/*.cpp | head -1)
echo "// my own work" >>"$file"
./course reset 01 >"$out" 2>"$err" </dev/null
[ $? -eq 2 ] && grep -q '// my own work' "$file" && ok "reset without a terminal or --yes changes nothing" ||
  bad "reset without --yes"
./course reset 01 --yes >"$out" 2>"$err" </dev/null
expect "$out" '^restored exercises/01_tensors/' "reset --yes restores the stub"
grep -q '// my own work' "$file" && bad "the stub was not restored" || ok "the exercise is the stub again"
backup=$(sed -n 's/^Your version is kept in \(.*\)\/ — .*/\1/p' "$out")
if [ -n "$backup" ] && grep -q '// my own work' "$backup/$(basename "$file")" 2>/dev/null; then
  ok "reset kept a copy of the work it overwrote ($backup) and said where"
else
  bad "reset kept no copy, or did not say where"
  sed 's/^/    | /' "$out"
fi

# --- the untouched stub: one rule for ./course and tools/check_stubs_fail.sh ----------------------
printf '#!/usr/bin/env bash\nexit 1\n' >"$tmp/fails"
chmod +x "$tmp/fails"
[ "$(bash -c 'source ./course; state_of 01_tensors')" = not-started ] &&
  ok "an untouched exercise is not started" || bad "exercise 01 as in git is not 'not-started'"
echo "// a helper of mine" >exercises/01_tensors/mine.hpp
[ "$(bash -c 'source ./course; state_of 01_tensors')" = in-progress ] &&
  ok "an exercise with a file added is in progress" || bad "exercise 01 with a file added is not 'in-progress'"
CI= bash tools/check_stubs_fail.sh "$tmp/fails" . 01_tensors >"$err" 2>&1
[ $? -eq 77 ] && ok "check_stubs_fail.sh: ... and is no longer the stub there either" ||
  { bad "check_stubs_fail.sh with a file added:" && sed 's/^/    | /' "$err"; }
rm -f exercises/01_tensors/mine.hpp

# --- watch: the exercise whose files change is the one checked -------------------------------------
# check() is replaced by a stand-in that only logs which exercise it was asked to check.
watch_test() { # MODE (poll or inotify)
  local mode=$1 log=$tmp/watch_$1.log i
  : >"$log"
  [ "$mode" = poll ] && export COURSE_WATCH_POLL=1 || unset COURSE_WATCH_POLL
  setsid bash -c 'source ./course; check() { echo "CHECKED $1"; return 1; }; cmd_watch' >"$log" 2>&1 </dev/null &
  background=$!
  wait_for() { # PATTERN COUNT: until PATTERN appears COUNT times in the log (at most 20 s)
    for i in $(seq 100); do
      [ "$(grep -c -- "$1" "$log")" -ge "$2" ] && return 0
      sleep 0.2
    done
    return 1
  }
  wait_for 'waiting for you to save' 1
  sleep 0.5 # let inotifywait set up its watches
  echo "// saved" >>exercises/02_dot_product_attention/dot_product_attention.cpp
  wait_for 'CHECKED 02_dot_product_attention' 1 &&
    ok "watch ($mode): saving exercise 02 checks exercise 02" ||
    bad "watch ($mode): saving exercise 02 did not check it"
  wait_for 'waiting for you to save' 2
  sleep 0.5
  echo "more" >>exercises/03_self_attention/HINTS.md
  sleep 1.5
  echo "// saved" >>exercises/04_masking/masking.cpp
  wait_for 'CHECKED 04_masking' 1 && ok "watch ($mode): then saving exercise 04 checks exercise 04" ||
    bad "watch ($mode): saving exercise 04 did not check it"
  kill -- "-$background" 2>/dev/null
  wait "$background" 2>/dev/null
  background=''
  refuse "$log" 'CHECKED 03_self_attention' "watch ($mode): a change to HINTS.md checks nothing"
  [ "$(grep -c '^CHECKED' "$log")" -eq 3 ] && ok "watch ($mode): one check per save" ||
    { bad "watch ($mode): expected 3 checks (01 at the start, 02, 04)" && sed 's/^/    | /' "$log"; }
  git checkout -q -- exercises/
}
watch_test poll
if command -v inotifywait >/dev/null; then watch_test inotify; fi

# --- check: failures, crashes and indices out of range, with stand-in programs --------------------
# The builds are replaced by stand-ins: build-check/bin/test_NN_exercise writes the XML report doctest
# writes (--reporters=course-xml --out=FILE) and crashes; build-check-asan/bin/test_NN_exercise prints what
# AddressSanitizer prints.
# standin PROGRAM ENDING: PROGRAM becomes a stand-in that writes the report on stdin to the file its
# --out= names, then ends with the shell command ENDING ("exit 1", "kill -SEGV \$\$").
standin() {
  {
    printf '#!/usr/bin/env bash\nfor a; do case $a in --out=*) out=${a#--out=} ;; esac; done\n'
    printf 'cat >"$out" <<'"'"'REPORT'"'"'\n'
    cat
    printf 'REPORT\n%s\n' "$2"
  } >"$1"
  chmod +x "$1"
}
mkdir -p build-check/bin build-check-asan/bin
touch build-check/build.ninja build-check-asan/build.ninja
tensors=exercises/01_tensors/tensors.cpp
crash_line=$(grep -n 'not_implemented' "$tensors" | head -1 | cut -d: -f1)
run_check() { # NN [--all]: ./course check with the builds replaced; output in $out, stderr in $err
  bash -c 'source ./course; build_in() { return 0; }; check "$(slug_of "$1")" "" "${2:+all}"' _ "$@" \
    >"$out" 2>"$err" </dev/null
}
# (a crash can end the report before doctest closes it: the test case it ends in is the one that crashed)
standin build-check/bin/test_01_exercise 'kill -SEGV $$' <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<doctest binary="test_01_exercise">
  <TestSuite name="01 tensors">
    <TestCase name="matmul worked by hand" filename="$course/chapters/01_tensors/test.cpp" line="40">
EOF
cat >build-check-asan/bin/test_01_exercise <<EOF
#!/usr/bin/env bash
[ "\$*" = "--no-colors=true --no-intro=true --test-case=matmul worked by hand" ] || { echo "wrong arguments: \$*"; exit 1; }
cat <<'REPORT'
=================================================================
==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x606000000058 at pc 0x55d0 bp 0x7ffc sp 0x7ffc
WRITE of size 8 at 0x606000000058 thread T0
    #0 0x55d0a1 in course::matmul(xt::xtensor_container<xt::uvector<double, std::allocator<double> >, 2ul, (xt::layout_type)1, xt::xtensor_expression_tag> const&) $course/$tensors:$crash_line:18
    #1 0x55d0a2 in void xt::detail::run(int) /usr/include/xtensor/xassign.hpp:120:5
    #2 0x55d0a3 in _DOCTEST_ANON_FUNC_2 $course/chapters/01_tensors/test.cpp:44:22
    #3 0x55d0a4 in doctest::Context::run() /usr/include/doctest/doctest.h:6923:21
    #4 0x55d0a5 in main $course/common/test_main.cpp:3:1

0x606000000058 is located 0 bytes to the right of 56-byte region [0x606000000020,0x606000000058)
allocated by thread T0 here:
    #0 0x7f12 in operator new(unsigned long) ../../../../src/libsanitizer/asan/asan_new_delete.cpp:95
    #1 0x55d0a6 in course::matmul(int) $course/$tensors:3:1
SUMMARY: AddressSanitizer: heap-buffer-overflow $course/$tensors:$crash_line:18 in course::matmul
REPORT
exit 1
EOF
chmod +x build-check-asan/bin/test_01_exercise
run_check 01
expect "$out" 'exercise 01 crashed \(signal 11, SIGSEGV\)' "check: a crash is reported as that exercise crashing"
refuse "$err" 'Segmentation fault|line [0-9]+:' "check: bash's own 'Segmentation fault' line does not leak"
expect "$out" '^AddressSanitizer: heap-buffer-overflow — a write of 8 bytes outside' "check: the sanitizer's verdict in one line"
expect "$out" "^  at exercises/01_tensors/tensors.cpp:$crash_line \(your code, in course::matmul\)" \
  "check: the crash is traced to the student's file and line"
expect "$out" "^ +$crash_line \| .*not_implemented" "check: the line itself is shown"
expect "$out" '^  called from chapters/01_tensors/test.cpp:44 \(the test "matmul worked by hand"\)' "check: then the test that called it"
refuse "$out" 'xassign.hpp|doctest.h|test_main.cpp|allocated by' "check: library frames stay out"

# an index out of range, caught by xtensor's bounds check in build-check/
standin build-check/bin/test_01_exercise 'exit 1' <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<doctest binary="test_01_exercise"><TestSuite name="01 tensors">
<TestCase name="softmax_rows, each row is its own softmax" filename="$course/chapters/01_tensors/test.cpp" line="50">
<Exception crash="false">/usr/include/xtensor/xcontainer.hpp:438: check failed
	index 3 is out of bounds for axis 1 with size 3</Exception></TestCase>
</TestSuite></doctest>
EOF
cat >build-check-asan/bin/test_01_exercise <<EOF
#!/usr/bin/env bash
[ "\$*" = "--no-colors=true --no-intro=true --test-case=softmax_rows\\, each row is its own softmax" ] || { echo "wrong arguments: \$*"; exit 1; }
cat <<'REPORT'
course: index out of bounds: index 3 is out of bounds for axis 1 with size 3
    #0 0x7f01 in __sanitizer_print_stack_trace ../../../../src/libsanitizer/asan/asan_stack.cpp:87
    #1 0x55e1 in __cxa_throw $course/common/test_main.cpp:30:5
    #2 0x55e2 in void xt::detail::check_index_impl<std::array<unsigned long, 2ul>, 1ul, int>(std::array<unsigned long, 2ul> const&, int) /usr/include/xtensor/xexception.hpp:191:17
    #3 0x55e3 in course::softmax_rows(xt::xtensor_container<xt::uvector<double, std::allocator<double> >, 2ul, (xt::layout_type)1, xt::xtensor_expression_tag> const&) $course/$tensors:$crash_line:9
    #4 0x55e4 in _DOCTEST_ANON_FUNC_8 $course/chapters/01_tensors/test.cpp:55:3
REPORT
exit 1
EOF
run_check 01
expect "$out" 'exercise 01 reads or writes outside a tensor' "check: an index out of range is named as such"
expect "$out" '^xtensor: index 3 is out of bounds for axis 1 with size 3' "check: with xtensor's message"
expect "$out" "^  at exercises/01_tensors/tensors.cpp:$crash_line \(your code, in course::softmax_rows\)" \
  "check: an index out of range is traced to the student's line"

# a long failure report: only the first check of each test case, three test cases, the real NN
"$demo" --no-colors=true --no-intro=true --no-version=true >"$tmp/demo.txt" 2>&1
"$demo" --reporters=course-xml --out="$tmp/demo.xml" >/dev/null 2>&1
standin build-check/bin/test_07_exercise 'exit 1' <"$tmp/demo.xml"
run_check 07
expect "$out" 'and 2 more failing checks in this test case: \./course check 07 --all' \
  "check: more failing checks of a test case are counted, with the real exercise number"
expect "$out" '^More failing test cases \(\./course check 07 --all' "check: test cases after the third are listed by name"
expect "$out" '^  also failing: a NaN in a long vector' "check: ... by name"
[ "$(wc -l <"$out")" -le 80 ] && ok "check: a failing exercise fits on a screen or two ($(wc -l <"$out") lines)" ||
  bad "check: $(wc -l <"$out") lines of output"
run_check 07 --all
[ "$(grep -c 'differs from' "$out")" -eq 6 ] && ok "check --all: every failing check is shown" ||
  bad "check --all: expected all 6 failing CHECK_CLOSE messages"

# the closing lines say which function failed how: here grouped_query_attention gives a wrong result and
# decode_step is still the stub (a test case of the given code fails too)
# (one element a line here; doctest indents them, and writes the totals, which the runner does not read)
f17=$course/chapters/17_fast_generation/test.cpp
standin build-check/bin/test_17_exercise 'exit 1' <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<doctest binary="test_17_exercise"><TestSuite name="17 fast generation">
<TestCase name="grouped_query_attention worked by hand: six query heads share two K/V heads" filename="$f17" line="86">
<Message type="ERROR" filename="$f17" line="97"><Text>grouped_query_attention(q, k, v, 6, 2, query_at_1) differs from Matrix({{5.0, 4.0, 5.0, 20.0, 25.0, 20.0}}) (tolerance 1e-14): 2 of 6 values differ</Text></Message></TestCase>
<TestCase name="decode_step: position counts up; exactly n_ctx tokens fit, the next one throws" filename="$f17" line="170">
<Exception crash="false">not implemented yet: exercise 17: decode_step</Exception><Info>G := 1</Info><Info>W := 0</Info></TestCase>
<TestCase name="KV cache: prefill P, then decode_step, gives chapter 16's logits for every P from 0 to T" filename="$f17" line="190">
<Exception crash="false">not implemented yet: exercise 17: decode_step</Exception></TestCase>
</TestSuite><TestSuite name="given: 17 fast generation">
<TestCase name="grouped K/V heads: the cached decoder equals the full forward for G = 1, 2, 3" filename="$f17" line="300">
<Message type="ERROR" filename="$f17" line="305"><Text>cached_logits(m, ids, 2, 0) differs from recompute_logits(m, ids) (tolerance 1e-12): 9 of 9 values differ</Text></Message></TestCase>
</TestSuite></doctest>
EOF
run_check 17
expect "$out" '^  grouped_query_attention: a wrong result in 1 test case, the first: "grouped_query_attention worked by hand' \
  "check: the closing lines name the function with a wrong result"
expect "$out" '^  decode_step: still throws not_implemented \(2 test cases\)$' "check: ... and the one still a stub"
expect "$out" '^  and 1 other test case that uses these functions, the first: "grouped K/V heads' \
  "check: ... and count the test cases that are no one function's"
refuse "$out" 'a function still throws' "check: no closing line that blames no function"
grep -A2 'THREW exception: not implemented yet: exercise 17: decode_step' "$out" | tr '\n' '|' |
  grep -q '|  logged: G := 1|          W := 0|' && ok "check: what a test case logged before it threw is shown" ||
  { bad "check: the CAPTURE lines of a test case that threw:" && sed 's/^/    | /' "$out"; }
# the same results per function, for a grader: tools/runner.py results (JSON)
/usr/bin/python3 tools/runner.py results .course/last_results.xml 17 >"$out" 2>&1
/usr/bin/python3 - "$out" <<'EOF' && ok "results: per function, passed or failed and how, with the failing test cases" ||
import json, sys
r = json.load(open(sys.argv[1]))
g, d = r["grouped_query_attention"], r["decode_step"]
assert not g["passed"] and g["how"] == "wrong" and g["failed_cases"][0].startswith("grouped_query_attention worked")
assert "chapters/17_fast_generation/test.cpp:97: ERROR: grouped_query_attention(q, k, v" in g["messages"][0]
assert not d["passed"] and d["how"] == "todo" and len(d["failed_cases"]) == 2
EOF
  { bad "results 17:" && sed 's/^/    | /' "$out"; }
# an exercise of one function: its own test cases are that function's, whatever their names
cat >"$tmp/one_function.xml" <<'EOF'
<doctest><TestSuite name="02 dot product attention">
  <TestCase name="one query and two keys worked by hand" filename="t.cpp" line="1">
    <Message type="ERROR" filename="t.cpp" line="3"><Text>r.weights differs</Text></Message>
  </TestCase>
</TestSuite></doctest>
EOF
/usr/bin/python3 tools/runner.py functions "$tmp/one_function.xml" 02 >"$out" 2>&1
expect "$out" '^  scaled_dot_product_attention: a wrong result in 1 test case, the first: "one query and two keys' \
  "check: in an exercise of one function, its test cases are its own"

# an exception from a course helper (matmul's shape error) is traced to the student's line that called it
backprop=exercises/13_backpropagation/backpropagation.cpp
call_line=$(grep -n 'throw not_implemented' "$backprop" | tail -1 | cut -d: -f1)
standin build-check/bin/test_13_exercise 'exit 1' <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<doctest binary="test_13_exercise"><TestSuite name="13 backpropagation">
<TestCase name="attention_backward worked by hand: one query, two keys, d_k = 4" filename="$course/chapters/13_backpropagation/test.cpp" line="150">
<Exception crash="false">matmul: a is (1, 2) and b is (1, 4); a&apos;s columns must equal b&apos;s rows</Exception></TestCase>
</TestSuite></doctest>
EOF
cat >build-check-asan/bin/test_13_exercise <<EOF
#!/usr/bin/env bash
[ "\${COURSE_TRACE_EXCEPTIONS:-}" = 1 ] || { echo "COURSE_TRACE_EXCEPTIONS is not set"; exit 1; }
cat <<'REPORT'
course: exception thrown: softmax_backward: p is (2, 2) and grad_p is (2, 3)
    #0 0x7f01 in __sanitizer_print_stack_trace ../../../../src/libsanitizer/asan/asan_stack.cpp:87
    #1 0x55e1 in __cxa_throw $course/common/test_main.cpp:60:5
    #2 0x55e2 in course::softmax_backward(int) $course/$backprop:3:5
    #3 0x55e4 in _DOCTEST_ANON_FUNC_8 $course/chapters/13_backpropagation/test.cpp:140:3
course: exception thrown: matmul: a is (1, 2) and b is (1, 4); a's columns must equal b's rows
    #0 0x7f01 in __sanitizer_print_stack_trace ../../../../src/libsanitizer/asan/asan_stack.cpp:87
    #1 0x55e1 in __cxa_throw $course/common/test_main.cpp:60:5
    #2 0x55e2 in course::matmul(xt::xtensor_container<double> const&, xt::xtensor_container<double> const&) $course/chapters/01_tensors/solution/tensors.cpp:13:5
    #3 0x55e3 in course::attention_backward(int) $course/$backprop:$call_line:20
    #4 0x55e4 in _DOCTEST_ANON_FUNC_9 $course/chapters/13_backpropagation/test.cpp:155:3
REPORT
exit 1
EOF
chmod +x build-check-asan/bin/test_13_exercise
run_check 13
expect "$out" '^thrown: matmul: a is \(1, 2\) and b is \(1, 4\)' "check: an exception is traced (the one that ended the test case)"
expect "$out" '^  at chapters/01_tensors/solution/tensors.cpp:13 \(the reference, in course::matmul\)' "check: ... to the helper that threw it"
expect "$out" "^  called from $backprop:$call_line \\(your code, in course::attention_backward\\)" \
  "check: ... and to the student's line that called the helper"
refuse "$out" 'softmax_backward: p is' "check: an exception caught earlier in the test is not the one shown"

# --- CHECK_CLOSE's messages (failure_output_demo) -------------------------------------------------
demo_out=$tmp/demo.txt
expect "$demo_out" '^[^ ]+:[0-9]+: ERROR: encoding\(n, 64, false\) differs from encoding\(n, 64, true\) \(tolerance 1e-12\)' \
  "CHECK_CLOSE names the expression that differs"
expect "$demo_out" '^  first difference at \[0, 1\]: expected 1, got 0$' "CHECK_CLOSE: the first differing index, both values"
expect "$demo_out" 'ERROR: r\.weights differs' "CHECK_CLOSE: names which result differs (r.weights)"
refuse "$demo_out" 'r\.output differs' "CHECK_CLOSE: ... and not the one that is right"
expect "$demo_out" 'FATAL ERROR: r\.output has shape \(1, 2\), expected shape \(2, 2\)' "REQUIRE_SHAPE: says both shapes"
expect "$demo_out" '^    slice \[1, :, :\]' "CHECK_CLOSE: rank-3 tensors are shown slice by slice"
expect "$demo_out" 'expected 30, got nan' "CHECK_CLOSE: a NaN is named"
refuse "$demo_out" 'CHECK\(|REQUIRE\(|values:|\{\?\}' "no doctest internals (CHECK( ... ), {?})"
expect "$demo_out" 'name := "?adamw_default"?$' "CAPTURE of a fixture's name (a const char*) logs the name"
refuse "$demo_out" ':= 0x[0-9a-f]+$' "... never a pointer"
expect "$demo_out" 'ERROR: loss: got 2\.5, expected 2\.25 \(difference 0\.25, tolerance 1e-12\)$' \
  "CHECK_NEAR: both numbers, their difference and the tolerance"
expect "$demo_out" 'ERROR: analytic: worst entry \[1, 0\]: got 4, expected 2 \(difference 2, relative error 0\.5, tolerance 1e-08\); 1 of 4 entries over' \
  "CHECK_GRADIENT: the worst entry's index with both values"
# (the excerpts' lines; the "file:line: ERROR:" lines hold the path and the test's expression)
longest=$(awk '/^ / { if (length($0) > n) n = length($0) } END { print n + 0 }' "$demo_out")
[ "$(wc -c <"$demo_out")" -lt 20000 ] && [ "$longest" -le 100 ] &&
  ok "failure output is short: $(wc -c <"$demo_out") bytes, lines up to $longest characters" ||
  bad "failure output: $(wc -c <"$demo_out") bytes, a line of $longest characters"

# --- run: on the student's code, the output is compared with the reference's ------------------------
# stand-ins: build/bin/ch16_tiny_gpt runs "your code" (its first line says so), build-check/bin/ch16_tiny_gpt
# is the reference; the builds are skipped
mkdir -p build/bin build/generated
touch build/build.ninja
echo 'const int printed_note = std::puts("[your code for exercises 16]");' >build/generated/ch16_tiny_gpt_code.cpp
printf '#!/usr/bin/env bash\necho "[your code for exercises 16]"\necho "loss 2.5"\necho "sample: ${SAMPLE:-abc}"\n' >build/bin/ch16_tiny_gpt
cat >build-check/bin/ch16_tiny_gpt <<'EOF'
#!/usr/bin/env bash
echo "loss 2.5"
echo "sample: abc"
echo "$*" >"$(dirname "$0")/reference_arguments"
EOF
chmod +x build/bin/ch16_tiny_gpt build-check/bin/ch16_tiny_gpt
run_run() { # ARGS: ./course run 16 ARGS with the builds replaced; output in $out
  bash -c 'source ./course; build() { return 0; }; build_in() { return 0; }; sync_exercises_done() { :; }; cmd_run 16 "$@"' _ "$@" \
    >"$out" 2>&1 </dev/null
}
run_run --seed 3
expect "$out" "^✓ Your code's output equals the reference's \(\./course run 16 --seed 3: every line, and exit code 0\)" \
  "run: the student's output is compared with the reference's, and found equal"
expect "$out" '^sample: abc$' "run: ... after the program's own output"
SAMPLE=abd run_run --svg figures
expect "$out" "^✗ Your code's output differs from the reference's from line 2 on" "run: the first line that differs is named"
expect "$out" '^  yours:     sample: abd$' "run: ... with your line"
expect "$out" '^  reference: sample: abc$' "run: ... and the reference's"
expect build-check/bin/reference_arguments "^--svg $course/.course/reference_run/svg$" \
  "run: the reference's figures go to .course/, not over the student's"
SAMPLE='65.1 µs' run_run
expect "$out" '^  That line holds a timing' "run: a line that differs by a timing is named as such"
rm -rf build/bin build/generated build/build.ninja build-check/bin/ch16_tiny_gpt build-check/bin/reference_arguments

# --- CMake: programs on the student's code for the exercises done, the reference for the rest ------
if command -v cmake >/dev/null && command -v ninja >/dev/null; then
  cmake -S . -B "$tmp/b" -G Ninja -DCOURSE_BENCHMARKS=OFF -DCOURSE_USE_EXERCISES=ON \
    "-DCOURSE_EXERCISES_DONE=01;04" >"$tmp/cmake.log" 2>&1 || { bad "cmake configure" && tail "$tmp/cmake.log"; }
  note=$(ls "$tmp"/b/generated/ch05_*_code.cpp 2>/dev/null)
  expect "$note" 'your code for exercises 01, 04; the reference for 02, 05 \(not done yet\)' \
    "COURSE_USE_EXERCISES: chapter 05 says which code it runs, over its whole chain (01 02 04 05)"
  link=$(grep -A1 '^build bin/ch05_[a-z_]*:' "$tmp/b/build.ninja" | head -1)
  [[ $link == *exercise_01.dir/*exercise_04.dir/* ]] && [[ $link != *exercise_02.dir* ]] &&
    ok "ch05 links the student's objects for 01 and 04 only" || bad "ch05's link line: $link"
  grep -A3 '^build bin/ch05_[a-z_]*:' "$tmp/b/build.ninja" | grep -q 'LINK_LIBRARIES = .*libsolution_02\.a' &&
    ok "... and the reference library for 02" || bad "ch05 does not link solution_02"
  (cd "$tmp/b" && ctest -N -R 'ch05\.docs_output') | grep -q '(Disabled)' &&
    ok "the docs tests are disabled when programs run the student's code" ||
    bad "ch05.docs_output is not disabled with COURSE_USE_EXERCISES"
  # the runner passes the exercises that are done, from .course/result_*
  echo "// done" >>exercises/02_dot_product_attention/dot_product_attention.cpp
  bash -c 'source ./course; BUILD=$1; record 02_dot_product_attention done; sync_exercises_done' _ "$tmp/b" \
    >"$out" 2>&1 </dev/null
  expect "$tmp/b/CMakeCache.txt" '^COURSE_EXERCISES_DONE:STRING=02$' \
    "run: the runner hands CMake the list of exercises that are done"
  git checkout -q -- exercises/
fi

echo
if [ $failures -ne 0 ]; then
  echo "$failures check(s) of the runner failed"
  exit 1
fi
echo "the runner behaves"
