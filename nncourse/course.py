"""The course root as nbgrader sees it: its configuration, folders, gradebook and assignments.

:class:`Course` reads the same ``nbgrader_config.py`` files that nbgrader reads (the
Jupyter config folders, then the course root's own file), so that ``nncourse`` and
``nbgrader`` agree on the course id, the folders and the gradebook URL. It runs nbgrader
commands in the course root with the virtual environment first on ``PATH`` (nbgrader
starts ``alembic`` and the ``python3`` kernel from ``PATH``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

CONFIG_FILE = "nbgrader_config.py"
# held while submissions are collected or autograded (see Course.lock)
LOCK_FILE = ".nncourse.lock"
# assignment folders in the source directory: 02-strawman, 05-activations, ...
ASSIGNMENT_PATTERN = re.compile(r"^\d\d-[\w.-]+$")
# how long (s) a process waits for the SQLite gradebook when another one is writing it
SQLITE_BUSY_TIMEOUT = 120


class CourseError(RuntimeError):
    """A course step cannot run (no course root, an unknown assignment, nbgrader failed)."""


def venv_bin() -> Path:
    """The ``bin`` folder of the Python environment that runs nncourse."""
    return Path(sys.prefix) / "bin"


def nbgrader_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for nbgrader: this environment's ``bin`` first on PATH, its kernels on JUPYTER_PATH."""
    env = dict(os.environ if base is None else base)
    bin_dir = venv_bin()
    env["PATH"] = os.pathsep.join(p for p in [str(bin_dir), env.get("PATH", "")] if p)
    share = bin_dir.parent / "share" / "jupyter"
    if share.is_dir():
        env["JUPYTER_PATH"] = os.pathsep.join(p for p in [str(share), env.get("JUPYTER_PATH", "")] if p)
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


def nbgrader_executable() -> str:
    exe = venv_bin() / "nbgrader"
    if exe.exists():
        return str(exe)
    found = shutil.which("nbgrader")
    if found is None:
        raise CourseError("nbgrader is not installed: run `make install` (the grading extra) first")
    return found


def with_busy_timeout(db_url: str, seconds: float = SQLITE_BUSY_TIMEOUT) -> str:
    """For a SQLite URL, the same URL with ``?timeout=<seconds>`` unless it has a timeout already.

    SQLAlchemy's pysqlite driver passes ``timeout`` to :func:`sqlite3.connect`: a process
    that finds the gradebook locked by another writer waits up to that long instead of
    failing at once with "database is locked". Other databases are returned unchanged.
    """
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if not url.drivername.startswith("sqlite") or "timeout" in url.query:
        return db_url
    return url.update_query_dict({"timeout": f"{seconds:g}"}).render_as_string(hide_password=False)


