#!/usr/bin/env python3
"""./course grade: every exercise of one checkout, or of a whole class, built against this copy's tests.

    ./course grade                          your own checkout: a progress report, the instructor's numbers
    ./course grade DIR... [--list FILE]     each DIR (or each line of FILE) a student's checkout

For each checkout and each exercise that counts (grading.toml), only the student's exercises/NN_slug/
sources are taken — never their tests, CMake files, chapters/ or solutions — and built in a scratch
folder of their own against this copy's compiled tests, given code and reference (build-check/, what
./course check builds): the compiler command and the link command are the build's own (its
compile_commands.json and `ninja -t commands test_NN_exercise`), with the student's objects in place of
libexercise_NN.a. Each test program runs with a time limit, an output limit and a memory limit; a
checkout whose code does not compile, crashes, hangs or prints without end gets zero for that exercise,
with the reason, and grading goes on. Exercises are graded in parallel, up to --jobs at a time.

A function passes when every test case about it passes (tools/runner.py: results). An exercise left as
its untouched stub is not built: every test case fails against the stub (ctest's chNN.stubs_fail proves
it for each chapter), so each of its functions scores zero, "not started".

Outputs (in --out DIR, grades/ by default): a table on the terminal; grades.csv (student, exercise,
function, passed, points, max_points, reason); junit.xml (one test suite per student and exercise, one
test case per function, the failure as the student would see it; tools/junit.xsd is its schema); and,
when one checkout is graded, classroom.json: GitHub Classroom's result format (the reporter
classroom-resources/autograding-grading-reporter reads it base64-encoded), one test per function with
its points, so partial credit counts.

    tools/grade.py targets [OPTIONS] [DIR...]   check the options; print the build targets grading needs
    tools/grade.py run --build DIR [OPTIONS] [DIR...]

Bad input (an option out of range, a checkout that is not one, a points file that is not well formed)
is a one-line error and exit 2 before anything is built.
"""
import argparse
import base64
import csv
import json
import math
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chapters as manifest  # noqa: E402
import runner  # noqa: E402

ROOT = runner.ROOT
POINTS_FILE = os.path.join(ROOT, "grading.toml")
STUBS = os.path.join(ROOT, runner.STUBS)

OUTPUT_LIMIT = 1 << 20          # bytes a test program may print before it counts as printing without end
MEMORY_LIMIT = 4 << 30          # address space of one test program (bytes)
COMPILE_LIMIT = 300             # seconds for one compiler or linker run
COMPILER_MEMORY_LIMIT = 8 << 30
SOURCE_LIMIT = 1 << 20          # bytes of one source file of the student's


class Refused(Exception):
    """Bad input: its message, exit 2."""


# --- what counts: grading.toml ---------------------------------------------------------------------
@dataclass
class Exercise:
    chapter: manifest.Chapter
    points: float  # shared equally by its functions

    def share(self):
        return self.points / len(self.chapter.exercises)


def read_points(path, listed):
    """[Exercise] that count (points > 0), in order, from the points file: `default` for every exercise,
    [exercises] "NN" = points for the ones that differ (0: does not count)."""
    try:
        data = manifest.read_toml(path, path)
    except manifest.ManifestError as e:
        raise Refused(f"the points file {e}")
    unknown = set(data) - {"default", "exercises"}
    if unknown:
        raise Refused(f"{path}: unknown key {sorted(unknown)[0]!r} (the keys are default and [exercises])")

    def number(value, where):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise Refused(f"{path}: {where} must be a number of points, 0 or more (not {value!r})")
        return float(value)

    default = number(data.get("default", 12), "default")
    table = data.get("exercises", {})
    if not isinstance(table, dict):
        raise Refused(f"{path}: exercises must be a table ([exercises] with lines \"05\" = 24)")
    by_nn = {c.nn: c for c in listed}
    for key, value in table.items():
        if key not in by_nn:
            raise Refused(f"{path}: [exercises] names {key!r}, which is not an exercise "
                          f"(they are {', '.join(by_nn)})")
        number(value, f"exercise {key}")
    counted = [Exercise(c, number(table.get(c.nn, default), c.nn)) for c in listed if c.exercises]
    return [e for e in counted if e.points > 0]


