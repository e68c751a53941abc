"""Autograde a whole class on every core, with nbgrader, without losing a submission.

For one assignment:

1. Every folder ``submitted/<student>/<assignment>`` is a submission. Its notebooks are
   compared with the assignment's notebooks in the gradebook: a missing notebook is graded
   0 by nbgrader, an extra notebook is not graded, and a submission without any notebook of
   the assignment is not given to nbgrader at all (nothing to grade: 0 points). All three
   are reported.
2. As ``nbgrader autograde`` does without ``--force``, a submission that was autograded
   before and has not changed since is skipped (``--force`` grades everything again).
3. The submissions to grade are split into batches; ``jobs`` workers (default: one more
   than the cores, :func:`default_jobs`) each run one ``nbgrader autograde <assignment>
   --student=<batch> --force``
   at a time through :func:`nncourse.sandbox.run_grader`. A batch of one student per
   command is the most isolated; larger batches save nbgrader's start-up (a few seconds
   per command, more than it takes to grade a notebook), see :func:`plan_batches`.
4. Every process opens the SQLite gradebook with a busy timeout
   (:func:`nncourse.course.with_busy_timeout`), so that concurrent writers wait for each
   other instead of failing with "database is locked". PostgreSQL needs nothing.
5. A student counts as graded when nbgrader wrote a fresh autograded copy of each of the
   notebooks they handed in. Everyone else of a batch that failed or timed out (or a batch
   nbgrader gave up on) is graded again once, alone. A student whose grading still fails
   is reported with nbgrader's error; the other students are not affected.
6. At the end every graded submission is checked in the gradebook: each autograded test
   cell of each handed-in notebook has a score. A submission that is not there is reported
   as lost.
"""

from __future__ import annotations

import concurrent.futures
import glob
import math
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .course import Course, CourseError, Notebooks, nbgrader_env, nbgrader_executable
from .sandbox import GraderResult, run_grader

# statuses of a submission after a run
GRADED = "graded"                  # autograded in this run
UP_TO_DATE = "up to date"          # autograded before, unchanged since (not graded again)
NOTHING = "nothing to grade"       # no notebook of the assignment in the folder
FAILED = "failed"                  # nbgrader could not grade it, also when tried alone

# wall-clock budget of one student's grading (s); nbgrader's own per-cell timeout
# (ExecutePreprocessor.timeout in nbgrader_config.py) normally stops a runaway cell first
DEFAULT_TIMEOUT = 600
# a batch pays nbgrader's start-up once; with at most this many students per batch,
# a large class still spreads evenly over the workers
MAX_BATCH = 30


@dataclass
class Submission:
    """One student's submission of the assignment and what happened to it."""

    student: str
    notebooks: Notebooks
    status: str = ""
    attempts: int = 0
    error: str = ""


