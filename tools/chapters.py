#!/usr/bin/env python3
"""The chapter manifest (chapters.toml), read and checked in one place.

As a module: chapters(root) -> [Chapter], in order. As a command, for the readers that are not Python:

    tools/chapters.py names              NN_slug per line, in order (./course, tools/*.sh)
    tools/chapters.py cmake              course_chapter(...) calls, included by CMakeLists.txt
    tools/chapters.py field NN FIELD     one field of one chapter (lists space-separated)
    tools/chapters.py check              checks the manifest against the tree (folders, stubs, pages, data packages)

A manifest that is not what this file says is an error naming the chapter and the field, exit 2.
"""
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = {"nn", "slug", "title", "part", "depends", "exercises", "packages", "long_run", "libs", "load_fixtures"}


@dataclass
class Chapter:
    nn: str                 # "05"
    slug: str               # "multi_head_attention"
    title: str              # "Multi-head attention"
    part: int               # 1, 2 or 3
    depends: list = field(default_factory=list)    # ["04"]
    exercises: list = field(default_factory=list)  # ["split_heads", ...]
    packages: list = field(default_factory=list)   # ["fortunes-zh"]
    long_run: bool = False
    libs: list = field(default_factory=list)
    load_fixtures: list = field(default_factory=list)  # ["02"]: other chapters' fixtures it reads

    @property
    def name(self):  # 05_multi_head_attention: the folder under chapters/ and exercises/
        return f"{self.nn}_{self.slug}"

    @property
    def program(self):  # ch05_multi_head_attention
        return f"ch{self.name}"

    @property
    def page(self):  # docs/05-multi_head_attention.md
        return f"docs/{self.nn}-{self.slug}.md"


class ManifestError(Exception):
    pass


def _strings(entry, key, where, pattern=None):
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{where}: {key} must be a list of strings")
    for v in value:
        if pattern and not re.fullmatch(pattern, v):
            raise ManifestError(f"{where}: {key} entry {v!r} is not of the form {pattern}")
    return value


