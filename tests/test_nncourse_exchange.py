"""The round trip through nbgrader's exchange folder, with two students who are separate Unix users.

The instructor (this process) publishes the released 02-strawman to an exchange folder
(``python -m nncourse publish``). Two students, each a Unix account of their
own made for this test (``useradd``; the tests run as root in CI), fetch the assignment
with ``nbgrader fetch_assignment`` in their home folder, work on it (one hands in the
solution, the other a catalogued mistake) and hand it in with ``nbgrader submit``. The
instructor collects, autogrades and returns feedback (``nncourse collect``, ``autograde``,
``feedback``); each student fetches their own feedback with ``nbgrader fetch_feedback``.

When the Python of the virtual environment lies in a folder other users cannot enter
(a pyenv build under ``/root``), each student command runs in a mount namespace of its
own in which that folder is replaced by one that only shows the Python installation, and
then drops to the student's uid (``unshare``, ``setpriv``).

Not root (or no ``useradd``, or neither way works): the two students are the same Unix
user with different student ids (``--student=<id>`` for ``submit`` and ``fetch_feedback``,
and a home folder and nbgrader cache each), and the test says so in its output; the
permission checks between students are then skipped.
"""

from __future__ import annotations

import concurrent.futures
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest

import nncourse_helpers as h
from grading import harness

STUDENTS = {"alice": "solution", "bob": "gradient_sign"}


# In a private mount namespace: hide the folder $1 (not enterable by others) behind an empty
# world-readable one that shows only $1/$2 (the Python installation), then become uid $3 / gid $4.
UNVEIL = """set -e
mount --bind "$1/$2" "$5"
mount -t tmpfs -o mode=755,size=1m nncourse "$1"
mkdir -p "$1/$2"
mount --bind "$5" "$1/$2"
uid=$3; gid=$4; shift 5
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
"""


def _hidden_python() -> tuple[Path, str] | None:
    """(folder others cannot enter, the entry in it that holds the Python), or None if all is reachable."""
    real = Path(os.path.realpath(harness.nbgrader_executable()))
    interpreter = Path(os.path.realpath(Path(harness.nbgrader_executable()).parent / "python3"))
    for target in (real, interpreter):
        parts = target.parts
        for i in range(1, len(parts) - 1):
            folder = Path(*parts[:i + 1])
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                return folder, parts[i + 1]
    return None


