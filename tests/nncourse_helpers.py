"""Small classes of 02-strawman submissions for the tests of ``nncourse`` (the instructor tooling).

A class is a throw-away course root (a copy of a course in which ``nbgrader
generate_assignment 02-strawman`` has run once per test session, see
:func:`grading.harness.generated_course`) with submissions made from the catalogue in
``tests/grading/cases/a02_strawman.py``.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from grading import harness

ROOT = harness.ROOT
if str(ROOT) not in sys.path:  # nncourse is run from the repository root, not installed
    sys.path.insert(0, str(ROOT))

ASSIGNMENT = "02-strawman"
NOTEBOOK = "strawman"
PYTHON = str(harness.VENV_BIN / "python") if (harness.VENV_BIN / "python").exists() else sys.executable


def cases():
    return harness.load_case_module("a02_strawman")


def submission(kind: str):
    """The notebook of a class member: "solution", "release" or the name of a catalogued mutant."""
    mod = cases()
    if kind == "solution":
        return harness.build_submission(ASSIGNMENT, NOTEBOOK)
    if kind == "release":
        return harness.build_submission(ASSIGNMENT, NOTEBOOK, untouched=True)
    mutant = next(m for m in mod.MUTANTS if m["name"] == kind)
    return harness.build_submission(ASSIGNMENT, NOTEBOOK, mutant["replace"])


def mutant(kind: str) -> dict:
    return next(m for m in cases().MUTANTS if m["name"] == kind)


# the small class of the parallel/sequential and PostgreSQL tests: student id -> what they hand in
SMALL_CLASS = {
    "ada": "solution",
    "ben": "release",
    "cleo": "loss_sum_not_mean",
    "dan": "gradient_sign",
    "eve": "iterate_off_by_one",
    "finn": "huber_gradient_unclipped",
}


_LOCK = threading.RLock()


@functools.lru_cache(maxsize=None)
def _pristine(tmp: str) -> Path:
    course = harness.make_course(Path(tmp) / "nncourse-pristine", [ASSIGNMENT])
    harness.generate_assignment(course, ASSIGNMENT)
    return course


def new_course(dest: Path) -> Path:
    """A course root at ``dest`` in which 02-strawman has been generated (gradebook included).

    A copy of a course generated once per test session, which no test grades in.
    """
    with _LOCK:
        pristine = _pristine(str(harness.tmp_root()))
    shutil.copytree(pristine, dest, ignore=shutil.ignore_patterns(".exchange", "*.log"))
    (dest / ".exchange").mkdir(exist_ok=True)
    return dest


def hand_in(course: Path, students: dict[str, str]) -> None:
    for student, kind in students.items():
        harness.submit(course, ASSIGNMENT, student, submission(kind), NOTEBOOK)


def nncourse(*args: str, course: Path | None = None, env: dict | None = None,
             timeout: float = 900) -> subprocess.CompletedProcess:
    """``python -m nncourse <args> [--course course]`` from the repository root."""
    cmd = [PYTHON, "-m", "nncourse", *args]
    if course is not None:
        cmd += ["--course", str(course)]
    return subprocess.run(cmd, cwd=ROOT, env=env or harness.nbgrader_env(), capture_output=True,
                          text=True, timeout=timeout)


def scores(db_url: str, assignment: str = ASSIGNMENT) -> dict[str, dict[str, tuple[float, float]]]:
    """student -> grade_id -> (score, max_score), from any gradebook."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(db_url, harness.COURSE_ID) as gb:
        for sub in gb.find_assignment(assignment).submissions:
            out[sub.student.id] = {g.name: (float(g.score or 0.0), float(g.max_score))
                                   for nb in sub.notebooks for g in nb.grades}
    return out


def sqlite_url(course: Path) -> str:
    return "sqlite:///" + str(Path(course) / "gradebook.db")


@functools.lru_cache(maxsize=None)
def _sequential(tmp: str) -> Path:
    course = new_course(Path(tmp) / "sequential")
    hand_in(course, SMALL_CLASS)
    harness.autograde(course, ASSIGNMENT)  # one `nbgrader autograde 02-strawman --force`
    return course


def sequential_class() -> Path:
    """:data:`SMALL_CLASS` graded by one sequential ``nbgrader autograde`` (once per session)."""
    with _LOCK:
        return _sequential(str(harness.tmp_root()))


@functools.lru_cache(maxsize=None)
def _parallel(tmp: str):
    course = new_course(Path(tmp) / "parallel")
    hand_in(course, SMALL_CLASS)
    return course, nncourse("autograde", ASSIGNMENT, "--jobs", "2", course=course)


def parallel_class():
    """(course, the CompletedProcess of ``nncourse autograde --jobs 2``) of :data:`SMALL_CLASS` (once per session)."""
    with _LOCK:
        return _parallel(str(harness.tmp_root()))
