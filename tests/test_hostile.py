"""Grading survives broken and hostile submissions, and loses nothing.

Every submission of the catalogue ``tests/hostile/cases.py`` is graded in ONE batch with
four well-behaved students, through the real flow of ``python -m nncourse autograde``:
:func:`nncourse.autograde.autograde_assignment` (the pre-flight check of
:mod:`nncourse.preflight`, ``nbgrader autograde`` in parallel through
:func:`nncourse.sandbox.run_grader` with the course's ``nbgrader_config.py``: kernels in the
sandbox, :class:`nncourse.guard.GuardedExecute`; then the gradebook check), then ``nbgrader
generate_feedback``. The well-behaved students are also graded alone, in a course of their
own. Then, for each hostile submission:

* the batch completed, and every well-behaved student's grades equal their grades alone;
* it scored 0 on the tests it did not earn and at most what it could earn, and its feedback
  (or the instructor's autograde report, for a notebook that cannot be graded) says why;
* nothing it must not see or change reached its outputs or its feedback;

and the gradebook passes the integrity check (SQLite ``integrity_check``, every student's
every graded cell present, every score in [0, max]) and no sandbox process is left running.

Small limits keep it fast: 4 s per cell, 2 GB of memory, 64 MB files, 64 processes.
``tests/artifacts/hostile-report.txt`` lists every case with what was checked and the
counts (tried, held).
"""

from __future__ import annotations

import html
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from grading import harness
from hostile import cases as H

ROOT = harness.ROOT
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytestmark = pytest.mark.skipif(not (harness.VENV_BIN / "nbgrader").exists(), reason="nbgrader is not installed")

CELL_TIMEOUT = 4
LIMITS = {
    "NNCOURSE_KERNEL_MEMORY_MB": "2048",
    "NNCOURSE_FILE_SIZE_MB": "64",
    "NNCOURSE_KERNEL_PROCESSES": "64",
    "NNCOURSE_KERNEL_CPU_SECONDS": "60",
    "NNCOURSE_TMP_MB": "64",
}
EXTRA_ARGS = [f"--Execute.timeout={CELL_TIMEOUT}", "--GuardedExecute.iopub_timeout=3"]
MODES = ["limits", "user", "isolated"]
# workers: most hostile notebooks wait (timeouts, sleeps) rather than compute
JOBS = 3
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@dataclass
class Graded:
    course: Path
    summary: object
    scores: dict
    seconds: float           # pre-flight, autograde, gradebook repairs
    feedback_seconds: float  # nbgrader generate_feedback
    preflight: str = ""
    integrity: list = field(default_factory=list)
    verdicts: dict = field(default_factory=dict)
    feedback_log: str = ""


def _submit(course: Path, student: str, files: dict[str, bytes]) -> None:
    dest = course / "submitted" / student / H.ASSIGNMENT
    dest.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (dest / name).write_bytes(data)


# nbgrader generate_feedback --student takes one pattern: groups of the class, side by side
FEEDBACK_GROUPS = ["good-*", "h-[a-f]*", "h-[g-o]*", "h-[p-z]*"]


def _feedback(course, students: list[str]) -> str:
    """``nbgrader generate_feedback`` for ``students``, a few processes side by side."""
    import concurrent.futures
    import fnmatch

    for s in students:
        assert sum(fnmatch.fnmatchcase(s, g) for g in FEEDBACK_GROUPS) == 1, s
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        procs = list(pool.map(lambda g: course.nbgrader("generate_feedback", H.ASSIGNMENT, "--force",
                                                        f"--student={g}", check=False, capture=True),
                              FEEDBACK_GROUPS))
    return "".join(p.stdout + p.stderr for p in procs)


