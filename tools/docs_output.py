#!/usr/bin/env python3
"""The docs pages show the chapter programs' real output and figures: one tool checks and updates them.

    tools/docs_output.py check|update PAGE... [--bin DIR] [--short] [--figures] [--long] [--all]

A block on a page docs/NN-slug.md

    <!-- output: ch02_dot_product_attention --keys 0 => exit 2 -->
    ```text
    ...what the program printed...
    ```
    <!-- end output -->

holds what the command prints (stdout and stderr together), run from the repository root with
NO_COLOR=1 and one OpenBLAS kernel (tools/blas_kernel.sh). The command is a program in the bin
directory (--bin, default build/bin) and its flags; it must exit 0, or N when the marker ends with
"=> exit N". The one marker covers three kinds of block:

  short   a command without --full: a few seconds, checked by every ./course test (chNN.docs_output;
          COURSE_DOCS_TIMEOUT seconds each, default 60)
  long    a command with --full: the chapter's full experiment, minutes; only the chapters that
          chapters.toml marks long_run = true have one, and they must (chNN.docs_full, label full;
          COURSE_DOCS_LONG_TIMEOUT seconds each, default 900)
  figures a command with --svg DIR (DIR relative to the repository root) also writes figures: DIR
          holds exactly the .svg files it writes. It runs with a temporary directory in DIR's place,
          and where its output names that directory the block shows DIR.

Besides the blocks, the chapter's figures: docs/figures/NN-*.svg are exactly what
`chNN_slug --no-color --svg DIR` writes (chNN.docs_figures).

What is checked: --short (the short blocks), --figures (the chapter's figures), --long (the long
blocks, with their figures), --all (the three); with none of them, --short and --figures.
  check:  fail, with a diff, where the page or a figure differs from what the program gives now
  update: rewrite those blocks in place and those figures
Exit 0 when all is current (check) or written (update), 1 when not, 2 on a bad call.
"""
import argparse
import difflib
import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chapters as manifest  # noqa: E402  (tools/chapters.py)

ROOT = manifest.ROOT
BLAS_KERNEL = os.path.join(ROOT, "tools", "blas_kernel.sh")
MARKER = re.compile(rb"^<!-- output: (.*) -->$")
END = b"<!-- end output -->"


class Block:
    """One `<!-- output: COMMAND [=> exit N] -->` marker: the command, the exit code it must give, its
    kind (long when it has --full) and the figures directory it writes (--svg DIR), if any."""

    def __init__(self, spec):
        self.spec = spec
        self.want_exit = 0
        m = re.fullmatch(r"(.*) => exit ([0-9]+)", spec)
        if m:
            spec, self.want_exit = m.group(1), int(m.group(2))
        self.words = spec.split()
        self.long = "--full" in self.words
        self.svg_dir = None
        if "--svg" in self.words:
            at = self.words.index("--svg") + 1
            self.svg_dir = self.words[at] if at < len(self.words) else None


def run(argv, timeout):
    """Runs argv from the repository root as the docs do; returns (exit code, output). The output is
    stdout and stderr together, without its trailing newlines (as the shell's $(...) gives it)."""
    env = dict(os.environ, NO_COLOR="1")
    try:
        done = subprocess.run(["bash", "-c", 'source "$0" && exec "$@"', BLAS_KERNEL, *argv],
                              cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)
        return done.returncode, done.stdout.rstrip(b"\n")
    except subprocess.TimeoutExpired as e:
        return f"a timeout after {timeout} s", (e.output or b"").rstrip(b"\n")


def compare_figures(written, figures, wanted, mode, problems, notes):
    """The .svg files in the directory `written` against those of `figures` named in `wanted` (the
    files there that the program should have written): check reports each that differs, is missing or
    is left over; update makes `figures` hold exactly the new ones."""
    new = sorted(f for f in os.listdir(written) if f.endswith(".svg"))
    if not new:
        problems.append(f"the program wrote no figures into {figures}")
        return
    old = sorted(f for f in wanted if os.path.isfile(os.path.join(figures, f)))
    if mode == "update":
        os.makedirs(figures, exist_ok=True)
        for f in old:
            if f not in new:
                os.remove(os.path.join(figures, f))
                notes.append(f"removed {os.path.relpath(os.path.join(figures, f), ROOT)}")
        for f in new:
            shutil.copyfile(os.path.join(written, f), os.path.join(figures, f))
        notes.append(f"wrote {len(new)} figure(s) into {os.path.relpath(figures, ROOT)}")
        return
    for f in new:
        path = os.path.join(figures, f)
        if not os.path.isfile(path) or not filecmp.cmp(os.path.join(written, f), path, shallow=False):
            problems.append(f"{os.path.relpath(path, ROOT)} differs from what the program writes")
    for f in old:
        if f not in new:
            problems.append(f"{os.path.relpath(os.path.join(figures, f), ROOT)} is not written by the "
                            "program any more: remove it")


