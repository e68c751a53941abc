"""``python -m nncourse <step> [ASSIGNMENT ...] [--course DIR]``: the course steps, in order.

Each step runs nbgrader in the course root (``--course``, the current folder by default:
the folder with ``nbgrader_config.py``) for the given assignments, or for every assignment
folder ``NN-topic`` of ``solutions/`` when none is given.

==============  ==================================================================================
step            what it runs
==============  ==================================================================================
``release``     ``nbgrader generate_assignment --force``: solutions/ -> exercises/, and the gradebook
``publish``     ``nbgrader release_assignment --force``: exercises/ -> the exchange
``due``         ``nbgrader db assignment add A --duedate=DATE``: the due date of late submissions
``roster``      ``nbgrader db student import FILE``: the class list (id, first_name, last_name, email)
``collect``     ``nbgrader collect --update``: the exchange -> submitted/
``zip-collect`` ``nbgrader zip_collect --force``: LMS downloads in ``--from DIR/<assignment>/archive``
``autograde``   ``nbgrader autograde`` on every core (:mod:`nncourse.autograde`); checks nothing is lost
``feedback``    ``nbgrader generate_feedback --force`` and ``release_feedback``: HTML back through the exchange
``grades``      ``nbgrader export``: one CSV row per student and assignment
``report``      the grade report (:mod:`nncourse.report`): report/index.html and index.md
==============  ==================================================================================

``--db-url URL`` (every step) uses another gradebook than the configured one, for instance a
shared PostgreSQL database; setting ``NBGRADER_DB_URL`` does the same for nbgrader too.
"""

from __future__ import annotations

import argparse
import csv
import functools
import os
import sys
import tempfile
from pathlib import Path

from .course import Course, CourseError


def _assignments(course: Course, names: list[str]) -> list[str]:
    if names:
        return names
    found = course.assignments()
    if not found:
        raise CourseError(f"no assignment folders NN-topic in the source directory of {course.root}")
    return found


def _locked(step):
    """Run a step while holding the course lock: collecting and autograding never overlap."""
    @functools.wraps(step)
    def run(course: Course, args) -> int:
        with course.lock(args.step):
            return step(course, args)
    return run


def _has(course: Course, kind: str, assignment: str) -> bool:
    base = course.folder(kind, ".", "")
    return base.is_dir() and any((p / assignment).is_dir() for p in base.iterdir())


def step_release(course: Course, args) -> int:
    for a in _assignments(course, args.assignments):
        print(f"== release {a}", flush=True)
        course.nbgrader("generate_assignment", a, "--force")
    return 0


def step_publish(course: Course, args) -> int:
    for a in _assignments(course, args.assignments):
        print(f"== publish {a}", flush=True)
        course.nbgrader("release_assignment", a, "--force")
    return 0


def step_due(course: Course, args) -> int:
    from nbgrader.utils import parse_utc

    known = course.assignments()
    if args.assignment not in known:
        raise CourseError(f"no assignment {args.assignment!r} in {course.folder('source', '.', '')} "
                          f"(the assignments are: {', '.join(known) or 'none'})")
    try:
        utc = parse_utc(args.date)
    except (ValueError, OverflowError) as exc:
        raise CourseError(f"cannot read the due date {args.date!r} ({exc}); write it as "
                          '"2025-11-03 23:59:00 Europe/Berlin" (a time zone name, or none for UTC)') from None
    print(f"== due {args.assignment}: {args.date} (stored as {utc:%Y-%m-%d %H:%M:%S} UTC)", flush=True)
    course.nbgrader("db", "assignment", "add", args.assignment, f"--duedate={args.date}")
    return 0


ROSTER_COLUMNS = ("id", "first_name", "last_name", "email")


