"""Grade submissions with the real nbgrader, in a throw-away copy of the course.

The grading tests (``tests/test_grading_*.py``, ``tests/test_feedback.py``) and
``make demo`` use these helpers:

1. :func:`make_course` copies ``nbgrader_config.py`` and the assignments' ``solutions/``
   folders into a temporary course root, so that the tests never touch the
   repository's gradebook, ``submitted/`` or ``autograded/`` folders, and two
   assignments can be graded at the same time with separate SQLite gradebooks.
   ``nbgrader generate_assignment`` there records the assignment in that gradebook
   and writes ``exercises/``, which :mod:`tests.test_grading_release` compares with
   the committed ``exercises/``.
2. :func:`build_submission` makes a student's notebook from the *released* notebook
   (the committed ``exercises/``), with the solution code, optionally changed by the
   ``replace`` pairs of a case from ``tests/grading/cases/a*.py``, put into the answer
   cells.
3. :func:`autograde` runs ``nbgrader autograde <assignment> --force`` once for every
   student in ``submitted/``.
4. :func:`scores` reads each student's points per ``grade_id`` from the gradebook with
   :class:`nbgrader.api.Gradebook`.
5. :func:`generate_feedback` runs ``nbgrader generate_feedback``.

:func:`grade_cases` does all of it for one assignment and every case in its catalogue,
and caches the result for the rest of the test session; :func:`grade_many` runs
several assignments in parallel (one process each).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import copy
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import nbformat

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
CASES_DIR = Path(__file__).resolve().parent / "cases"
VENV_BIN = ROOT / ".venv" / "bin"
COURSE_ID = "nn-part1"

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")

# student ids of the two reference submissions; cases get "mutant-<name>", "honest-<name>"
SOLUTION_STUDENT = "solution"
RELEASE_STUDENT = "release"


class GradingError(RuntimeError):
    """An nbgrader command failed, or a catalogue entry does not fit its notebook."""


# ------------------------------------------------------------------ environment
def nbgrader_env(exchange: Path | None = None) -> dict[str, str]:
    """The environment for nbgrader: the venv first on PATH (nbgrader starts ``alembic``
    and the ``python3`` kernel from PATH), and the venv's Jupyter kernels."""
    env = dict(os.environ)
    if VENV_BIN.is_dir():
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        share = VENV_BIN.parent / "share" / "jupyter"
        env["JUPYTER_PATH"] = os.pathsep.join(p for p in [str(share), env.get("JUPYTER_PATH", "")] if p)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    # the notebooks use small arrays: one BLAS thread per kernel is faster than contention
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    if exchange is not None:
        env["NBGRADER_EXCHANGE"] = str(exchange)
    else:
        env.pop("NBGRADER_EXCHANGE", None)
    return env


def nbgrader_executable() -> str:
    """The nbgrader of the virtual environment (the one ``python -m nncourse`` runs)."""
    from nncourse.course import CourseError
    from nncourse.course import nbgrader_executable as find

    try:
        return find()
    except CourseError as exc:
        raise GradingError(str(exc)) from None


