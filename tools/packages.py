"""packages.txt, the one list of the Debian packages the course uses, read by Python tools.

Each line (after comments and blank lines):  package  group  uses...  |  why
`uses` are absolute paths or command names from that package ('-' for none); see packages.txt.
"""
import os
from typing import List, NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_LIST = os.path.join(ROOT, "packages.txt")


class Package(NamedTuple):
    name: str
    group: str
    uses: List[str]  # absolute paths or command names
    why: str
    line: int  # in packages.txt, from 1


def read_groups(path: str = PACKAGE_LIST, key: str = "groups:") -> List[str]:
    """The list's `groups:` line (every group), or with key "setup-groups:" the groups setup installs."""
    with open(path, encoding="utf-8") as f:
        for text in f:
            words = text.split()
            if words and words[0] == key:
                return words[1:]
    raise ValueError(f"{path}: no '{key}' line")


def read_packages(path: str = PACKAGE_LIST) -> List[Package]:
    """The packages of the list, in its order. Raises ValueError on a malformed line."""
    packages = []
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            text = text.rstrip("\n")
            if not text.strip() or text.lstrip().startswith("#") or text.split()[0].endswith(":"):
                continue
            fields, bar, why = text.partition("|")
            words = fields.split()
            if not bar or len(words) < 3 or not why.strip():
                raise ValueError(f"{path}:{number}: expected 'package group uses... | why', got: {text}")
            uses = [] if words[2:] == ["-"] else words[2:]
            packages.append(Package(words[0], words[1], uses, why.strip(), number))
    return packages


def in_groups(packages: List[Package], *groups: str) -> List[Package]:
    return [p for p in packages if p.group in groups]