def load_config(root: Path):
    """The merged nbgrader configuration of the course root, as nbgrader itself loads it."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    config = Config()
    # lowest precedence first: system, environment, user, then the course root
    for folder in [*reversed(jupyter_config_path()), str(root)]:
        path = Path(folder) / CONFIG_FILE
        if not path.is_file():
            continue
        try:
            config.merge(PyFileConfigLoader(CONFIG_FILE, path=str(folder)).load_config())
        except ConfigFileNotFound:  # pragma: no cover - raced with a deletion
            continue
    return config


@dataclass
class Notebooks:
    """The notebooks of one student's submitted folder against the assignment's notebooks."""

    present: list[str]        # notebook names (without .ipynb) of the assignment that were handed in
    missing: list[str]        # notebooks of the assignment that were not handed in
    extra: list[str] = field(default_factory=list)   # other notebooks in the folder (not graded)

    @property
    def gradable(self) -> bool:
        return bool(self.present)


class Course:
    """A course root: the folder with ``nbgrader_config.py``.

    Parameters
    ----------
    root : path
        The course root (the repository root for the real course).
    db_url : str, optional
        A gradebook URL that replaces the configured one for every nbgrader command this
        object starts (``--CourseDirectory.db_url=...``), for instance
        ``postgresql+psycopg2://grader@db.example.org/nn_part1``.
    """

    def __init__(self, root: str | os.PathLike = ".", db_url: str | None = None):
        self.root = Path(root).resolve()
        if not (self.root / CONFIG_FILE).is_file():
            raise CourseError(f"{self.root} is not a course root: it has no {CONFIG_FILE}")
        self.db_url_override = db_url or None

    # ---------------------------------------------------------------- configuration
    @cached_property
    def config(self):
        config = load_config(self.root)
        if "root" not in config.CourseDirectory:
            config.CourseDirectory.root = str(self.root)
        if self.db_url_override:
            config.CourseDirectory.db_url = self.db_url_override
        return config

    @cached_property
    def coursedir(self):
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(config=self.config)

    @property
    def course_id(self) -> str:
        return self.coursedir.course_id

    @property
    def db_url(self) -> str:
        """The gradebook URL nbgrader uses (for SQLite, with a busy timeout added)."""
        return with_busy_timeout(self.coursedir.db_url)

    def folder(self, kind: str, student: str = ".", assignment: str = "") -> Path:
        """``submitted``, ``autograded``, ``feedback``, ``source`` or ``release`` folder of a student and assignment."""
        name = getattr(self.coursedir, f"{kind}_directory")
        return Path(self.coursedir.format_path(name, student, assignment))

    def assignments(self) -> list[str]:
        """Every assignment folder (``NN-topic``) of the source directory, in order."""
        source = Path(self.coursedir.format_path(self.coursedir.source_directory, ".", ""))
        if not source.is_dir():
            return []
        return sorted(p.name for p in source.iterdir() if p.is_dir() and ASSIGNMENT_PATTERN.match(p.name))

    def gradebook(self):
        """An :class:`nbgrader.api.Gradebook` on the course's gradebook (use it in a ``with`` block)."""
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url, self.course_id)

    # --------------------------------------------------------------- submissions
    def submitted_students(self, assignment: str) -> list[str]:
        """Students with a folder ``submitted/<student>/<assignment>``, sorted."""
        base = Path(self.coursedir.format_path(self.coursedir.submitted_directory, ".", ""))
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir()
                      if p.is_dir() and (p / assignment).is_dir() and not p.name.startswith("."))

    def submitted_notebooks(self, assignment: str, student: str, expected: list[str]) -> Notebooks:
        """Which of the ``expected`` notebooks a student handed in, which are missing, which are extra."""
        folder = self.folder("submitted", student, assignment)
        handed_in = sorted(p.stem for p in folder.glob("*.ipynb")) if folder.is_dir() else []
        return Notebooks(present=[n for n in expected if n in handed_in],
                         missing=[n for n in expected if n not in handed_in],
                         extra=[n for n in handed_in if n not in expected])

    @contextlib.contextmanager
    def lock(self, what: str):
        """Hold the course's lock file while ``what`` runs (collecting and autograding exclude each other).

        A second ``collect``, ``zip-collect`` or ``autograde`` on the same course root, by
        the same or another grader, waits until the first has finished.
        """
        path = self.root / LOCK_FILE
        with open(path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.seek(0)
                holder = fh.read().strip() or "another nncourse step"
                print(f"   waiting for {holder} to finish ({path})", flush=True)
                fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            fh.truncate()
            fh.write(f"{what} (pid {os.getpid()})\n")
            fh.flush()
            try:
                yield
            finally:
                fh.seek(0)
                fh.truncate()
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ nbgrader
    def nbgrader_args(self, *args: str) -> list[str]:
        cmd = [nbgrader_executable(), *args]
        if self.db_url_override:
            cmd.append(f"--CourseDirectory.db_url={self.db_url_override}")
        return cmd

    def nbgrader(self, *args: str, check: bool = True, capture: bool = False) -> subprocess.CompletedProcess:
        """Run ``nbgrader <args>`` in the course root, its output going to ours (or captured)."""
        cmd = self.nbgrader_args(*args)
        proc = subprocess.run(cmd, cwd=self.root, env=nbgrader_env(),
                              capture_output=capture, text=True)
        if check and proc.returncode != 0:
            detail = f":\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}" if capture else ""
            raise CourseError(f"`nbgrader {' '.join(args)}` failed (exit {proc.returncode}){detail}")
        return proc
