"""The built book in a real browser: every page of _toc.yml opened in headless Chromium.

_build/html is served on 127.0.0.1 (an http.server thread on a free port) and every page
is loaded once in Chromium through playwright. The tests then check what a reader sees:
the mathematics typeset by MathJax, every image loaded and described by alt text, internal
links that lead somewhere, no traceback or error output, no console error, and no request
to any other host (the book must work offline). Full-page screenshots of two chapters are
saved to tests/artifacts/.

Needs the book built (`make book`; `make test` builds it first) and Chromium from Debian's
packages `chromium chromium-driver` (.ci/run installs them).
"""

from __future__ import annotations

import functools
import re
import shutil
import struct
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest

from book_helpers import HTML, ROOT, require_built_book, require_current, toc_docs

DOCS = toc_docs()
ARTIFACTS = ROOT / "tests" / "artifacts"
# chapters photographed as test artefacts (the first two chapters of the toc if renamed)
SCREENSHOT_CHAPTERS = ["book/02-strawman", "book/07-backprop"]

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# built pages that are not pages of the book (Sphinx's search and index, the root redirect)
NOT_BOOK_PAGES = {"index.html", "search.html", "genindex.html", "py-modindex.html"}
NOT_BOOK_DIRS = {"_static", "_sources", "_images", "_downloads"}
# the HTML classes myst-nb gives to notebook outputs that report a failure
ERROR_OUTPUT_SELECTOR = ".output.traceback, .output.error, .output.stderr"
# raw TeX left in the prose (outside code) means MathJax did not typeset it
RAW_MATH = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{")
# The console errors a reader's browser shows on a correct book; nothing else is expected.
ALLOWED_CONSOLE_ERRORS = [
    # Chromium asks the server root for /favicon.ico on its own (not a request of the page,
    # so not in page.on("request")), and the book has no favicon: a 404 on the console
    re.compile(r"^Failed to load resource: the server responded with a status of 404 "
               r"\(File not found\) \(at http://127\.0\.0\.1:\d+/favicon\.ico:0\)$"),
    # pydata-sphinx-theme 0.17 (under sphinx-book-theme) reads the light/dark mode from
    # localStorage, finds "" on the first visit with a fresh profile, logs this and uses "auto"
    re.compile(r"^Got invalid theme mode: \. Resetting to auto\. "),
]
# jupyter-book 1 always loads sphinx-thebe 0.3, which adds its inline configuration script
# `const THEBE_JS_URL = ...` with app.add_js_file(None, body=...) on env-before-read-docs;
# Sphinx 7.4 de-duplicates script files by name but not inline bodies, so every page has
# the script twice and the second copy throws. Harmless: thebe (live code) is switched off
# in _config.yml and the thebe bundle itself is never requested.
ALLOWED_PAGE_ERRORS = [
    re.compile(r"^(SyntaxError: )?Identifier 'THEBE_JS_URL' has already been declared$"),
]


def _book_pages() -> list[str]:
    """The URL paths of every page: the toc's (a missing one is an error) and any other
    HTML page Sphinx wrote (so that no page escapes the checks)."""
    pages = [doc.url_path for doc in DOCS]
    if HTML.is_dir():
        for path in sorted(HTML.rglob("*.html")):
            rel = path.relative_to(HTML)
            if rel.parts[0] in NOT_BOOK_DIRS or rel.as_posix() in NOT_BOOK_PAGES:
                continue
            if rel.as_posix() not in pages:
                pages.append(rel.as_posix())
    return pages


PAGES = _book_pages()


# --- the server and the browser -----------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


@pytest.fixture(scope="session")
def book_server():
    """_build/html on http://127.0.0.1:<free port>/."""
    require_built_book()
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        pytest.fail(
            "Chromium is not installed: the browser tests of the book need Debian's packages "
            "`chromium chromium-driver` (apt-get install chromium chromium-driver; .ci/run "
            "installs them).",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Chromium with a fresh profile (a playwright persistent context)."""
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: `make install` installs the dev extra", pytrace=False)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


# --- one visit per page -----------------------------------------------------------------


@dataclass
class Visit:
    """What a reader's browser saw on one page."""

    url: str
    status: int | None = None
    requests: list[str] = field(default_factory=list)
    bad_responses: list[tuple[str, int]] = field(default_factory=list)
    failed_requests: list[tuple[str, str]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    math_elements: int = 0
    mathjax_containers: int = 0
    untypeset_math: list[str] = field(default_factory=list)
    mathjax_error: str | None = None
    math_errors: list[str] = field(default_factory=list)
    prose_text: str = ""
    all_text: str = ""
    images: list[dict] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    error_outputs: list[dict] = field(default_factory=list)
    unfinished_requests: list[str] | None = None


COLLECT_JS = """
() => {
  const out = {};
  const math = [...document.querySelectorAll('span.math, div.math')];
  out.math_elements = math.length;
  out.mathjax_containers = document.querySelectorAll('mjx-container').length;
  // TeX that MathJax could not typeset shows up in red: a parse error (merror), or the
  // name of an undefined macro (MathJax's noundefined: an mtext with the name, in red)
  const where = e => ' in ' + ((e.closest('mjx-container') || e).querySelector('math') || e)
                               .textContent.trim().slice(0, 80);
  out.math_errors = [
    ...[...document.querySelectorAll('mjx-merror')].map(
      e => 'TeX error ' + (e.getAttribute('data-mjx-error') || '') + where(e)),
    ...[...document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]')]
      .filter(e => e.textContent.startsWith(String.fromCharCode(92)))  // a backslash
      .map(e => 'undefined macro ' + e.textContent + where(e)),
  ];
  out.untypeset_math = math.filter(m => !m.querySelector('mjx-container'))
                           .map(m => m.textContent.trim().slice(0, 80));
  out.images = [...document.images].map(img => ({
    src: img.getAttribute('src'), url: img.currentSrc || img.src,
    alt: img.getAttribute('alt'), complete: img.complete, naturalWidth: img.naturalWidth,
  }));
  out.links = [...document.querySelectorAll('a[href]')].map(a => a.href);
  out.error_outputs = [...document.querySelectorAll(arguments_selector)].map(e => ({
    classes: e.className, text: e.textContent.trim().slice(0, 400),
  }));
  const main = document.querySelector('main') || document.body;
  // all the text, hidden parts included, except docstring examples (>>> ... Traceback ...)
  const copy = main.cloneNode(true);
  copy.querySelectorAll('.doctest').forEach(e => e.remove());
  out.all_text = copy.textContent;
  // the visible prose: the text of the page with code blocks and inline code hidden
  const style = document.createElement('style');
  style.textContent = 'pre, code, .highlight, script { display: none !important; }';
  document.head.appendChild(style);
  out.prose_text = main.innerText;
  style.remove();
  return out;
}
""".replace("arguments_selector", repr(ERROR_OUTPUT_SELECTOR))


def _visit(context, url: str) -> Visit:
    visit = Visit(url)
    page = context.new_page()
    pending: set[str] = set()
    page.on("request", lambda r: (visit.requests.append(r.url), pending.add(r.url)))
    page.on("requestfinished", lambda r: pending.discard(r.url))
    page.on("requestfailed", lambda r: pending.discard(r.url))
    page.on("response", lambda r: r.status >= 400 and visit.bad_responses.append((r.url, r.status)))
    page.on("requestfailed", lambda r: visit.failed_requests.append((r.url, r.failure or "")))
    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(
        f"{m.text} (at {m.location.get('url', '?')}:{m.location.get('lineNumber', '?')})"))
    page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
    try:
        response = page.goto(url, wait_until="load")
        visit.status = response.status if response else None
        # MathJax 3 typesets asynchronously after loading; wait for it where there is math
        if page.evaluate("document.querySelectorAll('span.math, div.math').length"):
            try:
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                    timeout=20_000,
                )
                page.evaluate("() => MathJax.startup.promise")
            except Exception as exc:  # reported by test_math_is_typeset
                visit.mathjax_error = f"MathJax did not start: {exc}".splitlines()[0]
        # every image: loaded eagerly, then wait until each has loaded or failed
        page.evaluate(
            """() => Promise.all([...document.images].map(img => {
                 img.loading = 'eager';
                 return img.complete ? null
                   : new Promise(done => { img.onload = img.onerror = done; });
               }))"""
        )
        try:
            page.wait_for_load_state("networkidle", timeout=20_000)
        except Exception:
            # Under heavy load the idle event can come late even when every request of the
            # page has finished (Chromium's own favicon request counts for it); only a
            # request of the page that is still open is a problem (test_page_loads).
            if pending:
                visit.unfinished_requests = sorted(pending)
        for key, value in page.evaluate(COLLECT_JS).items():
            setattr(visit, key, value)
        name = url.rsplit("/", 1)[-1].removesuffix(".html")
        if any(url.endswith(f"/{c}.html") for c in _screenshot_chapters()):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        page.close()
    return visit


def _screenshot_chapters() -> list[str]:
    names = [doc.name for doc in DOCS]
    chosen = [c for c in SCREENSHOT_CHAPTERS if c in names]
    chapters = [doc.name for doc in DOCS if doc.chapter is not None]
    return chosen if len(chosen) == 2 else chapters[:2]


@pytest.fixture(scope="session")
def visits(book_server, browser):
    """Visit each page once, on first use; the checks below share the visits."""
    cache: dict[str, Visit | Exception] = {}
    for name in _screenshot_chapters():  # no screenshot of an earlier run may pass for new
        (ARTIFACTS / f"{Path(name).name}.png").unlink(missing_ok=True)

    def get(path: str) -> Visit:
        doc = next((d for d in DOCS if d.url_path == path), None)
        if doc is not None:
            require_current(doc)
        if path not in cache:
            try:
                cache[path] = _visit(browser, book_server + path)
            except Exception as exc:  # one failed visit, reported by every check of the page
                cache[path] = exc
        if isinstance(cache[path], Exception):
            pytest.fail(f"{path}: the visit failed: {cache[path]}", pytrace=False)
        return cache[path]

    return get


# --- the checks, one test per page ----------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_page_loads(path, visits):
    visit = visits(path)
    assert visit.status == 200, f"{path}: HTTP {visit.status} (is it listed in _toc.yml and built?)"
    errors = [e for e in visit.page_errors if not any(p.search(e) for p in ALLOWED_PAGE_ERRORS)]
    assert not errors, f"{path}: uncaught JavaScript errors: {errors}"
    assert visit.unfinished_requests is None, (
        f"{path}: the network was still busy 20 s after loading; unfinished requests: "
        f"{visit.unfinished_requests}"
    )


@pytest.mark.parametrize("path", PAGES)
def test_math_is_typeset(path, visits):
    """Pages with math show MathJax output, no TeX error and no raw TeX delimiters in the prose."""
    visit = visits(path)
    problems = []
    if visit.math_elements:
        if visit.mathjax_error:
            problems.append(visit.mathjax_error)
        if visit.untypeset_math:
            problems.append(f"math left untypeset: {visit.untypeset_math}")
        if visit.mathjax_containers < visit.math_elements:
            problems.append(f"{visit.math_elements} math elements but only "
                            f"{visit.mathjax_containers} MathJax outputs (mjx-container)")
        problems += [f"MathJax could not typeset: {error}" for error in visit.math_errors]
    raw = list(RAW_MATH.finditer(visit.prose_text))
    if raw:
        excerpts = [visit.prose_text[max(0, m.start() - 40):m.end() + 40].replace("\n", " ")
                    for m in raw[:5]]
        problems.append(f"raw TeX {sorted({m.group(0) for m in raw})} in the visible text, "
                        f"e.g. {excerpts}")
    assert not problems, f"{path}:\n  " + "\n  ".join(problems)


def _looks_like_a_file_name(alt: str) -> bool:
    """docutils uses the image's path as alt text when none is given: that is no description."""
    return bool(re.search(r"\.(png|jpe?g|gif|svg|webp|pdf)$", alt.strip(), re.I))


@pytest.mark.parametrize("path", PAGES)
def test_images_load_and_have_alt_text(path, visits):
    visit = visits(path)
    problems = []
    for img in visit.images:
        if not img["complete"] or img["naturalWidth"] == 0:
            problems.append(f"<img src={img['src']!r}> did not load")
        alt = (img["alt"] or "").strip()
        if not alt:
            problems.append(f"<img src={img['src']!r}> has no alt text")
        elif _looks_like_a_file_name(alt) or alt == img["src"]:
            problems.append(
                f"<img src={img['src']!r}> has its file name as alt text ({alt!r}); for a "
                "figure made by a code cell, set mystnb: image: alt: in the cell's metadata"
            )
    assert not problems, f"{path}:\n  " + "\n  ".join(problems)


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key == "id" or (tag == "a" and key == "name"):
                self.ids.add(value or "")


@functools.lru_cache(maxsize=None)
def _fetch(url: str) -> tuple[int, frozenset[str] | None]:
    """HTTP status of a same-origin URL and, for an HTML page, the ids it defines."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, body = response.status, response.read()
            content_type = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        return err.code, None
    if "html" not in content_type:
        return status, None
    parser = _Ids()
    parser.feed(body.decode("utf-8", errors="replace"))
    return status, frozenset(parser.ids)


@pytest.mark.parametrize("path", PAGES)
def test_internal_links_resolve(path, visits, book_server):
    """Every same-origin link leads to an existing page, and its #fragment to an element."""
    visit = visits(path)
    origin = urlsplit(book_server)
    broken = []
    for href in sorted(set(visit.links)):
        parts = urlsplit(href)
        if parts.scheme not in ("http", "https") or parts.netloc != origin.netloc:
            continue  # external links (e.g. a DOI in the bibliography), mailto:, javascript:
        target, fragment = urldefrag(href)
        status, ids = _fetch(target)
        if status != 200:
            broken.append(f"{href}: HTTP {status}")
        elif fragment and ids is not None and unquote(fragment) not in ids:
            broken.append(f"{href}: no element with id {unquote(fragment)!r} on {urlsplit(target).path}")
    assert not broken, f"{path}: broken internal links:\n  " + "\n  ".join(broken)


@pytest.mark.parametrize("path", PAGES)
def test_no_error_output(path, visits):
    """No traceback on the page and no notebook output that reports an error or a warning.

    A docstring example on the API page may show the exception it expects (a doctest block
    with ``Traceback (most recent call last):``); that is documentation, not an error.
    """
    visit = visits(path)
    problems = [
        f"[class={out['classes']!r}] {out['text'][:300]!r}" for out in visit.error_outputs
        if {"traceback", "error"} & set(out["classes"].split())
        or re.search(r"Traceback|Error|Warning|warning:|error:", out["text"])
    ]
    if "Traceback (most recent call last)" in visit.all_text:
        problems.append("the text 'Traceback (most recent call last)'")
    assert not problems, f"{path} shows error output:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", PAGES)