def _grade(course_root: Path, students: dict[str, dict[str, bytes]], feedback: bool = True) -> Graded:
    from nncourse.autograde import autograde_assignment
    from nncourse.course import Course
    from nncourse.preflight import check_gradebook, verdicts

    for s, files in students.items():
        _submit(course_root, s, files)
    course = Course(course_root)
    start = time.monotonic()
    # the pre-flight check, nbgrader in parallel, 0 points for what could not be graded,
    # the gradebook check: all inside, as for `python -m nncourse autograde`
    summary = autograde_assignment(course, H.ASSIGNMENT, jobs=JOBS, force=True, timeout=180,
                                   extra_args=EXTRA_ARGS, log=lambda m: None)
    seconds = time.monotonic() - start
    graded = sorted(s for s, sub in summary.submissions.items() if sub.status == "graded")
    log = _feedback(course, graded) if feedback else ""
    feedback_seconds = time.monotonic() - start - seconds
    return Graded(course_root, summary, harness.scores(course_root, H.ASSIGNMENT), seconds, feedback_seconds,
                  preflight=summary.format(),
                  integrity=summary.integrity + check_gradebook(course, H.ASSIGNMENT),
                  verdicts=verdicts(course, H.ASSIGNMENT),
                  feedback_log=log)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """(the good students alone, the whole batch, the sandbox mode)."""
    import nncourse_helpers
    from nncourse.sandbox import sandbox_mode

    saved = {k: os.environ.get(k) for k in LIMITS}
    os.environ.update(LIMITS)
    try:
        mode = sandbox_mode()
        base = tmp_path_factory.mktemp("hostile")
        good = {s: build() for s, build in H.GOOD.items()}
        alone = _grade(nncourse_helpers.new_course(base / "alone"), good, feedback=False)
        everyone = dict(good)
        for case in H.HOSTILE:
            if not _weaker(mode, case.requires):  # some attacks would harm an unconfined machine
                everyone[case.student] = case.files()
        batch = _grade(nncourse_helpers.new_course(base / "batch"), everyone)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return alone, batch, mode