@dataclass
class Summary:
    """The result of :func:`autograde_assignment`."""

    assignment: str
    submissions: dict[str, Submission]
    lost: list[str] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1
    batches: list[list[str]] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    # nncourse.preflight: problems of the submissions, of the gradebook, and tampering found
    problems: dict = field(default_factory=dict)
    integrity: list[str] = field(default_factory=list)
    tampered: dict[str, list[str]] = field(default_factory=dict)
    # students who were not in a gradebook that had students (not on the class list)
    newcomers: list[str] = field(default_factory=list)

    def with_status(self, status: str) -> list[str]:
        return sorted(s for s, sub in self.submissions.items() if sub.status == status)

    @property
    def ok(self) -> bool:
        """No submission failed, none was lost, and the gradebook is whole."""
        return not self.with_status(FAILED) and not self.lost and not self.integrity

    def format(self) -> str:
        graded, fresh = self.with_status(GRADED), self.with_status(UP_TO_DATE)
        lines = [f"== {self.assignment}: {len(self.submissions)} submission(s): {len(graded)} graded"
                 + (f" in {self.seconds:.1f} s ({self.seconds / len(graded):.2f} s per submission, "
                    f"{self.jobs} worker(s), {len(self.batches)} batch(es))" if graded else "")
                 + (f", {len(fresh)} up to date" if fresh else "")]
        if self.retried:
            lines.append(f"   graded again alone after a failed batch: {', '.join(self.retried)}")
        if self.newcomers:
            lines.append(f"   not on the class list (make roster), graded and added to the gradebook: "
                         f"{', '.join(self.newcomers)}")
        if any(self.problems.values()):
            from .preflight import format_preflight

            lines.append("   pre-flight check of the submissions:")
            lines.append(format_preflight(self.problems))
        for s, found in sorted(self.tampered.items()):
            lines.append(f"   TAMPERING {s}: every autograded test scores 0 (review it): {'; '.join(found[:3])}")
        for p in self.integrity:
            lines.append(f"   GRADEBOOK {p}")
        for s in self.with_status(FAILED):
            sub = self.submissions[s]
            lines.append(f"   FAILED {s} (tried {sub.attempts} times): {sub.error}")
        for s in self.with_status(NOTHING):
            nbs = self.submissions[s].notebooks
            extra = f"; it holds {', '.join(n + '.ipynb' for n in nbs.extra)}" if nbs.extra else ""
            lines.append(f"   nothing to grade for {s}: no notebook of the assignment "
                         f"({', '.join(n + '.ipynb' for n in nbs.missing)} missing{extra}); 0 points")
        for s, sub in sorted(self.submissions.items()):
            if sub.status in (NOTHING,):
                continue
            if sub.notebooks.missing:
                lines.append(f"   {s}: missing notebook(s) "
                             f"{', '.join(n + '.ipynb' for n in sub.notebooks.missing)} (graded 0)")
            if sub.notebooks.extra:
                lines.append(f"   {s}: extra notebook(s) "
                             f"{', '.join(n + '.ipynb' for n in sub.notebooks.extra)} (not graded)")
        for s in self.lost:
            lines.append(f"   LOST {s}: graded, but its scores are not in the gradebook")
        if self.ok:
            lines.append("   every submission is accounted for in the gradebook")
        return "\n".join(lines)


def cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """One worker more than the cores.

    A worker is not busy all the time: nbgrader waits for its kernel to start and to answer.
    With one more worker than cores the cores stay busy (60 notebooks on 2 cores: 3 workers
    took 79 s, 2 workers 86 s, one sequential ``nbgrader autograde`` 152 s).
    """
    return cores() + 1


def plan_batches(students: list[str], jobs: int, batch_size: int | None = None) -> list[list[str]]:
    """Split ``students`` into batches, one ``nbgrader autograde`` command each.

    With ``batch_size`` given, batches of that size. Otherwise as few batches as keep every
    worker busy: a multiple of ``jobs`` batches of at most :data:`MAX_BATCH` students, of
    (nearly) equal sizes. nbgrader's start-up costs more than grading one notebook, so one
    command per student would be slower than one sequential ``nbgrader autograde`` on a
    small machine.
    """
    n = len(students)
    if n == 0:
        return []
    if batch_size is not None and batch_size > 0:
        return [students[i:i + batch_size] for i in range(0, n, batch_size)]
    count = min(n, jobs * math.ceil(n / (jobs * MAX_BATCH)))
    # round-robin, so that each batch mixes early and late student ids
    return [students[i::count] for i in range(count)]


def _fresh(path: Path, since_ns: int) -> bool:
    try:
        return path.stat().st_mtime_ns >= since_ns
    except FileNotFoundError:
        return False


def needs_grading(course: Course, assignment: str, student: str, notebooks: Notebooks) -> bool:
    """nbgrader's own rule without ``--force``: no autograded copy yet, or the submission is newer."""
    dest = course.folder("autograded", student, assignment)
    if not dest.is_dir():
        return True
    if any(not (dest / f"{n}.ipynb").exists() for n in notebooks.present):
        return True
    cd = course.coursedir
    new = cd.get_existing_timestamp(str(course.folder("submitted", student, assignment)))
    old = cd.get_existing_timestamp(str(dest))
    return new is not None and old is not None and new > old


_EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Exit|Interrupt)\b")


