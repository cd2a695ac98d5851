#!/usr/bin/python3
"""Opens every page of the course's website in headless Chromium and checks it.

    /usr/bin/python3 tools/site/browser_test.py [--build] [--site DIR] [--shots DIR]

For every page of build/site/ (served on 127.0.0.1 from this process, as ./course docs serves it):
  - it loads without a console error, an uncaught exception or a failed request, and asks nothing
    from any other host (the site must work with the network off);
  - every <img> has loaded (naturalWidth > 0);
  - every link inside the site names a file of the site, and an anchor (#name) that the page has;
  - every formula ($...$, $$...$$ in the Markdown) has been typeset by MathJax without an error, and
    no $$, \\( or \\[ delimiter is left in the text;
  - Chinese text is drawn with a CJK font installed on this machine (Chromium says which fonts it
    drew each element with: CSS.getPlatformFontsForNode), on the pages and inside the SVG figures;
and, on the index page, a search for "softmax" lists results. A screenshot of the top of each
chapter page goes to build/site-shots/NN-slug.png, for a person to look at.

Chromium is driven through its DevTools protocol over a pipe (--remote-debugging-pipe): no
WebDriver, no extra package. Exit codes: 0 every check passed; 1 a check failed (each failure is
listed); 2 the site could not be built or Chromium could not be started; 77 Chromium is not
installed (ctest reports the test as skipped).
"""

import argparse
import base64
import fcntl
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
PAGE_TIMEOUT = 60  # seconds for one page to load and typeset (generous: CI machines are busy)
EMPTY_SEARCH_INDEX = json.dumps({"config": {"lang": ["en"], "separator": "[\\s\\-]+"},
                                 "docs": []}).encode()


def die(message, code=2):
    print(f"browser_test: error: {message}", file=sys.stderr)
    sys.exit(code)