# ------------------------------------------------------------------ checking
def _text_of_feedback(course: Path, student: str) -> str:
    path = course / "feedback" / student / H.ASSIGNMENT / f"{H.NOTEBOOK}.html"
    if not path.exists():
        return ""
    raw = path.read_text(errors="replace")
    raw = re.sub(r"<style.*?</style>|<script.*?</script>", " ", raw, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", raw))


def _outputs(course: Path, student: str) -> str:
    """Every output of the student's autograded notebooks (not the sources: test cells hold hidden tests)."""
    out = []
    for path in (course / "autograded" / student / H.ASSIGNMENT).glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for c in nb.cells:
            for o in c.get("outputs", []) or []:
                out.append(str(o.get("text", "")) + str(o.get("evalue", "")) + "".join(o.get("traceback", []) or [])
                           + str(o.get("data", "")))
            if c.get("metadata", {}).get("nncourse"):
                out.append(c.source)
    return "\n".join(out)


def evaluate(case: H.Hostile, alone: Graded, batch: Graded, mode: str) -> list[str]:
    """What did not hold for ``case`` (an empty list: everything held)."""
    failures = []
    per = batch.scores.get(case.student, {})
    auto = {g: v.score for g, v in per.items() if g in H.TESTS}
    for gid in case.zero:
        if auto.get(gid, 0.0) > 0:
            failures.append(f"{gid} scored {auto[gid]}, but it was not earned")
    total = sum(auto.values())
    if total > case.cap + 1e-9:
        failures.append(f"{total} autograded points, more than the {case.cap} it could earn")
    for g, v in per.items():
        if not (0 <= v.score <= v.max_score):
            failures.append(f"{g}: score {v.score} outside [0, {v.max_score}]")
        if g in H.TESTS and v.max_score != H.TESTS[g]:
            failures.append(f"{g}: worth {v.max_score} instead of {H.TESTS[g]}")
    feedback = _text_of_feedback(batch.course, case.student)
    outputs = _outputs(batch.course, case.student)
    if case.reason:
        text = batch.preflight if case.where == "report" else feedback
        if not re.search(case.reason, text, flags=re.S):
            failures.append(f"no readable reason /{case.reason}/ in the {case.where}")
    for s in case.forbid:
        if s in outputs:
            failures.append(f"{s!r} appears in its outputs")
    for s in [*case.forbid, *case.secret]:
        if s in feedback:
            failures.append(f"{s!r} appears in its feedback")
    return failures


def _weaker(mode: str, requires: str | None) -> bool:
    return requires is not None and MODES.index(mode) < MODES.index(requires)


# --------------------------------------------------------------------- tests
def test_the_batch_completes_and_loses_nothing(graded):
    alone, batch, mode = graded
    subs = batch.summary.submissions
    assert not batch.summary.lost, batch.summary.format()
    for case in H.HOSTILE + [H.Hostile(s, "good", "", lambda: {}) for s in H.GOOD]:
        if _weaker(mode, case.requires):
            continue
        student = case.student if case.category != "good" else case.name
        assert student in subs, f"{student} is not in the autograde summary"
        if case.where != "report" or case.category == "good":
            assert subs[student].status == "graded", f"{student}: {subs[student].status} {subs[student].error}"


def test_good_students_get_the_same_grades_as_alone(graded):
    alone, batch, mode = graded
    for s in H.GOOD:
        got = {g: v.score for g, v in batch.scores[s].items()}
        want = {g: v.score for g, v in alone.scores[s].items()}
        assert got == want, f"{s}: {got} in the batch, {want} alone"
    assert sum(v.score for g, v in alone.scores["good-solution"].items() if g in H.TESTS) == H.TOTAL


def test_every_kernel_ran_in_the_sandbox_of_the_machine(graded):
    alone, batch, mode = graded
    used = {v.get("sandbox") for nbs in batch.verdicts.values() for v in nbs.values()}
    assert used == {mode}, used


def test_the_gradebook_is_whole(graded):
    alone, batch, mode = graded
    assert batch.integrity == []
    assert alone.integrity == []
    students = set(H.GOOD) | {c.student for c in H.HOSTILE if not _weaker(mode, c.requires)}
    for s in students:
        assert set(H.TESTS) <= set(batch.scores.get(s, {})), f"{s}: grade cells missing"


def test_the_report_names_every_tampering(graded):
    """The instructor's autograde report lists every submission that scored 0 for tampering."""
    alone, batch, mode = graded
    zeroed = {c.student for c in H.HOSTILE if c.category == "monkeypatch" and c.zero == set(H.TESTS)
              and not _weaker(mode, c.requires)}
    assert zeroed <= set(batch.summary.tampered), sorted(zeroed - set(batch.summary.tampered))
    assert not set(H.GOOD) & set(batch.summary.tampered)
    assert "TAMPERING h-patch-numpy" in batch.preflight


def test_no_sandbox_process_is_left(graded):
    """No process of a sandbox uid outlives its kernel (uids held by running kernels, of
    other gradings on this machine, do not count)."""
    from nncourse.sandbox import orphaned_sandbox_processes

    time.sleep(0.5)
    assert orphaned_sandbox_processes() == {}


@pytest.mark.parametrize("case", H.HOSTILE, ids=lambda c: c.name)
def test_hostile_submission(graded, case):
    alone, batch, mode = graded
    if _weaker(mode, case.requires):
        pytest.skip(f"not run: the defence needs the {case.requires} sandbox, this machine gives {mode}")
    failures = evaluate(case, alone, batch, mode)
    assert failures == [], f"{case.student} ({case.why}): " + "; ".join(failures)


def test_report_counts(graded):
    """tests/artifacts/hostile-report.txt: every case, what held, and the counts."""
    alone, batch, mode = graded
    lines = [f"Hostile submissions of {H.ASSIGNMENT}, graded in one batch with {len(H.GOOD)} good ones",
             f"sandbox mode: {mode}; per-cell timeout {CELL_TIMEOUT} s; limits {LIMITS}",
             f"batch: {len(batch.summary.submissions)} submissions graded in {batch.seconds:.1f} s "
             f"({JOBS} workers), feedback in {batch.feedback_seconds:.1f} s; the good students alone: "
             f"{alone.seconds:.1f} s", ""]
    held = tried = 0
    for case in H.HOSTILE:
        if _weaker(mode, case.requires):
            lines.append(f"[not run] {case.category:11s} {case.name:24s} needs the {case.requires} sandbox  {case.why}")
            continue
        tried += 1
        failures = evaluate(case, alone, batch, mode)
        per = batch.scores.get(case.student, {})
        total = sum(v.score for g, v in per.items() if g in H.TESTS)
        ok = not failures
        held += ok
        label = "held" if ok else "NOT HELD"
        lines.append(f"[{label}] {case.category:11s} {case.name:24s} "
                     f"{total:4.1f}/{H.TOTAL:.0f} (at most {case.cap:.0f})  {case.why}")
        for f in failures:
            lines.append(f"      {f}")
    lines += ["", f"tried {tried}, held {held}"
              + (f" ({len(H.HOSTILE) - tried} not run in the {mode} sandbox)" if tried < len(H.HOSTILE) else ""),
              f"gradebook integrity: {'ok' if not batch.integrity else batch.integrity}"]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "hostile-report.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    assert len(H.HOSTILE) >= 20


# ------------------------------------------------------- no grading needed
def test_the_static_check_flags_no_catalogued_submission():
    """No solution, mutant or honest variant of any assignment counts as tampering (a false
    alarm would give an honest student 0)."""
    from nncourse.guard import (IPYTHON_NAMES, TAMPER, _bound_names, is_test, is_trusted, scan_source,
                                scan_test_variables)

    alarms = []
    for mod in harness.case_modules():
        # the test cells as the grader runs them: with their hidden tests
        source = nbformat.read(harness.SOLUTIONS / mod.ASSIGNMENT / f"{mod.NOTEBOOK}.ipynb", as_version=4)
        test_names, known = set(), set(IPYTHON_NAMES)
        protected = {"np", "numpy", "nnlib", "math", "builtins"}
        for c in source.cells:
            if c.cell_type == "code" and is_trusted(c):
                (test_names if is_test(c) else known).update(_bound_names(c.source))
                protected.update(_bound_names(c.source, definitions_only=True))
        for case in harness.cases_of(mod):
            try:
                nb = harness.build_submission(mod.ASSIGNMENT, mod.NOTEBOOK, case.replace,
                                              untouched=case.kind == "release")
            except harness.GradingError:
                continue  # a catalogue entry that no longer fits: test_grading_scores reports it
            student = {f"cell {i}": c.source for i, c in enumerate(nb.cells)
                       if c.cell_type == "code" and not is_trusted(c)}
            findings = [f for src in student.values() for f in scan_source(src, protected)]
            mine = set(known)
            for src in student.values():
                mine.update(_bound_names(src))
            findings += scan_test_variables(student, test_names, mine)
            alarms += [f"{mod.ASSIGNMENT} {case.student}: {f.text()}" for f in findings if f.severity == TAMPER]
    assert alarms == []


def test_the_static_check_sees_through_aliases_and_magics():
    from nncourse.guard import TAMPER, scan_source

    def tamper(src):
        return [f.what for f in scan_source(src, {"np", "check_close"}) if f.severity == TAMPER]

    assert tamper("m = np\nm.all = lambda *a: True")
    assert tamper("from numpy import testing as t\nt.assert_allclose = print")
    assert tamper("check_close.__code__ = (lambda *a: None).__code__")
    assert tamper("getattr(np, '__dict__')['all'] = 1")
    assert tamper("x = In[-1]")
    assert tamper("get_ipython().input_transformers_cleanup.append(f)")
    assert not tamper("%timeit np.ones(3)")
    assert not tamper("import matplotlib.pyplot as plt\nplt.rcParams['figure.dpi'] = 80")
    assert not tamper("def f(self):\n    self.A = np.zeros(3)\n    self.A[0] = 1")


def test_run_grader_sets_the_limits_of_the_grader_and_passes_them_on(tmp_path):
    from nncourse.sandbox import run_grader

    code = ("import os, resource; print(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20, "
            "resource.getrlimit(resource.RLIMIT_FSIZE)[0] >> 20, resource.getrlimit(resource.RLIMIT_CORE)[0], "
            "os.environ['NNCOURSE_KERNEL_MEMORY_MB'])")
    env = {**os.environ, "NNCOURSE_GRADER_MEMORY_MB": "3000", "NNCOURSE_FILE_SIZE_MB": "77",
           "NNCOURSE_KERNEL_MEMORY_MB": "1500"}
    r = run_grader([sys.executable, "-c", code], cwd=tmp_path, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["3000", "77", "0", "1500"]