def read_roster(path: Path) -> list[dict]:
    """The rows of a class list: a CSV with the column ``id`` (and first_name, last_name, email).

    Read as a spreadsheet program writes it: UTF-8 with or without a byte-order mark, the
    columns separated by commas, semicolons or tabs, the headers in any case. Other columns
    are ignored; an empty or repeated id is an error that names its line.
    """
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CourseError(f"the roster {path} is empty; its first line names the columns: {','.join(ROSTER_COLUMNS)}")
    header = lines[0]
    delimiter = max(",;\t", key=header.count) if any(d in header for d in ",;\t") else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    keys = {k: k.strip().lower() for k in reader.fieldnames or []}
    if "id" not in keys.values():
        raise CourseError(f"the roster {path} has the columns {list(keys)} but none named 'id' (the student ids, "
                          f"as in submitted/<id>/); its first line names the columns: {','.join(ROSTER_COLUMNS)}")
    rows, seen = [], {}
    for line, raw in enumerate(reader, start=2):
        row = {keys[k]: (v or "").strip() for k, v in raw.items() if k in keys and keys[k] in ROSTER_COLUMNS}
        if not any(row.values()):
            continue                                   # a blank line
        if not row.get("id"):
            raise CourseError(f"line {line} of the roster {path} has no id")
        if row["id"] in seen:
            raise CourseError(f"the id {row['id']!r} is on lines {seen[row['id']]} and {line} of the roster {path}")
        seen[row["id"]] = line
        rows.append(row)
    if not rows:
        raise CourseError(f"the roster {path} names no students")
    return rows


def step_roster(course: Course, args) -> int:
    path = Path(args.file).resolve()
    if not path.is_file():
        raise CourseError(f"no roster file {path}")
    rows = read_roster(path)
    print(f"== roster {path}: {len(rows)} students", flush=True)
    # nbgrader reads plain comma-separated UTF-8 with these column names only
    with tempfile.TemporaryDirectory() as tmp:
        clean = Path(tmp) / "roster.csv"
        with open(clean, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=ROSTER_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        course.nbgrader("db", "student", "import", str(clean))
    return 0


@_locked
def step_collect(course: Course, args) -> int:
    for a in _assignments(course, args.assignments):
        print(f"== collect {a}", flush=True)
        course.nbgrader("collect", a, "--update")
    return 0


@_locked
def step_zip_collect(course: Course, args) -> int:
    downloaded = Path(args.source)
    if not downloaded.is_absolute():
        downloaded = (Path.cwd() / downloaded).resolve()
    found = False
    for a in _assignments(course, args.assignments):
        if not (downloaded / a).is_dir():
            continue
        found = True
        print(f"== zip-collect {a}", flush=True)
        # nbgrader joins the course root and this folder before it formats the path, so it
        # must be relative to the course root
        rel = os.path.relpath(downloaded, course.root)
        course.nbgrader("zip_collect", a, "--force", f"--ZipCollectApp.downloaded_directory={rel}")
    if not found:
        raise CourseError(f"no {downloaded}/<assignment>/archive folders (set --from DIR, or ZIP_DIR=... for make)")
    return 0


@_locked
def step_autograde(course: Course, args) -> int:
    from .autograde import autograde_assignment

    students = [s for s in args.student.split(",") if s] if args.student else None
    extra = list(args.nbgrader_args or [])
    failed = []
    for a in _assignments(course, args.assignments):
        if not course.submitted_students(a):
            print(f"== autograde {a}: no submissions", flush=True)
            continue
        summary = autograde_assignment(course, a, jobs=args.jobs, batch_size=args.batch_size, force=args.force,
                                       students=students, timeout=args.timeout, extra_args=extra,
                                       log=lambda m: print(m, flush=True))
        print(summary.format(), flush=True)
        if not summary.ok:
            failed.append(a)
    if failed:
        print(f"error: some submissions of {', '.join(failed)} could not be graded (see above)", file=sys.stderr)
        return 1
    return 0


def _not_from_the_exchange(course: Course, assignment: str) -> list[str]:
    """Students whose feedback on ``assignment`` cannot go back through the exchange, sorted.

    ``nbgrader release_feedback`` files a student's feedback under a key made from the
    ``timestamp.txt`` and ``submission_secret.txt`` that ``nbgrader submit`` put into the
    submission, and fails on a feedback folder without them: a submission that came from an
    LMS download (``zip-collect``), or that was copied into ``submitted/`` by hand.
    """
    base = course.folder("feedback", ".", "")
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir()
                  if (p / assignment).is_dir() and not p.name.startswith(".")
                  and not all((p / assignment / f).is_file() for f in ("timestamp.txt", "submission_secret.txt")))


