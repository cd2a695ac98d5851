#!/usr/bin/env python3
"""The course runner's reading half: what ./course (bash) asks of the files it does not write.

It reads, so that the runner never scrapes text:
  - a test program's results, from doctest's XML reporter (test_NN_exercise --reporters=course-xml
    --out=FILE: common/test_main.cpp adds what a test case logged before it threw): which test cases failed and how, which exercise functions pass, and the failures
    shown to the student in doctest's own console form (file:line: ERROR: ...);
  - an exercise's HINTS.md: one "## function" heading per function, numbered hints under each;
  - a sanitizer report (AddressSanitizer, UBSan, or the stacks test_main.cpp prints for a thrown
    exception): the one-line verdict and the frames in the course's own files;
  - exercises/STUBS.sha256: the one rule for "this exercise is the untouched stub", shared by the
    runner, tools/check_stubs_fail.sh and tools/update_stub_hashes.sh.

As a module: exercise_results(nn, report) -> {function: FunctionResult} (passed or not, how, the test
cases and their failures) is what a grader builds on. As a command (the runner's bash calls it; tools/test_course.sh tests it through ./course):

    runner.py results XML NN                 per function: passed/failed, how, the test cases (JSON)
    runner.py failures XML NN [--all]        the failing test cases as the student sees them
    runner.py functions XML NN               one line per exercise function that failed, saying how
    runner.py names XML [--not-given]        the test cases of a report or listing (--list-test-cases)
    runner.py totals XML                     "test cases: 4 | 4 passed | 0 failed"
    runner.py test-case XML crashed|threw|out-of-bounds   the first test case that ended that way
    runner.py sanitizer REPORT [--last-exception]   the verdict, then "file<TAB>line<TAB>function"
    runner.py hints FILE                     "name count" per function of a HINTS.md
    runner.py hint FILE NAME N               hint N of function NAME, as written
    runner.py untouched [--stubs FILE] SLUG...   exit 0 when every exercise named is its untouched stub
    runner.py untouched --list SLUG...       those of the exercises named that are their untouched stub
    runner.py stub-hashes                    the lines of exercises/STUBS.sha256 for today's files
    runner.py first-difference YOURS REFERENCE   "N<TAB>your line<TAB>the reference's", or nothing

Paths printed are relative to the repository root (the folder above tools/, or COURSE_ROOT). With
COURSE_COLORS=1, `failures` is colored as doctest colors its console.
"""
import hashlib
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

