#!/usr/bin/python3
"""Builds the course's website: build/site/, from docs/ and the README, offline.

    /usr/bin/python3 tools/site/build_site.py [--root DIR] [--out DIR]

The Markdown in docs/ stays the single source; nothing is written into docs/. The steps:

  1. stage   build/site-src/pages/ gets
               index.md         the README's title, introduction and chapter table
               NN-slug.md       every docs/NN-*.md, with its links rewritten (below) and a line
                                of links to the chapter's files (program, contract, exercise,
                                hints, tests, reference) under its title
               instructors.md   docs/instructors.md (OTHER_PAGES), its links rewritten
               figures/         docs/figures/, copied
               repo/PATH.md     a page for each repository file a staged page links to: Markdown
                                files (README.md, CONTRIBUTING.md, HINTS.md) as they are, source
                                files as highlighted code; a linked directory as a list of files
               assets/          the course's stylesheet and MathJax's configuration
             and build/site-src/mkdocs.yml is tools/site/mkdocs.yml.in with the navigation filled in;
  2. build   mkdocs (Debian's mkdocs, mkdocs-material, python3-pymdownx) into build/site/;
  3. MathJax Debian's libjs-mathjax (2.7) is copied into build/site/assets/mathjax/;
  4. check   no page, stylesheet or script of the site loads anything from another host.

Links: a link such as ../exercises/02_x/y.cpp in docs/02-x.md names a file outside docs/; here it
becomes a link to repo/exercises/02_x/y.cpp.md, the page that shows that file. Links to docs pages
and figures keep their targets (the site has the same layout as docs/).
Exit codes: 0 built; 2 a needed package is missing or the sources are not what this script expects.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from packages import in_groups, read_packages  # noqa: E402  (tools/packages.py: packages.txt)
import chapters as manifest  # noqa: E402  (tools/chapters.py: chapters.toml)

MATHJAX = "/usr/share/javascript/mathjax"  # Debian's libjs-mathjax

# The Debian packages the site needs (packages.txt, group site), each with the files of it the site uses.
NEEDED = [(p.name, path) for p in in_groups(read_packages(), "site") for path in p.uses if path.startswith("/")]

# The language a repository file is highlighted as, by its name's ending.
LANGUAGES = {
    ".cpp": "cpp", ".hpp": "cpp", ".h": "cpp", ".sh": "bash", ".py": "python", ".cmake": "cmake",
    ".json": "json", ".yml": "yaml", ".yaml": "yaml", ".txt": "text",
}
LANGUAGE_BY_NAME = {"CMakeLists.txt": "cmake", "course": "bash", "run": "bash"}

LINK = re.compile(r"(\]\()(<[^>]*>|[^)\s]+)")             # [text](target) and [text](<target>)
REFERENCE = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*)(<[^>]*>|\S+)")  # [name]: target
HTML_LINK = re.compile(r"""((?:href|src)=")([^"]+)(")""")  # <a href="..."> and <img src="...">
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def die(message):
    print(f"build_site: error: {message}", file=sys.stderr)
    sys.exit(2)


