"""Before and after autograding: what is wrong with each submission, and is the gradebook whole?

:func:`preflight` looks at every ``submitted/<student>/<assignment>`` folder *before*
nbgrader runs and reports, per student and in plain words, what will go wrong or what
nbgrader will repair: a notebook that is missing, renamed, empty, not JSON, of an old
nbformat, or one whose graded cells were deleted, duplicated, given another type or id, or
whose read-only cells were edited. It never changes a submission and never raises for a
broken one: a problem is a :class:`Problem` in the result.

:func:`check_gradebook` checks the gradebook *after* autograding: SQLite's
``PRAGMA integrity_check``, every student's every graded cell present, every score within
[0, max], and the verdicts of :class:`nncourse.guard.GuardedExecute` (tampering) in the
autograded notebooks. :func:`verdicts` lists those per student.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Problem", "preflight", "format_preflight", "check_gradebook", "verdicts"]

# a problem that means the notebook cannot be graded at all (its tests score 0)
FATAL = "fatal"
# nbgrader grades it, after repairing something the student changed
REPAIRED = "repaired"
# worth knowing (an extra file), no effect on the grade
INFO = "info"


@dataclass
class Problem:
    student: str
    notebook: str          # file name, or "" for the whole submission
    severity: str          # fatal, repaired, info
    message: str

    def text(self) -> str:
        where = f"{self.notebook}: " if self.notebook else ""
        return f"{where}{self.message}"


def _expected(course, assignment: str) -> dict[str, dict]:
    """notebook name -> {grade_id: (cell_type, locked, is_grade, is_solution, released source)}."""
    import nbformat

    out: dict[str, dict] = {}
    with course.gradebook() as gb:
        a = gb.find_assignment(assignment)
        for nb in a.notebooks:
            cells = {}
            grades = {c.name for c in nb.grade_cells}
            solutions = {c.name for c in nb.solution_cells}
            for sc in nb.source_cells:
                cells[sc.name] = {"cell_type": sc.cell_type, "locked": bool(sc.locked),
                                  "grade": sc.name in grades, "solution": sc.name in solutions,
                                  "released": None}
            out[nb.name] = cells
    release = course.folder("release", ".", assignment)
    for name, cells in out.items():
        try:
            rnb = nbformat.read(release / f"{name}.ipynb", as_version=4)
        except Exception:  # noqa: BLE001 - no release folder: skip the "edited" check
            continue
        for c in rnb.cells:
            gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if gid in cells:
                cells[gid]["released"] = c.source
    return out


def _check_notebook(student: str, path: Path, expected: dict) -> list[Problem]:
    import nbformat

    name = path.name
    problems: list[Problem] = []

    def add(sev, msg):
        problems.append(Problem(student, name, sev, msg))

    try:
        raw = path.read_bytes()
    except OSError as exc:
        add(FATAL, f"cannot be read ({exc.strerror or exc}); it was not graded (0 points)")
        return problems
    if not raw.strip():
        add(FATAL, "is an empty file; it was not graded (0 points)")
        return problems
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        add(FATAL, "is not a text file (not UTF-8); it was not graded (0 points)")
        return problems
    except ValueError as exc:
        add(FATAL, f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}), so it is not a "
                   "notebook any more (was it edited outside Jupyter, or cut short?); it was not graded (0 points)")
        return problems
    if not isinstance(data, dict) or "nbformat" not in data:
        add(FATAL, "is JSON but not a Jupyter notebook; it was not graded (0 points)")
        return problems
    version = data.get("nbformat")
    if version != 4:
        add(REPAIRED, f"is in the old notebook format version {version}; it was converted to version 4 "
                      "to be graded")
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any reader error
        add(FATAL, f"cannot be read as a notebook ({type(exc).__name__}: {str(exc)[:200]}); it was not graded")
        return problems
    seen: dict[str, int] = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if not isinstance(meta, dict) or not meta.get("grade_id"):
            continue
        gid = meta["grade_id"]
        if gid not in expected:
            add(REPAIRED, f"has a cell with the id {gid!r}, which is not a cell of the assignment: it is "
                          "run as the student's own code and not graded")
            continue
        seen[gid] = seen.get(gid, 0) + 1
        want = expected[gid]
        if cell.cell_type != want["cell_type"]:
            add(REPAIRED, f"cell {gid!r} was changed from {want['cell_type']} to {cell.cell_type}; "
                          "the grader changes it back")
        for key in ("locked", "grade", "solution"):
            if key in meta and bool(meta[key]) != want[key]:
                add(REPAIRED, f"the nbgrader setting {key!r} of cell {gid!r} was changed; the "
                              "assignment's settings are used")
        if want["locked"] and want["released"] is not None and cell.source != want["released"]:
            kind = "test cell" if want["grade"] else "read-only cell"
            add(REPAIRED, f"the {kind} {gid!r} was edited; the original is restored before grading")
    for gid, n in seen.items():
        if n > 1:
            add(REPAIRED, f"cell {gid!r} appears {n} times; only the last copy is graded")
    for gid, want in expected.items():
        if gid in seen:
            continue
        if want["grade"]:
            add(REPAIRED, f"the graded cell {gid!r} was deleted; the grader puts it back"
                          + (" (an answer graded by hand: 0 points)" if want["solution"] else ""))
        elif want["solution"]:
            add(REPAIRED, f"the answer cell {gid!r} was deleted (the tests of that answer will fail)")
        elif want["locked"] and want["cell_type"] == "code":
            add(REPAIRED, f"the read-only cell {gid!r} was deleted; the grader puts it back")
    return problems


def preflight(course, assignment: str, students: list[str] | None = None) -> dict[str, list[Problem]]:
    """student -> the problems of their submission of ``assignment`` (an empty list: none)."""
    expected = _expected(course, assignment)
    ids = course.submitted_students(assignment) if students is None else students
    out: dict[str, list[Problem]] = {}
    for s in ids:
        problems: list[Problem] = []
        try:
            folder = course.folder("submitted", s, assignment)
            files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
            notebooks = {p.stem: p for p in files if p.suffix == ".ipynb"}
            others = [p.name for p in files if p.suffix != ".ipynb" and p.name != "timestamp.txt"]
            missing = [n for n in expected if n not in notebooks]
            extra = [n for n in notebooks if n not in expected]
            for n in missing:
                guess = ""
                if len(missing) == 1 and extra:
                    guess = f" (renamed? the folder has {', '.join(e + '.ipynb' for e in extra)})"
                problems.append(Problem(s, f"{n}.ipynb", FATAL, "is missing" + guess +
                                        "; its tests score 0. A notebook must keep the name it was released with"))
            for n in extra:
                problems.append(Problem(s, f"{n}.ipynb", INFO, "is not a notebook of the assignment; it was "
                                                              "not graded (and not run)"))
            if not notebooks and others:
                problems.append(Problem(s, "", INFO, f"the folder holds only {', '.join(others[:5])}"))
            for n, path in notebooks.items():
                if n in expected:
                    problems += _check_notebook(s, path, expected[n])
        except Exception as exc:  # noqa: BLE001 - never stop the batch
            problems.append(Problem(s, "", FATAL, f"could not be checked ({type(exc).__name__}: {exc})"))
        out[s] = problems
    return out


def format_preflight(problems: dict[str, list[Problem]]) -> str:
    lines = []
    for s, ps in sorted(problems.items()):
        for p in ps:
            tag = {"fatal": "NOT GRADED", "repaired": "repaired", "info": "note"}[p.severity]
            lines.append(f"   {s}: [{tag}] {p.text()}")
    return "\n".join(lines)


# ------------------------------------------------------------ after grading
def verdicts(course, assignment: str) -> dict[str, dict[str, dict]]:
    """student -> notebook -> ``metadata["nncourse"]`` of their autograded notebook."""
    import nbformat

    out: dict[str, dict[str, dict]] = {}
    base = course.folder("autograded", ".", "")
    if not base.is_dir():
        return out
    for sdir in sorted(base.iterdir()):
        adir = sdir / assignment
        if not adir.is_dir():
            continue
        for path in sorted(adir.glob("*.ipynb")):
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception:  # noqa: BLE001
                continue
            v = nb.metadata.get("nncourse")
            if v:
                out.setdefault(sdir.name, {})[path.stem] = dict(v)
    return out


def check_gradebook(course, assignment: str) -> list[str]:
    """Problems of the gradebook after autograding ``assignment`` (an empty list: it is whole).

    * SQLite: ``PRAGMA integrity_check`` is ``ok`` and ``PRAGMA foreign_key_check`` finds nothing;
    * every submission has a grade for every graded cell of every notebook of the assignment;
    * every score is a number within [0, max_score], and max_score is the assignment's.
    """
    problems: list[str] = []
    url = course.db_url
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):].split("?")[0]
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
            try:
                rows = con.execute("PRAGMA integrity_check").fetchall()
                if [r[0] for r in rows] != ["ok"]:
                    problems.append("SQLite integrity_check: " + "; ".join(str(r[0]) for r in rows[:5]))
                fk = con.execute("PRAGMA foreign_key_check").fetchall()
                if fk:
                    problems.append(f"SQLite foreign_key_check: {len(fk)} dangling reference(s)")
            finally:
                con.close()
        except sqlite3.Error as exc:
            problems.append(f"the gradebook cannot be opened: {exc}")
            return problems
    with course.gradebook() as gb:
        a = gb.find_assignment(assignment)
        expected = {nb.name: {gc.name: float(gc.max_score) for gc in nb.grade_cells} for nb in a.notebooks}
        for sub in a.submissions:
            student = sub.student.id
            by_name = {nb.name: nb for nb in sub.notebooks}
            for name, cells in expected.items():
                nb = by_name.get(name)
                if nb is None:
                    problems.append(f"{student}: no record of notebook {name}")
                    continue
                grades = {g.name: g for g in nb.grades}
                for gid, max_score in cells.items():
                    g = grades.get(gid)
                    if g is None:
                        problems.append(f"{student}: {name}: no grade for cell {gid}")
                        continue
                    if float(g.max_score) != max_score:
                        problems.append(f"{student}: {name}: cell {gid} is worth {g.max_score}, not {max_score}")
                    for label, value in (("auto", g.auto_score), ("manual", g.manual_score)):
                        if value is None:
                            continue
                        if not (0 <= float(value) <= max_score):
                            problems.append(f"{student}: {name}: cell {gid} has the {label} score {value}, "
                                            f"outside [0, {max_score}]")
                    if not (0 <= float(g.score) <= max_score):
                        problems.append(f"{student}: {name}: cell {gid} scores {g.score}, outside [0, {max_score}]")
    return problems


def record_ungraded(course, assignment: str, students: list[str], reasons: dict[str, str] | None = None) -> list[str]:
    """Give every test cell of these students that has no autograder score a score of 0.

    For a student nbgrader could not grade (an invalid notebook, no notebook at all), so that
    the gradebook has every grade cell of every student, with 0 points for what was not
    graded, instead of a submission that is missing or half empty. Scores that exist, and
    answers graded by hand, are left alone. Returns the students that were changed.
    """
    changed = []
    with course.gradebook() as gb:
        for s in students:
            gb.update_or_create_student(s)
            try:
                sub = gb.find_submission(assignment, s)
            except Exception:  # noqa: BLE001 - MissingEntry: no submission yet
                sub = gb.update_or_create_submission(assignment, s)
            touched = False
            for nb in sub.notebooks:
                solution = {c.name for c in nb.notebook.solution_cells}
                for g in nb.grades:
                    if g.cell.cell_type == "code" and g.name not in solution and g.auto_score is None:
                        g.auto_score = 0.0
                        g.needs_manual_grade = False
                        touched = True
            if touched:
                gb.db.commit()
                changed.append(s)
    return changed


# ------------------------------------------------- the autograde step's hooks
def before_grading(course, assignment: str, students: list[str], log=print, *,
                   kernels: bool = True) -> dict[str, list[Problem]]:
    """What :func:`nncourse.autograde.autograde_assignment` runs before nbgrader: the pre-flight
    report, the permissions of the course's private folders, the sandbox mode (with its
    warning when it is weaker than ``isolated``; only with ``kernels``, when something is to be
    graded). Raises :class:`~nncourse.course.CourseError`
    only when no sandbox can start a kernel (every submission would fail); nothing else stops
    the step."""
    from .course import CourseError
    from .sandbox import SandboxError, sandbox_mode, secure_course

    try:
        secure_course(course.root)
    except OSError:
        pass
    try:
        if kernels:
            mode = sandbox_mode()
            log(f"   kernels run in the '{mode}' sandbox (README, 'Autograding untrusted code')")
    except SandboxError as exc:
        raise CourseError(f"no submission can be graded: {exc}") from None
    except Exception as exc:  # noqa: BLE001
        log(f"   WARNING: the sandbox could not be set up: {exc}")
    try:
        return preflight(course, assignment, students)
    except Exception as exc:  # noqa: BLE001 - a report, never a reason to stop
        return {"": [Problem("", "", INFO, f"the pre-flight check failed: {type(exc).__name__}: {exc}")]}


def after_grading(course, assignment: str, not_graded: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """What runs after nbgrader: 0 points for the tests of submissions nbgrader could not grade
    (:func:`record_ungraded`), then :func:`check_gradebook` and the tampering verdicts.
    Returns (integrity problems, student -> what the grader found)."""
    problems: list[str] = []
    try:
        record_ungraded(course, assignment, not_graded)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"could not record 0 points for {', '.join(not_graded)}: {exc}")
    try:
        problems += check_gradebook(course, assignment)
    except Exception as exc:  # noqa: BLE001
        problems.append(f"the gradebook check failed: {type(exc).__name__}: {exc}")
    tampered: dict[str, list[str]] = {}
    try:
        for student, nbs in verdicts(course, assignment).items():
            for name, v in nbs.items():
                if v.get("verdict") == "tampered":
                    tampered.setdefault(student, []).extend(
                        f"{name}: {f['what']}" for f in v.get("findings", []) if f.get("severity") == "tamper")
    except Exception as exc:  # noqa: BLE001
        problems.append(f"the verdicts could not be read: {exc}")
    return problems, tampered