ROOT = os.environ.get("COURSE_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEPARATOR = "=" * 79  # doctest's line between test cases


def relative(text):
    """Paths under the repository root, made relative to it ("/x/course/exercises/01" -> "exercises/01")."""
    return text.replace(ROOT.rstrip("/") + "/", "")


# --- test results (doctest's XML reporter) --------------------------------------------------------
@dataclass
class Failure:
    """One failing check, message, exception or crash of a test case, as doctest's console says it."""
    kind: str   # "check" (a failed CHECK or FAIL_CHECK), "threw" (the test case threw), "crash"
    file: str
    line: int
    text: str   # e.g. "ERROR: r.weights differs from expected ..." (severity first, as doctest prints)
    subcases: list = field(default_factory=list)  # the SUBCASE names it is inside, outermost first

    def shown(self):
        return f"{self.file}:{self.line}: {self.text}"


@dataclass
class TestCase:
    name: str
    suite: str
    file: str
    line: int
    failures: list = field(default_factory=list)
    finished: bool = False  # False: the program ended inside it (a crash, or stopped by a timeout)

    @property
    def passed(self):
        return self.finished and not self.failures

    @property
    def given(self):  # a test of the given code (check_stubs_fail.sh lets it pass against the stub)
        return self.suite.startswith("given:")

    def exception(self):
        """The message of the exception that ended the test case, or ""."""
        return next((f.text.split("THREW exception: ", 1)[1] for f in self.failures if f.kind == "threw"), "")


def _text(element):
    """An element's text as the program wrote it: doctest's XML writer indents it (a newline and
    spaces before, a newline and spaces after), which is not the message's."""
    text = (element.text or "") if element is not None else ""
    return re.sub(r"\n *$", "", re.sub(r"^\n *", "", text))


def _severity(assert_type):
    """CHECK_* -> ERROR, REQUIRE_* -> FATAL ERROR, WARN_* -> WARNING (doctest's words)."""
    return {"REQUIRE": "FATAL ERROR", "WARN": "WARNING"}.get(assert_type.split("_")[0], "ERROR")


def _expression_text(e):
    """A failed doctest assertion (<Expression>) as the console reporter prints it."""
    kind, original = e.get("type", "CHECK"), _text(e.find("Original"))
    head = f"{_severity(kind)}: {kind}( {original} )"
    if e.find("Exception") is not None and "THROWS" not in kind:
        return f'{head} THREW exception: "{_text(e.find("Exception"))}"'
    if "THROWS" in kind:
        threw = e.find("Exception")
        return f"{head} " + (f"threw a DIFFERENT exception: {_text(threw)}" if threw is not None
                             else "did NOT throw at all!")
    return f"{head} is NOT correct!\n  values: {kind}( {_text(e.find('Expanded'))} )"


def _logged(infos):
    """INFO and CAPTURE lines logged with a failure (<Info> elements), as the console shows them."""
    return "".join(f"\n{'  logged: ' if i == 0 else ' ' * 10}{_text(info)}" for i, info in enumerate(infos))


def read_report(path):
    """The test cases of a doctest XML report, in the order they ran. A report cut short (the program
    was killed before doctest could close it) is read as far as it goes: the test case it ends in is
    unfinished."""
    parser = ET.XMLPullParser(events=("start", "end"))
    try:
        with open(path, "rb") as f:
            parser.feed(f.read())
        parser.close()
    except ET.ParseError:
        pass  # cut short: the events so far are what happened
    except OSError:
        return []
    cases, suite, subcases, current, logged, open_tags = [], "", [], None, [], []
    try:
        for event, e in parser.read_events():
            tag = e.tag
            if event == "start":
                open_tags.append(tag)
            else:
                open_tags.pop()
            if logged and tag != "Info":  # what the test case had logged when it threw, all of it
                current.failures[-1].text += _logged(logged)
                logged = []
            if event == "start" and tag == "TestSuite":
                suite = e.get("name", "")
            elif event == "start" and tag == "TestCase" and e.get("skipped") != "true":
                # (a listing, --list-test-cases, names each test case's suite in an attribute)
                current = TestCase(e.get("name", ""), e.get("testsuite", suite), relative(e.get("filename", "")),
                                   int(e.get("line", 0)))
                cases.append(current)
            elif current is None:
                continue
            elif event == "start" and tag == "SubCase":
                subcases.append(e.get("name", ""))
            elif event == "end" and tag == "SubCase":
                subcases.pop()
            elif event == "end" and tag == "Expression" and e.get("success") == "false" and \
                    not e.get("type", "").startswith("WARN"):  # a WARN does not fail the test case
                current.failures.append(Failure("check", relative(e.get("filename", "")), int(e.get("line", 0)),
                                                relative(_expression_text(e)) + _logged(e.findall("Info")), list(subcases)))
            elif event == "end" and tag == "Message" and e.get("type") in ("ERROR", "FATAL ERROR"):
                current.failures.append(Failure("check", relative(e.get("filename", "")), int(e.get("line", 0)),
                                                f"{e.get('type')}: {relative(_text(e.find('Text')))}" + _logged(e.findall("Info")),
                                                list(subcases)))
            elif event == "end" and tag == "Exception" and e.get("crash") is not None:  # the test case's own
                crash = e.get("crash") == "true"
                words = "CRASHED: " if crash else "THREW exception: "
                current.failures.append(Failure("crash" if crash else "threw", current.file, current.line,
                                                f"{'FATAL ERROR' if crash else 'ERROR'}: test case {words}"
                                                f"{relative(_text(e))}", list(subcases)))
            elif event == "end" and tag == "Info" and open_tags[-1] in ("TestCase", "SubCase") and current.failures:
                logged.append(e)  # after the test case's <Exception> (the course-xml reporter)
            elif event == "end" and tag == "OverallResultsAsserts" and e.get("test_case_success") == "false" \
                    and not current.failures:  # failed by doctest's own rules, with nothing logged
                current.failures.append(Failure("check", current.file, current.line, "ERROR: test case failed"))
            elif event == "end" and tag == "TestCase":
                current.finished, current, subcases = True, None, []
    except ET.ParseError:
        pass
    if logged:  # the report ends right after them
        current.failures[-1].text += _logged(logged)
    return cases


def owner(name, suite, functions):
    """The exercise function a test case is about: the function whose name stands first in the test
    case's name, as a whole word; else, in an exercise of one function, every test case of its own
    suite (not "given: ..."); else none (a test that uses several functions)."""
    best, best_at = "", -1
    for f in functions:
        m = re.search(rf"(?<![A-Za-z0-9_]){re.escape(f)}(?![A-Za-z0-9_])", name)
        if m and (best_at < 0 or m.start() < best_at):
            best, best_at = f, m.start()
    if not best and len(functions) == 1 and not suite.startswith("given:"):
        best = functions[0]
    return best


def still_a_stub(case):
    """The function whose stub a test case ran into ("not implemented yet: exercise 17: decode_step"), or ""."""
    for f in case.failures:
        m = re.search(r"not implemented yet: exercise [0-9]+: ([A-Za-z0-9_]+)", f.text)
        if m:
            return m.group(1)
    return ""


@dataclass
class FunctionResult:
    """How one exercise function did: passed when every test case about it passed."""
    passed: bool = True
    how: str = ""  # when failed: "todo" (still the stub), "threw" (another exception), "wrong"
    failed_cases: list = field(default_factory=list)  # names, in order
    cases: list = field(default_factory=list)         # names of all its test cases
    messages: list = field(default_factory=list)      # the failures' texts (file:line: ERROR: ...)


def how_failed(case):
    return "todo" if still_a_stub(case) else "threw" if case.exception() else "wrong"


def results(cases, functions):
    """{function: FunctionResult} for the exercise functions (chapters.toml's `exercises`, in order),
    from the test cases of one run (read_report). A test case counts for the function it is about
    (owner), and a test case that ran into a function's stub counts against that function too. A
    function no test case is about passes when every test case of the run passed (and one ran)."""
    out = {f: FunctionResult() for f in functions}
    for case in cases:
        whose = {owner(case.name, case.suite, functions), still_a_stub(case)} - {""}
        for f in whose & set(functions):
            r = out[f]
            r.cases.append(case.name)
            if not case.passed:
                r.passed = False
                r.how = r.how or how_failed(case)
                r.failed_cases.append(case.name)
                r.messages += [x.shown() for x in case.failures] or [f"{case.file}:{case.line}: did not finish"]
    everything_passed = bool(cases) and all(c.passed for c in cases)
    for r in out.values():
        if not r.cases:
            r.passed = everything_passed
    return out


def exercise_results(nn, report):
    """results() of exercise NN from its XML report (what test_NN_exercise --reporters=course-xml --out wrote)."""
    return results(read_report(report), functions_of(nn))


def totals(cases):
    ran = len(cases)
    passed = sum(c.passed for c in cases)
    return f"test cases: {ran} | {passed} passed | {ran - passed} failed"


def show_failures(cases, nn, every=False):
    """doctest's console report of the failing test cases, made short. Without `every`: the first
    three failing test cases, each with its first failure (the others counted), the rest by name.
    With `every`: every failure of every failing test case."""
    out, more = [], []
    failing = [c for c in cases if not c.passed]
    for n, case in enumerate(failing):
        if not every and n >= 3:
            more.append(case.name)
            continue
        failures = case.failures or [Failure("crash", case.file, case.line,
                                             "FATAL ERROR: test case did not finish (the program ended here)")]
        head = [SEPARATOR, f"{case.file}:{case.line}:"]
        if case.suite:
            head.append(f"TEST SUITE: {case.suite}")
        head.append(f"TEST CASE:  {case.name}")
        head += [f"  {s}" for s in failures[0].subcases if s]
        out += head + [""]
        for failure in failures if every else failures[:1]:
            out += [failure.shown(), ""]
        if not every and len(failures) > 1:
            k = len(failures) - 1
            out[-1:] = [f"  (and {k} more failing check{'s' if k > 1 else ''} in this test case: "
                        f"./course check {nn} --all)", ""]
    if more:
        out += [SEPARATOR, f"More failing test cases (./course check {nn} --all shows them in full):"]
        out += [f"  also failing: {name}" for name in more]
    out += [SEPARATOR, f"[doctest] {totals(cases)}"]
    return "\n".join(out)


def colored(report):
    """A report with doctest's console colors, for a terminal: separators and labels yellow, each
    failure's severity red."""
    yellow, red, reset = "\033[33m", "\033[31m", "\033[0m"
    report = re.sub(r"^(={79}$|TEST SUITE:|TEST CASE:)", rf"{yellow}\1{reset}", report, flags=re.M)
    return re.sub(r"^(\S+:[0-9]+: )(FATAL ERROR|ERROR):", rf"\1{red}\2{reset}:", report, flags=re.M)


def show_functions(cases, functions):
    """One line per exercise function that failed, saying how (still the stub, an exception, a wrong
    result), and last the failing test cases that are no one function's."""
    def plural(k, word):
        return f"{k} {word}{'' if k == 1 else 's'}"
    count, first, others = {}, {}, []
    for case in cases:
        if case.passed:
            continue
        how, who = how_failed(case), still_a_stub(case) or owner(case.name, case.suite, functions)
        if who not in functions:
            others.append(case.name)
            continue
        count[who, how] = count.get((who, how), 0) + 1
        first.setdefault((who, how), case.name)
    lines = []
    for f in functions:
        if (f, "todo") in count:
            lines.append(f"  {f}: still throws not_implemented ({plural(count[f, 'todo'], 'test case')})")
        if (f, "threw") in count:
            lines.append(f"  {f}: throws an exception in {plural(count[f, 'threw'], 'test case')}, "
                         f"the first: \"{first[f, 'threw']}\"")
        if (f, "wrong") in count:
            lines.append(f"  {f}: a wrong result in {plural(count[f, 'wrong'], 'test case')}, "
                         f"the first: \"{first[f, 'wrong']}\"")
    if others:
        lines.append(f"  and {plural(len(others), 'other test case')} that use{'s' if len(others) == 1 else ''}"
                     f" these functions, the first: \"{others[0]}\"")
    return "\n".join(lines)


def first_case(cases, how):
    """The first test case that crashed (or did not finish), that threw an exception other than the
    stub's and xtensor's bounds check, or whose failure is xtensor's bounds check."""
    for case in cases:
        texts = " ".join(f.text for f in case.failures)
        if how == "crashed" and (any(f.kind == "crash" for f in case.failures) or not case.finished):
            return case.name
        if how == "out-of-bounds" and "is out of bounds for axis" in texts:
            return case.name
        if how == "threw":
            e = case.exception()
            if e and "not implemented yet" not in e and "is out of bounds for axis" not in e:
                return case.name
    return ""


# --- HINTS.md -------------------------------------------------------------------------------------
def hints(path):
    """{function: [hint, ...]} in the file's order. HINTS.md: a title, a line of advice, then one
    "## function" heading per function with numbered hints ("1. ...", continued on the lines after,
    up to the next numbered hint or heading), from a nudge to nearly the answer."""
    sections, current = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            if line.startswith("## "):
                current = sections.setdefault(line[3:].strip(), [])
            elif line.startswith("#"):
                current = None
            elif current is not None and re.match(r"[0-9]+\. ", line):
                current.append([line])
            elif current:
                current[-1].append(line)
    return {name: ["\n".join(h).rstrip("\n") for h in found] for name, found in sections.items()}


# --- sanitizer reports ----------------------------------------------------------------------------
def _plain(kind, access):
    """What an AddressSanitizer finding usually means in a course exercise."""
    if "buffer-overflow" in kind:
        return f"a {access} outside a tensor or array (an index one past the end?)"
    if kind == "SEGV":
        return f"a {access} at an invalid address (an index far out of range, or an empty tensor?)"
    if kind == "stack-overflow":
        return "stack overflow (a function that calls itself without end?)"
    if "use-after" in kind:
        return f"a {access} of memory already freed (a view or `auto` expression of a local that is gone?)"
    if kind == "FPE":
        return "an integer division by zero"
    if kind == "ABRT":
        return "the program aborted (a failed assert, or an exception that nothing could catch?)"
    if "allocation-size-too-big" in kind or "out-of-memory" in kind:
        return "an allocation far too large (a negative size turned into a huge one?)"
    return access


def sanitizer(text, last_exception=False):
    """(verdict, frames) of a sanitizer report: the one-line verdict ("" when the report holds no
    finding) and the frames of its first stack that are in the course's own files, as (file, line,
    function), paths relative to the root. With last_exception, only the part after the last
    "course: exception thrown:" line counts (the exception that ended the test case)."""
    lines = text.splitlines()
    if last_exception:
        starts = [i for i, line in enumerate(lines) if line.startswith("course: exception thrown: ")]
        lines = lines[starts[-1]:] if starts else lines
    verdict = ""
    for i, line in enumerate(lines):
        line = relative(line)
        if line.startswith("course: index out of bounds: "):
            verdict = "xtensor: " + line[len("course: index out of bounds: "):]
        elif line.startswith("course: exception thrown: "):
            verdict = "thrown: " + line[len("course: exception thrown: "):]
        elif "ERROR: AddressSanitizer: " in line:
            kind = re.sub(r" on (unknown )?address.*", "", line.split("ERROR: AddressSanitizer: ", 1)[1])
            after, access = lines[i + 1] if i + 1 < len(lines) else "", "memory access"
            m = re.match(r"(READ|WRITE) of size (\S+)", after)
            if m:
                access = f"{m.group(1).lower()} of {m.group(2)} bytes"
            elif re.search(r"caused by a (READ|WRITE)", after):
                access = "read" if "READ" in after else "write"
            verdict = f"AddressSanitizer: {kind} — {_plain(kind, access)}"
        elif " runtime error: " in line:
            verdict = "UndefinedBehaviorSanitizer: " + line.split(" runtime error: ", 1)[1]
        if verdict:
            break
    frames, in_stack = [], False
    root = ROOT.rstrip("/") + "/"
    for line in lines:
        m = re.match(r" +#[0-9]+ 0x[0-9a-f]+ in (.*) (\S+)$", line)
        if not m:
            if in_stack:
                break
            continue
        in_stack = True
        function, where = re.sub(r"\(.*", "", m.group(1)), m.group(2)
        if not where.startswith(root):
            continue
        path, _, rest = where[len(root):].partition(":")
        if path.startswith("common/test_main"):
            continue
        frames.append((path, int(rest.split(":")[0] or 0), function))
    return verdict, frames


# --- untouched stubs ------------------------------------------------------------------------------
STUBS = "exercises/STUBS.sha256"


def exercise_files(slug, root=ROOT):
    """The files a student edits in one exercise, relative to the root, sorted: its sources (what
    CMake compiles), not HINTS.md, not an editor's hidden swap or backup files."""
    folder = os.path.join(root, "exercises", slug)
    found = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            if f.endswith((".cpp", ".hpp", ".h")) and not f.startswith("."):
                found.append(os.path.relpath(os.path.join(here, f), root))
    return sorted(found)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def recorded(slug, stubs=None, root=ROOT):
    """{file: sha256} that the manifest (exercises/STUBS.sha256) records for exercise `slug`."""
    out = {}
    try:
        with open(stubs or os.path.join(root, STUBS), encoding="utf-8") as f:
            for line in f:
                digest, _, path = line.rstrip("\n").partition("  ")
                if path.startswith(f"exercises/{slug}/"):
                    out[path] = digest
    except OSError:
        pass
    return out


def untouched(slug, stubs=None, root=ROOT):
    """The one rule: exercise `slug` is its untouched stub when its source files are the files the
    manifest records for it, no more and no fewer, each with the recorded checksum."""
    want = recorded(slug, stubs, root)
    files = exercise_files(slug, root)
    return bool(want) and sorted(want) == files and all(sha256(os.path.join(root, f)) == want[f] for f in files)


def stub_hashes(root=ROOT):
    """The lines of exercises/STUBS.sha256 for the exercises' files as they are (sha256sum's form)."""
    slugs = sorted(d for d in os.listdir(os.path.join(root, "exercises"))
                   if os.path.isdir(os.path.join(root, "exercises", d)))
    return "".join(f"{sha256(os.path.join(root, f))}  {f}\n" for s in slugs for f in exercise_files(s, root))


# --- two outputs ----------------------------------------------------------------------------------
def first_difference(yours, reference):
    """(line number, your line, the reference's) of the first line where two outputs differ (one may
    end before the other), or None."""
    for n in range(max(len(yours), len(reference))):
        a = yours[n] if n < len(yours) else "(your output ends here)"
        b = reference[n] if n < len(reference) else "(the reference's output ends here)"
        if n >= len(yours) or n >= len(reference) or a != b:
            return n + 1, a, b
    return None


# --- the command ----------------------------------------------------------------------------------
class Refused(Exception):
    """A command that cannot answer (no such chapter, a file that cannot be read): its message, exit 2."""


def functions_of(nn):
    """Chapter NN's exercise functions, from chapters.toml (tools/chapters.py, imported only here: the
    runner calls most commands many times, and reading the manifest costs more than the rest)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import chapters as manifest
    try:
        chapter = manifest.by_number(ROOT).get(nn)
    except manifest.ManifestError as e:
        raise Refused(str(e))
    if chapter is None:
        raise Refused(f"no chapter {nn} in chapters.toml")
    return chapter.exercises


def _lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def main(argv):
    usage = "\n".join(line for line in __doc__.splitlines() if line.startswith("    runner.py "))
    try:
        command, args = (argv[0], argv[1:]) if argv else ("", [])
        if command == "results" and len(args) == 2:
            found = exercise_results(args[1], args[0])
            print(json.dumps({f: vars(r) for f, r in found.items()}, indent=1, ensure_ascii=False))
        elif command == "failures" and len(args) in (2, 3) and args[2:] in ([], ["--all"]):
            report = show_failures(read_report(args[0]), args[1], args[2:] == ["--all"])
            print(colored(report) if os.environ.get("COURSE_COLORS") == "1" else report)
        elif command == "functions" and len(args) == 2:
            text = show_functions(read_report(args[0]), functions_of(args[1]))
            if text:
                print(text)
        elif command == "names" and len(args) in (1, 2) and args[1:] in ([], ["--not-given"]):
            for case in read_report(args[0]):
                if not (case.given and args[1:]):
                    print(case.name)
        elif command == "totals" and len(args) == 1:
            print(totals(read_report(args[0])))
        elif command == "test-case" and len(args) == 2 and args[1] in ("crashed", "threw", "out-of-bounds"):
            name = first_case(read_report(args[0]), args[1])
            if name:
                print(name)
        elif command == "sanitizer" and len(args) in (1, 2) and args[1:] in ([], ["--last-exception"]):
            with open(args[0], encoding="utf-8", errors="replace") as f:
                verdict, frames = sanitizer(f.read(), args[1:] == ["--last-exception"])
            if not verdict:
                return 1
            print(verdict)
            for frame in frames:
                print("\t".join(map(str, frame)))
        elif command == "hints" and len(args) == 1:
            for name, found in hints(args[0]).items():
                print(name, len(found))
        elif command == "hint" and len(args) == 3 and args[2].isdigit():
            found = hints(args[0]).get(args[1], [])
            k = int(args[2])
            if not 1 <= k <= len(found):
                return 1
            print(found[k - 1])
        elif command == "untouched" and args[:1] == ["--list"]:
            for slug in args[1:]:
                if untouched(slug):
                    print(slug)
        elif command == "untouched" and args[:1] == ["--stubs"] and len(args) > 2:
            return 0 if all(untouched(s, args[1]) for s in args[2:]) else 1
        elif command == "untouched" and args and args[0] != "--stubs":
            return 0 if all(untouched(s) for s in args) else 1
        elif command == "stub-hashes" and not args:
            sys.stdout.write(stub_hashes())
        elif command == "first-difference" and len(args) == 2:
            found = first_difference(_lines(args[0]), _lines(args[1]))
            if found:
                print("\t".join(map(str, found)))
        else:
            print(f"usage:\n{usage}", file=sys.stderr)
            return 2
    except (Refused, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
