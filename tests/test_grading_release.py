"""exercises/ is exactly what `nbgrader generate_assignment` makes from solutions/: no drift.

Each assignment is generated again into a temporary course, and every released notebook
is compared with the committed one cell by cell: cell type, source and nbgrader metadata
(grade ids, points, locks and checksums). After changing a notebook in solutions/, run
`make release` and commit exercises/.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grading import harness

ASSIGNMENTS = sorted(p.name for p in harness.SOLUTIONS.glob("[0-9][0-9]-*") if p.is_dir())


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts}


def _generated(assignment: str) -> Path:
    graded = harness.graded_catalogue()  # grades (and generates) every catalogued assignment at once
    if assignment in graded and not isinstance(graded[assignment], Exception):
        return graded[assignment].course / "exercises" / assignment
    return harness.generated_course(assignment) / "exercises" / assignment


def test_every_assignment_is_released():
    assert ASSIGNMENTS, "no assignments in solutions/"
    missing = [a for a in ASSIGNMENTS if not (harness.EXERCISES / a).is_dir()]
    assert not missing, f"no exercises/ for {missing}: run `make release` and commit exercises/"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercises_match_generate_assignment(assignment):
    committed = harness.EXERCISES / assignment
    assert committed.is_dir(), f"exercises/{assignment} is missing: run `make release`"
    fresh = _generated(assignment)
    assert _files(committed) == _files(fresh), (
        f"exercises/{assignment} holds {sorted(_files(committed))}, but generate_assignment makes "
        f"{sorted(_files(fresh))}: run `make release`")
    for name in sorted(_files(fresh)):
        if not name.endswith(".ipynb"):
            assert (committed / name).read_bytes() == (fresh / name).read_bytes(), f"{name} differs"
            continue
        old = nbformat.read(committed / name, as_version=4)
        new = nbformat.read(fresh / name, as_version=4)
        assert len(old.cells) == len(new.cells), (
            f"exercises/{assignment}/{name} has {len(old.cells)} cells, solutions/ gives {len(new.cells)}: "
            "run `make release`")
        for i, (a, b) in enumerate(zip(old.cells, new.cells)):
            where = f"exercises/{assignment}/{name}, cell {i} ({b.get('metadata', {}).get('nbgrader', {}).get('grade_id')})"
            assert a.cell_type == b.cell_type, f"{where}: cell type differs; run `make release`"
            assert a.source == b.source, f"{where}: source differs from solutions/; run `make release`"
            assert a.get("metadata", {}).get("nbgrader") == b.get("metadata", {}).get("nbgrader"), (
                f"{where}: nbgrader metadata differs; run `make release`")
        assert old.metadata.get("kernelspec") == new.metadata.get("kernelspec")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_solutions_or_hidden_tests(assignment):
    for path in (harness.EXERCISES / assignment).glob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME"):
            assert marker not in text, f"{path} contains '{marker}'"


def test_nbgrader_validate_prints_whole_messages_and_no_score_warnings(tmp_path):
    """The students' self-check (README, step 3) from the repository root: a cell of hidden
    tests only is not read as a score ('cannot be converted to a float'), and the message of a
    failing test is printed whole, with the section to read at its end (nbgrader cuts lines at
    90 characters; the course's nbgrader_config.py wraps them)."""
    import json
    import subprocess

    nb = json.loads((harness.EXERCISES / "02-strawman" / "strawman.ipynb").read_text())
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if src.startswith("def predict_miles"):
            cell["source"] = src.replace("# YOUR CODE HERE\n    raise NotImplementedError()", "return c * km + 1")
            break
    else:
        pytest.fail("no predict_miles answer cell in the release of 02-strawman")
    path = tmp_path / "strawman.ipynb"
    path.write_text(json.dumps(nb))
    proc = subprocess.run([str(harness.VENV_BIN / "nbgrader"), "validate", str(path)], cwd=harness.ROOT,
                          env=harness.nbgrader_env(), capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert "VALIDATION FAILED" in out, out[-3000:]
    assert "cannot be converted to" not in out, out[-3000:]
    flat = " ".join(out.split())
    assert ("AssertionError: predict_miles([0, 1, 10], c=0.5) is wrong at index 0: expected 0, got 1 "
            "(3 of 3 entries wrong). Read: Chapter 2, 'A one-parameter model' (book/02-strawman.md).") in flat, out[-3000:]