def step_feedback(course: Course, args) -> int:
    for a in _assignments(course, args.assignments):
        if not _has(course, "autograded", a):
            print(f"== feedback {a}: nothing graded", flush=True)
            continue
        print(f"== feedback {a}", flush=True)
        course.nbgrader("generate_feedback", a, "--force")
        by_hand = _not_from_the_exchange(course, a)
        if by_hand:
            folder = course.folder("feedback", "<student>", a)
            print(f"   {len(by_hand)} submission(s) did not come through the exchange (zip-collect, or copied "
                  f"into submitted/): return their feedback yourself, e.g. through the LMS; it is in "
                  f"{folder}/: {', '.join(by_hand)}", flush=True)
        exchanged = [s for s in course.submitted_students(a) if s not in by_hand
                     and course.folder("feedback", s, a).is_dir()]
        if not exchanged:
            continue
        extra = [f"--CourseDirectory.student_id_exclude={','.join(by_hand)}"] if by_hand else []
        course.nbgrader("release_feedback", a, *extra)
    return 0


def step_grades(course: Course, args) -> int:
    dest = Path(args.to)
    if not dest.is_absolute():
        dest = course.root / dest
    course.nbgrader("export", f"--to={dest}")
    print(f"The grades are in {dest}")
    return 0


def step_report(course: Course, args) -> int:
    from .report import write_report

    out = Path(args.out)
    if not out.is_absolute():
        out = course.root / out
    page = write_report(course, out, args.assignments or None)
    print(f"The report is at {page} (and {page.with_suffix('.md')})")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nncourse",
                                description="The course steps over nbgrader, at class scale "
                                            "(run it from the repository root).",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="python -m nncourse <step> --help describes a step.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--course", default=".", metavar="DIR",
                        help="the course root, with nbgrader_config.py (default: the current folder)")
    common.add_argument("--db-url", default=None, metavar="URL",
                        help="the gradebook, e.g. postgresql+psycopg2://user@host/db (default: as configured)")
    sub = p.add_subparsers(dest="step", required=True, metavar="step")

    def add(name, func, help_, assignments=True):
        sp = sub.add_parser(name, parents=[common], help=help_, description=help_)
        if assignments:
            sp.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                            help="assignments (default: every NN-topic folder of solutions/)")
        sp.set_defaults(func=func)
        return sp

    add("release", step_release, "solutions/ -> exercises/ (nbgrader generate_assignment), records the gradebook")
    add("publish", step_publish, "copy exercises/ to the exchange (nbgrader release_assignment)")
    sp = add("due", step_due, "set an assignment's due date (nbgrader db assignment add --duedate)", False)
    sp.add_argument("assignment")
    sp.add_argument("date", help='e.g. "2025-11-03 23:59:00 Europe/Berlin" (stored in UTC)')
    sp = add("roster", step_roster, "add the class list to the gradebook (nbgrader db student import)", False)
    sp.add_argument("file", help="CSV with a column id (and first_name, last_name, email)")
    add("collect", step_collect, "gather the submissions from the exchange into submitted/ (nbgrader collect)")
    sp = add("zip-collect", step_zip_collect,
             "gather LMS downloads DIR/<assignment>/archive into submitted/ (nbgrader zip_collect)")
    sp.add_argument("--from", dest="source", default="downloaded", metavar="DIR",
                    help="the downloads folder (default: downloaded)")
    sp = add("autograde", step_autograde, "autograde every submission on every core (nbgrader autograde)")
    sp.add_argument("--jobs", "-j", type=int, default=None, help="concurrent nbgrader commands (default: cores + 1)")
    sp.add_argument("--batch-size", type=int, default=None,
                    help="students per nbgrader command (default: as few commands as keep every worker busy)")
    sp.add_argument("--force", action="store_true", help="grade again what was autograded before")
    sp.add_argument("--student", default="", help="only these students (comma-separated)")
    sp.add_argument("--timeout", type=float, default=600, help="wall-clock seconds per student (default 600)")
    sp.add_argument("--nbgrader-args", nargs=argparse.REMAINDER,
                    help="the rest of the line is passed to every nbgrader autograde command")
    add("feedback", step_feedback, "generate HTML feedback and return it through the exchange")
    sp = add("grades", step_grades, "export the gradebook to CSV (nbgrader export)", False)
    sp.add_argument("--to", default="grades.csv", help="the CSV file, relative to the course root (default grades.csv)")
    sp = add("report", step_report, "the grade report: histograms, item analysis, late and missing students")
    sp.add_argument("--out", default="report", help="its folder, relative to the course root (default report)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        course = Course(args.course, db_url=args.db_url)
        return args.func(course, args)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a gradebook that cannot be opened or read
        if type(exc).__module__.startswith("sqlalchemy"):
            print(f"error: the gradebook cannot be used: {exc}", file=sys.stderr)
            return 2
        raise
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
