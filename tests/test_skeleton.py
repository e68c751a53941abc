"""The project skeleton: packaging pins, the book's configuration, the README and CI."""

from __future__ import annotations

import re
import subprocess
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"


def _requirements(extra: str) -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(r) for r in project["optional-dependencies"][extra]]
    return {r.name.lower(): r for r in reqs}


def test_pyproject_pins_jupyter_book_1():
    """The book needs Jupyter Book 1 (2.x downloads at build time): >=1.0.4,<2."""
    req = _requirements("book")["jupyter-book"]
    assert req.specifier == SpecifierSet(">=1.0.4,<2"), f"jupyter-book is pinned as {req}"


def test_book_dependencies_are_pinned_on_both_sides():
    """Every dependency of the book has a lower and an upper bound."""
    for name, req in _requirements("book").items():
        ops = {spec.operator for spec in req.specifier}
        assert ">=" in ops and "<" in ops, f"{name} is not pinned to a range: {req}"


def test_book_configuration_is_at_the_root():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert (ROOT / "_toc.yml").is_file()
    assert config["only_build_toc_files"] is True
    for pattern in [".venv", "_build", "solutions", "exercises", "tests", "benchmarks"]:
        assert pattern in config["exclude_patterns"], f"{pattern} is not excluded from the book"
    assert config["execute"]["execute_notebooks"] == "cache"
    assert config["execute"]["allow_errors"] is False
    for bib in config["bibtex_bibfiles"]:
        assert (ROOT / bib).is_file(), f"{bib} is listed in _config.yml but missing"
    extensions = config["sphinx"]["extra_extensions"]
    for ext in ["sphinx_exercise", "sphinx_proof", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]:
        assert ext in extensions
    # the book works offline: MathJax comes from the built book, not from a CDN
    assert "sphinx-mathjax-offline" in extensions
    assert "//" not in config["sphinx"]["config"]["mathjax_path"]


def _toc_files(node) -> list[str]:
    """Every `file:` entry of a jb-book table of contents, at any depth."""
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        if "root" in node:
            files.append(node["root"])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []):
                files.extend(_toc_files(child))
    return files


def test_every_file_in_the_toc_exists():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    assert toc["format"] == "jb-book"
    assert toc["root"] == "book/index"
    files = _toc_files(toc)
    assert "book/bibliography" in files
    for entry in files:
        candidates = [ROOT / entry] + [ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb", ".rst")]
        assert any(c.is_file() for c in candidates), f"_toc.yml lists {entry}, which does not exist"


def test_bibliography_has_the_course_references():
    from pybtex.database import parse_file

    entries = parse_file(str(ROOT / "book" / "references.bib")).entries
    expected = {
        "mcculloch1943logical": "1943",
        "rosenblatt1958perceptron": "1958",
        "novikoff1962convergence": "1962",
        "rumelhart1986learning": "1986",
        "hornik1991approximation": "1991",
        "silver2016mastering": "2016",
        "cybenko1989approximation": "1989",
        "glorot2010understanding": "2010",
        "he2015delving": "2015",
        "clevert2016elu": "2016",
        "maas2013rectifier": "2013",
        "prechelt1998early": "1998",
        "goodfellow2016deep": "2016",
        "bishop2006pattern": "2006",
        "baydin2018automatic": "2018",
        "esteva2017dermatologist": "2017",
        "bojarski2016end": "2016",
        "guest2018deep": "2018",
        "baldi2014searching": "2014",
        "dayan2001theoretical": "2001",
    }
    for key, year in expected.items():
        assert key in entries, f"references.bib has no entry {key}"
        assert entries[key].fields["year"] == year, key
    for key, entry in entries.items():
        if entry.type == "article":
            for field in ("journal", "volume", "pages"):
                assert field in entry.fields, f"article {key} has no {field}"
    assert entries["rosenblatt1958perceptron"].fields["pages"] == "386--408"
    assert entries["rumelhart1986learning"].fields["pages"] == "533--536"


def _quick_start_commands(readme: str) -> list[str]:
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", readme, re.S | re.M)
    assert section, "README.md has no '## Quick start' section"
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", section.group(1), re.S | re.M)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_readme_quick_start_is_make_book_and_make_test():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _quick_start_commands(readme) == ["make book", "make test"]
    assert "_build/html" in readme


def _commands(script: str) -> list[str]:
    return [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def test_ci_builds_the_book_then_runs_the_tests():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash")
    commands = _commands(script)
    assert "set -euo pipefail" in commands
    assert "make test" in commands
    assert commands.index("make book") < commands.index("make test")
    assert "chromium" in script and "chromium-driver" in script


def test_ci_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], check=True)