class Site:
    """The staging directory and the pages still to write into it."""

    def __init__(self, root, staging):
        self.root = root
        self.pages = os.path.join(staging, "pages")
        self.queue = []        # repository paths that need a page (see page_for)
        self.staged = set()
        self.directory_pages = set()  # linked directories: each gets a list of its files

    # -- where each repository file goes --------------------------------------------------------
    def page_for(self, path):
        """The site path (relative to pages/) that shows repository path PATH, or None."""
        if re.fullmatch(r"docs/[0-9][0-9]-[^/]*\.md", path) or path in OTHER_PAGES:
            return path[len("docs/"):]
        if path.startswith("docs/figures/"):
            return path[len("docs/"):]
        full = os.path.join(self.root, path)
        if os.path.isdir(full):
            return f"repo/{path}/index.md"
        if not os.path.isfile(full):
            return None
        if path not in self.staged:
            self.staged.add(path)
            self.queue.append(path)
        return f"repo/{path}" if path.endswith(".md") else f"repo/{path}.md"

    def rewrite_target(self, target, source, page):
        """TARGET as written in repository file SOURCE, made relative to site page PAGE."""
        if target.startswith("<") and target.endswith(">"):
            target = target[1:-1]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "/")):
            return target                                        # a URL, an anchor, or absolute
        path, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(source), path))
        if resolved.startswith(".."):
            return target                                        # outside the repository
        site_path = self.page_for(resolved)
        if site_path is None:
            return target                                        # the browser test reports it
        if site_path.endswith("/index.md") and site_path.startswith("repo/"):
            self.directory_pages.add(resolved)
        new = os.path.relpath(site_path, os.path.dirname(page) or ".")
        return new + ("#" + anchor if anchor else "")

    def rewrite_links(self, text, source, page):
        """Every Markdown and HTML link of TEXT (outside fenced code) rewritten for PAGE."""
        out, fence = [], None
        for line in text.split("\n"):
            m = FENCE.match(line)
            if m:
                if fence is None:
                    fence = m.group(1)
                elif m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                    fence = None
                out.append(line)
                continue
            if fence is None:
                line = LINK.sub(lambda m: m.group(1) + self.rewrite_target(m.group(2), source, page), line)
                line = REFERENCE.sub(lambda m: m.group(1) + self.rewrite_target(m.group(2), source, page), line)
                line = HTML_LINK.sub(
                    lambda m: m.group(1) + self.rewrite_target(m.group(2), source, page) + m.group(3), line)
            out.append(line)
        return "\n".join(out)

    @staticmethod
    def separate_blocks(text):
        """A blank line before a list or a table that follows a paragraph line directly. GitHub
        starts a list or a table there; Python-Markdown (mkdocs) would run it into the paragraph."""
        out, fence, previous = [], None, ""
        for line in text.split("\n"):
            m = FENCE.match(line)
            if m:
                if fence is None:
                    fence = m.group(1)
                elif m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                    fence = None
            elif fence is None:
                starts_block = re.match(r"([-*+]|[0-9]+\.) |\|", line)
                in_paragraph = previous.strip() and re.match(r"[^\s|>#<-]", previous) \
                    and not re.match(r"([-*+]|[0-9]+\.) ", previous)
                if starts_block and in_paragraph:
                    out.append("")
            out.append(line)
            previous = line if fence is None else ""
        return "\n".join(out)

    def write(self, page, text):
        full = os.path.join(self.pages, page)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if page.endswith(".md") and not page.endswith((".cpp.md", ".hpp.md")):
            text = self.separate_blocks(text)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)

    def read(self, path):
        with open(os.path.join(self.root, path), encoding="utf-8") as f:
            return f.read()

    # -- the pages for repository files ---------------------------------------------------------
    def code_page(self, path):
        """A repository file shown as highlighted code, with a link back to its chapter."""
        try:
            text = self.read(path)
        except UnicodeDecodeError:
            text = "(a binary file: see it in the repository)"
        name = os.path.basename(path)
        ext = os.path.splitext(name)[1]
        language = LANGUAGE_BY_NAME.get(name, LANGUAGES.get(ext, "text"))
        longest = max([len(run) for run in re.findall(r"`+", text)] + [2])
        fence = "`" * (longest + 1)
        # (no table of contents beside the code: the page has no sections, and the code needs the width)
        # the title names the chapter's folder too: every chapter has a main.cpp, a test.cpp, a contract.hpp
        title = path if path.startswith("chapters/") else name
        lines = ["---", "hide:", "  - toc", "---", "", f"# {title}", "", f"`{path}` in the course's repository."]
        chapter = re.search(r"(?:^|[/_])([0-9][0-9])_([a-z0-9_]+)", path)
        if chapter:
            doc = chapter_doc(self.root, chapter.group(1))
            if doc:
                back = os.path.relpath(doc, os.path.dirname(f"repo/{path}"))
                lines[-1] += f" Chapter: [{chapter.group(1)}]({back})."
        lines += ["", f"{fence}{language}", text.rstrip("\n"), fence, ""]
        return "\n".join(lines)

    def markdown_page(self, path):
        page = f"repo/{path}"
        return self.rewrite_links(self.read(path), path, page)

    def directory_page(self, path):
        lines = [f"# {path}/", "", "The files in this directory of the course's repository:", ""]
        for name in sorted(os.listdir(os.path.join(self.root, path))):
            sub = f"{path}/{name}"
            if name.startswith(".") or not os.path.isfile(os.path.join(self.root, sub)):
                continue
            target = self.page_for(sub)
            lines.append(f"- [`{name}`]({os.path.relpath(target, f'repo/{path}')})")
        return "\n".join(lines) + "\n"

    def drain(self):
        """Writes a page for every repository file that some page links to (and theirs, in turn)."""
        while self.queue:
            path = self.queue.pop(0)
            if path.endswith(".md"):
                self.write(f"repo/{path}", self.markdown_page(path))
            else:
                self.write(f"repo/{path}.md", self.code_page(path))
        for path in sorted(self.directory_pages):
            self.write(f"repo/{path}/index.md", self.directory_page(path))
        if self.queue:
            self.drain()


