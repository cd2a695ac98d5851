#!/usr/bin/env python3
"""Tests of ./course grade (tools/grade.py) on checkouts made here, graded against BUILD's tests:

    tools/test_grade.py BUILD          (ctest: grade.checkouts, grade.bad_input)
    tools/test_grade.py BUILD --bad-input
    tools/test_grade.py --make KIND DIR   one fixture checkout, to try grade by hand (KIND below;
                                          reference-all: every exercise the reference, as
                                          tools/bench_grade.sh grades)

The checkouts (exercises 01-05 count, as a points file here says; the others are left out):
  untouched  the stubs as committed                         every function 0, "not started"
  reference  each exercise file replaced by the reference   full marks
  broken     01 does not compile, 02 is the reference, 03 prints without end, 04 never returns,
             05 crashes (SIGSEGV)                           02 full marks, the others zero with the reason
  cheater    01 returns wrong results, and the checkout's tests, CMake files, solutions and
             STUBS.sha256 are edited so that they would pass: 01 still scores zero ("wrong result")
They are graded in one run, two at a time, with a list file that names them; the JUnit XML must
validate against tools/junit.xsd (xmllint) and agree with the CSV; classroom.json (one checkout) must
add up. --bad-input: every kind of bad option or checkout is one line on stderr and exit 2, and the
CI configurations of docs/instructors.md parse and call grade with options it accepts.
"""
import base64
import csv
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRADE = [sys.executable, os.path.join(ROOT, "tools", "grade.py")]
COUNTED = ["01", "02", "03", "04", "05"]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


# --- the fixture checkouts --------------------------------------------------------------------------
def stubs(dest):
    """exercises/ as committed (the untouched stubs), and nothing else."""
    os.makedirs(dest)
    archive = subprocess.run(["git", "-C", ROOT, "archive", "HEAD", "exercises"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", dest], input=archive.stdout, check=True)


def folder(dest, nn):
    return glob.glob(os.path.join(dest, "exercises", f"{nn}_*"))[0]


def use_reference(dest, nn):
    here = folder(dest, nn)
    for f in glob.glob(os.path.join(here, "*.cpp")):
        os.remove(f)
    for f in glob.glob(os.path.join(ROOT, "chapters", os.path.basename(here), "solution", "*.cpp")):
        shutil.copy(f, here)


def replace_throws(dest, nn, code, first_only=False, header=""):
    """The stub of exercise NN with each `throw not_implemented(...)` replaced by `code`."""
    (path,) = glob.glob(os.path.join(folder(dest, nn), "*.cpp"))
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text, n = re.subn(r"throw not_implemented\([^;]*\);", code, text, count=1 if first_only else 0)
    assert n, path
    with open(path, "w", encoding="utf-8") as f:
        f.write(header + text)


def make(kind, dest):
    stubs(dest)
    if kind in ("reference", "reference-all"):  # reference-all: every exercise, not only 01-05
        every = sorted(d[:2] for d in os.listdir(os.path.join(dest, "exercises"))
                       if os.path.isdir(os.path.join(dest, "exercises", d)))
        for nn in COUNTED if kind == "reference" else every:
            use_reference(dest, nn)
    elif kind == "broken":
        replace_throws(dest, "01", "this is not C++;", first_only=True)
        use_reference(dest, "02")
        replace_throws(dest, "03", 'for (;;) std::puts("still here");', header="#include <cstdio>\n")
        replace_throws(dest, "04", "for (volatile int spin = 1; spin;) {\n  }", first_only=True)
        replace_throws(dest, "05", "std::raise(SIGSEGV);", first_only=True, header="#include <csignal>\n")
    elif kind == "cheater":
        replace_throws(dest, "01", "return {};")
        # everything a student could edit to make their own ./course check pass
        for path, text in [("chapters/01_tensors/test.cpp", '#include <doctest/doctest.h>\nTEST_CASE("matmul") {}\n'),
                           ("chapters/01_tensors/solution/tensors.cpp", "// mine\n"),
                           ("tests/test_util.hpp", "#pragma once\n#define CHECK_CLOSE(...)\n"),
                           ("CMakeLists.txt", "cmake_minimum_required(VERSION 3.22)\nproject(mine)\n"),
                           ("grading.toml", "default = 1000\n")]:
            os.makedirs(os.path.dirname(os.path.join(dest, path)), exist_ok=True)
            with open(os.path.join(dest, path), "w", encoding="utf-8") as f:
                f.write(text)
        listing = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "runner.py"), "stub-hashes"],
                                 capture_output=True, text=True, env=dict(os.environ, COURSE_ROOT=dest), check=True)
        with open(os.path.join(dest, "exercises", "STUBS.sha256"), "w", encoding="utf-8") as f:
            f.write(listing.stdout)  # their files, recorded as if they were the stubs
    elif kind != "untouched":
        raise SystemExit(f"no fixture checkout {kind!r}")