class Students:
    """Runs commands as each student: a Unix user of their own, or (fallback) one user, two ids."""

    def __init__(self, base: Path, exchange: Path):
        self.base, self.exchange = base, exchange
        self.unix = os.geteuid() == 0 and shutil.which("useradd") is not None
        self.unveil = _hidden_python() if self.unix else None
        self.how = ""
        self.users: dict[str, pwd.struct_passwd] = {}
        self.ids: dict[str, str] = {}
        self.homes: dict[str, Path] = {}
        tag = secrets.token_hex(3)
        for name in STUDENTS:
            home = base / name
            home.mkdir()
            self.homes[name] = home
            if self.unix:
                user = f"nns-{name}-{tag}"
                r = subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/sh",
                                    "--user-group", user], capture_output=True, text=True)
                if r.returncode != 0:
                    self.cleanup()
                    self.unix = False
                    print(f"useradd failed ({r.stderr.strip()}); falling back to student ids")
                    return self._fallback()
                self.users[name] = pwd.getpwnam(user)
                os.chown(home, self.users[name].pw_uid, self.users[name].pw_gid)
                os.chmod(home, 0o700)
                self.ids[name] = user
            else:
                self.ids[name] = name
            self._config(name)
        if self.unix and not self._can_run(next(iter(STUDENTS))):
            self.cleanup()
            self.unix = False
            self._fallback()
        print(f"students are separate Unix users{self.how}" if self.unix else
              f"students are distinct student ids of one Unix user{self.how}")

    def _can_run(self, name: str) -> bool:
        python = str(Path(harness.nbgrader_executable()).parent / "python3")
        r = self.run(name, "-c", "import traitlets", check=False, program=python)
        if r.returncode == 0:
            self.how = " (in a mount namespace that shows them the Python)" if self.unveil else ""
            return True
        self.how = f" (a student cannot run nbgrader: {(r.stderr or r.stdout).strip()[-300:]})"
        return False

    def _fallback(self):
        self.users = {}
        self.unveil = None
        for name in STUDENTS:
            self.ids[name] = name
            self._config(name)

    def _config(self, name: str) -> None:
        """What a JupyterHub gives each student: the course id and the exchange in a config file."""
        cfg = self.homes[name] / "nbgrader_config.py"
        cfg.write_text(f"c = get_config()\nc.CourseDirectory.course_id = {harness.COURSE_ID!r}\n"
                       f"c.Exchange.root = {str(self.exchange)!r}\n")
        self.chown(name, cfg)

    def chown(self, name: str, path: Path) -> None:
        if name in self.users:
            u = self.users[name]
            for p in [path, *(path.rglob("*") if path.is_dir() else [])]:
                os.chown(p, u.pw_uid, u.pw_gid)

    def run(self, name: str, *args: str, check: bool = True, program: str | None = None) -> subprocess.CompletedProcess:
        """``nbgrader <args>`` (or ``program <args>``) as the student, in their home folder."""
        home = self.homes[name]
        program = program or harness.nbgrader_executable()
        env = harness.nbgrader_env(self.exchange)
        env.update(HOME=str(home), JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
                   JUPYTER_CONFIG_DIR=str(home / ".jupyter"), JUPYTER_RUNTIME_DIR=str(home / ".runtime"))
        kw = {}
        cmd = [program, *args]
        if name in self.users:
            u = self.users[name]
            env.update(USER=u.pw_name, LOGNAME=u.pw_name)
            if self.unveil:
                hold = self.base / f".python-{name}"
                hold.mkdir(exist_ok=True)
                folder, entry = self.unveil
                cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c", UNVEIL, "sh",
                       str(folder), entry, str(u.pw_uid), str(u.pw_gid), str(hold), *cmd]
            else:
                kw = dict(user=u.pw_uid, group=u.pw_gid, extra_groups=[])
        elif args and args[0] in ("submit", "fetch_feedback"):
            args = (*args, f"--student={self.ids[name]}")
            cmd = [program, *args]
        try:
            proc = subprocess.run(cmd, cwd=home, env=env, capture_output=True, text=True, timeout=600, **kw)
        except OSError as exc:
            proc = subprocess.CompletedProcess(cmd, 126, "", str(exc))
        if check:
            assert proc.returncode == 0, f"{name}: nbgrader {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def as_user(self, name: str, cmd: list[str]) -> subprocess.CompletedProcess:
        u = self.users[name]
        return subprocess.run(cmd, capture_output=True, text=True, user=u.pw_uid, group=u.pw_gid,
                              extra_groups=[], env={"PATH": "/usr/bin:/bin"})

    def cleanup(self) -> None:
        for u in self.users.values():
            subprocess.run(["userdel", u.pw_name], capture_output=True)