def chapter_doc(root, nn):
    """The docs page of chapter NN (e.g. '02-dot_product_attention.md'), or None."""
    for c_nn, _, name in chapters(root):
        if c_nn == nn:
            return name
    return None


def chapters(root):
    """Every chapter page: [(nn, slug, file name)], in the manifest's order (chapters.toml)."""
    try:
        return [(c.nn, c.slug, os.path.basename(c.page)) for c in manifest.chapters(root)]
    except manifest.ManifestError as e:
        die(str(e))


def readme_rows(readme):
    """The README's chapter table: {nn: (title, the whole row)}."""
    rows = {}
    for line in readme.split("\n"):
        m = re.match(r"^\|\s*([0-9][0-9])\s*\|\s*\[([^\]]+)\]\(docs/[^)]+\)\s*\|", line)
        if m:
            rows[m.group(1)] = (m.group(2), line)
    return rows


def page_title(text):
    """A page's title, without a leading "Chapter NN · " (the navigation numbers the chapters)."""
    m = re.search(r"^# (.+)$", text, re.M)
    return re.sub(r"^Chapter [0-9]+\s*[·:.-]\s*", "", m.group(1).strip()) if m else None


def files_line(site, nn, slug, page):
    """The links under a chapter's title: its program, contract, exercise, hints, tests, reference."""
    name = f"{nn}_{slug}"
    root = site.root

    def files(directory, patterns):
        full = os.path.join(root, directory)
        if not os.path.isdir(full):
            return []
        return [f"{directory}/{f}" for f in sorted(os.listdir(full))
                if any(re.fullmatch(p, f) for p in patterns)]

    groups = [
        ("program", [f"chapters/{name}/main.cpp"]),
        ("contract", [f"chapters/{name}/contract.hpp"]),
        ("given code", [f"chapters/{name}/given.hpp"]),
        ("exercise", files(f"exercises/{name}", [r".*\.(cpp|hpp|h)"])),
        ("hints", [f"exercises/{name}/HINTS.md"]),
        ("tests", files(f"chapters/{name}", [r"test.*\.cpp"])),
        ("reference", files(f"chapters/{name}/solution", [r".*\.(cpp|hpp|h)"])),
    ]
    parts = []
    for label, paths in groups:
        paths = [p for p in paths if os.path.isfile(os.path.join(root, p))]
        for i, path in enumerate(paths):
            shown = label if len(paths) == 1 else f"{label} ({os.path.basename(path)})"
            target = os.path.relpath(site.page_for(path), os.path.dirname(page) or ".")
            parts.append(f'[{shown}]({target} "{path}")')
    if not parts:
        return ""
    return ('<p class="course-files" markdown="1">The chapter\'s files: ' + " · ".join(parts)
            + f" · run it: <code>./course run {nn}</code></p>")


