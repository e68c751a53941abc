"""Shared by the tests of the built book: its pages (from _toc.yml) and where they are built.

The book tests check what `make book` produced in _build/html and _build/.jupyter_cache.
They never skip: a missing or outdated build is a failure that says to run `make book`
(`make test` builds the book first when a source is newer than the last build).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
HTML = BUILD / "html"

# chapters with a number in this range have learning goals, exercises, homework and figures
TAUGHT_CHAPTERS = range(1, 9)


@dataclass(frozen=True)
class Doc:
    """One page of the book, as listed in _toc.yml."""

    name: str  # the toc entry without suffix, e.g. "book/02-strawman"
    source: Path

    @property
    def html(self) -> Path:
        return HTML / f"{self.name}.html"

    @property
    def url_path(self) -> str:
        return f"{self.name}.html"

    @property
    def chapter(self) -> int | None:
        """The chapter number of book/NN-topic, None for other pages."""
        match = re.fullmatch(r"(\d+)-[\w-]+", Path(self.name).name)
        return int(match.group(1)) if match else None

    @property
    def is_taught_chapter(self) -> bool:
        return self.chapter in TAUGHT_CHAPTERS

    @property
    def is_notebook(self) -> bool:
        """An .ipynb, or MyST Markdown with a kernelspec (myst-nb executes both)."""
        if self.source.suffix == ".ipynb":
            return True
        if self.source.suffix != ".md":
            return False
        text = self.source.read_text(encoding="utf-8")
        front = re.match(r"---\n(.*?)\n---\n", text, re.S)
        return bool(front) and "kernelspec" in (yaml.safe_load(front.group(1)) or {})

    def __str__(self) -> str:
        return self.name


def _toc_entries(node) -> list[str]:
    entries = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                entries.append(node[key])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []):
                entries.extend(_toc_entries(child))
    return entries


def toc_docs() -> list[Doc]:
    """Every page of _toc.yml in reading order (root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    docs = []
    for entry in _toc_entries(toc):
        name = re.sub(r"\.(md|ipynb|rst)$", "", entry)
        candidates = [ROOT / f"{name}{ext}" for ext in (".md", ".ipynb", ".rst")]
        source = next((c for c in candidates if c.is_file()), candidates[0])
        docs.append(Doc(name, source))
    return docs


def require_built_book() -> None:
    """Fail (never skip) when _build/html is missing."""
    if not (HTML / "index.html").is_file():
        pytest.fail(
            f"the book is not built: {HTML.relative_to(ROOT)}/index.html is missing. "
            "Run `make book` (or `make test`, which builds the book first).",
            pytrace=False,
        )


def require_current(doc: Doc) -> None:
    """Fail when the built page is missing or older than its source (an old book)."""
    require_built_book()
    if not doc.html.is_file():
        pytest.fail(f"{doc} is in _toc.yml but {doc.html.relative_to(ROOT)} was not built. "
                    "Run `make book`.", pytrace=False)
    if doc.source.is_file() and doc.html.stat().st_mtime < doc.source.stat().st_mtime:
        pytest.fail(
            f"{doc.html.relative_to(ROOT)} is older than {doc.source.relative_to(ROOT)}: the "
            "test would check an old version of the page. Run `make book` (it fails when a "
            "cell of the page raises).",
            pytrace=False,
        )


def heading_text(text: str) -> str:
    """A heading or admonition title without its section number and permalink sign."""
    text = text.replace("\N{PILCROW SIGN}", "").replace("#", "")
    return re.sub(r"^\s*(\d+(\.\d+)*\.?)\s+", "", text).strip()