# --- the students' checkouts ------------------------------------------------------------------------
@dataclass
class Student:
    name: str   # the checkout folder's name, or the name given in a list file
    root: str   # absolute path of the checkout


def read_list(path):
    """The checkouts a list file names: one per line, `DIR` or `DIR<TAB>name`, relative to the file;
    blank lines and lines starting with # are skipped."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise Refused(f"cannot read the list {path}: {e.strerror}")
    except UnicodeDecodeError:
        raise Refused(f"the list {path} is not UTF-8 text")
    found = []
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        folder, _, name = line.partition("\t")
        found.append((os.path.join(os.path.dirname(os.path.abspath(path)), folder.strip()), name.strip(), f"{path}:{n}"))
    if not found:
        raise Refused(f"the list {path} names no checkout")
    return found


def students_of(dirs, list_file):
    wanted = [(d, "", d) for d in dirs] + (read_list(list_file) if list_file else [])
    if not wanted:
        wanted = [(ROOT, "", ".")]  # your own checkout
    out, names = [], {}
    for folder, name, where in wanted:
        if not os.path.isdir(folder):
            raise Refused(f"{where}: no such folder")
        root = os.path.realpath(folder)
        if not os.path.isdir(os.path.join(root, "exercises")):
            inside = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d, "exercises")))
            hint = f" (its folders {', '.join(inside[:3])}{'…' if len(inside) > 3 else ''} are: name them)" if inside else ""
            raise Refused(f"{where}: not a checkout of the course, it has no exercises/ folder{hint}")
        name = name or os.path.basename(root)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@+-]*", name):
            raise Refused(f"{where}: the student's name {name!r} must be letters, digits and . _ @ + - "
                          "(in a list file: DIR<TAB>name)")
        if name in names:
            raise Refused(f"{where}: two checkouts are named {name!r} ({names[name]} and {folder}); "
                          "give them names in a list file (DIR<TAB>name)")
        names[name] = folder
        out.append(Student(name, root))
    return out


# --- the course's build: how an exercise is compiled and linked ------------------------------------
@dataclass
class Recipe:
    exercise: Exercise
    compile: list        # the compiler's arguments, SOURCE and OBJECT where the file and object go
    link: list           # the linker's arguments, ARCHIVE for the student's library, PROGRAM for the output
    given: list          # the chapter's given objects (absolute), archived with the student's
    directory: str       # the build folder, where both run


def ninja_commands(build, target):
    done = subprocess.run(["ninja", "-C", build, "-t", "commands", target], capture_output=True, text=True)
    if done.returncode != 0 or not done.stdout.strip():
        raise Refused(f"{build} has no target {target}: build the course first (./course grade builds it)")
    # the last command builds the target itself; CMake wraps it as ": && command && :"
    return [t for t in shlex.split(done.stdout.strip().splitlines()[-1]) if t not in (":", "&&")]


def recipes(build, exercises):
    try:
        with open(os.path.join(build, "compile_commands.json"), encoding="utf-8") as f:
            commands = json.load(f)
    except (OSError, ValueError):
        raise Refused(f"{build} has no compile_commands.json: is it a build folder of the course?")
    out = {}
    for e in exercises:
        name = e.chapter.name
        mine = [c for c in commands if f"/exercises/{name}/" in c["file"]]
        if not mine:
            raise Refused(f"{build} does not compile exercises/{name}/: configure it again (cmake --preset check)")
        args = shlex.split(mine[0]["command"])
        compile_args, skip = [], False
        for i, a in enumerate(args):
            if skip:
                skip = False
            elif a in ("-MT", "-MF"):  # ninja's dependency files: not ours
                skip = True
            elif a == "-MD":
                continue
            elif i > 0 and args[i - 1] == "-o":
                compile_args.append("OBJECT")
            elif i > 0 and args[i - 1] == "-c":
                compile_args.append("SOURCE")
            else:
                compile_args.append(a)
        if "OBJECT" not in compile_args or "SOURCE" not in compile_args:
            raise Refused(f"cannot read the compiler command of exercises/{name}/ in {build}")
        link = ninja_commands(build, f"test_{e.chapter.nn}_exercise")
        archive = [i for i, a in enumerate(link) if a.endswith(f"libexercise_{e.chapter.nn}.a")]
        if len(archive) != 1 or "-o" not in link:
            raise Refused(f"cannot read the link command of test_{e.chapter.nn}_exercise in {build}")
        link[archive[0]] = "ARCHIVE"
        link[link.index("-o") + 1] = "PROGRAM"
        given = [os.path.join(build, a) for a in ninja_commands(build, f"exercise_{e.chapter.nn}")
                 if a.endswith(".o") and f"given_{e.chapter.nn}.dir" in a]
        for a in link[1:] + given:
            if a.endswith((".o", ".a")) and not os.path.isabs(a) and not os.path.exists(os.path.join(build, a)):
                raise Refused(f"{build} lacks {a}: build the course's tests first (./course grade builds them)")
        out[e.chapter.nn] = Recipe(e, compile_args, link, given, build)
    return out


# --- running what the student wrote -----------------------------------------------------------------
@dataclass
class Ran:
    code: int            # exit status; -N: killed by signal N
    output: str          # what it printed (stdout and stderr), cut at the limit
    timed_out: bool = False
    flooded: bool = False
    seconds: float = 0.0


def run_limited(args, cwd, timeout, output_limit=OUTPUT_LIMIT, memory=MEMORY_LIMIT, env=None):
    """Runs args in its own process group with a memory limit (prlimit), reading what it prints; kills
    the group when it runs past `timeout` seconds or prints more than `output_limit` bytes."""
    start = time.monotonic()
    limited = ["prlimit", f"--as={memory}", "--core=0", "--"] + args
    p = subprocess.Popen(limited, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True, env=env)
    printed, timed_out, flooded = bytearray(), False, False
    deadline = start + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([p.stdout], [], [], left)
        if not ready:
            continue
        chunk = os.read(p.stdout.fileno(), 1 << 16)
        if not chunk:
            break
        printed += chunk
        if len(printed) > output_limit:
            flooded = True
            break
    if not timed_out and not flooded:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
    try:
        os.killpg(p.pid, signal.SIGKILL)  # whatever it left running
    except ProcessLookupError:
        pass
    p.wait()
    p.stdout.close()
    text = printed[:output_limit].decode("utf-8", errors="replace")
    return Ran(p.returncode, text, timed_out, flooded, time.monotonic() - start)


@dataclass
class Grade:
    """One student's result for one exercise."""
    student: str
    exercise: Exercise
    passed: dict = field(default_factory=dict)    # function -> bool
    reasons: dict = field(default_factory=dict)   # function -> why it failed ("" when passed)
    messages: dict = field(default_factory=dict)  # function -> what the student would see
    kinds: dict = field(default_factory=dict)     # function -> how it failed: KINDS, or runner's todo/threw/wrong
    problem: str = ""                              # the whole exercise scored zero, and why
    problem_kind: str = ""                         # ... and how: one of KINDS
    seconds: float = 0.0
    internal: bool = False                         # the grader failed (disk full, ...): not a grade

    def points(self, function):
        return self.exercise.share() if self.passed.get(function) else 0.0

    def total(self):
        return sum(self.points(f) for f in self.exercise.chapter.exercises)


