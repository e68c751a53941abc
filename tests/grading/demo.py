"""The students' side of ``make demo``: a throw-away course and a demo class of three.

``make demo`` runs the instructor's steps with the course's make targets and calls this
script for what happens outside the instructor's folder::

    python tests/grading/demo.py setup DEMO_DIR ASSIGNMENT...          # the course root
    python tests/grading/demo.py students DEMO_DIR ASSIGNMENT...       # fetch, work, submit
    python tests/grading/demo.py grade-by-hand DEMO_DIR ASSIGNMENT...  # the written answers

The class, made from the catalogue in ``tests/grading/cases``:

* ``demo-perfect`` hands in the reference solution (and gets full marks by hand);
* ``demo-partial`` hands in the first catalogued mistake (half marks by hand);
* ``demo-untouched`` hands in the released notebook as it came.

Each student fetches the assignment from the exchange and submits it with nbgrader's
own exchange classes, as ``nbgrader fetch_assignment`` and ``nbgrader submit`` do.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nbformat  # noqa: E402

from grading import harness  # noqa: E402

STUDENTS = ("demo-perfect", "demo-partial", "demo-untouched")


def _module(assignment: str):
    for mod in harness.case_modules():
        if mod.ASSIGNMENT == assignment:
            return mod
    raise SystemExit(f"error: no catalogue in tests/grading/cases for {assignment}")


def _exchange_config(course: Path, student: str, assignment: str):
    from traitlets.config import Config

    cfg = Config()
    cfg.CourseDirectory.course_id = harness.COURSE_ID
    cfg.CourseDirectory.assignment_id = assignment
    cfg.CourseDirectory.student_id = student
    cfg.Exchange.root = str(course / ".exchange")
    cfg.Exchange.cache = str(course / "students" / student / ".nbgrader_cache")
    cfg.Exchange.assignment_dir = str(course / "students" / student)
    return cfg


def setup(course: Path, assignments: list[str]) -> None:
    harness.make_course(course, assignments)
    (course / ".exchange").mkdir(parents=True, exist_ok=True)
    print(f"demo course in {course} with {', '.join(assignments)}")


def students(course: Path, assignments: list[str]) -> None:
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit

    for assignment in assignments:
        mod = _module(assignment)
        mutant = mod.MUTANTS[0]
        for student in STUDENTS:
            cfg = _exchange_config(course, student, assignment)
            home = course / "students" / student
            home.mkdir(parents=True, exist_ok=True)
            coursedir = CourseDirectory(config=cfg)
            auth = Authenticator(config=cfg)
            ExchangeFetchAssignment(coursedir=coursedir, authenticator=auth, config=cfg).start()
            folder = home / assignment
            if student == "demo-perfect":
                nb = harness.build_submission(assignment, mod.NOTEBOOK, release_dir=folder)
            elif student == "demo-partial":
                nb = harness.build_submission(assignment, mod.NOTEBOOK, mutant["replace"], release_dir=folder)
            else:
                nb = harness.build_submission(assignment, mod.NOTEBOOK, untouched=True, release_dir=folder)
            nbformat.write(nb, folder / f"{mod.NOTEBOOK}.ipynb")
            ExchangeSubmit(coursedir=CourseDirectory(config=cfg), authenticator=auth, config=cfg).start()
            what = {"demo-perfect": "the solution", "demo-partial": f"the mistake '{mutant['name']}'",
                    "demo-untouched": "the untouched notebook"}[student]
            print(f"{student} fetched and submitted {assignment} ({what})")


def grade_by_hand(course: Path, assignments: list[str]) -> None:
    """Score the written answers, as an instructor would in the formgrader."""
    from nbgrader.api import Gradebook

    share = {"demo-perfect": 1.0, "demo-partial": 0.5, "demo-untouched": 0.0}
    with Gradebook("sqlite:///" + str(course / "gradebook.db"), harness.COURSE_ID) as gb:
        for assignment in assignments:
            for student, fraction in share.items():
                submission = gb.find_submission(assignment, student)
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        if harness.is_manually_graded(grade.cell):
                            grade.manual_score = fraction * grade.max_score
                            grade.needs_manual_grade = False
            gb.db.commit()
            print(f"{assignment}: written answers graded by hand")


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        raise SystemExit(__doc__)
    step, course, assignments = argv[0], Path(argv[1]).resolve(), argv[2:]
    {"setup": setup, "students": students, "grade-by-hand": grade_by_hand}[step](course, assignments)


if __name__ == "__main__":
    main(sys.argv[1:])