def _step(*args, course, exchange):
    proc = h.nncourse(*args, course=course, env=harness.nbgrader_env(exchange))
    assert proc.returncode == 0, f"nncourse {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    course = h.new_course(tmp_path_factory.mktemp("exchange") / "course")  # released already
    # a folder every student can reach: the exchange (world-writable, as nbgrader wants it) and the homes
    base = Path(tempfile.mkdtemp(prefix="nncourse-exchange-"))
    os.chmod(base, 0o755)
    exchange = base / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777 | stat.S_ISVTX)
    homes = base / "home"
    homes.mkdir()
    os.chmod(homes, 0o755)
    students = Students(homes, exchange)
    try:
        _step("publish", h.ASSIGNMENT, course=course, exchange=exchange)
        def work(name: str) -> None:
            kind = STUDENTS[name]
            students.run(name, "fetch_assignment", h.ASSIGNMENT)
            folder = students.homes[name] / h.ASSIGNMENT
            mistake = () if kind == "solution" else h.mutant(kind)["replace"]
            nb = harness.build_submission(h.ASSIGNMENT, h.NOTEBOOK, mistake, release_dir=folder)
            nbformat.write(nb, folder / f"{h.NOTEBOOK}.ipynb")
            students.chown(name, folder)
            students.run(name, "submit", h.ASSIGNMENT)

        # the students work at the same time, as in a real class
        with concurrent.futures.ThreadPoolExecutor(len(STUDENTS)) as pool:
            list(pool.map(work, STUDENTS))
        _step("collect", h.ASSIGNMENT, course=course, exchange=exchange)
        _step("autograde", h.ASSIGNMENT, course=course, exchange=exchange)
        _step("feedback", h.ASSIGNMENT, course=course, exchange=exchange)
        with concurrent.futures.ThreadPoolExecutor(len(STUDENTS)) as pool:
            list(pool.map(lambda name: students.run(name, "fetch_feedback", h.ASSIGNMENT), STUDENTS))
        yield course, exchange, students
    finally:
        students.cleanup()
        shutil.rmtree(base, ignore_errors=True)


def test_each_student_submitted_under_their_own_id(round_trip):
    course, exchange, students = round_trip
    inbound = sorted(p.name for p in (exchange / harness.COURSE_ID / "inbound").iterdir())
    assert len(inbound) == 2, inbound
    for name in STUDENTS:
        sid = students.ids[name]
        assert any(p.startswith(f"{sid}+{h.ASSIGNMENT}+") for p in inbound), (sid, inbound)
        assert (course / "submitted" / sid / h.ASSIGNMENT / f"{h.NOTEBOOK}.ipynb").is_file()
        assert (course / "submitted" / sid / h.ASSIGNMENT / "timestamp.txt").is_file()
        if students.unix:  # the submission belongs to the student who made it
            owner = next((exchange / harness.COURSE_ID / "inbound").glob(f"{sid}+*")).stat().st_uid
            assert owner == students.users[name].pw_uid


def test_grades_follow_what_each_student_handed_in(round_trip):
    course, _, students = round_trip
    auto = {s: {g: v for g, v in per.items() if v.auto} for s, per in harness.scores(course, h.ASSIGNMENT).items()}
    alice, bob = auto[students.ids["alice"]], auto[students.ids["bob"]]
    assert alice and all(v.score == v.max_score for v in alice.values())
    assert {g for g, v in bob.items() if v.score < v.max_score} == h.mutant("gradient_sign")["fails"]


def test_each_student_gets_their_own_feedback(round_trip):
    _, _, students = round_trip
    for name in STUDENTS:
        pages = list((students.homes[name] / h.ASSIGNMENT / "feedback").glob(f"*/{h.NOTEBOOK}.html"))
        assert len(pages) == 1, (name, pages)
        page = pages[0].read_text()
        assert "BEGIN HIDDEN TESTS" not in page
    bob = next((students.homes["bob"] / h.ASSIGNMENT / "feedback").glob(f"*/{h.NOTEBOOK}.html")).read_text()
    alice = next((students.homes["alice"] / h.ASSIGNMENT / "feedback").glob(f"*/{h.NOTEBOOK}.html")).read_text()
    assert bob != alice and "AssertionError" in bob


def test_students_cannot_see_each_others_work(round_trip):
    _, exchange, students = round_trip
    if not students.unix:
        pytest.skip("one Unix user plays both students: no permissions between them to check")
    inbound = exchange / harness.COURSE_ID / "inbound"
    r = students.as_user("bob", ["ls", str(inbound)])
    assert r.returncode != 0, f"bob can list the submissions of others:\n{r.stdout}"
    r = students.as_user("bob", ["ls", str(students.homes["alice"])])
    assert r.returncode != 0, "bob can read alice's home folder"