def stage_chapter(site, nn, slug, name):
    text = site.read(f"docs/{name}")
    text = site.rewrite_links(text, f"docs/{name}", name)
    line = files_line(site, nn, slug, name)
    # The line goes under the page's title (its first line, "# Chapter NN · ...").
    m = re.search(r"^# .+$", text, re.M)
    if m and line:
        text = text[:m.end()] + "\n\n" + line + "\n" + text[m.end():]
    site.write(name, text)


# The docs pages that are not a chapter's, staged like one (links rewritten), with their place in the
# navigation's "The course" section.
OTHER_PAGES = {"docs/instructors.md": "For instructors"}


def stage_other_pages(site):
    for path in OTHER_PAGES:
        if os.path.isfile(os.path.join(site.root, path)):
            name = path[len("docs/"):]
            site.write(name, site.rewrite_links(site.read(path), path, name))


def stage_index(site, readme, rows, found):
    """index.md: the README's title and introduction, then its chapter table, one row per page."""
    intro = readme.split("\n## ")[0]                       # title and first paragraphs
    head = "| NN | chapter | what the program shows | exercises |\n|----|---------|------------------------|-----------|"
    table = []
    for nn, slug, name in found:
        if nn in rows:
            table.append(rows[nn][1])
        else:                                              # a page the README does not list yet
            title = page_title(site.read(f"docs/{name}")) or name
            table.append(f"| {nn} | [{title}](docs/{name}) | | |")
    text = (intro.rstrip() + "\n\n## The chapters\n\n" + head + "\n" + "\n".join(table) + "\n\n"
            + "How to build and work through the course: [the README](README.md). "
            + "How the course is made, and how to add to it: [CONTRIBUTING.md](CONTRIBUTING.md).\n")
    site.write("index.md", site.rewrite_links(text, "README.md", "index.md"))


def nav_yaml(site, rows, found):
    """The navigation: the index, one entry per chapter ('02 · dot-product attention'), the other
    docs pages (OTHER_PAGES), the README and CONTRIBUTING.md."""
    lines = ["nav:", "  - Home: index.md", "  - Chapters:"]
    for nn, slug, name in found:
        title = rows[nn][0] if nn in rows else (page_title(site.read(f"docs/{name}")) or slug)
        title = title.replace('"', "'")
        lines.append(f'      - "{nn} · {title}": {name}')
    lines.append("  - The course:")
    for path, label in OTHER_PAGES.items():
        if os.path.isfile(os.path.join(site.root, path)):
            lines.append(f"      - {label}: {path[len('docs/'):]}")
    for label, path in (("README", "README.md"), ("Contributing", "CONTRIBUTING.md")):
        if os.path.isfile(os.path.join(site.root, path)):
            lines.append(f"      - {label}: {site.page_for(path)}")
    return "\n".join(lines) + "\n"


def copy_mathjax(site_dir):
    """MathJax 2.7 from libjs-mathjax: the loader, the TeX-AMS_CHTML configuration, the TeX input
    and CommonHTML output, their fonts (woff/otf) and the English messages. Not its tests, the
    unpacked sources or the other output jax (about 8 MB instead of 54)."""
    target = os.path.join(site_dir, "assets", "mathjax")
    parts = ["MathJax.js", "config/TeX-AMS_CHTML.js", "extensions", "jax/input/TeX", "jax/element",
             "jax/output/CommonHTML", "fonts/HTML-CSS/TeX/woff", "fonts/HTML-CSS/TeX/otf",
             "localization/en"]
    for part in parts:
        source = os.path.join(MATHJAX, part)
        dest = os.path.join(target, part)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if os.path.isdir(source):
            shutil.copytree(source, dest, dirs_exist_ok=True)
        else:
            shutil.copy2(source, dest)