def _error_for(student: str, assignment: str, log: str, timed_out: bool) -> str:
    """The most telling line of nbgrader's log about one student's failure."""
    if timed_out:
        return "killed after the wall-clock timeout (a runaway submission?)"
    lines = log.splitlines()
    marker = f"{os.sep}{student}{os.sep}{assignment}"
    # nbgrader logs "There was an error processing assignment: <path>", then a record
    # "Traceback (most recent call last): ..." whose last line is the exception
    for i, line in enumerate(lines):
        if "error processing assignment" in line and line.rstrip().endswith(marker):
            block = []
            for x in lines[i + 1:]:
                if x.startswith("[") and " | " in x[:40] and block:
                    break  # the next log record
                block.append(x.strip())
            errs = [x for x in block if _EXCEPTION_LINE.match(x)]
            if errs:
                return errs[-1][:300]
    for x in reversed(lines):
        if "database is locked" in x:
            return "database is locked"
    errs = [x.strip() for x in lines if "ERROR]" in x or _EXCEPTION_LINE.match(x.strip())]
    if errs:
        return errs[-1][:300]
    tail = [x.strip() for x in lines if x.strip()]
    return tail[-1][:300] if tail else "nbgrader exited without a message"


class _Runner:
    """Runs batches on a pool of workers and records who was graded."""

    def __init__(self, course: Course, assignment: str, submissions: dict[str, Submission],
                 jobs: int, timeout: float, extra_args: list[str], log):
        self.course, self.assignment, self.submissions = course, assignment, submissions
        self.jobs, self.timeout, self.extra_args, self.log = jobs, timeout, extra_args, log
        self.env = nbgrader_env()
        self.nbgrader = nbgrader_executable()
        self.lock = threading.Lock()
        self.done = 0
        self.total = sum(1 for sub in submissions.values() if not sub.status)

    def command(self, students: list[str]) -> list[str]:
        """``nbgrader autograde`` for exactly these students.

        nbgrader's ``--student`` is one glob pattern, not a list: a batch is every student
        (``*``) but the others, with ``--CourseDirectory.student_id_exclude``.
        """
        if len(students) == 1 and not glob.has_magic(students[0]) and "," not in students[0]:
            select = [f"--student={students[0]}"]
        else:
            others = sorted(set(self.course.submitted_students(self.assignment)) - set(students))
            select = ["--student=*"] + ([f"--CourseDirectory.student_id_exclude={','.join(others)}"]
                                        if others else [])
        return [self.nbgrader, "autograde", self.assignment, *select, "--force",
                f"--CourseDirectory.db_url={self.course.db_url}", *self.extra_args]

    def graded(self, student: str, since_ns: int) -> bool:
        dest = self.course.folder("autograded", student, self.assignment)
        return all(_fresh(dest / f"{n}.ipynb", since_ns) for n in self.submissions[student].notebooks.present)

    def run_batch(self, students: list[str]) -> list[str]:
        """Grade a batch; returns the students that were not graded."""
        since = time.time_ns()
        for s in students:
            self.submissions[s].attempts += 1
        try:
            result = run_grader(self.command(students), cwd=self.course.root, env=self.env,
                                timeout=60 + self.timeout * len(students))
        except Exception as exc:  # noqa: BLE001 - a broken batch must not stop the others
            result = GraderResult([], -1, "", f"{type(exc).__name__}: {exc}")
        log = result.stdout + "\n" + result.stderr
        failed = []
        for s in students:
            if self.graded(s, since):
                self.submissions[s].status = GRADED
                self.submissions[s].error = ""
            else:
                failed.append(s)
                self.submissions[s].status = FAILED
                self.submissions[s].error = _error_for(s, self.assignment, log, result.timed_out)
        with self.lock:
            self.done += len(students) - len(failed)
            note = f"; not graded: {', '.join(failed)}" if failed else ""
            self.log(f"   [{self.done}/{self.total}] {len(students)} student(s) in {result.seconds:.1f} s"
                     f"{' (timed out)' if result.timed_out else ''}{note}")
        return failed

    def run(self, batches: list[list[str]]) -> list[str]:
        """Run the batches on ``jobs`` workers; returns the students that no batch graded."""
        failed: list[str] = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as pool:
            for fut in concurrent.futures.as_completed([pool.submit(self.run_batch, b) for b in batches]):
                failed += fut.result()
        return sorted(failed)