def test_no_request_leaves_localhost(path, visits):
    """The book works offline: the page asks only the local server for anything."""
    visit = visits(path)
    outside = [
        url for url in visit.requests
        if urlsplit(url).scheme not in ("data", "blob", "about")
        and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert not outside, f"{path} requests other hosts: {sorted(set(outside))}"
    missing = [f"{url} (HTTP {status})" for url, status in visit.bad_responses] + [
        f"{url} ({failure})" for url, failure in visit.failed_requests
    ]
    assert not missing, f"{path}: requests that failed: {missing}"


@pytest.mark.parametrize("path", PAGES)
def test_no_console_errors(path, visits):
    visit = visits(path)
    errors = [e for e in visit.console_errors if not any(p.search(e) for p in ALLOWED_CONSOLE_ERRORS)]
    assert not errors, f"{path}: console errors: {errors}"


def test_the_root_redirects_to_the_first_page(book_server, browser):
    page = browser.new_page()
    try:
        page.goto(book_server, wait_until="load")
        page.wait_for_url(f"{book_server}{DOCS[0].url_path}", timeout=10_000)
    finally:
        page.close()


def _png_size(path: Path) -> tuple[int, int]:
    with path.open("rb") as f:
        header = f.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("name", _screenshot_chapters())
def test_full_page_screenshot(name, visits):
    """Screenshots of two chapters, kept in tests/artifacts/ for a human to look at."""
    visits(f"{name}.html")
    png = ARTIFACTS / f"{Path(name).name}.png"
    assert png.is_file(), f"no screenshot {png}"
    width, height = _png_size(png)
    assert width >= 1000 and height >= 900, f"{png} is only {width}x{height} pixels"
    assert png.stat().st_size > 20_000, f"{png} is only {png.stat().st_size} bytes: a blank page?"
    from matplotlib.image import imread

    pixels = imread(png)
    assert pixels.std() > 0.02, f"{png} is nearly uniform: the page shows nothing"
