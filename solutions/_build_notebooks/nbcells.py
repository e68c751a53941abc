"""Small helpers to write nbgrader notebooks with nbformat.

Each ``build_*.py`` script in this folder lists the cells of one homework
notebook with these helpers and writes ``solutions/<assignment>/<name>.ipynb``.
The committed notebook is the source of truth; the scripts only make its
cells easy to review and to regenerate.

Cell kinds (nbgrader metadata, schema 3):

* :func:`markdown` / :func:`code` -- read-only cells (``locked``);
* :func:`answer` -- an autograded answer cell, the solution between the
  solution markers;
* :func:`test` -- an autograder test cell with ``points``;
* :func:`written` -- a markdown answer graded by hand (``solution`` and
  ``grade``).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

__all__ = ["markdown", "code", "answer", "test", "written", "write_notebook"]


def _meta(grade_id: str, *, grade=False, solution=False, locked=False, points=None, task=False):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked,
            "schema_version": 3, "solution": solution, "task": task}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _src(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def markdown(grade_id: str, text: str):
    """A read-only markdown cell."""
    cell = new_markdown_cell(_src(text), metadata=_meta(grade_id, locked=True))
    cell.id = grade_id
    return cell


def code(grade_id: str, text: str):
    """A read-only code cell (setup, helpers given to the student)."""
    cell = new_code_cell(_src(text), metadata=_meta(grade_id, locked=True))
    cell.id = grade_id
    return cell


def answer(grade_id: str, text: str):
    """An answer cell; the solution sits between the solution markers."""
    cell = new_code_cell(_src(text), metadata=_meta(grade_id, solution=True))
    cell.id = grade_id
    return cell


# after the docstring of a cell of hidden tests only: the released cell is then not just a
# string, which Jupyter would print as the cell's output and `nbgrader validate` would read as
# a score ("cannot be converted to a float ... treating other output as full credit")
HIDDEN_PLACEHOLDER = "pass  # (hidden tests, run by the grader)"


def test(grade_id: str, points: int, text: str):
    """An autograder test cell worth ``points``; starts with a one-line docstring."""
    src = _src(text)
    if not src.startswith('"""'):
        raise ValueError(f"test cell {grade_id} must begin with a one-line docstring")
    begin = src.find("### BEGIN HIDDEN TESTS")
    if begin >= 0 and "\n" not in src[:begin].strip():
        src = src[:begin].rstrip("\n") + "\n" + HIDDEN_PLACEHOLDER + "\n" + src[begin:]
    cell = new_code_cell(src, metadata=_meta(grade_id, grade=True, locked=True, points=points))
    cell.id = grade_id
    return cell


def written(grade_id: str, points: int, text: str):
    """A markdown answer graded by hand; ``text`` is the model answer."""
    cell = new_markdown_cell(_src(text), metadata=_meta(grade_id, grade=True, solution=True,
                                                        points=points))
    cell.id = grade_id
    return cell


def write_notebook(cells, path) -> Path:
    """Write ``cells`` as a python3 notebook at ``path`` (no outputs) and validate it."""
    ids = [c.id for c in cells]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"duplicate cell ids / grade_ids: {sorted(dupes)}")
    nb = new_notebook(cells=list(cells), metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(nb)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
