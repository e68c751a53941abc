"""``python -m nncourse autograde``: parallel autograding gives nbgrader's scores and loses nothing.

A class of six (the solution, the untouched release and four catalogued mistakes of
02-strawman) is graded once by one sequential ``nbgrader autograde`` and once by
``nncourse autograde`` with two workers; the gradebooks must hold the same points for
every student and cell. A second class has the awkward cases: a late submission, a
student on the roster who handed in nothing, a misnamed notebook, an extra notebook and a
file that is not a notebook; they are graded one student per command by three workers
(the most concurrent writers of the SQLite gradebook) and reported, never a crash.
"""

from __future__ import annotations

import csv
import json

import nbformat
import pytest

import nncourse_helpers as h
from grading import harness
from nncourse import autograde as ag
from nncourse.sandbox import run_grader


# ------------------------------------------------------------------ the sandbox
def test_run_grader_returns_output_and_exit_code(tmp_path):
    import sys

    r = run_grader([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"],
                   cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert (r.returncode, r.stdout.strip(), r.stderr.strip(), r.timed_out) == (3, "out", "err", False)


def test_run_grader_kills_the_process_group_on_timeout(tmp_path):
    import os
    import sys
    import time

    # a child that would outlive its parent: it writes its pid, then sleeps
    code = ("import subprocess, sys, time\n"
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
            f"open({str(tmp_path / 'pid')!r}, 'w').write(str(p.pid))\n"
            "time.sleep(600)\n")
    t = time.monotonic()
    r = run_grader([sys.executable, "-c", code], cwd=tmp_path, env=dict(os.environ), timeout=3)
    assert r.timed_out and r.returncode < 0 and time.monotonic() - t < 60
    pid = int((tmp_path / "pid").read_text())
    for _ in range(50):  # the orphaned grandchild is gone too
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the child of the timed-out command is still running")


def test_run_grader_reports_a_missing_program(tmp_path):
    r = run_grader([str(tmp_path / "no-such-program")], cwd=tmp_path, env={}, timeout=10)
    assert r.returncode != 0 and not r.timed_out


def test_batches_cover_every_student_once():
    students = [f"s{i:03d}" for i in range(200)]
    for jobs, size in [(2, None), (3, None), (8, None), (2, 1), (2, 7)]:
        batches = ag.plan_batches(students, jobs, size)
        assert sorted(s for b in batches for s in b) == students
        if size is None:
            assert len(batches) % jobs == 0 and max(map(len, batches)) <= ag.MAX_BATCH
            assert max(map(len, batches)) - min(map(len, batches)) <= 1
        else:
            assert max(map(len, batches)) == size
    assert ag.plan_batches(students[:3], 8) == [["s000"], ["s001"], ["s002"]]
    assert ag.plan_batches([], 2) == []


# ------------------------------------------------------- parallel == sequential
@pytest.fixture(scope="module")
def parallel():
    return h.parallel_class()


def test_parallel_scores_equal_sequential_scores(parallel):
    course, proc = parallel
    assert proc.returncode == 0, proc.stdout + proc.stderr
    sequential = h.scores(h.sqlite_url(h.sequential_class()))
    got = h.scores(h.sqlite_url(course))
    assert set(got) == set(h.SMALL_CLASS) == set(sequential)
    assert got == sequential
    # and the scores are the catalogue's: the solution passes every test, the mutants fail theirs
    auto = {s: {g: v for g, v in per.items() if v.auto} for s, per in harness.scores(course, h.ASSIGNMENT).items()}
    assert auto["ada"] and all(v.score == v.max_score for v in auto["ada"].values())
    for student in ("cleo", "dan", "eve", "finn"):
        lost = {g for g, v in auto[student].items() if v.score < v.max_score}
        assert lost == h.mutant(h.SMALL_CLASS[student])["fails"], (student, lost)


def test_parallel_run_loses_nothing_and_needs_no_retry(parallel):
    course, proc = parallel
    out = proc.stdout
    assert "6 submission(s): 6 graded" in out, out
    assert "every submission is accounted for in the gradebook" in out, out
    assert "graded again" not in out and "database is locked" not in (out + proc.stderr), out + proc.stderr
    for student in h.SMALL_CLASS:
        assert (course / "autograded" / student / h.ASSIGNMENT / f"{h.NOTEBOOK}.ipynb").is_file()


def test_a_second_run_grades_only_what_changed(parallel):
    course, _ = parallel
    proc = h.nncourse("autograde", h.ASSIGNMENT, course=course)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nothing new to grade (6 submission(s))" in proc.stdout, proc.stdout


# --------------------------------------------------------------- awkward cases
EDGE_CLASS = {"on-time": "solution", "late": "solution", "extra": "solution", "mistake": "gradient_sign"}
DUE = "2024-03-01 12:00:00 UTC"
NAMES = {"on-time": ("Zoë", "Silva, Jr.")}      # a comma, as a class list may hold; not ASCII


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    course = h.new_course(tmp_path_factory.mktemp("edge") / "course")
    # this course's policy: a late submission scores 0
    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    h.hand_in(course, EDGE_CLASS)
    sub = course / "submitted"
    (sub / "on-time" / h.ASSIGNMENT / "timestamp.txt").write_text("2024-03-01 11:00:00.000000 UTC")
    (sub / "late" / h.ASSIGNMENT / "timestamp.txt").write_text("2024-03-02 18:00:00.000000 UTC")
    nbformat.write(h.submission("solution"), sub / "extra" / h.ASSIGNMENT / "scratch.ipynb")
    (sub / "misnamed" / h.ASSIGNMENT).mkdir(parents=True)
    nbformat.write(h.submission("solution"), sub / "misnamed" / h.ASSIGNMENT / "strawman (1).ipynb")
    (sub / "broken" / h.ASSIGNMENT).mkdir(parents=True)
    (sub / "broken" / h.ASSIGNMENT / f"{h.NOTEBOOK}.ipynb").write_text('{"cells": [ this is not JSON')
    roster = course / "roster.csv"     # as a spreadsheet saves it: a byte-order mark, semicolons
    roster.write_text("\ufeffID;First_Name;Last_Name;Email;Group\r\n"
                      + "".join(";".join([s, *NAMES.get(s, (s.title(), "Student")), f"{s}@example.org", "A"]) + "\r\n"
                                for s in [*EDGE_CLASS, "misnamed", "broken", "absent"]
                                if s != "extra"), encoding="utf-8")          # not on the class list
    steps = {}
    steps["roster"] = h.nncourse("roster", str(roster), course=course)
    steps["due"] = h.nncourse("due", h.ASSIGNMENT, DUE, course=course)
    steps["autograde"] = h.nncourse("autograde", h.ASSIGNMENT, "--jobs", "3", "--batch-size", "1", course=course)
    steps["report"] = h.nncourse("report", course=course)
    steps["grades"] = h.nncourse("grades", course=course)
    for name in ("roster", "due", "report", "grades"):
        assert steps[name].returncode == 0, f"{name}:\n{steps[name].stdout}\n{steps[name].stderr}"
    return course, steps


def test_a_failed_submission_is_reported_retried_and_spares_the_others(edge):
    course, steps = edge
    proc = steps["autograde"]
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr           # something could not be graded ...
    assert "Traceback" not in proc.stderr, proc.stderr       # ... which is reported, not a crash
    assert "FAILED broken (tried 2 times)" in out, out
    assert "4 graded" in out, out                            # on-time, late, extra, mistake
    for student in EDGE_CLASS:
        assert (course / "autograded" / student / h.ASSIGNMENT / f"{h.NOTEBOOK}.ipynb").is_file(), student


def test_missing_and_extra_notebooks_are_reported(edge):
    _, steps = edge
    out = steps["autograde"].stdout
    assert "not on the class list (make roster), graded and added to the gradebook: extra\n" in out, out
    assert "nothing to grade for misnamed" in out and "strawman (1).ipynb" in out, out
    assert "extra: extra notebook(s) scratch.ipynb (not graded)" in out, out


def test_grades_csv_has_every_student_of_the_roster(edge):
    course, _ = edge
    with open(course / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {*EDGE_CLASS, "misnamed", "broken", "absent"}
    # a name with a comma in it stays in its column (nbgrader's own export quotes nothing)
    assert (rows["on-time"]["first_name"], rows["on-time"]["last_name"]) == NAMES["on-time"]
    assert rows["on-time"]["email"] == "on-time@example.org"
    assert rows["on-time"]["duedate"] == "2024-03-01 12:00:00"        # UTC, as the gradebook stores it
    assert rows["on-time"]["timestamp"].startswith("2024-03-01 11:00:00")
    for row in rows.values():                                         # rounded: no 0.30000000000000004
        for key in ("raw_score", "late_submission_penalty", "score", "max_score"):
            assert len(row[key].partition(".")[2]) <= 6, row
    # the solution's points (the written answers are still to be graded by hand)
    points = float(rows["on-time"]["score"])
    assert 0 < points <= float(rows["on-time"]["max_score"])
    assert float(rows["late"]["raw_score"]) == points and float(rows["late"]["score"]) == 0.0
    assert float(rows["late"]["late_submission_penalty"]) == points
    for student in ("absent", "misnamed", "broken"):
        assert float(rows[student]["score"]) == 0.0, student


def test_report_lists_late_missing_and_failing(edge):
    course, _ = edge
    report = course / "report"
    md = (report / "index.md").read_text()
    data = {r["assignment"]: r for r in json.loads((report / "report.json").read_text())}[h.ASSIGNMENT]
    students = data["students"]
    assert students["absent"]["status"] == "no submission" and students["absent"]["score"] == 0
    assert students["late"]["seconds_late"] == 30 * 3600 and students["late"]["score"] == 0
    assert students["late"]["penalty"] == students["late"]["raw"] > 0
    auto_points = sum(i["max_score"] for i in data["items"] if not i["manual"])
    assert students["on-time"]["seconds_late"] == 0 and students["on-time"]["score"] == auto_points
    assert students["broken"]["status"] == "not autograded"
    assert students["extra"]["extra"] == ["scratch"]
    late_section = md.split("### Late submissions")[1].split("###")[0]
    assert "| late |" in late_section and "1.2 days" in late_section, late_section
    assert "on-time" not in late_section
    absent_section = md.split("### No submission (0 points)")[1].split("###")[0]
    assert "absent" in absent_section
    attention = md.split("### Needs attention")[1].split("##")[0]
    assert "misnamed: not autograded (no notebook of the assignment was handed in)" in attention, attention
    assert "broken: not autograded (autograding failed" in attention, attention
    assert "extra: extra notebook(s) scratch.ipynb" in attention, attention
    assert "misnamed: extra notebook(s) strawman (1).ipynb" in attention, attention