def run_nbgrader(course: Path, *args: str, check: bool = True, timeout: float = 900,
                 exchange: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in the course root ``course``; raise with its log if it fails."""
    cmd = [nbgrader_executable(), *args]
    proc = subprocess.run(cmd, cwd=course, env=nbgrader_env(exchange), capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise GradingError(f"`{' '.join(['nbgrader', *args])}` failed in {course} "
                           f"(exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


# ---------------------------------------------------------------------- courses
_TMP_ROOT: Path | None = None
_TMP_LOCK = threading.Lock()


def tmp_root() -> Path:
    """One temporary folder per Python process, removed at exit (kept if NN_GRADING_KEEP=1)."""
    global _TMP_ROOT
    with _TMP_LOCK:
        if _TMP_ROOT is None:
            _TMP_ROOT = Path(tempfile.mkdtemp(prefix="nn-grading-"))
            # readable by others: a sandboxed kernel may run the notebooks under another user id
            _TMP_ROOT.chmod(0o755)
            if os.environ.get("NN_GRADING_KEEP") != "1":
                atexit.register(shutil.rmtree, _TMP_ROOT, ignore_errors=True)
    return _TMP_ROOT


def make_course(dest: Path, assignments: list[str]) -> Path:
    """A course root at ``dest`` with the repository's config and the given assignments' sources.

    The copied ``nbgrader_config.py`` sets ``CourseDirectory.root`` to its own folder, so the
    gradebook (``dest/gradebook.db``), ``submitted/``, ``autograded/``, ``feedback/`` and the
    default exchange (``dest/.exchange``) all live under ``dest``.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "nbgrader_config.py", dest / "nbgrader_config.py")
    for a in assignments:
        src = SOLUTIONS / a
        if not src.is_dir():
            raise GradingError(f"no assignment {a!r}: {src} does not exist")
        shutil.copytree(src, dest / "solutions" / a, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dest


def generate_assignment(course: Path, assignment: str) -> Path:
    """``nbgrader generate_assignment <assignment> --force`` in ``course``; returns its release folder."""
    run_nbgrader(course, "generate_assignment", assignment, "--force")
    return Path(course) / "exercises" / assignment


# ------------------------------------------------------------------ submissions
def _regions(source: str, begin: str, end: str) -> list[list[str]]:
    """The lines strictly between each ``begin`` / ``end`` marker pair."""
    regions, current = [], None
    for line in source.splitlines():
        if line.strip().startswith(begin):
            current = []
        elif line.strip().startswith(end):
            if current is not None:
                regions.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return regions


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _is_solution(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def solution_regions(notebook_path: Path) -> dict[str, list[str]]:
    """grade_id -> the text of each ``### BEGIN SOLUTION`` region of that code cell (markers removed)."""
    nb = nbformat.read(notebook_path, as_version=4)
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and _is_solution(cell):
            out[_grade_id(cell)] = ["\n".join(r) for r in _regions(cell.source, BEGIN_SOLUTION, END_SOLUTION)]
    return out


def _written_answers(notebook_path: Path) -> dict[str, str]:
    """grade_id -> the model answer of each markdown answer cell (mark scheme removed)."""
    nb = nbformat.read(notebook_path, as_version=4)
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown" and _is_solution(cell):
            text = re.sub(r"=== BEGIN MARK SCHEME ===.*?=== END MARK SCHEME ===", "", cell.source, flags=re.S)
            text = "\n".join(line for line in text.splitlines()
                             if BEGIN_SOLUTION not in line and END_SOLUTION not in line)
            out[_grade_id(cell)] = text.strip()
    return out


def apply_replacements(regions: dict[str, list[str]], replace) -> dict[str, list[str]]:
    """Apply ``(old, new)`` pairs to the solution regions; each ``old`` must occur exactly once in all."""
    regions = copy.deepcopy(regions)
    for old, new in replace:
        hits = [(g, i) for g, rs in regions.items() for i, r in enumerate(rs) for _ in range(r.count(old))]
        if len(hits) != 1:
            raise GradingError(f"the replacement {old!r} -> {new!r} must match exactly once in the "
                               f"solution code, but it matches {len(hits)} times")
        g, i = hits[0]
        regions[g][i] = regions[g][i].replace(old, new)
    return regions


def _fill_stubs(source: str, answers: list[str], where: str) -> str:
    """Replace the k-th two-line code stub of a released cell with ``answers[k]``."""
    lines = source.splitlines()
    out, k, i = [], 0, 0
    while i < len(lines):
        if (lines[i].strip() == CODE_STUB[0] and i + 1 < len(lines)
                and lines[i + 1].strip() == CODE_STUB[1]):
            if k >= len(answers):
                raise GradingError(f"{where}: the released cell has more answer stubs than the solution")
            out.extend(answers[k].splitlines())
            k += 1
            i += 2
        else:
            out.append(lines[i])
            i += 1
    if k != len(answers):
        raise GradingError(f"{where}: the released cell has {k} answer stub(s), the solution {len(answers)}")
    return "\n".join(out)


def build_submission(assignment: str, notebook: str, replace=(), *, untouched: bool = False,
                     release_dir: Path | None = None) -> nbformat.NotebookNode:
    """A student's notebook: the released notebook with the (changed) solution code filled in.

    Parameters
    ----------
    assignment, notebook : str
        For example ``"02-strawman"``, ``"strawman"``.
    replace : sequence of (old, new)
        Changes to the solution code, as in the cases catalogue.
    untouched : bool
        Return the released notebook as it is (a student who handed it in blank).
    release_dir : Path, optional
        Where the released notebook is; the committed ``exercises/<assignment>`` by default.
    """
    release_dir = Path(release_dir) if release_dir is not None else EXERCISES / assignment
    nb = nbformat.read(release_dir / f"{notebook}.ipynb", as_version=4)
    if untouched:
        return nb
    source_nb = SOLUTIONS / assignment / f"{notebook}.ipynb"
    regions = apply_replacements(solution_regions(source_nb), replace)
    written = _written_answers(source_nb)
    for cell in nb.cells:
        g = _grade_id(cell)
        if not _is_solution(cell) or g is None:
            continue
        if cell.cell_type == "code":
            if g not in regions:
                raise GradingError(f"{assignment}/{notebook}: answer cell {g!r} is not in the solution notebook")
            cell.source = _fill_stubs(cell.source, regions[g], f"{assignment}/{notebook}, cell {g!r}")
        elif cell.cell_type == "markdown" and g in written:
            cell.source = written[g]
    return nb


def submit(course: Path, assignment: str, student: str, nb: nbformat.NotebookNode, notebook: str) -> Path:
    """Put ``nb`` where ``nbgrader collect`` would: ``submitted/<student>/<assignment>/<notebook>.ipynb``."""
    dest = Path(course) / "submitted" / student / assignment
    dest.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest / f"{notebook}.ipynb")
    return dest / f"{notebook}.ipynb"


# --------------------------------------------------------------------- grading
def autograde(course: Path, assignment: str, *, students: list[str] | None = None,
              check: bool = True) -> subprocess.CompletedProcess:
    """``nbgrader autograde <assignment> --force``: every student in ``submitted/`` in one run."""
    args = ["autograde", assignment, "--force"]
    if students:
        args.append("--student=" + ",".join(students))
    return run_nbgrader(course, *args, check=check)


@dataclass
class Score:
    """One graded cell of one submission."""

    grade_id: str
    score: float
    max_score: float
    auto: bool            # an autograder test cell (False: a manually graded answer)
    needs_manual: bool


def scores(course: Path, assignment: str) -> dict[str, dict[str, Score]]:
    """student -> grade_id -> :class:`Score`, read from the course's gradebook."""
    from nbgrader.api import Gradebook

    out: dict[str, dict[str, Score]] = {}
    db_url = "sqlite:///" + str(Path(course) / "gradebook.db")
    with Gradebook(db_url, COURSE_ID) as gb:
        a = gb.find_assignment(assignment)
        for sub in a.submissions:
            per = {}
            for nb in sub.notebooks:
                for grade in nb.grades:
                    cell = grade.cell
                    per[grade.name] = Score(
                        grade_id=grade.name,
                        score=float(grade.score or 0.0),
                        max_score=float(grade.max_score),
                        auto=not is_manually_graded(cell),
                        needs_manual=bool(grade.needs_manual_grade),
                    )
            out[sub.student.id] = per
    return out


def is_manually_graded(grade_cell) -> bool:
    """Whether a gradebook grade cell is an answer graded by hand (markdown, or also a solution cell)."""
    if grade_cell.cell_type == "markdown":
        return True
    return any(sc.name == grade_cell.name for sc in grade_cell.notebook.solution_cells)


def generate_feedback(course: Path, assignment: str, students: list[str] | None = None) -> Path:
    """``nbgrader generate_feedback``; returns the course's ``feedback/`` folder."""
    args = ["generate_feedback", assignment, "--force"]
    if students:
        args.append("--student=" + ",".join(students))
    run_nbgrader(course, *args)
    return Path(course) / "feedback"


# -------------------------------------------------------------------- catalogue
@dataclass
class Case:
    """A submission to grade: the solution, the untouched release, a mutant or an honest variant."""

    student: str
    kind: str                     # "solution", "release", "mutant", "honest"
    name: str
    why: str = ""
    replace: list = field(default_factory=list)
    fails: set = field(default_factory=set)


def case_modules() -> list[ModuleType]:
    """Every ``tests/grading/cases/a*.py`` module, in file-name order."""
    mods = []
    for path in sorted(CASES_DIR.glob("a*.py")):
        mods.append(load_case_module(path.stem))
    return mods


def load_case_module(stem: str) -> ModuleType:
    path = CASES_DIR / f"{stem}.py"
    name = f"_grading_cases_{stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sys.modules[name] = mod
    return mod


def cases_of(mod: ModuleType) -> list[Case]:
    """The solution, the release, then every mutant and honest variant of a catalogue module."""
    cases = [Case(SOLUTION_STUDENT, "solution", "solution", "the reference solution"),
             Case(RELEASE_STUDENT, "release", "release", "the released notebook, handed in untouched")]
    for m in getattr(mod, "MUTANTS", []):
        cases.append(Case(f"mutant-{m['name']}", "mutant", m["name"], m.get("why", ""),
                          list(m.get("replace", [])), set(m.get("fails", set()))))
    for h in getattr(mod, "HONEST", []):
        cases.append(Case(f"honest-{h['name']}", "honest", h["name"], h.get("why", ""),
                          list(h.get("replace", []))))
    return cases


@dataclass
class GradedCourse:
    """A course root in which every case of one assignment has been autograded."""

    assignment: str
    notebook: str
    course: Path
    cases: list[Case]
    scores: dict[str, dict[str, Score]]
    log: str = ""
    build_errors: dict[str, str] = field(default_factory=dict)  # student -> why no submission was made

    def case(self, student: str) -> Case:
        return next(c for c in self.cases if c.student == student)

    def autograded_notebook(self, student: str) -> nbformat.NotebookNode:
        path = self.course / "autograded" / student / self.assignment / f"{self.notebook}.ipynb"
        return nbformat.read(path, as_version=4)

    def errors(self, student: str) -> dict[str, str]:
        """grade_id -> "ename: evalue" of each test cell that raised in the student's autograded notebook."""
        out = {}
        try:
            nb = self.autograded_notebook(student)
        except FileNotFoundError:
            return out
        for cell in nb.cells:
            g = _grade_id(cell)
            for o in cell.get("outputs", []):
                if g and o.get("output_type") == "error":
                    out[g] = f"{o.get('ename')}: {o.get('evalue')}"
        return out

    def auto_total(self, student: str) -> tuple[float, float]:
        """(points, maximum) of the autograded test cells."""
        per = [v for v in self.scores.get(student, {}).values() if v.auto]
        return sum(v.score for v in per), sum(v.max_score for v in per)

    def lost(self, student: str) -> set[str]:
        """grade_ids of the autograded test cells in which the student lost points."""
        return {g for g, v in self.scores.get(student, {}).items() if v.auto and v.score < v.max_score}


_GRADED: dict[str, GradedCourse] = {}
_GRADED_LOCK = threading.Lock()
_GENERATED: dict[str, Path] = {}


def generated_course(assignment: str) -> Path:
    """A temporary course root in which ``generate_assignment`` has run for ``assignment`` (cached).

    Its ``exercises/<assignment>`` is what nbgrader makes from the current ``solutions/``.
    """
    with _GRADED_LOCK:
        if assignment in _GENERATED:
            return _GENERATED[assignment]
    course = make_course(tmp_root() / assignment, [assignment])
    generate_assignment(course, assignment)
    with _GRADED_LOCK:
        _GENERATED[assignment] = course
    return course


_CATALOGUE: dict[str, GradedCourse | Exception] | None = None


def graded_catalogue() -> dict[str, GradedCourse | Exception]:
    """Every catalogue module graded (:func:`grade_many`, two assignments at a time), once per process."""
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = grade_many(case_modules())
    return _CATALOGUE


def grade_cases(mod: ModuleType | str) -> GradedCourse:
    """Autograde the solution, the release and every case of a catalogue module (cached).

    One course root per assignment under :func:`tmp_root`; one ``generate_assignment``
    and one ``autograde`` run for all its students.
    """
    if isinstance(mod, str):
        mod = load_case_module(mod)
    assignment = mod.ASSIGNMENT
    with _GRADED_LOCK:
        if assignment in _GRADED:
            return _GRADED[assignment]
    course = generated_course(assignment)
    cases = cases_of(mod)
    build_errors = {}
    for case in cases:
        try:
            nb = build_submission(assignment, mod.NOTEBOOK, case.replace, untouched=case.kind == "release")
        except GradingError as exc:  # a catalogue entry that no longer fits the notebook
            build_errors[case.student] = str(exc)
            continue
        submit(course, assignment, case.student, nb, mod.NOTEBOOK)
    proc = autograde(course, assignment)
    graded = GradedCourse(assignment, mod.NOTEBOOK, course, cases, scores(course, assignment),
                          proc.stdout + proc.stderr, build_errors)
    with _GRADED_LOCK:
        _GRADED[assignment] = graded
    return graded


def grade_many(mods, jobs: int | None = None) -> dict[str, GradedCourse | Exception]:
    """:func:`grade_cases` for several catalogue modules, ``jobs`` assignments at a time.

    Each assignment has its own course root and gradebook, so they run side by side;
    nbgrader itself grades one notebook at a time. Errors are returned, not raised,
    so that one broken assignment does not hide the results of the others.
    """
    mods = list(mods)
    jobs = jobs or max(1, min(len(mods), os.cpu_count() or 1))
    results: dict[str, GradedCourse | Exception] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(grade_cases, m): m.ASSIGNMENT for m in mods}
        for fut in concurrent.futures.as_completed(futures):
            try:
                results[futures[fut]] = fut.result()
            except Exception as exc:  # noqa: BLE001 - reported per assignment by the tests
                results[futures[fut]] = exc
    return results


# ------------------------------------------------------------ notebook anatomy
def grade_cells(notebook_path: Path):
    """(cell, nbgrader metadata) of every graded cell of a notebook."""
    nb = nbformat.read(notebook_path, as_version=4)
    return [(c, c.metadata["nbgrader"]) for c in nb.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def hidden_test_lines(notebook_path: Path) -> dict[str, list[str]]:
    """grade_id -> the lines inside the ``### BEGIN HIDDEN TESTS`` regions of that test cell."""
    out = {}
    for cell, meta in grade_cells(notebook_path):
        if cell.cell_type == "code":
            lines = [line for r in _regions(cell.source, BEGIN_HIDDEN, END_HIDDEN) for line in r]
            if lines:
                out[meta["grade_id"]] = lines
    return out
