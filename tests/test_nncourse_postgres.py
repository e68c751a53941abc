"""The gradebook on PostgreSQL: parallel autograding into a real server gives SQLite's scores.

A throw-away PostgreSQL server (Debian's ``postgresql`` package, which ``.ci/run``
installs) is started for this module: ``initdb`` and ``pg_ctl`` from
``/usr/lib/postgresql/*/bin`` in a temporary folder, on a free localhost port, as the
``postgres`` user when the tests run as root. Four students of the small class are
released and autograded with ``--db-url postgresql+psycopg2://...`` and their scores
compared with the same submissions graded sequentially into SQLite.

Without the server binaries the module is skipped, unless ``NNCOURSE_REQUIRE_POSTGRES=1``
(set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import nncourse_helpers as h

pytest.importorskip("psycopg2", reason="psycopg2-binary (the grading extra) is not installed")


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4])
                   if Path(p).parts[4].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as(user: pwd.struct_passwd | None, cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Run ``cmd`` as ``user`` (when we are root), else as ourselves."""
    if user is not None:
        kw.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": tempfile.gettempdir()}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, **kw)


@pytest.fixture(scope="module")
def postgres():
    """A running PostgreSQL server; yields the SQLAlchemy URL of an empty database ``gradebook``."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        msg = "PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does)"
        if os.environ.get("NNCOURSE_REQUIRE_POSTGRES") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    user = None
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root, and there is no postgres user to run the server as")
    base = Path(tempfile.mkdtemp(prefix="nncourse-pg-"))
    data, sock = base / "data", base / "socket"
    sock.mkdir()
    if user is not None:
        for p in (base, sock):
            os.chown(p, user.pw_uid, user.pw_gid)
    port = _free_port()
    try:
        r = _run_as(user, [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "grader",
                           "-E", "UTF8", "--no-sync"])
        assert r.returncode == 0, f"initdb failed:\n{r.stdout}\n{r.stderr}"
        r = _run_as(user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
                           "-t", "60", "-o", f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off",
                           "start"])
        assert r.returncode == 0, (f"pg_ctl start failed:\n{r.stdout}\n{r.stderr}\n"
                                   f"{(base / 'server.log').read_text() if (base / 'server.log').exists() else ''}")
        import psycopg2

        for _ in range(50):
            try:
                conn = psycopg2.connect(host="127.0.0.1", port=port, user="grader", dbname="postgres")
                break
            except psycopg2.OperationalError:
                time.sleep(0.2)
        else:
            pytest.fail("the PostgreSQL server does not accept connections")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE gradebook")
        conn.close()
        yield f"postgresql+psycopg2://grader@127.0.0.1:{port}/gradebook"
    finally:
        _run_as(user, [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


# four of the small class: two concurrent batches of two
CLASS = {s: h.SMALL_CLASS[s] for s in ("ada", "ben", "dan", "finn")}


@pytest.fixture(scope="module")
def graded(postgres, tmp_path_factory):
    course = h.new_course(tmp_path_factory.mktemp("postgres") / "course")
    (course / "gradebook.db").unlink()  # so that nothing can quietly use SQLite
    steps = {"release": h.nncourse("release", h.ASSIGNMENT, "--db-url", postgres, course=course)}
    h.hand_in(course, CLASS)
    steps["autograde"] = h.nncourse("autograde", h.ASSIGNMENT, "--jobs", "2", "--db-url", postgres, course=course)
    steps["report"] = h.nncourse("report", "--db-url", postgres, course=course)
    for name, proc in steps.items():
        assert proc.returncode == 0, f"{name}:\n{proc.stdout}\n{proc.stderr}"
    return course, postgres, steps


def test_parallel_autograding_into_postgresql_gives_the_sqlite_scores(graded):
    course, url, steps = graded
    assert "4 submission(s): 4 graded" in steps["autograde"].stdout, steps["autograde"].stdout
    assert "every submission is accounted for" in steps["autograde"].stdout
    sqlite = h.scores(h.sqlite_url(h.sequential_class()))
    assert h.scores(url) == {s: sqlite[s] for s in CLASS}
    assert not (course / "gradebook.db").exists(), "a SQLite gradebook was created beside PostgreSQL"


def test_report_reads_the_postgresql_gradebook(graded):
    course, _, _ = graded
    md = (course / "report" / "index.md").read_text()
    assert f"## {h.ASSIGNMENT}" in md and "4 submitted, 4 autograded" in md, md[:2000]