def block_text(block, bin_dir, mode, problems, notes):
    """What the block's command prints now, as the block's lines; with --svg DIR, its figures too."""
    program = os.path.join(bin_dir, block.words[0])
    if block.long:
        timeout = int(os.environ.get("COURSE_DOCS_LONG_TIMEOUT", "900"))
    else:
        timeout = int(os.environ.get("COURSE_DOCS_TIMEOUT", "60"))
    with tempfile.TemporaryDirectory() as tmp:
        argv = [program, *block.words[1:]]
        if block.svg_dir:
            argv[argv.index("--svg") + 1] = tmp
        code, text = run(argv, timeout)
        if code != block.want_exit:
            tail = b"\n".join(text.split(b"\n")[-5:]).decode("utf-8", "replace")
            problems.append(f"'{block.spec}' exited with {code}, expected {block.want_exit}:\n{tail}")
        elif block.svg_dir:
            text = text.replace(tmp.encode(), block.svg_dir.encode())
            figures = os.path.join(ROOT, block.svg_dir)
            wanted = os.listdir(figures) if os.path.isdir(figures) else []
            compare_figures(tmp, figures, wanted, mode, problems, notes)
    return [b"```text", *text.split(b"\n"), b"```"]


def chapter_figures(chapter, bin_dir, mode, problems, notes):
    """docs/figures/NN-*.svg against what `chNN_slug --no-color --svg DIR` writes."""
    figures = os.path.join(ROOT, "docs", "figures")
    with tempfile.TemporaryDirectory() as tmp:
        code, text = run([os.path.join(bin_dir, chapter.program), "--no-color", "--svg", tmp], 60 * 10)
        if code != 0:
            tail = b"\n".join(text.split(b"\n")[-5:]).decode("utf-8", "replace")
            problems.append(f"{chapter.program} --svg exited with {code}:\n{tail}")
            return
        wanted = [f for f in os.listdir(figures) if f.startswith(chapter.nn + "-")]
        compare_figures(tmp, figures, wanted, mode, problems, notes)


def do_page(page, bin_dir, mode, parts):
    """Checks or updates one page; returns the problems found (check) or met (update)."""
    problems, notes = [], []
    m = re.fullmatch(r"([0-9][0-9])-([a-z0-9_]+)\.md", os.path.basename(page))
    chapter = manifest.by_number().get(m.group(1)) if m else None
    if chapter is None or chapter.page != os.path.relpath(os.path.abspath(page), ROOT):
        return [f"{page} is not the page of a chapter in chapters.toml (docs/NN-slug.md)"], notes
    with open(page, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out, i, kinds = [], 0, set()
    while i < len(lines):
        out.append(lines[i])
        m = MARKER.match(lines[i])
        if not m:
            i += 1
            continue
        try:
            end = lines.index(END, i + 1)
        except ValueError:
            return [f"{page}:{i + 1}: the block has no {END.decode()}"], notes
        block = Block(m.group(1).decode("utf-8"))
        kind = "long" if block.long else "short"
        kinds.add(kind)
        if kind in parts:
            out += block_text(block, bin_dir, mode, problems, notes)
        else:
            out += lines[i + 1:end]  # left as it stands
        out.append(END)
        i = end + 1

    if "short" not in kinds:
        problems.append(f"{page} has no <!-- output: ... --> block")
    if chapter.long_run and "long" not in kinds:
        problems.append(f"chapters.toml marks chapter {chapter.nn} long_run, but {page} has no block "
                        "whose command has --full")
    if "long" in kinds and not chapter.long_run:
        problems.append(f"{page} has a block whose command has --full: mark chapter {chapter.nn} "
                        "long_run = true in chapters.toml")
    if "figures" in parts:
        chapter_figures(chapter, bin_dir, mode, problems, notes)

    new = b"".join(line + b"\n" for line in out)
    if mode == "update":
        if new != data:
            with open(page, "wb") as f:
                f.write(new)
            notes.append(f"updated {page}")
    elif new != data:
        diff = difflib.unified_diff(data.decode("utf-8", "replace").splitlines(),
                                    new.decode("utf-8", "replace").splitlines(),
                                    page, page + " (what the programs print now)", lineterm="")
        print("\n".join(diff))
        problems.append(f"{page} does not show what the programs print now")
    return problems, notes


def main(argv):
    parser = argparse.ArgumentParser(
        prog="tools/docs_output.py",
        description="Check or update the docs pages' output blocks and figures (see this file's top).")
    parser.add_argument("mode", choices=["check", "update"])
    parser.add_argument("pages", nargs="+", metavar="PAGE", help="docs/NN-slug.md")
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"),
                        help="where the chapter programs are (default build/bin)")
    parser.add_argument("--short", action="store_true", help="the blocks whose command has no --full")
    parser.add_argument("--figures", action="store_true", help="the chapter's docs/figures/NN-*.svg")
    parser.add_argument("--long", action="store_true", help="the blocks whose command has --full")
    parser.add_argument("--all", action="store_true", help="all three")
    args = parser.parse_args(argv)
    parts = {p for p in ("short", "figures", "long") if getattr(args, p) or args.all}
    parts = parts or {"short", "figures"}
    bin_dir = os.path.abspath(args.bin)
    status = 0
    for page in args.pages:
        try:
            problems, notes = do_page(page, bin_dir, args.mode, parts)
        except (OSError, manifest.ManifestError) as e:
            problems, notes = [f"{page}: {e}"], []
        for note in notes:
            print(note)
        for problem in problems:
            print(f"FAIL: {problem}")
        if problems:
            status = 1
            if args.mode == "check":
                flags = " ".join(f"--{p}" for p in sorted(parts))
                print(f"      Regenerate with: tools/docs_output.py update {page} {flags}")
        elif args.mode == "check":
            print(f"OK: {page} ({', '.join(sorted(parts))}) is what the programs give now")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