# How a whole exercise can score zero (the JUnit <error>'s type), besides its functions failing their tests.
KINDS = ("missing", "not started", "compile", "link", "output", "timeout", "crash", "ended", "not graded")


def zero(grade, kind, reason, message=""):
    """The whole exercise scores zero: every function fails with the same reason (kind: one of KINDS)."""
    assert kind in KINDS, kind
    grade.problem, grade.problem_kind = reason, kind
    for f in grade.exercise.chapter.exercises:
        grade.passed[f], grade.reasons[f], grade.messages[f], grade.kinds[f] = False, reason, message, kind
    return grade


def first_lines(text, n=25):
    lines = text.strip().splitlines()
    return "\n".join(lines[:n] + ([f"… ({len(lines) - n} more lines)"] if len(lines) > n else []))


def grade_exercise(student, recipe, options):
    """Builds and runs one exercise of one student in options.scratch/STUDENT/NN_slug/."""
    grade = Grade(student.name, recipe.exercise)
    start = time.monotonic()
    try:
        return _grade_exercise(grade, student, recipe, options)
    except (OSError, subprocess.SubprocessError) as e:  # the machine's fault, not the student's
        grade.internal = True
        return zero(grade, "not graded", f"not graded: the grader failed ({type(e).__name__}: {e})")
    finally:
        grade.seconds = time.monotonic() - start