def read_toml(path, name):
    """The TOML file at PATH as a dict; ManifestError "cannot read NAME" or "NAME is not TOML: ..."."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ManifestError(f"cannot read {name}: {e.strerror}")
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(f"{name} is not TOML: {e}")


def chapters(root=ROOT):
    """Every chapter of chapters.toml, in order, checked for form (two-digit numbers rising, snake_case
    slugs, dependencies on earlier chapters only)."""
    path = os.path.join(root, "chapters.toml")
    data = read_toml(path, "chapters.toml" if os.path.exists(path) else path)
    found = []
    for i, entry in enumerate(data.get("chapter", [])):
        where = f"chapters.toml, chapter {i + 1}"
        unknown = set(entry) - FIELDS
        if unknown:
            raise ManifestError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        for key in ("nn", "slug", "title", "part"):
            if key not in entry:
                raise ManifestError(f"{where}: no {key}")
        nn, slug = entry["nn"], entry["slug"]
        if not isinstance(nn, str) or not re.fullmatch(r"[0-9][0-9]", nn):
            raise ManifestError(f"{where}: nn must be two digits in quotes, e.g. \"05\"")
        where = f"chapters.toml, chapter {nn}"
        if not isinstance(slug, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", slug):
            raise ManifestError(f"{where}: slug must be snake_case")
        if not isinstance(entry["title"], str) or not entry["title"].strip():
            raise ManifestError(f"{where}: title must be a non-empty string")
        if entry["part"] not in (1, 2, 3):
            raise ManifestError(f"{where}: part must be 1, 2 or 3")
        if found and nn <= found[-1].nn:
            raise ManifestError(f"{where}: chapters must be listed in rising order (after {found[-1].nn})")
        depends = _strings(entry, "depends", where, r"[0-9][0-9]")
        earlier = {c.nn for c in found}
        for dep in depends:
            if dep not in earlier:
                raise ManifestError(f"{where}: depends on {dep}, which is not an earlier chapter")
        long_run = entry.get("long_run", False)
        if not isinstance(long_run, bool):
            raise ManifestError(f"{where}: long_run must be true or false")
        load_fixtures = _strings(entry, "load_fixtures", where, r"[0-9][0-9]")
        for other in load_fixtures:
            if other not in earlier:
                raise ManifestError(f"{where}: load_fixtures names {other}, which is not an earlier chapter")
        found.append(Chapter(nn, slug, entry["title"], entry["part"], depends,
                             _strings(entry, "exercises", where, r"[a-z_][a-z0-9_]*"),
                             _strings(entry, "packages", where, r"[a-z0-9][a-z0-9.+-]*"),
                             long_run, _strings(entry, "libs", where, r"[A-Za-z0-9_:]+"), load_fixtures))
    if not found:
        raise ManifestError("chapters.toml lists no [[chapter]]")
    return found


def chains(listed):
    """{NN: the set of chapters NN builds on, directly or through another} (what cmake/Course.cmake
    calls a chapter's chain)."""
    chain = {}
    for c in listed:
        chain[c.nn] = set()
        for dep in c.depends:
            chain[c.nn] |= {dep} | chain[dep]
    return chain


def by_number(root=ROOT):
    return {c.nn: c for c in chapters(root)}


def check_tree(root=ROOT):
    """What the manifest says against the files: every chapter has its folder, program, stubs, page,
    and every exercise function is a stub's; no chapter folder is missing from the manifest."""
    problems = []
    listed = chapters(root)
    names = {c.name for c in listed}
    for c in listed:
        for path in (f"chapters/{c.name}/main.cpp", f"chapters/{c.name}/contract.hpp",
                     f"chapters/{c.name}/test.cpp", f"exercises/{c.name}/HINTS.md", c.page):
            if not os.path.isfile(os.path.join(root, path)):
                problems.append(f"chapter {c.nn}: {path} is missing")
        stub_dir = os.path.join(root, "exercises", c.name)
        stubs = ""
        if os.path.isdir(stub_dir):
            for f in sorted(os.listdir(stub_dir)):
                if f.endswith(".cpp"):
                    with open(os.path.join(stub_dir, f), encoding="utf-8") as fh:
                        stubs += fh.read()
        thrown = re.findall(r'not_implemented\("exercise [0-9]+: ([a-z_0-9]+)', stubs)
        if thrown != c.exercises:
            problems.append(f"chapter {c.nn}: exercises = {c.exercises} but the stubs throw for {thrown}")
        by_nn = {other.nn: other for other in listed}
        for other in c.load_fixtures:
            if not os.path.isdir(os.path.join(root, "chapters", by_nn[other].name, "fixtures")):
                problems.append(f"chapter {c.nn}: load_fixtures names {other}, which has no fixtures/ folder")
    # every data package a chapter names is in packages.txt's data group, which ./course setup installs
    sys.path.insert(0, os.path.join(root, "tools"))
    from packages import read_packages  # noqa: E402  (tools/packages.py)
    data = {p.name for p in read_packages(os.path.join(root, "packages.txt")) if p.group == "data"}
    for c in listed:
        for package in c.packages:
            if package not in data:
                problems.append(f"chapter {c.nn}: package {package} is not in packages.txt's data group")
    for d in sorted(os.listdir(os.path.join(root, "chapters"))):
        if os.path.isdir(os.path.join(root, "chapters", d)) and d not in names:
            problems.append(f"chapters/{d} is not in chapters.toml")
    return problems


def _cmake(listed):
    lines = ["# Generated by tools/chapters.py from chapters.toml: do not edit."]
    for c in listed:
        args = [c.nn, c.slug]
        if c.depends:
            args += ["DEPENDS", *c.depends]
        if c.libs:
            args += ["LIBS", *c.libs]
        if c.long_run:
            args += ["LONG_RUN"]
        lines.append(f"course_chapter({' '.join(args)})")
    return "\n".join(lines) + "\n"


def main(argv):
    usage = "usage: tools/chapters.py names | cmake | field NN FIELD | check"
    try:
        if argv == ["names"]:
            print("\n".join(c.name for c in chapters()))
        elif argv == ["cmake"]:
            sys.stdout.write(_cmake(chapters()))
        elif len(argv) == 3 and argv[0] == "field":
            c = by_number().get(argv[1])
            if c is None:
                raise ManifestError(f"no chapter {argv[1]} in chapters.toml")
            if argv[2] not in FIELDS | {"name", "program", "page"}:
                raise ManifestError(f"no field {argv[2]!r}")
            value = getattr(c, argv[2])
            print(" ".join(value) if isinstance(value, list) else str(value).lower()
                  if isinstance(value, bool) else value)
        elif argv == ["check"]:
            problems = check_tree()
            for p in problems:
                print(f"chapters.toml: {p}", file=sys.stderr)
            return 1 if problems else 0
        else:
            print(usage, file=sys.stderr)
            return 2
    except ManifestError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