# --- the browser -------------------------------------------------------------------------------
class Chromium:
    """Headless Chromium and its DevTools protocol: JSON messages, each ended by a NUL byte, written
    to the browser's fd 3 and read from its fd 4."""

    def __init__(self, binary, profile):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def as_fds_3_and_4():  # in the child, before exec: the two pipe ends become fds 3 and 4
            # (through copies above 9, since a pipe end may itself be fd 3 or 4; dup2 onto another
            # number clears close-on-exec, so the browser inherits them)
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)
            for fd in high:
                os.close(fd)

        flags = ["--headless", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                 "--window-size=1280,900", "--hide-scrollbars", "--disable-gpu",
                 "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
                 "--disable-extensions", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", "--mute-audio", "--lang=en-US"]
        if os.geteuid() == 0:
            flags.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox
        self.log = open(os.path.join(profile, "chromium.log"), "w")
        self.process = subprocess.Popen([binary] + flags + ["about:blank"], stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=self.log, close_fds=False,
                                        preexec_fn=as_fds_3_and_4)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.next_id = 0
        self.replies = {}
        self.events = []
        self.lock = threading.Condition()
        self.write_lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buffer = b""
        while True:
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                with self.lock:
                    self.replies[None] = "closed"
                    self.lock.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if message.get("method") == "Fetch.requestPaused":
                    self._answer_search_index(message)
                    continue
                with self.lock:
                    if "id" in message:
                        self.replies[message["id"]] = message
                    else:
                        self.events.append(message)
                    self.lock.notify_all()

    def _answer_search_index(self, event):
        """The one request a Tab pauses (Fetch.enable): the search index, answered with an empty one."""
        self.send("Fetch.fulfillRequest", event.get("sessionId"), requestId=event["params"]["requestId"],
                  responseCode=200, body=base64.b64encode(EMPTY_SEARCH_INDEX).decode(),
                  responseHeaders=[{"name": "Content-Type", "value": "application/json"}])

    def send(self, method, session=None, **params):
        """Sends one command without waiting; returns its id."""
        with self.lock:
            self.next_id += 1
            ident = self.next_id
        message = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        try:
            with self.write_lock:
                os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        except OSError as e:
            raise RuntimeError(f"{method}: the browser is gone ({e.strerror})") from e
        return ident

    def call(self, method, session=None, timeout=PAGE_TIMEOUT, **params):
        """Sends one command and returns its result; raises RuntimeError on an error or a timeout."""
        ident = self.send(method, session, **params)
        deadline = time.monotonic() + timeout
        with self.lock:
            while ident not in self.replies:
                if None in self.replies:
                    raise RuntimeError(f"{method}: the browser closed the connection")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"{method}: no answer within {timeout} s")
                self.lock.wait(left)
            reply = self.replies.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def wait_event(self, method, session, timeout=PAGE_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for event in self.events:
                    if event.get("method") == method and event.get("sessionId") == session:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"no {method} within {timeout} s")
                self.lock.wait(left)

    def take_events(self):
        with self.lock:
            events, self.events = self.events, []
        return events

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except RuntimeError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Tab:
    """One page of the browser, with the protocol domains the checks read."""

    def __init__(self, browser, empty_search_index=True):
        self.browser = browser
        # Each tab in a context of its own: its own cache and storage, so that the empty search
        # index of one tab is never what another tab finds.
        context = browser.call("Target.createBrowserContext")["browserContextId"]
        target = browser.call("Target.createTarget", url="about:blank",
                              browserContextId=context)["targetId"]
        self.session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network", "DOM", "CSS"):
            self.call(f"{domain}.enable")
        # Every page's search box loads the whole search index (2 MB) and indexes it, in a worker:
        # a third of the time of each page here. While the pages are checked, the index is answered
        # with an empty one; the search check uses the real one, in a tab of its own.
        if empty_search_index:
            self.call("Fetch.enable", patterns=[{"urlPattern": "*/search/search_index.json"}])

    def call(self, method, **params):
        return self.browser.call(method, self.session, **params)

    def evaluate(self, expression):
        """The value of a JavaScript expression (a promise is awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails'].get('text')}: "
                               f"{result['exceptionDetails'].get('exception', {}).get('description')}")
        return result["result"].get("value")

    def open(self, url):
        """Loads URL and waits for its load event, its fonts and MathJax; returns the events seen."""
        self.browser.take_events()
        self.call("Page.navigate", url=url)
        self.browser.wait_event("Page.loadEventFired", self.session)
        # MathJax's "End" hook runs once its first typesetting is over (at once if it already is);
        # a page without formulas does not load MathJax. Then the fonts the page uses have loaded.
        self.evaluate("""new Promise(done => {
            const fonts = () => document.fonts.ready.then(() => done(true));
            if (window.MathJax && MathJax.Hub && MathJax.Hub.Register)
                MathJax.Hub.Register.StartupHook("End", fonts);
            else fonts();
        })""")
        return [e for e in self.browser.take_events() if e.get("sessionId") == self.session]

    def fonts_of(self, selector):
        """For each element matching SELECTOR: the platform fonts Chromium drew its text with."""
        root = self.call("DOM.getDocument", depth=0)["root"]["nodeId"]
        nodes = self.call("DOM.querySelectorAll", nodeId=root, selector=selector)["nodeIds"]
        return [self.call("CSS.getPlatformFontsForNode", nodeId=n)["fonts"] for n in nodes]


# --- what each page is checked for -------------------------------------------------------------
def problems_in_events(events, origin):
    """Console errors, uncaught exceptions, failed or foreign requests among a page's events."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            found.append(f"console error: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            found.append(f"uncaught exception: {details.get('exception', {}).get('description') or details.get('text')}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            found.append(f"console error: {entry.get('text')} {entry.get('url', '')}".rstrip())
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not url.startswith((origin, "data:", "blob:", "about:")):
                found.append(f"request to another host: {url}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            found.append(f"request failed: {params.get('errorText')} ({params.get('type')})")
        elif method == "Network.responseReceived":
            response = params.get("response", {})
            if response.get("status", 200) >= 400:
                found.append(f"HTTP {response['status']}: {response.get('url')}")
    return found


# Run in the page: its images, its links, its formulas and its Chinese text.
PAGE_FACTS = r"""(() => {
  const article = document.querySelector('article') || document.body;
  const broken = [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
                                     .map(i => i.getAttribute('src'));
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href)
                 .filter(h => h.startsWith(location.origin + '/'));
  const math = article.querySelectorAll('script[type^="math/tex"]').length;
  const typeset = article.querySelectorAll('.MathJax_CHTML').length;
  // A formula MathJax could not parse is drawn as its source, marked <merror> in its MathML.
  const errors = [...article.querySelectorAll('.MathJax_CHTML[data-mathml*="<merror"], .MathJax_Error')]
                   .map(e => e.textContent);
  // The text a reader sees outside code: no TeX delimiter may be left in it.
  const prose = article.cloneNode(true);
  prose.querySelectorAll('pre, code, script, .MathJax_CHTML, .MathJax_Preview').forEach(e => e.remove());
  const raw = (prose.textContent.match(/\$\$|\\\(|\\\[|\$[^$\s][^$]*\\[a-z]+[^$]*\$/g) || []);
  // Mark the elements whose own text holds Chinese characters (a few per page), for fonts_of();
  // the answers folded in <details> are opened first, so that their text is drawn too.
  article.querySelectorAll('details').forEach(d => d.open = true);
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const marked = new Set();
  const drawn = node => { const r = document.createRange(); r.selectNodeContents(node);
                          return r.getClientRects().length > 0; };
  for (let n = walker.nextNode(); n && marked.size < 6; n = walker.nextNode()) {
    if (/[\u3400-\u9fff]/.test(n.textContent) && drawn(n)) {
      n.parentElement.setAttribute('data-cjk', '');
      marked.add(n.parentElement);
    }
  }
  return {broken, links, math, typeset, errors, raw, cjk: marked.size,
          title: document.title, height: document.body.scrollHeight};
})()"""


def cjk_families():
    """The font families this machine has for Chinese (fontconfig), e.g. WenQuanYi Micro Hei."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return set()
    return {name.strip() for line in out.splitlines() for name in line.split(",") if name.strip()}


def check_cjk_fonts(tab, families, what):
    """Problems with the fonts of the elements marked data-cjk (pages) or of SVG <text> (figures)."""
    found = []
    selector = "[data-cjk]" if what == "page" else "text"
    for fonts in tab.fonts_of(selector):
        used = {f["familyName"] for f in fonts if f.get("glyphCount", 0) > 0}
        if not used & families:
            found.append(f"Chinese text drawn without a CJK font (drawn with: {', '.join(sorted(used)) or 'nothing'})")
            break
    return found


class LinkChecker:
    """Links inside the site: the file must exist, and the anchor must be an id in it."""

    def __init__(self, site, origin):
        self.site, self.origin, self.ids = site, origin, {}

    def problem(self, url):
        path, _, anchor = url[len(self.origin):].partition("#")
        path = path.split("?")[0]
        file = os.path.join(self.site, path.lstrip("/"))
        if path.endswith("/"):
            file = os.path.join(file, "index.html")
        if not os.path.isfile(file):
            return f"link to a missing file: {path}"
        if anchor and file.endswith(".html"):
            if file not in self.ids:
                with open(file, encoding="utf-8") as f:
                    self.ids[file] = set(re.findall(r'\bid="([^"]+)"', f.read()))
            if anchor not in self.ids[file]:
                return f"link to a missing anchor: {path}#{anchor}"
        return None


def check_search(tab, origin):
    """On the index page, typing "softmax" into the search box lists results. Returns (problems,
    tries). Material 8.2.5's search sometimes stays at "Initializing search" for good on a busy
    machine (seen here about once in three runs of the whole test under a load average of 10, and
    more often with a small index); reloading the page starts it again, so up to three tries."""
    for attempt in range(1, 4):
        tab.open(origin + "/index.html")
        count = tab.evaluate("""new Promise(done => {
            const input = document.querySelector('.md-search__input');
            if (!input) return done(-1);
            input.focus();
            input.value = 'softmax';
            input.dispatchEvent(new Event('input', {bubbles: true}));
            input.dispatchEvent(new KeyboardEvent('keyup', {bubbles: true, key: 'x'}));
            const started = Date.now();
            (function poll() {
                const n = document.querySelectorAll('.md-search-result__item').length;
                if (n > 0 || Date.now() - started > 20000) return done(n);
                setTimeout(poll, 100);
            })();
        })""")
        if count == -1:
            return ["search: the page has no search box"], attempt
        if count:
            return [], attempt
    return ["search: typing 'softmax' listed no result within 20 s, in 3 tries"], 3


# --- serving the site --------------------------------------------------------------------------
def serve(site):
    """An HTTP server for SITE on 127.0.0.1 (a free port), in a thread; returns its origin."""
    handler = functools.partial(QuietHandler, directory=site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", action="store_true", help="build the site first (build_site.py)")
    parser.add_argument("--site", default=os.path.join(ROOT, "build", "site"))
    parser.add_argument("--shots", default=os.path.join(ROOT, "build", "site-shots"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "")
    parser.add_argument("--pages", default="", metavar="REGEX",
                        help="only the pages whose path matches REGEX (e.g. '^0[12]-'), to try a change")
    args = parser.parse_args()
    if not args.chromium or not os.access(args.chromium, os.X_OK):
        print("site test skipped: chromium not installed (./course install browser)")
        sys.exit(77)
    if args.build:
        result = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "build_site.py"),
                                 "--out", args.site])
        if result.returncode != 0:
            sys.exit(2)
    site = os.path.abspath(args.site)
    if not os.path.isfile(os.path.join(site, "index.html")):
        die(f"no site in {site}: build it first (./course docs --build)")
    families = cjk_families()
    if not families:
        die("no font for Chinese on this machine (fc-list :lang=zh): run ./course setup")

    pages = sorted(os.path.relpath(os.path.join(d, f), site) for d, _, fs in os.walk(site)
                   for f in fs if f.endswith(".html") and f != "404.html"
                   and not os.path.relpath(d, site).startswith("assets"))
    pages = [p for p in pages if re.search(args.pages, p)]
    figures = sorted(os.path.join("figures", f) for f in os.listdir(os.path.join(site, "figures"))
                     if f.endswith(".svg") and CJK.search(open(os.path.join(site, "figures", f), encoding="utf-8").read()))
    os.makedirs(args.shots, exist_ok=True)

    profile = tempfile.mkdtemp(prefix="course-chromium-")
    browser = None
    failures = []
    started = time.monotonic()
    try:
        browser = Chromium(args.chromium, profile)
        try:
            browser.call("Browser.getVersion", timeout=30)
            tab = Tab(browser)
        except RuntimeError as e:
            with open(os.path.join(profile, "chromium.log")) as f:
                sys.stderr.write(f.read()[-2000:])
            die(f"Chromium did not start: {e}")
        origin = serve(site)
        links = LinkChecker(site, origin)

        totals = {"math": 0, "cjk": 0, "images": 0, "links": 0}
        for page in pages:
            problems = []
            try:
                events = tab.open(f"{origin}/{page}")
                problems += problems_in_events(events, origin)
                facts = tab.evaluate(PAGE_FACTS)
                problems += [f"image did not load: {src}" for src in facts["broken"]]
                for url in sorted(set(facts["links"])):
                    problem = links.problem(url)
                    if problem:
                        problems.append(problem)
                if facts["typeset"] < facts["math"]:
                    problems.append(f"MathJax typeset {facts['typeset']} of {facts['math']} formulas")
                problems += [f"MathJax error: {e}" for e in facts["errors"]]
                problems += [f"TeX left untypeset in the text: {r[:60]}" for r in facts["raw"]]
                if facts["cjk"]:
                    problems += check_cjk_fonts(tab, families, "page")
                totals["math"] += facts["math"]
                totals["cjk"] += facts["cjk"]
                totals["links"] += len(facts["links"])
                totals["images"] += tab.evaluate("document.images.length")
                chapter = re.fullmatch(r"([0-9][0-9]-[^/]+)\.html", page)
                if chapter:
                    shot = tab.call("Page.captureScreenshot", format="png")["data"]
                    with open(os.path.join(args.shots, chapter.group(1) + ".png"), "wb") as f:
                        f.write(base64.b64decode(shot))
            except RuntimeError as e:
                problems.append(str(e))
            failures += [f"{page}: {p}" for p in dict.fromkeys(problems)]  # each once, in order
        for figure in figures:
            try:
                events = tab.open(f"{origin}/{figure}")
                problems = problems_in_events(events, origin) + check_cjk_fonts(tab, families, "figure")
            except RuntimeError as e:
                problems = [str(e)]
            failures += [f"{figure}: {p}" for p in problems]
        try:
            problems, tries = check_search(Tab(browser, empty_search_index=False), origin)
            failures += problems
            if tries > 1 and not problems:
                print(f"note: search answered on try {tries} (the page was reloaded: see check_search)")
        except RuntimeError as e:
            failures.append(f"search: {e}")
    finally:
        if browser:
            browser.close()
        shutil.rmtree(profile, ignore_errors=True)

    seconds = time.monotonic() - started
    print(f"site: {len(pages)} pages and {len(figures)} figures with Chinese labels opened in Chromium "
          f"in {seconds:.0f} s: {totals['images']} images, {totals['links']} internal links, "
          f"{totals['math']} formulas, {totals['cjk']} elements with Chinese text checked; "
          f"screenshots in {os.path.relpath(args.shots)}/")
    if failures:
        for failure in failures:
            print(f"FAIL: {failure}")
        print(f"{len(failures)} problem(s)")
        sys.exit(1)
    print("every page loads offline, without errors; images, links, math, Chinese and search: OK")


if __name__ == "__main__":
    main()
