"""The course steps' checks of what the instructor types: the class list and the due date.

A typo must stop the step with a message that says what to write, before the gradebook
changes (``make due`` with a misspelt assignment used to add that assignment to it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import nncourse_helpers as h
from nncourse.cli import read_roster
from nncourse.course import CourseError


@pytest.mark.parametrize("text", [
    "id,first_name,last_name,email\nada,Ada,Lovelace,ada@example.org\nben,Ben,,\n",
    "\ufeffID;First_Name;Last_Name;E-mail\r\nada;Ada;Lovelace;ada@example.org\r\nben;Ben;;\r\n",   # Excel
    "id\tfirst_name\nada\tAda\n\nben\tBen\n",                                                 # tabs, a blank line
])
def test_read_roster_reads_what_spreadsheets_write(tmp_path: Path, text):
    path = tmp_path / "students.csv"
    path.write_text(text, encoding="utf-8")
    rows = read_roster(path)
    assert [r["id"] for r in rows] == ["ada", "ben"]
    assert rows[0]["first_name"] == "Ada" and rows[1]["first_name"] == "Ben"
    assert all(set(r) <= {"id", "first_name", "last_name", "email"} for r in rows)


@pytest.mark.parametrize("text, message", [
    ("name,email\nAda,ada@example.org\n", r"has the columns \['name', 'email'\] but none named 'id'"),
    ("id,first_name\nada,Ada\n,Ben\n", "line 3 of the roster .* has no id"),
    ("id\nada\nben\nada\n", "the id 'ada' is on lines 2 and 4"),
    ("", "is empty; its first line names the columns: id,first_name,last_name,email"),
    ("id,email\n", "names no students"),
])
def test_read_roster_names_what_is_wrong(tmp_path: Path, text, message):
    path = tmp_path / "students.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CourseError, match=message):
        read_roster(path)


def test_due_refuses_an_unknown_assignment_and_an_unreadable_date(tmp_path: Path):
    course = h.new_course(tmp_path / "course")
    db = course / "gradebook.db"
    before = db.read_bytes()
    typo = h.nncourse("due", "02-stawman", "2025-11-03 23:59:00 Europe/Berlin", course=course)
    assert typo.returncode == 2
    assert "no assignment '02-stawman'" in typo.stderr and "02-strawman" in typo.stderr, typo.stderr
    date = h.nncourse("due", h.ASSIGNMENT, "next friday", course=course)
    assert date.returncode == 2 and "Traceback" not in date.stderr, date.stderr
    assert "cannot read the due date 'next friday'" in date.stderr
    assert '"2025-11-03 23:59:00 Europe/Berlin"' in date.stderr
    assert db.read_bytes() == before                       # the gradebook is as it was
    ok = h.nncourse("due", h.ASSIGNMENT, "2025-11-03 23:59:00 Europe/Berlin", course=course)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "stored as 2025-11-03 22:59:00 UTC" in ok.stdout


def test_autograde_stops_before_grading_when_no_sandbox_can_start_a_kernel(tmp_path: Path, monkeypatch):
    """Every kernel would fail: the step says why at once instead of failing every student twice."""
    from nncourse import preflight, sandbox
    from nncourse.course import Course

    def refuse():
        raise sandbox.SandboxError("cannot isolate the grading kernels (isolated: ...; user: ...)")
    monkeypatch.setattr(sandbox, "sandbox_mode", refuse)
    course = Course(h.new_course(tmp_path / "course"))
    with pytest.raises(CourseError, match=r"no submission can be graded: cannot isolate the grading kernels"):
        preflight.before_grading(course, h.ASSIGNMENT, [], log=lambda m: None)
    preflight.before_grading(course, h.ASSIGNMENT, [], log=lambda m: None, kernels=False)   # nothing to grade


def test_a_python_below_a_closed_folder_is_named():
    import shutil
    import tempfile

    from nncourse.sandbox import _closed_folder

    top = Path(tempfile.mkdtemp(dir="/tmp"))       # pytest's own temporary folders are closed (700)
    try:
        top.chmod(0o755)
        home = top / "home"
        (home / "pyenv" / "bin").mkdir(parents=True)
        python = home / "pyenv" / "bin" / "python"
        python.write_text("")
        if _closed_folder(top / "x") is not None:
            pytest.skip("/tmp lies below a folder closed to other users on this machine")
        home.chmod(0o700)
        assert _closed_folder(python) == str(home)
        home.chmod(0o755)
        assert _closed_folder(python) is None
    finally:
        shutil.rmtree(top, ignore_errors=True)
