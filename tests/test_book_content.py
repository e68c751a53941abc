"""The content of the built book: executed chapters, figures, alt text, structure, no copies of nnlib.

Reads what `make book` made: the outputs of every notebook page (from myst-nb's execution
cache in _build/.jupyter_cache, which is what the HTML shows) and the HTML in _build/html;
nbval runs every chapter again. Every page comes from _toc.yml, so a new chapter is checked
without changes here. A missing or outdated build fails and says to run `make book`.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

import nnlib
from book_helpers import BUILD, ROOT, heading_text, require_current, toc_docs

DOCS = toc_docs()
NOTEBOOKS = [doc for doc in DOCS if doc.source.is_file() and doc.is_notebook]
CHAPTERS = [doc for doc in DOCS if doc.is_taught_chapter]  # chapters 1-8

# what a notebook may not print on stderr: a traceback, an exception, a warning (from
# matplotlib's fonts as much as from nnlib: the reader sees them all)
STDERR_PROBLEM = re.compile(r"Traceback|Error|Warning|warning:|error:")
FIGURE_TYPES = ("image/png", "image/svg+xml")


def _source_notebook(doc) -> nbformat.NotebookNode:
    if doc.source.suffix == ".ipynb":
        return nbformat.read(doc.source, as_version=4)
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(doc.source.read_text(encoding="utf-8"))


def _code_cells(nb) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@functools.lru_cache(maxsize=None)
def _executed(doc) -> nbformat.NotebookNode:
    """The page's notebook with the outputs the built page shows: those that myst-nb took
    from its execution cache (_build/.jupyter_cache) for the current code of the page.

    Not _build/jupyter_execute/*.ipynb: myst-nb 1.4 writes the notebook there without its
    outputs when they come from the cache (sphinx_.py writes the notebook it read, not the
    one merged with the cached outputs), i.e. after every rebuild of a page whose code did
    not change.
    """
    require_current(doc)
    from jupyter_cache import get_cache

    cache_dir = BUILD / ".jupyter_cache"
    assert cache_dir.is_dir(), f"{cache_dir.relative_to(ROOT)} is missing: run `make book`"
    cache = get_cache(str(cache_dir))
    source = _source_notebook(doc)
    try:
        cache.match_cache_notebook(source)
    except KeyError:
        pytest.fail(
            f"{doc}: the current code of {doc.source.relative_to(ROOT)} has never run to the "
            "end: a cell raises (see the log of `make book`), or the book was not built "
            "since the code changed. Run `make book`.",
            pytrace=False,
        )
    _, executed = cache.merge_match_into_notebook(source)
    return executed


def _html(doc) -> BeautifulSoup:
    require_current(doc)
    soup = BeautifulSoup(doc.html.read_text(encoding="utf-8"), "html.parser")
    for permalink in soup.select("a.headerlink"):
        permalink.decompose()
    return soup


def _article(doc):
    soup = _html(doc)
    article = soup.select_one("article.bd-article") or soup.select_one("main") or soup.body
    assert article is not None, f"{doc.html.relative_to(ROOT)} has no article"
    return article


# --- execution ----------------------------------------------------------------------------


def test_every_chapter_is_executed():
    """Each numbered chapter is a notebook page, so its code runs when the book is built."""
    not_notebooks = [str(doc) for doc in DOCS if doc.chapter is not None and doc not in NOTEBOOKS]
    assert not not_notebooks, (
        f"{not_notebooks} are not notebooks (MyST Markdown needs the jupytext/kernelspec "
        "front matter), so their code is not run"
    )


@pytest.mark.parametrize("doc", NOTEBOOKS, ids=str)
def test_every_code_cell_ran(doc):
    executed = _executed(doc)
    not_run = [
        f"cell {i} ({cell.source.strip().splitlines()[0][:60]!r})"
        for i, cell in enumerate(_code_cells(executed), start=1)
        if cell.source.strip() and cell.get("execution_count") is None
    ]
    assert not not_run, (
        f"{doc}: code cells that were not executed: {not_run}"
    )


@pytest.mark.parametrize("doc", NOTEBOOKS, ids=str)
def test_no_error_or_warning_output(doc):
    """No exception in an output, nothing on stderr that reports an error or a warning."""
    problems = []
    for i, cell in enumerate(_code_cells(_executed(doc)), start=1):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                problems.append(f"cell {i} raised {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr":
                if STDERR_PROBLEM.search(output.text):
                    problems.append(f"cell {i} wrote to stderr: {output.text.strip()[:300]!r}")
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("doc", CHAPTERS, ids=str)
def test_chapter_has_a_figure(doc):
    figures = [
        output
        for cell in _code_cells(_executed(doc))
        for output in cell.get("outputs", [])
        if output.output_type in ("display_data", "execute_result")
        and any(kind in output.get("data", {}) for kind in FIGURE_TYPES)
    ]
    assert figures, f"{doc} has no figure output ({' or '.join(FIGURE_TYPES)}) from a code cell"


# --- the HTML ---------------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@pytest.mark.parametrize("doc", CHAPTERS, ids=str)
def test_figures_are_sharp(doc):
    """Every figure from a code cell has twice the pixels of its displayed size (nnlib's
    use_style sends retina PNGs), so that it stays sharp on high-resolution screens."""
    blurred, figures = [], 0
    for img in _article(doc).find_all("img"):
        width = re.search(r"width:\s*(\d+)px", img.get("style", ""))
        src = img.get("src", "")
        if not src.endswith(".png") or "_images/" not in src or not width:
            continue
        figures += 1
        pixels, _ = _png_size((doc.html.parent / src).resolve())
        if pixels < 2 * int(width.group(1)) - 2:
            blurred.append(f"{src}: {pixels} px shown {width.group(1)} px wide")
    assert figures, f"{doc}: no figure with a displayed size"
    assert not blurred, f"{doc}: figures at screen resolution only:\n  " + "\n  ".join(blurred)


def test_references_are_labelled_as_the_chapters_cite_them():
    """The list of references reads "[Baldi et al., 2014]", as the text cites, not "[BSW14]"."""
    doc = next(d for d in DOCS if Path(d.name).name == "bibliography")
    labels = [label.get_text().strip("[] ") for label in _article(doc).select("div.citation span.label")]
    assert len(labels) >= 20, labels
    author_year = re.compile(r"[^\W\d][\w .'-]*( et al\.| and [^\W\d][\w .'-]*)?, \d{4}[a-z]?")
    assert [x for x in labels if not author_year.fullmatch(x)] == []
    assert len(set(labels)) == len(labels), labels
    # a citation in a chapter names the label of the entry it links to
    cited = 0
    for chapter in CHAPTERS:
        for link in _article(chapter).select('a[href*="bibliography.html#"]'):
            target = link["href"].split("#")[1]
            entry = _article(doc).find(id=target)
            assert entry is not None, f"{chapter}: citation {link.get_text()!r} links to a missing entry"
            label = entry.select_one("span.label").get_text().strip("[] ")
            year = label.split(", ")[-1]
            assert year in link.get_text() or label.startswith(link.get_text().strip()), (chapter, link.get_text(), label)
            cited += 1
    assert cited >= 10


@pytest.mark.parametrize("doc", DOCS, ids=str)
def test_every_image_has_alt_text(doc):
    """docutils uses an image's path as its alt text when none is given: that counts as none."""
    problems = []
    for img in _article(doc).find_all("img"):
        src, alt = img.get("src", ""), (img.get("alt") or "").strip()
        if not alt:
            problems.append(f"<img src={src!r}> has no alt text")
        elif re.search(r"\.(png|jpe?g|gif|svg|webp|pdf)$", alt, re.I) or alt == src:
            problems.append(
                f"<img src={src!r}> has its file name as alt text; a figure from a code cell "
                "needs `mystnb: image: alt: ...` in the cell's metadata"
            )
    assert not problems, f"{doc.html.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


def _first_block_title(article) -> str | None:
    """The title of the first section heading or admonition after the page title."""
    h1 = article.find("h1")
    for element in (h1.find_all_next() if h1 else article.find_all(True)):
        if element.name == "h2" or "admonition-title" in (element.get("class") or []):
            return heading_text(element.get_text(" ", strip=True))
    return None


@pytest.mark.parametrize("doc", CHAPTERS, ids=str)
def test_chapter_opens_with_learning_goals(doc):
    article = _article(doc)
    title = _first_block_title(article)
    assert title is not None and title.lower() == "learning goals", (
        f"{doc}: the first section or admonition after the title is {title!r}, "
        "not 'Learning goals'"
    )
    heading = next(
        e for e in article.find("h1").find_all_next()
        if e.name == "h2" or "admonition-title" in (e.get("class") or [])
    )
    block = heading.parent
    assert block.find("li"), f"{doc}: the learning goals are not a list"


def _last_section(doc):
    article = _article(doc)
    h2s = article.find_all("h2")
    assert h2s, f"{doc} has no sections"
    return h2s[-1], h2s[-1].find_parent("section")


@pytest.mark.parametrize("doc", CHAPTERS, ids=str)
def test_chapter_ends_with_check_your_understanding(doc):
    heading, section = _last_section(doc)
    title = heading_text(heading.get_text(" ", strip=True))
    assert title.lower() == "check your understanding", (
        f"{doc}: the last section is {title!r}, not 'Check your understanding'"
    )
    exercises = section.select(".exercise") or section.find_all("li")
    assert exercises, f"{doc}: 'Check your understanding' has no exercises"


def _assignments(chapter: int) -> list[str]:
    """The homework of a chapter: folders NN-topic in solutions/ (its source) or exercises/."""
    return sorted({
        path.name
        for base in ("solutions", "exercises")
        for path in (ROOT / base).glob(f"{chapter:02d}-*")
        if path.is_dir()
    })


@pytest.mark.parametrize("doc", CHAPTERS, ids=str)
def test_chapter_links_its_homework(doc):
    """'Check your understanding' names the chapter's homework folder exercises/NN-topic/.

    A chapter without an assignment (no solutions/NN-*/ or exercises/NN-*/) has nothing to
    link; chapter 1, an overview, is one.
    """
    assignments = _assignments(doc.chapter)
    if not assignments:
        return
    _, section = _last_section(doc)
    text = section.get_text(" ") + " " + " ".join(a.get("href", "") for a in section.find_all("a"))
    folders = set(re.findall(rf"exercises/({doc.chapter:02d}-[\w-]+)", text))
    assert folders, (
        f"{doc}: 'Check your understanding' does not point to its homework "
        f"(exercises/{assignments[0]}/)"
    )
    missing = [f"exercises/{name}" for name in sorted(folders) if not (ROOT / "exercises" / name).is_dir()]
    assert not missing, f"{doc} points to homework that does not exist: {missing}"


# --- the book uses nnlib, it does not copy it -------------------------------------------------


def _nnlib_public_names() -> dict[str, str]:
    """Every public function and class of nnlib: name -> where it lives."""
    names = {}
    for module_info in pkgutil.iter_modules(nnlib.__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"nnlib.{module_info.name}")
        public = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
        for name in public:
            obj = getattr(module, name, None)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__.startswith("nnlib"):
                names.setdefault(name, f"{obj.__module__}.{name}")
    return names


NNLIB_NAMES = _nnlib_public_names()
DEFINITION = re.compile(r"^\s*(?:async\s+def|def|class)\s+(\w+)|^\s*(\w+)\s*=\s*lambda\b", re.M)


def test_nnlib_names_are_found():
    for name in ("sigmoid", "relu", "softmax", "mse", "perceptron_update", "Dense"):
        assert name in NNLIB_NAMES


@pytest.mark.parametrize("doc", [d for d in NOTEBOOKS if d.source.suffix == ".md"], ids=str)
def test_book_does_not_reimplement_nnlib(doc):
    """A code cell that defines a function or class nnlib already has should import it."""
    copies = []
    for i, cell in enumerate(_code_cells(_source_notebook(doc)), start=1):
        for match in DEFINITION.finditer(cell.source):
            name = match.group(1) or match.group(2)
            if name in NNLIB_NAMES:
                copies.append(f"code cell {i} defines {name!r}: use {NNLIB_NAMES[name]}")
    assert not copies, f"{doc.source.relative_to(ROOT)} re-implements nnlib:\n  " + "\n  ".join(copies)


# --- nbval: the chapters run again, on the current nnlib -------------------------------------
# The book's execution cache (execute_notebooks: cache) re-runs a chapter only when its code
# changes, not when nnlib does. nbval runs every chapter again in a fresh kernel on the
# installed nnlib (--nbval-lax: a cell that raises fails; outputs are not compared), two at
# a time on two cores. The notebooks are converted from the MyST sources with myst-nb's own
# reader (no jupytext needed) into a temporary directory; the chapters read no files.

NBVAL_TIMEOUT = 600


@pytest.fixture(scope="module")
def nbval_runs(tmp_path_factory):
    import os
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1")
    workdir = tmp_path_factory.mktemp("nbval")

    def run(doc):
        notebook = workdir / f"{Path(doc.name).name}.ipynb"
        nbformat.write(_source_notebook(doc), notebook)
        return subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-q",
             "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(workdir), str(notebook)],
            cwd=workdir, env=env, capture_output=True, text=True, timeout=NBVAL_TIMEOUT,
        )

    pool = ThreadPoolExecutor(max_workers=2)
    futures = {}

    def get(doc):
        if not futures:  # start them all, in toc order, on first use
            for d in NOTEBOOKS:
                if any(cell.source.strip() for cell in _code_cells(_source_notebook(d))):
                    futures[d.name] = pool.submit(run, d)
        return futures[doc.name].result()

    yield get
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("doc", NOTEBOOKS, ids=str)
def test_chapter_runs_under_nbval(doc, nbval_runs):
    if not any(cell.source.strip() for cell in _code_cells(_source_notebook(doc))):
        return  # no code: nothing to run (nbval would report "no tests ran")
    result = nbval_runs(doc)
    assert result.returncode == 0, (
        f"{doc}: a cell raises when nbval runs {doc.source.relative_to(ROOT)} on the current "
        f"nnlib:\n{result.stdout[-3000:]}{result.stderr[-1000:]}"
    )