def verify(course: Course, assignment: str, submissions: dict[str, Submission]) -> list[str]:
    """Students marked graded whose autograded scores are not all in the gradebook."""
    from nbgrader.api import MissingEntry

    lost = []
    with course.gradebook() as gb:
        for s, sub in sorted(submissions.items()):
            if sub.status not in (GRADED, UP_TO_DATE):
                continue
            try:
                submission = gb.find_submission(assignment, s)
                by_name = {nb.name: nb for nb in submission.notebooks}
                for name in sub.notebooks.present:
                    nb = by_name[name]
                    solution = {c.name for c in nb.notebook.solution_cells}
                    tests = [g for g in nb.grades if g.cell.cell_type == "code" and g.name not in solution]
                    if any(g.auto_score is None for g in tests):
                        raise MissingEntry(f"{name}: a test cell has no score")
                if not all((course.folder("autograded", s, assignment) / f"{n}.ipynb").is_file()
                           for n in sub.notebooks.present):
                    raise MissingEntry("no autograded notebook")
            except (MissingEntry, KeyError):
                lost.append(s)
    return lost


def autograde_assignment(course: Course, assignment: str, *, jobs: int | None = None,
                         batch_size: int | None = None, force: bool = False,
                         students: list[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
                         extra_args: list[str] | None = None, log=print) -> Summary:
    """Autograde every submission of ``assignment`` in parallel; see the module documentation.

    Parameters
    ----------
    jobs : int, optional
        Workers (concurrent nbgrader commands); one more than the cores by default.
    batch_size : int, optional
        Students per nbgrader command; chosen by :func:`plan_batches` by default.
    force : bool
        Grade again the submissions that were autograded before and have not changed.
    students : list of str, optional
        Only these students (of those with a submission).
    timeout : float
        Wall-clock seconds allowed per student (a batch of n gets 60 + n * timeout).
    extra_args : list of str
        More arguments for every ``nbgrader autograde`` command.
    """
    from nbgrader.api import MissingEntry

    start = time.monotonic()
    jobs = jobs or default_jobs()
    # the gradebook must exist before the workers open it (creating it is not concurrency-safe)
    with course.gradebook() as gb:
        try:
            expected = [nb.name for nb in gb.find_assignment(assignment).notebooks]
        except MissingEntry:
            raise CourseError(f"{assignment} is not in the gradebook: run `python -m nncourse release "
                              f"{assignment}` (nbgrader generate_assignment) first") from None
        if not expected:
            raise CourseError(f"{assignment} has no notebooks in the gradebook: release it again")
        ids = course.submitted_students(assignment)
        if students is not None:
            unknown = sorted(set(students) - set(ids))
            if unknown:
                log(f"   no submission of {assignment} from {', '.join(unknown)}")
            ids = [s for s in ids if s in set(students)]
        known = {student.id for student in gb.students}
        newcomers = [s for s in ids if known and s not in known]
        for s in ids:  # so that a student with nothing to grade still has a row (0 points)
            gb.update_or_create_student(s)

    submissions = {s: Submission(s, course.submitted_notebooks(assignment, s, expected)) for s in ids}
    todo = []
    for s, sub in submissions.items():
        if not sub.notebooks.gradable:
            sub.status = NOTHING
        elif force or needs_grading(course, assignment, s, sub.notebooks):
            todo.append(s)
        else:
            sub.status = UP_TO_DATE
    batches = plan_batches(todo, jobs, batch_size)
    summary = Summary(assignment, submissions, jobs=jobs, batches=batches, newcomers=newcomers)
    from .preflight import after_grading, before_grading

    summary.problems = before_grading(course, assignment, list(submissions), log, kernels=bool(todo))
    if todo:
        log(f"== autograde {assignment}: {len(todo)} submission(s) on {jobs} worker(s) in {len(batches)} batch(es)")
        runner = _Runner(course, assignment, submissions, jobs, timeout, list(extra_args or []), log)
        failed = runner.run(batches)
        # a batch that failed or timed out: grade its ungraded students again, one at a time
        if failed:
            log(f"   grading {len(failed)} student(s) again, one per command: {', '.join(failed)}")
            summary.retried = failed
            runner.run([[s] for s in failed])
    else:
        log(f"== autograde {assignment}: nothing new to grade ({len(submissions)} submission(s))")
    summary.lost = verify(course, assignment, submissions)
    summary.integrity, summary.tampered = after_grading(
        course, assignment, [s for s, sub in submissions.items() if sub.status in (FAILED, NOTHING)])
    summary.seconds = time.monotonic() - start
    return summary