# --- the checks -------------------------------------------------------------------------------------
def read_csv(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def graded(rows, student, nn):
    return [r for r in rows if r["student"] == student and r["exercise"].startswith(nn + "_")]


def test_checkouts(build, tmp):
    kinds = ["untouched", "reference", "broken", "cheater"]
    for kind in kinds:
        make(kind, os.path.join(tmp, "class", kind))
    points = os.path.join(tmp, "points.toml")
    with open(points, "w", encoding="utf-8") as f:
        f.write("default = 0\n[exercises]\n" + "".join(f'"{nn}" = 12\n' for nn in COUNTED))
    listing = os.path.join(tmp, "class.txt")
    with open(listing, "w", encoding="utf-8") as f:
        f.write("# the class\n" + "".join(f"class/{k}\tstudent-{k}\n" for k in kinds))
    out = os.path.join(tmp, "grades")
    done = subprocess.run(GRADE + ["run", "--build", build, "--list", listing, "--points", points, "--jobs", "2",
                                   "--timeout", "5", "--out", out, "--scratch", os.path.join(tmp, "scratch")],
                          capture_output=True, text=True)
    print(done.stdout + done.stderr)
    check(done.returncode == 0, "grade ran to the end over four checkouts (exit 0)")
    rows = read_csv(os.path.join(out, "grades.csv"))
    functions = {nn: len(graded(rows, "student-reference", nn)) for nn in COUNTED}
    check(len(rows) == 4 * sum(functions.values()), f"grades.csv: one row per student and function ({len(rows)})")

    def reasons(student, nn):
        return {r["reason"] for r in graded(rows, student, nn)}

    def total(student):
        return sum(float(r["points"]) for r in rows if r["student"] == student)

    # untouched: nothing
    u = [r for r in rows if r["student"] == "student-untouched"]
    check(all(r["passed"] == "no" and r["reason"] == "not started (the untouched stub)" for r in u) and total("student-untouched") == 0,
          "untouched: every function 0, not started")
    # reference: everything
    ref = [r for r in rows if r["student"] == "student-reference"]
    check(all(r["passed"] == "yes" and r["reason"] == "" for r in ref) and total("student-reference") == 60,
          "reference: full marks (60 of 60)")
    # broken: each fault graded as what it is, and the run went on
    check(reasons("student-broken", "01") == {"does not compile"}, "broken 01: does not compile")
    check(all(r["passed"] == "yes" for r in graded(rows, "student-broken", "02")), "broken 02 (the reference): full marks")
    check(all(x.startswith("printed without end") for x in reasons("student-broken", "03")), "broken 03: printed without end")
    check(all(x.startswith("did not finish within 5 s") for x in reasons("student-broken", "04")), "broken 04: did not finish within 5 s")
    check(all(x.startswith("crashed (signal 11, SIGSEGV)") for x in reasons("student-broken", "05")), "broken 05: crashed (SIGSEGV)")
    check(total("student-broken") == 12, "broken: 12 points, exercise 02's")
    # cheater: their tests, CMake files, solutions, points and stub list changed nothing
    c01 = graded(rows, "student-cheater", "01")
    check(all(r["passed"] == "no" and r["reason"].startswith(("wrong result", "threw")) for r in c01),
          "cheater 01: wrong results still fail, whatever their tests say")
    check(total("student-cheater") == 0, "cheater: 0 points")

    # JUnit: the schema, and the same verdicts as the CSV
    junit = os.path.join(out, "junit.xml")
    xmllint = shutil.which("xmllint")  # libxml2-utils, in packages.txt's build group
    check(xmllint is not None, "xmllint is installed (libxml2-utils: ./course install build)")
    lint = subprocess.run([xmllint or "xmllint", "--noout", "--schema", os.path.join(ROOT, "tools", "junit.xsd"),
                           junit], capture_output=True, text=True)
    check(lint.returncode == 0, f"junit.xml validates against tools/junit.xsd ({lint.stderr.strip()})")
    top = ET.parse(junit).getroot()
    suites = top.findall("testsuite")
    check(len(suites) == 4 * len(COUNTED), "junit.xml: one test suite per student and exercise")
    cases = top.findall("testsuite/testcase")
    failed = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    check(len(cases) == len(rows) and len(failed) == sum(r["passed"] == "no" for r in rows),
          "junit.xml: one test case per function, failed where the CSV says no")
    check(int(top.get("tests")) == len(cases) and int(top.get("failures")) + int(top.get("errors")) == len(failed),
          "junit.xml: the totals add up")
    compile_error = top.find("testsuite[@name='student-broken/01_tensors']/testcase/error")
    check(compile_error is not None and "exercises/01_tensors/tensors.cpp" in compile_error.text
          and "error" in compile_error.text, "junit.xml: a compile error shows the compiler's message on the student's file")
    wrong = top.find("testsuite[@name='student-cheater/01_tensors']/testcase/failure")
    check(wrong is not None and "ERROR" in wrong.text, "junit.xml: a wrong result shows the failing check as ./course check does")

    # one checkout: classroom.json adds up to the same points
    one = os.path.join(tmp, "one")
    done = subprocess.run(GRADE + ["run", "--build", build, os.path.join(tmp, "class", "reference"), "--points", points,
                                   "--exercises", "01,02", "--out", one, "--scratch", os.path.join(tmp, "scratch")],
                          capture_output=True, text=True)
    check(done.returncode == 0 and "total" in done.stdout, "one checkout: its table")
    with open(os.path.join(one, "classroom.json"), encoding="utf-8") as f:
        result = json.load(f)
    check(result["max_score"] == 24 and sum(t["score"] for t in result["tests"]) == 24 and result["status"] == "pass",
          "classroom.json: 24 of 24 over exercises 01 and 02")
    with open(os.path.join(one, "classroom.json.b64"), encoding="ascii") as f:
        check(json.loads(base64.b64decode(f.read())) == result, "classroom.json.b64: the same result, base64")


def test_docs_configs(tmp):
    """The GitHub Classroom and GitLab CI configurations of docs/instructors.md: YAML that parses, and
    every `course grade` command in them accepted by grade (its options checked on a checkout)."""
    import yaml  # python3-yaml, which mkdocs (packages.txt's site group) depends on
    with open(os.path.join(ROOT, "docs", "instructors.md"), encoding="utf-8") as f:
        page = f.read()
    blocks = re.findall(r"```yaml\n(.*?)```", page, re.S)
    check(len(blocks) >= 2, f"docs/instructors.md: the two CI configurations ({len(blocks)} YAML blocks)")
    checkout = os.path.join(tmp, "student")
    make("untouched", checkout)
    for block in blocks:
        try:
            config = yaml.safe_load(block)
        except yaml.YAMLError as e:
            check(False, f"docs/instructors.md: a YAML block does not parse ({e})")
            continue
        check(isinstance(config, dict), "docs/instructors.md: a YAML block is a mapping")
        for line in re.findall(r"course grade ([^\n]*)", block):
            args = [a if a.startswith("-") or prev.startswith("--") else checkout
                    for prev, a in zip([""] + line.split(), line.split())]
            done = subprocess.run(GRADE + ["targets"] + args, capture_output=True, text=True)
            check(done.returncode == 0, f"docs/instructors.md: `course grade {line}` is accepted ({done.stderr.strip()})")


def test_bad_input(build, tmp):
    make("untouched", os.path.join(tmp, "a", "same"))
    make("untouched", os.path.join(tmp, "b", "same"))
    os.makedirs(os.path.join(tmp, "empty"))
    bad_points = {"not_toml.toml": "default = = 3\n", "negative.toml": "default = -1\n",
                  "unknown.toml": "default = 1\n[exercises]\n\"99\" = 3\n", "key.toml": "points = 3\n",
                  "none.toml": "default = 0\n", "text.toml": 'default = "ten"\n', "inf.toml": "default = inf\n"}
    for name, text in bad_points.items():
        with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(tmp, "empty.txt"), "w", encoding="utf-8") as f:
        f.write("# nobody\n")
    a = os.path.join(tmp, "a", "same")
    cases = [
        ["--timeout", "0", a], ["--timeout", "-1", a], ["--timeout", "abc", a], ["--timeout", "nan", a],
        ["--timeout", "inf", a], ["--timeout", "1e9", a], ["--jobs", "0", a], ["--jobs", "1.5", a], ["--jobs", "100000", a],
        ["--exercises", "99", a], ["--exercises", ",", a], [os.path.join(tmp, "nowhere")], [os.path.join(tmp, "empty")],
        [tmp], [a, os.path.join(tmp, "b", "same")], ["--list", os.path.join(tmp, "empty.txt")],
        ["--list", os.path.join(tmp, "nowhere.txt")], ["--bogus", a], ["--points", os.path.join(tmp, "nowhere.toml"), a],
    ] + [["--points", os.path.join(tmp, name), a] for name in bad_points]
    # the committed grading.toml is well formed, and every exercise counts by default
    done = subprocess.run(GRADE + ["targets", a], capture_output=True, text=True)
    listed = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "chapters.py"), "names"],
                            capture_output=True, text=True).stdout.split()
    check(done.returncode == 0 and done.stdout.split() == [f"test_{n[:2]}_reference" for n in listed],
          "grading.toml: well formed, every exercise counts")
    done = subprocess.run([os.path.join(ROOT, "course"), "grade", "--help"], capture_output=True, text=True)
    check(done.returncode == 0 and "--timeout S" in done.stdout and not done.stderr, "./course grade --help: the options")
    # through the runner: refused before anything is built
    done = subprocess.run([os.path.join(ROOT, "course"), "grade", "--timeout", "0", a], capture_output=True, text=True)
    check(done.returncode == 2 and done.stderr.count("\n") == 1 and "--timeout" in done.stderr and not done.stdout,
          f"./course grade --timeout 0: exit 2, one line, nothing built ({done.stderr.strip()})")
    for args in cases:
        done = subprocess.run(GRADE + ["run", "--build", build] + args, capture_output=True, text=True)
        err = done.stderr.strip()
        shown = " ".join(x.replace(tmp, "TMP") for x in args)
        check(done.returncode == 2 and err.startswith("course: error: ") and len(err.splitlines()) == 1
              and not done.stdout, f"bad input {shown}: exit 2, one line ({err.replace(tmp, 'TMP')})")


def main(argv):
    if argv[:1] == ["--make"] and len(argv) == 3:
        make(argv[1], argv[2])
        return 0
    if len(argv) not in (1, 2) or argv[1:] not in ([], ["--bad-input"]):
        print(__doc__, file=sys.stderr)
        return 2
    build = os.path.abspath(argv[0])
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        if argv[1:]:
            test_bad_input(build, tmp)
            test_docs_configs(tmp)
        else:
            test_checkouts(build, tmp)
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
