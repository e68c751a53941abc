"""The homework notebooks follow the course's grading conventions.

* every book reference in a test (``read=``) has the form
  ``"Chapter 5, 'Sigmoid' (book/05-activations.md)"`` and names a ``##`` heading that
  exists in that book file;
* every assignment has a manually graded answer, a hidden test cell, hidden tests that
  block the nnlib function being re-implemented, and points on every test cell;
* across the course at least one extension is graded through ``nnlib.gradcheck``;
* nbgrader stops a cell after a per-cell timeout.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from grading import harness

ROOT = harness.ROOT
NOTEBOOKS = sorted(p for p in harness.SOLUTIONS.glob("[0-9][0-9]-*/*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
NB_IDS = [f"{p.parent.name}/{p.name}" for p in NOTEBOOKS]
ASSIGNMENTS = sorted({p.parent.name for p in NOTEBOOKS})

READ_FORM = re.compile(r"^Chapter (\d+), '(.+)' \((book/(\d\d)-[a-z0-9-]+\.md)\)$")
REFERENCE = re.compile(r"Chapter (\d+), '(.+?)' \((book/[^)\s]+\.md)\)")


def _headings(book_file: Path) -> set[str]:
    return {line[3:].strip() for line in book_file.read_text(encoding="utf-8").splitlines()
            if line.startswith("## ")}


def _code_cells(path: Path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def _read_strings(source: str) -> list[str]:
    """String constants passed as ``read=`` or assigned to a name that starts with ``READ``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "read" and isinstance(node.value, ast.Constant):
            found.append(node.value.value)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            if any(isinstance(t, ast.Name) and t.id.upper().startswith("READ") for t in node.targets):
                found.append(node.value.value)
    return found


def test_there_are_homework_notebooks():
    assert NOTEBOOKS, "no notebooks in solutions/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_read_strings_have_the_course_form(path):
    bad = [(c.metadata.get("nbgrader", {}).get("grade_id"), s)
           for c in _code_cells(path) for s in _read_strings(c.source) if s is not None and not READ_FORM.match(s)]
    assert not bad, ("read= must look like \"Chapter 5, 'Sigmoid' (book/05-activations.md)\"; found "
                     + "; ".join(f"{g}: {s!r}" for g, s in bad))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_read_strings_name_existing_book_sections(path):
    refs = {(m.group(1), m.group(2), m.group(3))
            for c in nbformat.read(path, as_version=4).cells for m in REFERENCE.finditer(c.source)}
    assert refs, f"{path.name} never tells the student where to read"
    problems = []
    for chapter, heading, book_file in sorted(refs):
        target = ROOT / book_file
        if not target.is_file():
            problems.append(f"{book_file} does not exist (for '{heading}')")
            continue
        if not Path(book_file).name.startswith(f"{int(chapter):02d}-"):
            problems.append(f"'Chapter {chapter}' but the file is {book_file}")
        if heading not in _headings(target):
            problems.append(f"no '## {heading}' in {book_file} (its ## headings: {sorted(_headings(target))})")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_intro_names_the_book_chapter(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown"
    files = re.findall(r"book/\d\d-[a-z0-9-]+\.md", first.source)
    assert files, "the first cell should name the book chapter to read, e.g. (book/05-activations.md)"
    for f in files:
        assert (ROOT / f).is_file(), f"the intro names {f}, which does not exist"
    assert "nbgrader validate" in first.source, "the intro should explain the self-check with nbgrader validate"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_graded_cells(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    graded = harness.grade_cells(path)
    tests = [(c, m) for c, m in graded if c.cell_type == "code" and not m.get("solution")]
    manual = [(c, m) for c, m in graded if m.get("solution")]
    assert manual, "no manually graded answer (a markdown cell with solution and grade)"
    assert tests, "no autograder test cells"
    for cell, meta in graded:
        assert meta.get("points", 0) > 0, f"{meta['grade_id']} has no points"
        assert meta.get("schema_version") == 3
    for cell, meta in tests:
        assert meta["grade_id"].startswith("test_"), f"test cell {meta['grade_id']} should be named test_..."
        assert meta.get("locked"), f"test cell {meta['grade_id']} is not locked"
        first = cell.source.splitlines()[0] if cell.source else ""
        assert first.startswith('"""') and first.endswith('"""') and len(first) > 6, (
            f"{meta['grade_id']} should begin with a one-line docstring saying what it checks")
    hidden = [m["grade_id"] for c, m in tests if harness.BEGIN_HIDDEN in c.source]
    assert hidden, "no hidden tests"
    assert any("forbid_calls(" in c.source for c, m in tests if harness.BEGIN_HIDDEN in c.source), (
        "no hidden test blocks the nnlib function that the student re-implements (forbid_calls)")
    ids = [m["grade_id"] for c, m in graded]
    assert len(ids) == len(set(ids)), "duplicate grade_ids"


def test_course_has_a_gradcheck_graded_extension():
    users = [f"{p.parent.name}:{m['grade_id']}" for p in NOTEBOOKS for c, m in harness.grade_cells(p)
             if c.cell_type == "code" and re.search(r"check_gradient\(|check_layer\(|check_model\(|numerical_gradient\(", c.source)]
    assert users, "no test cell grades an extension through nnlib.gradcheck"


def test_per_cell_timeout_is_configured():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    timeouts = [config.get(section, {}).get("timeout") for section in ("Execute", "ExecutePreprocessor")]
    timeouts = [t for t in timeouts if t is not None]
    assert timeouts, "set c.ExecutePreprocessor.timeout in nbgrader_config.py"
    assert all(0 < t <= 120 for t in timeouts), timeouts
    assert config.CourseDirectory.source_directory == "solutions"
    assert config.CourseDirectory.release_directory == "exercises"
    assert config.CourseDirectory.course_id == "nn-part1"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_assignment_has_a_catalogue(assignment):
    names = {m.ASSIGNMENT for m in harness.case_modules()}
    assert assignment in names, f"no tests/grading/cases/a*.py module has ASSIGNMENT = {assignment!r}"