def _grade_exercise(grade, student, recipe, options):
    chapter = recipe.exercise.chapter
    name = chapter.name
    theirs = os.path.join(student.root, "exercises", name)
    scratch = os.path.join(options.scratch, student.name, name)
    shutil.rmtree(scratch, ignore_errors=True)
    source_dir = os.path.join(scratch, "src")
    os.makedirs(source_dir)
    if not os.path.isdir(theirs):
        return zero(grade, "missing", f"missing: exercises/{name}/ is not in the checkout")
    # 1. untouched: every test case fails against the stub (chNN.stubs_fail), so nothing to build
    if runner.untouched(name, STUBS, student.root):
        return zero(grade, "not started", "not started (the untouched stub)")
    # 2. a copy of the student's sources (regular files only, as CMake would compile them: the .cpp
    #    files at the top of the folder): what is graded cannot change while it is
    files = runner.exercise_files(name, student.root)
    for f in files:
        path = os.path.join(student.root, f)
        if os.path.islink(path) or not os.path.isfile(path):
            return zero(grade, "compile", "does not compile", f"{f} is not a regular file (a link?): grading reads only files")
        if os.path.getsize(path) > SOURCE_LIMIT:
            return zero(grade, "compile", "does not compile", f"{f} is larger than {SOURCE_LIMIT >> 20} MB")
        target = os.path.join(source_dir, os.path.relpath(f, f"exercises/{name}"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            shutil.copyfile(path, target)
        except OSError as e:
            return zero(grade, "compile", "does not compile", f"{f}: cannot be read ({e.strerror})")
    sources = sorted(os.path.join(source_dir, os.path.basename(f)) for f in files
                     if f.endswith(".cpp") and os.path.dirname(f) == f"exercises/{name}")
    if not sources:
        return zero(grade, "compile", "does not compile", f"exercises/{name}/ has no .cpp file")

    def shown(text):  # the scratch copy's paths as the student's own
        return text.replace(source_dir + "/", f"exercises/{name}/").replace(ROOT.rstrip("/") + "/", "")

    # 3. compile each source with the build's own command, then archive with the given code
    objects = []
    for k, source in enumerate(sources):
        obj = os.path.join(scratch, f"{k}.o")
        args = [source if a == "SOURCE" else obj if a == "OBJECT" else a for a in recipe.compile]
        ran = run_limited(args, recipe.directory, COMPILE_LIMIT, memory=COMPILER_MEMORY_LIMIT)
        if ran.code != 0:
            why = "the compiler ran out of time" if ran.timed_out else ""
            return zero(grade, "compile", "does not compile", shown(first_lines(why or ran.output)))
        objects.append(obj)
    archive = os.path.join(scratch, f"libexercise_{chapter.nn}.a")
    ran = run_limited(["ar", "qcs", archive] + objects + recipe.given, recipe.directory, COMPILE_LIMIT)
    if ran.code != 0:
        return zero(grade, "link", "does not link", first_lines(ran.output))
    program = os.path.join(scratch, f"test_{chapter.nn}")
    args = [archive if a == "ARCHIVE" else program if a == "PROGRAM" else a for a in recipe.link]
    ran = run_limited(args, recipe.directory, COMPILE_LIMIT, memory=COMPILER_MEMORY_LIMIT)
    if ran.code != 0:
        return zero(grade, "link", "does not link", shown(first_lines(ran.output)))

    # 4. run the course's tests on it, as ./course check does (from the course's folder, one BLAS thread)
    report = os.path.join(scratch, "results.xml")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    ran = run_limited([program, "--reporters=course-xml", f"--out={report}", "--no-colors"],
                      ROOT, options.timeout, env=env)
    with open(os.path.join(scratch, "output.txt"), "w", encoding="utf-8") as f:
        f.write(ran.output)
    cases = runner.read_report(report)
    running = next((c.name for c in cases if not c.finished), "")
    crashed = runner.first_case(cases, "crashed")
    during = f" in test case \"{crashed}\"" if crashed else ""
    if ran.flooded:
        return zero(grade, "output", f"printed without end (more than {OUTPUT_LIMIT >> 20} MB){during}",
                    shown(first_lines(ran.output, 10)))
    if ran.timed_out:
        return zero(grade, "timeout", f"did not finish within {options.timeout:g} s{during}",
                    "A loop that never ends is the usual cause.")
    if ran.code < 0:
        signame = signal.Signals(-ran.code).name if -ran.code in signal.valid_signals() else "?"
        return zero(grade, "crash", f"crashed (signal {-ran.code}, {signame}){during}", shown(first_lines(ran.output)))
    if not complete(report) or running:
        return zero(grade, "ended", f"ended before its tests finished (exit code {ran.code}){during}",
                    shown(first_lines(ran.output)))
    found = runner.results(cases, chapter.exercises)
    for f, r in found.items():
        grade.passed[f] = r.passed
        grade.kinds[f] = "" if r.passed else r.how
        grade.reasons[f] = "" if r.passed else {
            "todo": "not implemented yet (still the stub's throw)",
            "threw": "threw an exception",
            "wrong": "wrong result",
        }.get(r.how, "failed") + (f" in test case \"{r.failed_cases[0]}\"" if r.failed_cases else "")
        grade.messages[f] = "" if r.passed else "\n".join(r.messages)
    return grade


def complete(report):
    """True when doctest wrote the whole report: it parses, and it ends with the run's totals."""
    try:
        root = ET.parse(report).getroot()
    except (OSError, ET.ParseError):
        return False
    return root.find(".//OverallResultsTestCases") is not None


# --- the outputs ------------------------------------------------------------------------------------
def points_text(x):
    return f"{x:.2f}".rstrip("0").rstrip(".")


def write_csv(path, grades):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "exercise", "function", "passed", "points", "max_points", "reason"])
        for g in grades:
            for fn in g.exercise.chapter.exercises:
                w.writerow([g.student, g.exercise.chapter.name, fn, "yes" if g.passed[fn] else "no",
                            points_text(g.points(fn)), points_text(g.exercise.share()), g.reasons[fn]])


