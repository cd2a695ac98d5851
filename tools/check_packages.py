#!/usr/bin/python3
"""Checks packages.txt, the one list of the Debian packages the course uses, against the code.

    /usr/bin/python3 tools/check_packages.py                          (ctest: packages.list)
    /usr/bin/python3 tools/check_packages.py --expect-missing fortunes-zh   (packages.catches_missing)

It fails (exit 1, one line a finding) when
  1. a line of packages.txt is malformed, names an unknown group or a package twice;
  2. a package of a group that ./course setup installs is not installed, or a file or command that
     its line says the course uses does not belong to it (dpkg -S: the package or one it depends on);
  3. a tracked file names a system file (/usr/...) or a command (`command -v X`, shutil.which("X"),
     find_program) that no package of the list provides — unless an essential or required package
     of Debian provides it (coreutils, bash, ...: on every Debian machine);
  4. a message in the code tells the reader to install a package that is not in the list
     (`apt-get install X`, `Debian's X package`, `install Debian's X`).
With --expect-missing PKG it checks the list without PKG and succeeds only if that is caught: the
proof that deleting a line from the list fails the test. Run from anywhere; it reads the repository
it lives in (the tracked files, by git ls-files; every file when there is no git).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from packages import PACKAGE_LIST, ROOT, read_groups, read_packages  # noqa: E402

# What is scanned: text sources, scripts and docs; not fixtures, figures or the package list itself.
SCANNED_SUFFIXES = (".cpp", ".hpp", ".py", ".sh", ".cmake", ".txt", ".md", ".json", ".yml", ".toml")
SCANNED_NAMES = ("course", "run")  # the runner, .ci/run
SKIPPED_PREFIXES = ("tests/fixtures/", "docs/figures/", "build")  # packages.txt and this file are skipped too

SYSTEM_PATH = re.compile(r"(?<![\w./~-])/usr/[A-Za-z0-9_.+@/-]*[A-Za-z0-9_+@-]")
COMMAND = [
    re.compile(r"command -v ([a-z0-9][\w.+-]*)"),
    re.compile(r"shutil\.which\(\"([a-z0-9][^\"]*)\"\)"),
    re.compile(r"find_program\(\w+\s+(?:NAMES\s+)?([a-z0-9][\w.+-]*)"),
]
PACKAGE_NAME = r"([a-z0-9][a-z0-9.+-]*[a-z0-9])"
MESSAGE = [
    re.compile(r"apt-get install((?:\s+-{1,2}[\w-]+)*)((?:\s+`?[a-z0-9][a-z0-9.+-]*[a-z0-9]`?)+)"),
    re.compile(r"Debian's `?" + PACKAGE_NAME + r"`? package"),
    re.compile(r"install Debian's `?" + PACKAGE_NAME),
]


def run(*command):
    return subprocess.run(command, capture_output=True, text=True, check=False)


def tracked_files():
    result = run("git", "-C", ROOT, "ls-files")
    if result.returncode == 0:
        names = result.stdout.splitlines()
    else:
        names = [os.path.relpath(os.path.join(d, f), ROOT) for d, _, fs in os.walk(ROOT) for f in fs]
    for name in sorted(names):
        base = os.path.basename(name)
        if name.startswith(SKIPPED_PREFIXES) or "/fixtures/" in name or name in ("packages.txt", "tools/check_packages.py"):
            continue
        if base.endswith(SCANNED_SUFFIXES) or base in SCANNED_NAMES:
            path = os.path.join(ROOT, name)
            if os.path.isfile(path):
                yield name, path


def candidates(path):
    """The names dpkg may have registered PATH under (merged /usr: /usr/bin/x may be /bin/x)."""
    names = [path]
    real = os.path.realpath(path)
    for name in (path, real):
        if name.startswith(("/usr/bin/", "/usr/sbin/", "/usr/lib/")):
            names.append(name[len("/usr"):])
    return names + [real]


class Owners:
    """Which packages own a path: dpkg -S, asked once for all the paths (each call reads its database)."""

    def __init__(self, paths):
        everything = sorted({c for path in paths for c in candidates(path)})
        self.owned = {}
        for start in range(0, len(everything), 500):
            result = run("dpkg", "-S", *everything[start:start + 500])
            for line in result.stdout.splitlines():
                names, _, owned = line.rpartition(": ")
                packages = {n.strip().split(":")[0] for n in names.split(",")}
                self.owned.setdefault(owned, set()).update(packages)

    def __call__(self, path):
        return set().union(*(self.owned.get(c, set()) for c in candidates(path)))


class Dpkg:
    """What dpkg knows of every package on the machine, read once."""

    def __init__(self):
        fields = "${Package}\t${Status}\t${Essential}\t${Priority}\t${Depends},${Pre-Depends}\n"
        self.info = {}
        for line in run("dpkg-query", "-W", "-f=" + fields).stdout.splitlines():
            name, status, essential, priority, needs = (line.split("\t") + [""] * 5)[:5]
            alternatives = [alt for part in needs.split(",") for alt in part.split("|")]
            self.info[name] = dict(installed="ok installed" in status,
                                   everywhere=essential == "yes" or priority == "required",
                                   needs={re.split(r"[\s(:]", a.strip())[0] for a in alternatives} - {""})

    def installed(self, package):
        return package in self.info and self.info[package]["installed"]

    def depends(self, package):
        """The package and those it depends on directly (python3 -> python3-minimal, ...)."""
        return {package} | (self.info[package]["needs"] if package in self.info else set())

    def on_every_debian(self, package):
        """Essential or required packages are on every Debian machine: nothing to list."""
        return package in self.info and self.info[package]["everywhere"]


def references():
    """What the tracked files name: (where, kind, thing), kind one of path, command, package."""
    found = []
    for name, path in tracked_files():
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(lines, 1):
            where = f"{name}:{number}"
            found += [(where, "path", m.group(0)) for m in SYSTEM_PATH.finditer(line)]
            for pattern in COMMAND:
                found += [(where, "command", m.group(1)) for m in pattern.finditer(line) if "$" not in m.group(1)]
            for pattern in MESSAGE:
                for match in pattern.finditer(line):
                    for word in match.group(match.lastindex).split():
                        word = word.strip("`")
                        if word.startswith(("$", "-")) or not re.fullmatch(PACKAGE_NAME, word):
                            break
                        found.append((where, "package", word))
    return found


def check(packages, named, without=None):
    """The findings (strings) for the list PACKAGES (less WITHOUT) against what the code NAMED."""
    findings = []
    listed = {p.name: p for p in packages if p.name != without}
    uses = {use: p.name for p in listed.values() for use in p.uses}
    # a named path is covered by a use when it is that path or lies under it (a directory)
    def covered(thing):
        return next((pkg for use, pkg in uses.items() if thing == use or thing.startswith(use.rstrip("/") + "/")), None)

    # 1. the list itself
    groups, setup_groups = read_groups(), read_groups(key="setup-groups:")
    findings += [f"packages.txt: setup-groups: {g} is not one of the groups" for g in setup_groups if g not in groups]
    seen = set()
    for p in packages:
        if p.group not in groups:
            findings.append(f"packages.txt:{p.line}: {p.name}: unknown group '{p.group}' (groups: {' '.join(groups)})")
        if p.name in seen:
            findings.append(f"packages.txt:{p.line}: {p.name} is listed twice")
        seen.add(p.name)

    dpkg = Dpkg()
    present = {p for p in listed if dpkg.installed(p)}
    commands = {thing: shutil.which(thing) for _, kind, thing in named if kind == "command"}
    commands.update({use: shutil.which(use) for p in listed.values() for use in p.uses if not use.startswith("/")})
    paths = [thing for _, kind, thing in named if kind == "path" and os.path.exists(thing)]
    paths += [use for p in listed.values() for use in p.uses if use.startswith("/") and os.path.exists(use)]
    owners = Owners(paths + [path for path in commands.values() if path])
    # what the listed packages bring with them (xtensor-dev's headers are libxtensor-dev's files)
    provided_by_list = set().union(*(dpkg.depends(p) for p in present)) if present else set()

    # 2. each package installed (those ./course setup installs) and owning what its line says it uses
    for p in listed.values():
        if p.name not in present:
            if p.group in setup_groups:
                findings.append(f"packages.txt:{p.line}: {p.name} ({p.group}) is not installed: run ./course setup")
            continue
        for use in p.uses:
            path = use if use.startswith("/") else commands.get(use)
            if not path or not os.path.exists(path):
                findings.append(f"packages.txt:{p.line}: {p.name} is installed but {use} is not there")
            elif not owners(path) & dpkg.depends(p.name):
                findings.append(f"packages.txt:{p.line}: {use} belongs to "
                                f"{', '.join(sorted(owners(path))) or 'no package'}, not to {p.name}")

    # 3. the system files and commands the code names, and 4. the packages its messages name
    def fine(path):
        if not path or not os.path.exists(path):
            return False
        found = owners(path)
        return bool(found & provided_by_list) or any(dpkg.on_every_debian(o) for o in found)

    verdicts = {}
    for where, kind, thing in named:
        if kind == "package":
            if thing not in listed:
                findings.append(f"{where}: names the package {thing}, which packages.txt does not list")
            continue
        if (kind, thing) not in verdicts:
            if kind == "path":
                verdicts[kind, thing] = covered(thing) is not None or fine(thing)
            else:
                verdicts[kind, thing] = thing in uses or fine(commands.get(thing))
        if not verdicts[kind, thing]:
            what = thing if kind == "path" else f"the command {thing}"
            findings.append(f"{where}: {what} comes from no package of packages.txt (add the package that provides it)")
    return findings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--expect-missing", metavar="PACKAGE",
                        help="check the list without PACKAGE; succeed only if the check then fails")
    args = parser.parse_args()
    try:
        packages = read_packages(PACKAGE_LIST)
    except (OSError, ValueError) as error:
        print(f"check_packages: {error}")
        return 1
    if args.expect_missing:
        if args.expect_missing not in {p.name for p in packages}:
            print(f"check_packages: {args.expect_missing} is not in packages.txt")
            return 1
        named = references()
        before = check(packages, named)
        findings = [f for f in check(packages, named, without=args.expect_missing) if f not in before]
        if not findings:
            print(f"check_packages: without {args.expect_missing} in packages.txt the check finds nothing new")
            return 1
        print(f"without {args.expect_missing}, the check fails as it must:")
        print("\n".join("  " + f for f in findings))
        return 0
    findings = check(packages, references())
    for finding in findings:
        print(finding)
    if findings:
        print(f"check_packages: {len(findings)} finding(s); packages.txt is the one list (see its header)")
        return 1
    print(f"packages.txt: {len(packages)} packages; every system file, command and package the code names is in it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
