"""The whole course flow, as an instructor runs it, on a demo class: `make demo`.

release -> publish to the exchange -> students fetch and submit -> collect -> autograde
-> written answers graded by hand -> feedback (generated and returned) -> grades.csv.
The demo class has a perfect, a partial and an untouched submission.
"""

from __future__ import annotations

import csv
import subprocess

import pytest

from grading import harness

MODULES = harness.case_modules()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    if not MODULES:
        pytest.fail("no catalogue in tests/grading/cases to make a demo class from")
    assignment = MODULES[0].ASSIGNMENT
    demo_dir = tmp_path_factory.mktemp("course") / "demo"
    proc = subprocess.run(["make", "--no-print-directory", "demo", f"DEMO_DIR={demo_dir}",
                           f"ASSIGNMENTS={assignment}"],
                          cwd=harness.ROOT, env=harness.nbgrader_env(), capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f"make demo failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-5000:]}"
    return assignment, MODULES[0].NOTEBOOK, demo_dir, proc.stdout


def test_demo_prints_the_grades(demo):
    assignment, _, demo_dir, out = demo
    with open(demo_dir / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh) if r["assignment"] == assignment}
    assert set(rows) == {"demo-perfect", "demo-partial", "demo-untouched"}
    score = {s: float(r["score"]) for s, r in rows.items()}
    full = {float(r["max_score"]) for r in rows.values()}
    assert len(full) == 1 and full.pop() > 0
    max_score = float(rows["demo-perfect"]["max_score"])
    assert score["demo-perfect"] == max_score, score
    assert score["demo-untouched"] == 0, score
    assert 0 < score["demo-partial"] < max_score, score
    assert "student_id" in out and "demo-perfect" in out, "make demo should print the CSV"


def test_demo_went_through_the_exchange(demo):
    assignment, notebook, demo_dir, _ = demo
    exchange = demo_dir / ".exchange" / harness.COURSE_ID
    assert (exchange / "outbound" / assignment / f"{notebook}.ipynb").is_file(), "the assignment was not published"
    inbound = [p.name for p in (exchange / "inbound").iterdir()]
    for student in ("demo-perfect", "demo-partial", "demo-untouched"):
        assert any(name.startswith(f"{student}+{assignment}+") for name in inbound), f"{student} did not submit"
        assert (demo_dir / "submitted" / student / assignment / f"{notebook}.ipynb").is_file(), f"{student} not collected"
        assert (demo_dir / "feedback" / student / assignment / f"{notebook}.html").is_file(), f"no feedback for {student}"
    returned = list((exchange / "feedback").glob("*.html"))
    assert len(returned) == 3, f"feedback returned through the exchange: {returned}"


def test_zip_collect_reads_lms_downloads(demo, tmp_path):
    """`make zip-collect`: loose files and zip files named <student>_<notebook>.ipynb -> submitted/."""
    import zipfile

    assignment, notebook, demo_dir, _ = demo
    archive = tmp_path / "downloaded" / assignment / "archive"
    archive.mkdir(parents=True)
    released = (demo_dir / "exercises" / assignment / f"{notebook}.ipynb").read_bytes()
    (archive / f"zoe_{notebook}.ipynb").write_bytes(released)
    with zipfile.ZipFile(archive / "batch.zip", "w") as zf:
        zf.writestr(f"yan_{notebook}.ipynb", released)
    proc = subprocess.run(["make", "--no-print-directory", "zip-collect", f"COURSE_DIR={demo_dir}",
                           f"ZIP_DIR={tmp_path / 'downloaded'}", f"ASSIGNMENTS={assignment}"],
                          cwd=harness.ROOT, env=harness.nbgrader_env(), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for student in ("zoe", "yan"):
        path = demo_dir / "submitted" / student / assignment / f"{notebook}.ipynb"
        assert path.is_file(), f"{student}'s download was not collected:\n{proc.stderr[-3000:]}"
    # graded with the others; their feedback is written, but cannot go back through the exchange
    # (an LMS download has no nbgrader time stamp or secret): the feedback step says so and
    # returns the others' (it stopped with a FileNotFoundError on timestamp.txt before)
    for step in ("autograde", "feedback"):
        proc = subprocess.run(["make", "--no-print-directory", step, f"COURSE_DIR={demo_dir}",
                               f"ASSIGNMENTS={assignment}"],
                              cwd=harness.ROOT, env=harness.nbgrader_env(), capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, f"make {step}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "2 submission(s) did not come through the exchange" in proc.stdout, proc.stdout[-3000:]
    assert "yan, zoe" in proc.stdout
    for student in ("zoe", "yan"):
        assert (demo_dir / "feedback" / student / assignment / f"{notebook}.html").is_file()
    returned = list((demo_dir / ".exchange" / harness.COURSE_ID / "feedback").glob("*.html"))
    assert len(returned) == 3, f"only the three exchange submissions' feedback is returned: {returned}"