def test_makefile_lists_its_targets():
    out = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "help"],
        check=True, capture_output=True, text=True,
    ).stdout
    for target in ("book", "test", "clean", "help"):
        assert re.search(rf"^\s+make {target}\b", out, re.M), f"`make help` does not list {target}"


def test_makefile_puts_the_venv_first_on_path():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^export PATH := \$\(abspath \$\(VENV\)\)/bin:\$\(PATH\)$", makefile, re.M)
    assert "$(PY) -m nncourse.book build . $(BOOK_FLAGS)" in makefile
    assert re.search(r"^BOOK_FLAGS \?= -W -n --keep-going$", makefile, re.M)


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "") and attrs.get("href"):
            self.urls.append(attrs["href"])


@pytest.mark.skipif(not (HTML / "index.html").is_file(), reason="the book is not built (make book)")
def test_built_book_loads_nothing_from_the_network():
    """Every script and stylesheet, MathJax included, is a file inside _build/html."""
    pages = [p for p in sorted(HTML.rglob("*.html")) if "_static" not in p.relative_to(HTML).parts]
    assert pages
    mathjax_seen = False
    for page in pages:
        parser = _Assets()
        parser.feed(page.read_text(encoding="utf-8"))
        for url in parser.urls:
            assert not re.match(r"^([a-z]+:)?//", url), f"{page.relative_to(HTML)} loads {url}"
            target = (page.parent / url.split("?")[0]).resolve()
            assert target.is_file(), f"{page.relative_to(HTML)} loads {url}, which is missing"
            mathjax_seen |= "mathjax" in url.lower()
    assert mathjax_seen, "no page of the built book loads MathJax"


def test_the_code_compiles_without_warnings():
    """No invalid escape sequence (a docstring with math that is not raw) and the like."""
    import warnings

    for path in sorted([*(ROOT / "nnlib").glob("*.py"), *(ROOT / "nncourse").glob("*.py"),
                        *(ROOT / "benchmarks").glob("*.py")]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compile(path.read_text(encoding="utf-8"), str(path), "exec")


# nnlib's docstrings end with "Book: chapter 5, *Sigmoid*": a section a reader can find
_BOOK_REFERENCE = re.compile(r"[Cc]hapter (\d+)(?:, | \()\*([^*]+)\*")


def _book_headings() -> dict[int, set[str]]:
    """Every heading (any level, outside code cells) of each chapter, with math marks removed."""
    headings = {}
    for path in sorted((ROOT / "book").glob("[0-9][0-9]-*.md")):
        found, fence = set(), None
        for line in path.read_text(encoding="utf-8").splitlines():
            opening = re.match(r"^(`{3,}|~{3,})", line)
            if opening and fence is None:
                fence = opening.group(1)
            elif fence is not None and line.startswith(fence) and not line[len(fence):].strip():
                fence = None
            elif fence is None and (m := re.match(r"^#+\s+(.*\S)", line)):
                found.add(m.group(1).replace("$", ""))
        headings[int(path.name[:2])] = found
    return headings


def test_nnlib_docstrings_name_sections_that_exist_in_the_book():
    headings = _book_headings()
    assert headings.get(7) and "Back-propagation in nnlib" in headings[7]
    wrong = []
    for path in sorted((ROOT / "nnlib").glob("*.py")):
        for m in _BOOK_REFERENCE.finditer(path.read_text(encoding="utf-8")):
            chapter, title = int(m.group(1)), m.group(2)
            if title not in headings.get(chapter, set()):
                wrong.append(f"{path.name}: chapter {chapter}, *{title}*")
    assert not wrong, "no such section in the book: " + "; ".join(wrong)