EXTERNAL = re.compile(
    r"""(?:<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc|<link\b[^>]*\bhref)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|@import\s+(?:url\()?["']?((?:https?:)?//[^"')\s]+)"""
    r"""|url\(\s*["']?((?:https?:)?//[^"')\s]+)""", re.I)


def external_assets(site_dir):
    """Every asset (script, stylesheet, image, font) that a built page or stylesheet loads from another
    host: [(file, url)]. Plain links (<a href>) to other sites are allowed; they load nothing."""
    found = []
    for directory, _, files in os.walk(site_dir):
        if os.path.relpath(directory, site_dir).startswith(os.path.join("assets", "mathjax")):
            continue   # MathJax's own code names its CDN only as an option we do not use
        for name in files:
            if not name.endswith((".html", ".css")):
                continue
            path = os.path.join(directory, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                for m in EXTERNAL.finditer(f.read()):
                    url = next(g for g in m.groups() if g)
                    if not re.match(r"(?:https?:)?//(localhost|127\.0\.0\.1)[:/]", url):
                        found.append((os.path.relpath(path, site_dir), url))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(HERE)),
                        help="the repository (default: this script's)")
    parser.add_argument("--out", help="the site (default: ROOT/build/site)")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    site_dir = os.path.abspath(args.out or os.path.join(root, "build", "site"))
    staging = os.path.join(os.path.dirname(site_dir), "site-src")

    missing = [package for package, witness in NEEDED if not os.path.exists(witness)]
    if missing:
        die(f"missing Debian package(s) {' '.join(sorted(set(missing)))}: run ./course install site")

    # 1. stage
    shutil.rmtree(staging, ignore_errors=True)
    site = Site(root, staging)
    found = chapters(root)
    if not found:
        die(f"no chapter pages (docs/NN-*.md) in {root}/docs")
    readme = site.read("README.md")
    rows = readme_rows(readme)
    for nn, slug, name in found:
        stage_chapter(site, nn, slug, name)
    stage_index(site, readme, rows, found)
    stage_other_pages(site)
    site.page_for("README.md")
    site.page_for("CONTRIBUTING.md")
    site.drain()
    shutil.copytree(os.path.join(root, "docs", "figures"), os.path.join(site.pages, "figures"))
    shutil.copytree(os.path.join(HERE, "assets"), os.path.join(site.pages, "assets"))
    shutil.copytree(os.path.join(HERE, "overrides"), os.path.join(staging, "overrides"))
    with open(os.path.join(HERE, "mkdocs.yml.in"), encoding="utf-8") as f:
        config = f.read().replace("@NAV@", nav_yaml(site, rows, found))
    config = config.replace("@SITE_DIR@", site_dir)
    with open(os.path.join(staging, "mkdocs.yml"), "w", encoding="utf-8") as f:
        f.write(config)

    # 2. build (--strict: a link to a page that does not exist stops the build)
    result = subprocess.run(["/usr/bin/python3", "-m", "mkdocs", "build", "--strict", "--quiet",
                             "--config-file", os.path.join(staging, "mkdocs.yml")])
    if result.returncode != 0:
        die("mkdocs failed (its messages are above)")

    # 3. MathJax, from the Debian package
    copy_mathjax(site_dir)

    # 4. nothing loaded from another host
    external = external_assets(site_dir)
    if external:
        for path, url in external[:10]:
            print(f"  {path}: {url}", file=sys.stderr)
        die(f"{len(external)} asset(s) would be loaded from the internet (above)")

    pages = sum(1 for d, _, fs in os.walk(site_dir) for f in fs if f.endswith(".html"))
    print(f"site: {pages} pages ({len(found)} chapters) in {os.path.relpath(site_dir, os.getcwd())}/")


if __name__ == "__main__":
    main()