def write_junit(path, grades):
    """JUnit XML as Jenkins, GitLab and GitHub's test reporters read it (schema: tools/junit.xsd)."""
    failures = sum(1 for g in grades for f in g.exercise.chapter.exercises if not g.passed[f] and not g.problem)
    errors = sum(len(g.exercise.chapter.exercises) for g in grades if g.problem)
    tests = sum(len(g.exercise.chapter.exercises) for g in grades)
    top = ET.Element("testsuites", name="Attention, Step by Step", tests=str(tests), failures=str(failures),
                     errors=str(errors), time=f"{sum(g.seconds for g in grades):.3f}")
    for g in grades:
        functions = g.exercise.chapter.exercises
        bad = sum(1 for f in functions if not g.passed[f])
        suite = ET.SubElement(top, "testsuite", name=f"{g.student}/{g.exercise.chapter.name}",
                              tests=str(len(functions)), failures="0" if g.problem else str(bad),
                              errors=str(bad) if g.problem else "0", skipped="0", time=f"{g.seconds:.3f}")
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="student", value=g.student)
        ET.SubElement(props, "property", name="points", value=points_text(g.total()))
        ET.SubElement(props, "property", name="max_points", value=points_text(g.exercise.points))
        for f in functions:
            case = ET.SubElement(suite, "testcase", name=f, classname=f"{g.student}.{g.exercise.chapter.name}",
                                 time=f"{g.seconds / len(functions):.3f}")
            if not g.passed[f]:
                # a build, crash, hang or flood is an error of the whole exercise; a wrong result a failure
                what = ET.SubElement(case, "error" if g.problem else "failure", message=g.reasons[f],
                                     type=g.kinds[f])
                what.text = clean_xml(g.messages[f] or g.reasons[f])
    ET.indent(top)
    ET.ElementTree(top).write(path, encoding="UTF-8", xml_declaration=True)


