#!/usr/bin/env python3
"""Includes run from a chapter to the chapters it builds on, never back, never from common/ into a chapter.

    tools/check_includes.py [--root DIR]      check the tree (the test layout.includes)
    tools/check_includes.py --self-test       show that the check can fail (layout.includes_catches)

A chapter's header is any include whose path names a chapter folder ("05_multi_head_attention/given.hpp",
"../05_multi_head_attention/contract.hpp"). The rules, with the chapters and their depends from
chapters.toml (tools/chapters.py):
  - no file under common/ includes a chapter's header (common/ is what two or more chapters use);
  - the code of chapter NN (chapters/NN_slug/**, and the student's exercises/NN_slug/**) includes only
    headers of NN itself and of the chapters in NN's dependency chain: those NN depends on, those they
    depend on, and so on. So never a later chapter, nor an earlier one that chapters.toml does not
    name; a chapter that needs one more says so in its depends.
Each include that breaks a rule is one line, file:line and why; exit 1 if there is any, 0 if none.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chapters as manifest  # noqa: E402  (tools/chapters.py)

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
SOURCES = (".cpp", ".hpp", ".h", ".cc", ".inl")


def sources(folder):
    """Every C++ source under folder, sorted."""
    for base, dirs, files in os.walk(folder):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(SOURCES):
                yield os.path.join(base, f)


def chapter_includes(path, by_name):
    """(line number, included path, chapter) for each include of path that names a chapter folder."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            for part in m.group(1).split("/"):
                if part in by_name:
                    yield number, m.group(1), by_name[part]
                    break


def check(root):
    """The includes that break a rule, one line each."""
    listed = manifest.chapters(root)
    by_name = {c.name: c for c in listed}
    chain = manifest.chains(listed)
    problems = []
    for path in sources(os.path.join(root, "common")):
        for number, included, c in chapter_includes(path, by_name):
            problems.append(f"{os.path.relpath(path, root)}:{number}: includes \"{included}\": common/ "
                            f"never includes a chapter (move what two chapters share into common/)")
    for c in listed:
        for top in ("chapters", "exercises"):
            for path in sources(os.path.join(root, top, c.name)):
                for number, included, other in chapter_includes(path, by_name):
                    if other.nn == c.nn or other.nn in chain[c.nn]:
                        continue
                    if other.nn > c.nn:
                        why = f"chapter {other.nn} comes after chapter {c.nn}"
                    else:
                        why = (f"chapter {other.nn} is not in chapter {c.nn}'s dependency chain "
                               f"(chapters.toml: depends = {c.depends})")
                    problems.append(f"{os.path.relpath(path, root)}:{number}: includes \"{included}\": {why}")
    return problems


def self_test():
    """Runs the check on copies of the tree, each with one bad include added, and expects each to be
    caught: common/ including a chapter, a chapter including a later one, a chapter including an earlier
    one outside its chain. Returns 0 if every one is caught (and the untouched copy passes), 1 if not."""
    root = manifest.ROOT
    listed = manifest.chapters(root)
    chain = manifest.chains(listed)
    first, last = listed[0], listed[-1]
    outside = next(((c, o) for c in listed for o in listed if o.nn < c.nn and o.nn not in chain[c.nn]), None)
    cases = [("common/tensor.hpp", f'#include "{first.name}/contract.hpp"', "common/ never includes"),
             (f"chapters/{first.name}/contract.hpp", f'#include "{last.name}/given.hpp"',
              f"chapter {last.nn} comes after chapter {first.nn}")]
    if outside:
        c, o = outside
        cases.append((f"chapters/{c.name}/main.cpp", f'#include "../{o.name}/contract.hpp"',
                      f"chapter {o.nn} is not in chapter {c.nn}'s dependency chain"))
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "tree")
        for part in ("chapters", "exercises", "common"):
            shutil.copytree(os.path.join(root, part), os.path.join(copy, part),
                            ignore=shutil.ignore_patterns("fixtures", "*.npy", "*.md"))
        shutil.copy(os.path.join(root, "chapters.toml"), copy)
        me = [sys.executable, os.path.abspath(__file__), "--root", copy]
        clean = subprocess.run(me, capture_output=True, text=True)
        if clean.returncode != 0:
            print(f"FAIL: the untouched copy does not pass:\n{clean.stdout}")
            return 1
        for path, line, expected in cases:
            target = os.path.join(copy, path)
            with open(target, encoding="utf-8") as f:
                before = f.read()
            with open(target, "w", encoding="utf-8") as f:
                f.write(line + "\n" + before)
            found = subprocess.run(me, capture_output=True, text=True)
            if found.returncode == 1 and f"{path}:1:" in found.stdout and expected in found.stdout:
                print(f"caught: {line} in {path}")
            else:
                print(f"FAIL: '{line}' added to {path} was not caught ({expected}):\n{found.stdout}")
                status = 1
            with open(target, "w", encoding="utf-8") as f:
                f.write(before)
    if status == 0:
        print(f"OK: the check catches each of the {len(cases)} bad includes")
    return status


def main(argv):
    parser = argparse.ArgumentParser(prog="tools/check_includes.py",
                                     description="Check that no include runs against the chapters' order.")
    parser.add_argument("--root", default=manifest.ROOT, help="the repository (default: this one)")
    parser.add_argument("--self-test", action="store_true", help="show that the check can fail")
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test()
    try:
        problems = check(os.path.abspath(args.root))
    except manifest.ManifestError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    if not problems:
        print("OK: no include from common/ into a chapter, none outside a chapter's dependency chain")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
