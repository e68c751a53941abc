"""Where student code runs: the one function through which the autograder starts nbgrader.

:func:`run_grader` is the only place in :mod:`nncourse` that starts a process which
executes submissions (``nbgrader autograde ...``, whose kernels run the students' code).
Everything about *how* that process runs — limits, the user it runs as, its network —
belongs here, behind this signature, so that it can be tightened without touching the
scheduler in :mod:`nncourse.autograde`.

This version is deliberately simple: the command runs in a new session (its own process
group), with a wall-clock timeout; on timeout, or when the caller is interrupted, the whole
process group (nbgrader *and* the kernels it started) is killed. It does not confine the
code in any other way.

The contract, which callers rely on and a stricter version must keep:

* ``run_grader(cmd, *, cwd, env, timeout)`` blocks until the command has ended or
  ``timeout`` seconds have passed, and never raises for what the command does (a non-zero
  exit, a crash, a timeout): it returns a :class:`GraderResult`.
* ``cmd`` is a complete argument list (``[nbgrader, "autograde", "02-strawman",
  "--student=*", "--CourseDirectory.student_id_exclude=...", "--force", ...]``); it may
  grade one or several students.
* ``cwd`` is the course root, ``env`` the complete environment of the command.
* The result is a :class:`subprocess.CompletedProcess` (``args``, ``returncode``,
  ``stdout``, ``stderr`` as text) with two more attributes: ``timed_out`` (bool) and
  ``seconds`` (wall-clock duration). A process killed on timeout has a negative
  ``returncode`` (the signal) and ``timed_out=True``.
* When it returns, no process of the command's process group is left running.
* It is thread-safe: the autograder calls it from several threads at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["GraderResult", "run_grader"]


class GraderResult(subprocess.CompletedProcess):
    """What :func:`run_grader` returns: a CompletedProcess with ``timed_out`` and ``seconds``."""

    def __init__(self, args, returncode, stdout="", stderr="", *, timed_out=False, seconds=0.0):
        super().__init__(args, returncode, stdout, stderr)
        self.timed_out = timed_out
        self.seconds = seconds

    def __repr__(self) -> str:
        return (f"GraderResult(returncode={self.returncode}, timed_out={self.timed_out}, "
                f"seconds={self.seconds:.1f}, args={self.args!r})")


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_grader(cmd: Sequence[str], *, cwd: str | os.PathLike, env: Mapping[str, str],
               timeout: float) -> GraderResult:
    """Run ``cmd`` in ``cwd`` with environment ``env``; kill it (and its children) after ``timeout`` s.

    See the module documentation for the contract.
    """
    args = [str(a) for a in cmd]
    start = time.monotonic()
    try:
        proc = subprocess.Popen(args, cwd=Path(cwd), env=dict(env), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                errors="replace", start_new_session=True)
    except OSError as exc:  # the program is missing or not executable
        return GraderResult(args, 127, "", f"could not start {args[0]}: {exc}",
                            seconds=time.monotonic() - start)
    timed_out = False
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            out, err = proc.communicate()
            err = (err or "") + f"\n[nncourse] killed after the wall-clock timeout of {timeout:g} s\n"
    except BaseException:  # KeyboardInterrupt in the caller: leave nothing behind
        _kill_group(proc.pid)
        proc.wait()
        raise
    finally:
        # kernels or other children that outlived the command
        _kill_group(proc.pid)
    return GraderResult(args, proc.returncode, out or "", err or "", timed_out=timed_out,
                        seconds=time.monotonic() - start)