def clean_xml(text):
    """Text XML 1.0 can hold: a student's program may print any bytes."""
    return re.sub(r"[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "?", text)


def write_classroom(path, grades):
    """GitHub Classroom's result (version 1, what autograding-grading-reporter decodes): one test per
    function with the points it earned, so the reporter adds partial credit up."""
    tests = []
    for g in grades:
        for f in g.exercise.chapter.exercises:
            tests.append({"name": f"{g.exercise.chapter.nn} {f}", "status": "pass" if g.passed[f] else "fail",
                          "score": g.points(f), "message": g.reasons[f] if not g.passed[f] else "",
                          "test_code": f"./course check {g.exercise.chapter.nn}", "filename": "", "line_no": 0,
                          "duration": round(g.seconds * 1000 / len(g.exercise.chapter.exercises))})
    failed = any(t["status"] == "fail" for t in tests)
    result = {"version": 1, "status": "fail" if failed else "pass",
              "max_score": sum(g.exercise.points for g in grades), "tests": tests}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
    with open(path + ".b64", "w", encoding="ascii") as f:
        f.write(base64.b64encode(json.dumps(result, ensure_ascii=False).encode()).decode() + "\n")


def print_one(grades, colors):
    ok, bad, dim, reset = (("\033[32m", "\033[31m", "\033[2m", "\033[0m") if colors else ("", "", "", ""))
    for g in grades:
        c = g.exercise.chapter
        marks = "  ".join(f"{ok}✓{reset} {f}" if g.passed[f] else f"{bad}✗{reset} {f}" for f in c.exercises)
        print(f"{c.nn} {c.slug:<24} {points_text(g.total()):>6} / {points_text(g.exercise.points):<4} {marks}")
        if g.problem:
            print(f"   {dim}{g.problem}{reset}")
        else:
            for f in c.exercises:
                if not g.passed[f]:
                    print(f"   {dim}{f}: {g.reasons[f]}{reset}")
    total = sum(g.total() for g in grades)
    most = sum(g.exercise.points for g in grades)
    print(f"{'total':<27} {points_text(total):>6} / {points_text(most)}")


def print_class(students, exercises, grades):
    by = {(g.student, g.exercise.chapter.nn): g for g in grades}
    width = max(7, max(len(s.name) for s in students))
    print(f"{'student':<{width}} " + " ".join(f"{e.chapter.nn:>4}" for e in exercises) + "   total")
    for s in students:
        row = [by[(s.name, e.chapter.nn)] for e in exercises]
        total = sum(g.total() for g in row)
        print(f"{s.name:<{width}} " + " ".join(f"{points_text(g.total()):>4}" for g in row)
              + f"   {points_text(total)} / {points_text(sum(e.points for e in exercises))}")
    problems = [g for g in grades if g.problem and g.problem_kind != "not started"]
    if problems:
        print("\nscored zero for a reason besides a wrong result:")
        for g in problems:
            print(f"  {g.student} {g.exercise.chapter.nn}: {g.problem}")


def shown_path(path):
    """A path as the instructor would type it: relative when it is below the current folder."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


# --- the command ------------------------------------------------------------------------------------
OPTIONS = """Options:
  --list FILE       the checkouts, one per line: DIR, or DIR<TAB>name (relative to the file)
  --exercises NN,.. only these exercises (of those grading.toml counts)
  --points FILE     the points file (default: grading.toml of this copy)
  --jobs N          exercises graded at once (default: the machine's cores)
  --timeout S       seconds one exercise's tests may run (default 120)
  --out DIR         where grades.csv, junit.xml and classroom.json go (default: grades/)
  --scratch DIR     the builds, one folder per student and exercise (default: build-grade/)
  --quiet           no table, only the files"""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Refused(message)


def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number")
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{text!r} must be a number above 0")
        return value
    return parse


def parse(argv):
    p = Parser(prog="./course grade", add_help=False)
    p.add_argument("command", choices=["targets", "run"])
    p.add_argument("dirs", nargs="*")
    p.add_argument("--list", dest="list_file")
    p.add_argument("--points", default=POINTS_FILE)
    p.add_argument("--exercises", help="NN,NN,...: only these")
    p.add_argument("--jobs", type=positive(int), default=os.cpu_count() or 1)
    p.add_argument("--timeout", type=positive(float), default=120.0)
    p.add_argument("--out", default=os.path.join(ROOT, "grades"))
    p.add_argument("--scratch", default=os.path.join(ROOT, "build-grade"))
    p.add_argument("--build")
    p.add_argument("--quiet", action="store_true")
    options = p.parse_intermixed_args(argv)
    if options.timeout > 3600:
        raise Refused(f"--timeout {options.timeout:g}: at most 3600 s per exercise")
    if options.jobs > 64:
        raise Refused(f"--jobs {options.jobs}: at most 64")
    listed = manifest.chapters(ROOT)
    exercises = read_points(options.points, listed)
    if options.exercises is not None:
        wanted = [w.strip().zfill(2) for w in options.exercises.split(",") if w.strip()]  # 5 -> 05
        known = {c.nn for c in listed if c.exercises}
        for w in wanted:
            if w not in known:
                raise Refused(f"--exercises: no exercise {w!r} (they are {', '.join(sorted(known))})")
        if not wanted:
            raise Refused("--exercises names no exercise")
        exercises = [e for e in exercises if e.chapter.nn in wanted]
    if not exercises:
        raise Refused(f"no exercise counts: every one has 0 points in {shown_path(options.points)}, or --exercises "
                      "left none out")
    students = students_of(options.dirs, options.list_file)
    return options, exercises, students


def main(argv):
    if "-h" in argv or "--help" in argv:
        print(__doc__.split("\n\n    tools/grade.py targets")[0].strip() + "\n\n" + OPTIONS)
        return 0
    try:
        options, exercises, students = parse(argv)
        if options.command == "targets":
            print(" ".join(f"test_{e.chapter.nn}_reference" for e in exercises))
            return 0
        if not options.build:
            raise Refused("run needs --build DIR (the course's build folder with its tests)")
        for command in ("prlimit", "ar", "ninja"):
            if not shutil.which(command):
                raise Refused(f"grading needs the command {command} (./course install build)")
        found = recipes(os.path.abspath(options.build), exercises)
        os.makedirs(options.out, exist_ok=True)
        options.scratch = os.path.abspath(options.scratch)
    except (Refused, manifest.ManifestError) as e:
        print(f"course: error: {e}", file=sys.stderr)
        return 2

    colors = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    if not options.quiet:
        print(f"Grading {len(students)} checkout{'s' if len(students) > 1 else ''}: {len(exercises)} exercises, "
              f"{points_text(sum(e.points for e in exercises))} points, with the tests of {ROOT}, "
              f"{options.jobs} at a time", flush=True)
    start = time.monotonic()
    tasks = [(s, found[e.chapter.nn]) for s in students for e in exercises]
    grades, finished = [], {}
    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        futures = [pool.submit(grade_exercise, s, r, options) for s, r in tasks]
        for (s, _), future in zip(tasks, futures):
            g = future.result()
            grades.append(g)
            finished[s.name] = finished.get(s.name, 0) + 1
            if len(students) > 1 and finished[s.name] == len(exercises) and not options.quiet:
                mine = [x for x in grades if x.student == s.name]
                print(f"  graded {s.name}: {points_text(sum(x.total() for x in mine))} points "
                      f"({sum(x.seconds for x in mine):.1f} s of work)", flush=True)
    seconds = time.monotonic() - start

    write_csv(os.path.join(options.out, "grades.csv"), grades)
    write_junit(os.path.join(options.out, "junit.xml"), grades)
    if len(students) == 1:
        write_classroom(os.path.join(options.out, "classroom.json"), grades)
    if not options.quiet:
        print()
        if len(students) == 1:
            print_one(grades, colors)
        else:
            print_class(students, exercises, grades)
        out = shown_path(options.out)
        print(f"\n{len(students)} checkout{'s' if len(students) > 1 else ''} graded in {seconds:.1f} s "
              f"({seconds / len(students):.1f} s each, {options.jobs} at a time); "
              f"{out}/grades.csv, {out}/junit.xml" + (f", {out}/classroom.json" if len(students) == 1 else "")
              + f"; each build and its output in {shown_path(options.scratch)}/")
    failed = [g for g in grades if g.internal]
    if failed:
        print(f"course: error: {len(failed)} exercise(s) could not be graded (the grader failed, not the "
              f"student's code; the reasons are in the table): grade them again", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
