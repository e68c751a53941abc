"""Where student code runs: the grading processes and the notebook kernels, under limits.

Two things start processes that execute submissions:

* :func:`run_grader` starts ``nbgrader autograde ...`` (the scheduler in
  :mod:`nncourse.autograde` calls it, from several threads at once). The grader process runs
  as the instructor: it needs the gradebook.
* nbgrader's ``Execute`` step starts one Jupyter kernel per notebook, and the kernel runs the
  student's code. ``nbgrader_config.py`` sets :class:`SandboxKernelManager` as the kernel
  manager of the autograde step (through :class:`nncourse.guard.GuardedExecute`), so every
  kernel of an autograde run is started through :func:`kernel_command`, whoever started
  nbgrader (``python -m nncourse autograde``, ``make autograde`` or plain ``nbgrader autograde``).

What the kernel gets depends on what the machine allows (:func:`sandbox_mode`):

``isolated`` (root, and Linux namespaces work: the default on a course server and in CI)
    The kernel runs as an unprivileged uid of its own (one of ``NNCOURSE_SANDBOX_UIDS``,
    61100-61163 by default, group ``nbgrader-sandbox``; no two kernels share a uid) in new
    mount, network, PID and IPC namespaces: no network at all (it talks to nbgrader over
    Unix sockets), it sees no other process, the course root, the repository, ``/root`` and
    ``/home`` are replaced by empty folders except for the Python installation and ``nnlib``
    (read-only), and ``/tmp``, ``/var/tmp``, ``/dev/shm`` are small private tmpfs. Its
    working folder and ``$HOME`` are a fresh folder that is deleted afterwards. When the
    kernel ends, every process it left behind ends with it.
``user`` (root, but no namespaces, e.g. an unprivileged container)
    The same uid and limits, without the namespaces: ordinary Unix permissions keep the
    kernel away from the gradebook and other students' files (:func:`secure_course`
    removes the permissions of "others" from the course's private folders), but it has the
    network, and it can read every world-readable file. A warning says so.
``limits`` (not root)
    Only the resource limits, a fresh working folder and a scrubbed environment. The kernel
    runs as the instructor and can do whatever the instructor can. A warning says so: grade
    untrusted code as root, or in a container or virtual machine that is thrown away.

As root, student code never runs as root: when neither ``isolated`` nor ``user`` works (the
check runs once per grading process, by starting Python in the sandbox), no kernel starts and
:class:`SandboxError` says why, unless ``NNCOURSE_SANDBOX=limits`` asks for it explicitly.

The resource limits (:class:`Limits`, environment variables ``NNCOURSE_*``) apply in every
mode: memory (``RLIMIT_AS``), the size of a written file (``RLIMIT_FSIZE``), processes
(``RLIMIT_NPROC``, per uid, so only in the first two modes), CPU time (``RLIMIT_CPU``), open
files, and no core dumps. :func:`run_grader` sets them for the grader process and passes
them on to the kernels.

The contract of :func:`run_grader`, which callers rely on:

* ``run_grader(cmd, *, cwd, env, timeout)`` blocks until the command has ended or
  ``timeout`` seconds have passed, and never raises for what the command does (a non-zero
  exit, a crash, a timeout): it returns a :class:`GraderResult`.
* ``cmd`` is a complete argument list (``[nbgrader, "autograde", "02-strawman",
  "--student=alice,bob", "--force", ...]``); it may grade one or several students.
* ``cwd`` is the course root, ``env`` the complete environment of the command.
* The result is a :class:`subprocess.CompletedProcess` (``args``, ``returncode``,
  ``stdout``, ``stderr`` as text, at most the last :data:`MAX_LOG_CHARS` characters of each)
  with two more attributes: ``timed_out`` (bool) and ``seconds`` (wall-clock duration). A
  process killed on timeout has a negative ``returncode`` (the signal) and ``timed_out=True``.
* When it returns, no process of the command's process group is left running, and no
  process of a sandbox uid that is not in use by a running kernel.
* It is thread-safe: the autograder calls it from several threads at once.
"""

from __future__ import annotations

import errno
import fcntl
import grp
import json
import os
import pwd
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

__all__ = ["GraderResult", "Limits", "run_grader", "sandbox_mode", "secure_course", "SandboxError",
           "SandboxKernelManager", "SANDBOX_GROUP", "sweep_sandbox_uids", "orphaned_sandbox_processes"]

# the last characters of the grader's stdout and stderr that run_grader returns
MAX_LOG_CHARS = 2_000_000
# the group of the kernels' uids
SANDBOX_GROUP = "nbgrader-sandbox"
# where kernels' private folders and the uid locks live when running as root
RUN_DIR = Path(os.environ.get("NNCOURSE_RUN_DIR", "/run/nncourse"))
LAUNCHER = Path(__file__).resolve().with_name("_kernel_launcher.py")
REPO_ROOT = Path(__file__).resolve().parents[1]

MODES = ("isolated", "user", "limits")


# ---------------------------------------------------------------------- limits
@dataclass(frozen=True)
class Limits:
    """Resource limits of the grading processes and kernels (environment variables ``NNCOURSE_*``).

    Defaults suit a course server; the hostile-submission tests use smaller ones.
    """

    kernel_memory_mb: int = 4096      # RLIMIT_AS of a kernel: NumPy + OpenBLAS need ~1 GB of address space
    grader_memory_mb: int = 8192      # RLIMIT_AS of the nbgrader process (it holds the outputs it receives)
    file_size_mb: int = 512           # RLIMIT_FSIZE: the largest file a kernel (or nbgrader) may write
    kernel_processes: int = 256       # RLIMIT_NPROC of a kernel's uid (threads count too)
    kernel_cpu_seconds: int = 1800    # RLIMIT_CPU of a kernel (the per-cell timeout normally stops it first)
    open_files: int = 1024            # RLIMIT_NOFILE
    tmp_mb: int = 256                 # size of the kernel's private /tmp, /var/tmp and /dev/shm (isolated mode)

    ENV = {
        "kernel_memory_mb": "NNCOURSE_KERNEL_MEMORY_MB",
        "grader_memory_mb": "NNCOURSE_GRADER_MEMORY_MB",
        "file_size_mb": "NNCOURSE_FILE_SIZE_MB",
        "kernel_processes": "NNCOURSE_KERNEL_PROCESSES",
        "kernel_cpu_seconds": "NNCOURSE_KERNEL_CPU_SECONDS",
        "open_files": "NNCOURSE_OPEN_FILES",
        "tmp_mb": "NNCOURSE_TMP_MB",
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Limits":
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get(cls.ENV[f.name], "").strip()
            if raw:
                try:
                    values[f.name] = max(1, int(float(raw)))
                except ValueError:
                    warnings.warn(f"nncourse: ignoring {cls.ENV[f.name]}={raw!r} (not a number)", stacklevel=2)
        return cls(**values)

    def as_env(self) -> dict[str, str]:
        return {self.ENV[k]: str(v) for k, v in asdict(self).items()}

    def kernel_rlimits(self) -> dict[str, int]:
        """rlimit name -> soft limit for a kernel (the launcher sets hard = soft, CPU hard a little above)."""
        mb = 1024 * 1024
        return {"RLIMIT_AS": self.kernel_memory_mb * mb, "RLIMIT_FSIZE": self.file_size_mb * mb,
                "RLIMIT_NPROC": self.kernel_processes, "RLIMIT_CPU": self.kernel_cpu_seconds,
                "RLIMIT_NOFILE": self.open_files, "RLIMIT_CORE": 0}


def _grader_preexec(limits: Limits):
    """preexec_fn of the grader process: only setrlimit calls (no imports, no locks)."""
    mb = 1024 * 1024
    plan = [(resource.RLIMIT_AS, limits.grader_memory_mb * mb),
            (resource.RLIMIT_FSIZE, limits.file_size_mb * mb),
            (resource.RLIMIT_CORE, 0)]
    setrlimit, getrlimit, infinity = resource.setrlimit, resource.getrlimit, resource.RLIM_INFINITY

    def preexec():
        for which, value in plan:
            soft, hard = getrlimit(which)
            if hard != infinity and hard < value:
                value = hard
            try:
                setrlimit(which, (value, value))
            except (ValueError, OSError):
                pass
    return preexec


# ----------------------------------------------------------------- run_grader
class GraderResult(subprocess.CompletedProcess):
    """What :func:`run_grader` returns: a CompletedProcess with ``timed_out`` and ``seconds``."""

    def __init__(self, args, returncode, stdout="", stderr="", *, timed_out=False, seconds=0.0):
        super().__init__(args, returncode, stdout, stderr)
        self.timed_out = timed_out
        self.seconds = seconds

    def __repr__(self) -> str:
        return (f"GraderResult(returncode={self.returncode}, timed_out={self.timed_out}, "
                f"seconds={self.seconds:.1f}, args={self.args!r})")


def _kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(fh, limit: int = MAX_LOG_CHARS) -> str:
    fh.flush()
    size = fh.seek(0, os.SEEK_END)
    start = max(0, size - 4 * limit)
    fh.seek(start)
    text = fh.read().decode("utf-8", errors="replace")
    if len(text) > limit:
        text = text[-limit:]
    if start > 0 or len(text) == limit:
        text = f"[nncourse] ... (the start of the log was cut; {size} bytes in all)\n" + text
    return text


def run_grader(cmd: Sequence[str], *, cwd: str | os.PathLike, env: Mapping[str, str],
               timeout: float) -> GraderResult:
    """Run ``cmd`` in ``cwd`` with environment ``env`` under the limits; kill it after ``timeout`` s.

    The process gets a session of its own, the grader limits of :class:`Limits` (read from
    ``env``, then from the defaults), and the environment ``env`` plus every ``NNCOURSE_*``
    limit, so that the kernels it starts get the same limits. Its output goes to temporary
    files, of which the last :data:`MAX_LOG_CHARS` characters are returned (a kernel that
    writes gigabytes to its inherited stdout cannot exhaust the caller's memory). See the
    module documentation for the contract.
    """
    args = [str(a) for a in cmd]
    limits = Limits.from_env(env)
    full_env = dict(env)
    for k, v in limits.as_env().items():
        full_env.setdefault(k, v)
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(args, cwd=Path(cwd), env=full_env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err, start_new_session=True,
                                    preexec_fn=_grader_preexec(limits))
        except OSError as exc:  # the program is missing or not executable
            return GraderResult(args, 127, "", f"could not start {args[0]}: {exc}",
                                seconds=time.monotonic() - start)
        timed_out = False
        note = ""
        try:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                # SIGTERM first, so that nbgrader can stop its kernels; then SIGKILL
                _kill_group(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    _kill_group(proc.pid)
                    proc.wait()
                note = f"\n[nncourse] killed after the wall-clock timeout of {timeout:g} s\n"
        except BaseException:  # KeyboardInterrupt in the caller: leave nothing behind
            _kill_group(proc.pid)
            proc.wait()
            raise
        finally:
            # processes that outlived the command: its group, and kernels' uids no kernel holds
            _kill_group(proc.pid)
            sweep_sandbox_uids()
        return GraderResult(args, proc.returncode, _tail(out), _tail(err) + note, timed_out=timed_out,
                            seconds=time.monotonic() - start)


# ------------------------------------------------------------------- the mode
_MODE_LOCK = threading.Lock()
_MODE: dict[str, str] = {}
_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        print(f"[nncourse.sandbox] WARNING: {message}", file=sys.stderr, flush=True)


def uid_range() -> list[int]:
    """The uids kernels may run as: ``NNCOURSE_SANDBOX_UIDS`` = ``first-last`` (61100-61163)."""
    raw = os.environ.get("NNCOURSE_SANDBOX_UIDS", "61100-61163")
    try:
        first, last = (int(x) for x in raw.split("-"))
    except ValueError:
        first, last = 61100, 61163
    return [u for u in range(first, last + 1) if u > 1000]


def sandbox_gid() -> int:
    """The gid of the group ``nbgrader-sandbox``, created (``groupadd --system``) when missing."""
    try:
        return grp.getgrnam(SANDBOX_GROUP).gr_gid
    except KeyError:
        pass
    if os.geteuid() == 0 and shutil.which("groupadd"):
        subprocess.run(["groupadd", "--system", SANDBOX_GROUP], capture_output=True)
        try:
            return grp.getgrnam(SANDBOX_GROUP).gr_gid
        except KeyError:
            pass
    return 65534  # nogroup


def _namespace_prefix() -> list[str]:
    return ["unshare", "--mount", "--net", "--ipc", "--uts", "--pid", "--fork", "--kill-child",
            "--mount-proc", "--"]


class SandboxError(RuntimeError):
    """Kernels cannot be isolated on this machine, and running them as root is not allowed."""


def _probe(mode: str) -> str | None:
    """Start a Python through the launcher in ``mode`` and import nnlib; None if it works, else why not.

    It runs as a uid of its own (a slot, as a kernel would), so that no kernel's processes
    count against its process limit.
    """
    limits = Limits()
    gid = sandbox_gid()
    try:
        slot = _acquire_slot(gid)
    except (OSError, RuntimeError) as exc:
        return str(exc)
    empty = Path(tempfile.mkdtemp(prefix="probe-", dir=_secure_dirs()[0]))  # what the launcher copies to /tmp/work
    try:
        spec = _launcher_spec(mode, uid=slot.uid, gid=gid, limits=limits,
                              workdir=empty if mode == "isolated" else Path("/"),
                              masks=_default_masks([]), keeps=_default_keeps([]))
        cmd = _wrap(mode, spec, [sys.executable, "-c", "import numpy, nnlib; print('ok')"])
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=_base_env(Path("/tmp")))
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if proc.returncode != 0 or proc.stdout.strip() != "ok":
            why = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            closed = _closed_folder(sys.executable) if "Permission denied" in why else None
            if closed:
                why += (f" ({closed} is closed to other users, mode {os.stat(closed).st_mode & 0o777:o}: the "
                        "sandbox's uids cannot reach the Python installation below it; install Python and the "
                        "virtual environment where other users can read them, such as /opt or /usr/local)")
            return why
        return None
    finally:
        kill_uid(slot.uid, gid)
        slot.release()
        shutil.rmtree(empty, ignore_errors=True)


def _closed_folder(path: str | os.PathLike) -> str | None:
    """The first folder on the real path to ``path``, from /, that other users cannot enter, or None."""
    real = Path(os.path.realpath(path))
    for folder in reversed(real.parents):
        try:
            if not folder.stat().st_mode & 0o001:
                return str(folder)
        except OSError:
            return None
    return None


def sandbox_mode() -> str:
    """``isolated``, ``user`` or ``limits`` (see the module documentation); detected once per process.

    As root, student code never runs as root: when neither ``isolated`` nor ``user`` works,
    :class:`SandboxError` is raised (and no kernel starts), unless ``NNCOURSE_SANDBOX=limits``
    asks for it explicitly, or ``NNCOURSE_SANDBOX=any`` (for a test suite, whose submissions
    are its own) accepts the best the machine allows. ``NNCOURSE_SANDBOX=user`` asks for less
    isolation than the machine allows (to debug a kernel). Not as root, the mode is
    ``limits``, with a warning.
    """
    with _MODE_LOCK:
        if "mode" in _MODE:
            return _MODE["mode"]
        wanted = os.environ.get("NNCOURSE_SANDBOX", "isolated").strip().lower() or "isolated"
        fallback = wanted == "any"  # a test suite's own, trusted submissions: the best there is
        if fallback:
            wanted = "isolated"
        if wanted not in MODES:
            _warn_once(f"NNCOURSE_SANDBOX={wanted!r} is not one of {', '.join(MODES)}; using 'isolated'")
            wanted = "isolated"
        if os.geteuid() != 0:
            _warn_once("not running as root, so kernels run with resource limits only, as the user who "
                       "grades: student code can read and change everything this user can, including "
                       "the gradebook. Grade untrusted code as root, or in a throw-away container or "
                       "virtual machine.")
            _MODE["mode"] = "limits"
            return "limits"
        if wanted == "limits":
            _warn_once("NNCOURSE_SANDBOX=limits: kernels run AS ROOT with resource limits only; student "
                       "code can do anything on this machine.")
            _MODE["mode"] = "limits"
            return "limits"
        reasons = []
        for candidate in MODES[MODES.index(wanted):]:
            if candidate == "limits":
                break
            if candidate == "isolated" and not shutil.which("unshare"):
                reasons.append("isolated: `unshare` (util-linux) is not installed")
                continue
            why = _probe(candidate)
            if why is not None:  # once more: a busy machine, a transient failure
                time.sleep(1)
                why = _probe(candidate)
            if why is None:
                if candidate == "user" and wanted == "isolated":
                    _warn_once("kernels run as an unprivileged uid but WITHOUT namespaces: they have the "
                               "network and can read world-readable files (" + "; ".join(reasons) + ")")
                _MODE["mode"] = candidate
                return candidate
            reasons.append(f"{candidate}: {why}")
        if fallback:
            _warn_once("NNCOURSE_SANDBOX=any and no sandbox works here: kernels run AS ROOT with "
                       "resource limits only (" + "; ".join(reasons) + ")")
            _MODE["mode"] = "limits"
            return "limits"
        raise SandboxError("cannot isolate the grading kernels (" + "; ".join(reasons) + "). Student code "
                           "is not run as root: fix the sandbox (README, 'Autograding untrusted code'), or "
                           "set NNCOURSE_SANDBOX=limits to run it as root anyway.")


def secure_course(root: str | os.PathLike, extra: Sequence[str | os.PathLike] = ()) -> list[Path]:
    """Remove the permissions of "others" from the course's private files; returns what changed.

    ``solutions/``, ``submitted/``, ``autograded/``, ``feedback/``, the gradebook and
    ``.git`` of the course root (and ``extra`` paths) become unreadable for the kernels'
    uids, which matters in the ``user`` mode (in ``isolated`` mode the kernel does not see
    the course root at all). Group permissions are kept (a shared instructors' group).
    """
    root = Path(root)
    changed = []
    names = ["solutions", "source", "submitted", "autograded", "feedback", "gradebook.db",
             "gradebook.db-journal", ".git", "downloaded", ".exchange"]
    for p in [*(root / n for n in names), *(Path(e) for e in extra)]:
        try:
            st = p.lstat()
        except OSError:
            continue
        if p.is_symlink():
            continue
        mode = st.st_mode & 0o7777
        if mode & 0o007:
            try:
                os.chmod(p, mode & ~0o007)
                changed.append(p)
            except OSError:
                pass
    return changed


# ------------------------------------------------------------------ uid slots
def _run_dir(*parts: str) -> Path:
    base = RUN_DIR if os.geteuid() == 0 else Path(tempfile.gettempdir()) / f"nncourse-{os.geteuid()}"
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secure_dirs() -> tuple[Path, Path]:
    """(kernels folder, locks folder) under the run folder: 0711 and 0700, owned by us."""
    base = _run_dir()
    kernels, locks = _run_dir("kernels"), _run_dir("locks")
    for p, mode in ((base, 0o711), (kernels, 0o711), (locks, 0o700)):
        st = p.lstat()
        if st.st_uid != os.geteuid() or p.is_symlink():
            raise RuntimeError(f"{p} is not owned by the grading user: refusing to use it")
        os.chmod(p, mode)
    return kernels, locks


def _processes_by_uid() -> dict[int, list[int]]:
    """real uid -> pids, from /proc (one pass)."""
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Uid:"):
                        out.setdefault(int(line.split()[1]), []).append(int(entry.name))
                        break
        except OSError:
            continue
    return out


def _pids_of_uid(uid: int) -> list[int]:
    return _processes_by_uid().get(uid, [])


def kill_uid(uid: int, gid: int | None = None) -> None:
    """SIGKILL every process of ``uid`` (as that uid: ``kill(-1)`` reaches exactly its processes)."""
    if os.geteuid() != 0 or uid == 0:
        return
    for _ in range(5):
        if not _pids_of_uid(uid):
            return
        try:
            subprocess.run([sys.executable, "-I", "-S", "-c",
                            "import os, signal\ntry: os.kill(-1, signal.SIGKILL)\nexcept OSError: pass"],
                           user=uid, group=gid if gid is not None else 65534, extra_groups=[],
                           capture_output=True, timeout=10, cwd="/")
        except (OSError, subprocess.SubprocessError):
            for pid in _pids_of_uid(uid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.05)


class _Slot:
    """A uid held by one kernel: an exclusive lock on ``locks/slot-<uid>``."""

    def __init__(self, uid: int, fd: int):
        self.uid, self.fd = uid, fd

    def release(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)  # releases the flock
            finally:
                self.fd = -1


def _acquire_slot(gid: int) -> _Slot:
    _, locks = _secure_dirs()
    uids = uid_range()
    start = secrets.randbelow(len(uids))
    for uid in uids[start:] + uids[:start]:
        try:
            pwd.getpwuid(uid)
            continue  # a real account uses this uid: never borrow it
        except KeyError:
            pass
        fd = os.open(locks / f"slot-{uid}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                continue
            raise
        kill_uid(uid, gid)  # anything a crashed grader left behind
        return _Slot(uid, fd)
    raise RuntimeError(f"all {len(uids)} sandbox uids are in use (NNCOURSE_SANDBOX_UIDS)")


def orphaned_sandbox_processes() -> dict[int, list[int]]:
    """uid -> pids of the sandbox uids that have processes but no running kernel (no lock)."""
    if os.geteuid() != 0:
        return {}
    try:
        _, locks = _secure_dirs()
    except (OSError, RuntimeError):
        return {}
    running = _processes_by_uid()
    out = {}
    for uid in uid_range():
        if uid not in running:
            continue
        path = locks / f"slot-{uid}"
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            out[uid] = running[uid]  # processes of a uid no kernel ever held
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a running kernel holds it
        else:
            out[uid] = running[uid]
        finally:
            os.close(fd)
    return out


def sweep_sandbox_uids() -> None:
    """Kill the processes of every sandbox uid that no running kernel holds (orphans), and
    remove the private folders such kernels left behind (a grader that was killed)."""
    if os.geteuid() != 0:
        return
    try:
        kernels, locks = _secure_dirs()
    except (OSError, RuntimeError):
        return
    running = _processes_by_uid()
    folders: dict[int, list[Path]] = {}
    try:
        for entry in os.scandir(kernels):
            parts = entry.name.split("-")  # k-<uid>-<random>
            if len(parts) >= 3 and parts[1].isdigit():
                folders.setdefault(int(parts[1]), []).append(Path(entry.path))
    except OSError:
        pass
    gid = None
    for uid in uid_range():
        if uid not in running and uid not in folders:
            continue
        path = locks / f"slot-{uid}"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # in use by a kernel
        try:
            if uid in running:
                if gid is None:
                    gid = sandbox_gid()
                kill_uid(uid, gid)
            for folder in folders.get(uid, []):
                shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)


# ------------------------------------------------------------ kernel commands
def _realpaths(paths) -> list[str]:
    out = []
    for p in paths:
        try:
            r = os.path.realpath(p)
        except OSError:
            continue
        if os.path.exists(r) and r not in out:
            out.append(r)
    return out


# The top-level folders of the operating system that an isolated kernel still sees (with the
# permissions of an unprivileged user). Every other folder at / is hidden, and so is every
# folder under /var and /run but those below: the kernel reads no copy of a course, a
# repository, a gradebook or an exchange, wherever on the machine it lies (/srv, /opt,
# /work, /mnt, /var/lib, ...), not only the one being graded.
SYSTEM_FOLDERS = frozenset({"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc",
                            "dev", "proc", "sys", "run", "tmp", "var", "nix", "gnu"})
SYSTEM_SUBFOLDERS = {"/var": frozenset({"tmp", "lock", "run"}), "/run": frozenset({"lock", "shm"})}
# Jupyter's system-wide configuration, where a JupyterHub deployment puts nbgrader_config.py
# (exchange, gradebook URL)
JUPYTER_SYSTEM_CONFIG = ("/etc/jupyter", "/usr/local/etc/jupyter")


def _folders_outside_the_system() -> list[str]:
    """Every real folder (not a symlink) at / and under /var and /run that is not the system's."""
    out = []
    for parent, keep in (("/", SYSTEM_FOLDERS), *SYSTEM_SUBFOLDERS.items()):
        try:
            entries = list(os.scandir(parent))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.name not in keep and entry.is_dir(follow_symlinks=False):
                    out.append(entry.path)
            except OSError:
                continue
    return out


def _default_masks(private: Sequence[str | os.PathLike]) -> list[str]:
    """Folders the isolated kernel sees as empty: the course's private paths, the repository,
    homes, and every folder outside the operating system's (:data:`SYSTEM_FOLDERS`)."""
    candidates = [*private, REPO_ROOT, "/root", "/home", *JUPYTER_SYSTEM_CONFIG,
                  *_folders_outside_the_system()]
    masks = [p for p in _realpaths(candidates) if os.path.isdir(p) and p != "/"]
    # an outer mask hides the inner ones already
    masks.sort(key=len)
    kept: list[str] = []
    for m in masks:
        if not any(m == k or m.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(m)
    return kept


def _default_keeps(extra: Sequence[str | os.PathLike]) -> list[str]:
    """What the isolated kernel still sees (read-only) inside masked folders: Python and nnlib."""
    import importlib.util

    keeps = [sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)),
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))]
    spec = importlib.util.find_spec("nnlib")
    if spec is not None and spec.origin:
        keeps.append(os.path.dirname(spec.origin))
    keeps += list(extra)
    return _realpaths(keeps)


def _base_env(home: Path) -> dict[str, str]:
    """The kernel's environment: nothing of the grader's but what a kernel needs."""
    env = {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home), "USER": "nbgrader-sandbox", "LOGNAME": "nbgrader-sandbox",
        "SHELL": "/bin/sh", "TMPDIR": "/tmp", "LANG": os.environ.get("LANG", "C.UTF-8"),
        "IPYTHONDIR": str(home / ".ipython"), "MPLCONFIGDIR": str(home / ".config" / "matplotlib"),
        "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_HOME": str(home / ".config"),
        "JUPYTER_RUNTIME_DIR": str(home / ".jupyter-runtime"),
        "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # one BLAS thread per kernel: kernels run side by side, and threads count as processes
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
    }
    for k in ("LC_ALL", "TZ", "NBGRADER_EXECUTION"):
        if k in os.environ:
            env[k] = os.environ[k]
    return env


def _launcher_spec(mode: str, *, uid: int, gid: int, limits: Limits, workdir: Path,
                   masks: list[str], keeps: list[str]) -> dict:
    rlimits = limits.kernel_rlimits()
    if mode == "limits":
        # RLIMIT_NPROC counts every process of the real uid: as the instructor's own uid it
        # would limit (and break) the instructor's other processes, not the kernel's
        rlimits.pop("RLIMIT_NPROC")
    spec = {"rlimits": rlimits, "workdir": str(workdir)}
    if mode in ("isolated", "user"):
        spec.update(uid=uid, gid=gid)
    if mode == "isolated":
        private_tmp = ["/tmp", "/var/tmp", "/dev/shm"]
        private_tmp += [d for d in ("/run/lock", "/var/lock", "/dev/mqueue")
                        if os.path.isdir(d) and not os.path.islink(d) and os.stat(d).st_mode & 0o002]
        # the kernel works in its private /tmp: /tmp/work (a copy of workdir) and /tmp/home
        # the kernels' folder stays visible and writable (the kernel's connection file and
        # sockets, the working folder the launcher copies), even when it lies in a masked one
        spec.update(masks=masks, keeps=keeps, binds=[str(_run_dir("kernels"))],
                    tmp_mb=limits.tmp_mb, private_tmp=private_tmp,
                    relocate={"work": "/tmp/work", "home": "/tmp/home"})
    return spec


def _wrap(mode: str, spec: dict, cmd: list[str]) -> list[str]:
    launcher = [sys.executable, "-I", "-S", str(LAUNCHER), json.dumps(spec, separators=(",", ":")), "--", *cmd]
    if mode == "isolated":
        return _namespace_prefix() + launcher
    return launcher


def describe_exit(returncode: int | None) -> str:
    """A kernel's exit status in words, for the feedback."""
    if returncode is None:
        return "it stopped answering"
    if returncode < 0 or returncode > 128:
        signum = -returncode if returncode < 0 else returncode - 128
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        why = {"SIGSEGV": "a segmentation fault: a crash in compiled code, e.g. through ctypes",
               "SIGBUS": "a bus error: a crash in compiled code",
               "SIGABRT": "an abort in compiled code",
               "SIGKILL": "killed: the memory or CPU-time limit, or the grader",
               "SIGXCPU": "the CPU-time limit", "SIGXFSZ": "the file-size limit",
               "SIGILL": "an illegal instruction in compiled code",
               "SIGFPE": "an arithmetic fault in compiled code"}.get(name, "a fatal signal")
        return f"killed by {name} ({why})"
    return f"it exited with status {returncode} (e.g. os._exit or sys.exit from the submission)"


# -------------------------------------------------------------- kernel manager
from jupyter_client.manager import AsyncKernelManager  # noqa: E402
from traitlets import Integer, List, Unicode  # noqa: E402


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel in the sandbox of :func:`sandbox_mode`.

    Per kernel: a private folder (``/run/nncourse/kernels/<id>``, mode 0700, owned by the
    kernel's uid) holding the connection file, the Unix sockets (``transport = ipc``), the
    kernel's ``$HOME`` and its working folder ``work/`` (a copy of the non-notebook files
    of the folder nbgrader would have started it in). Everything is removed, and every
    process of the uid killed, when the kernel is cleaned up.
    """

    transport = Unicode("ipc", config=True)
    private_paths = List(Unicode(), help="Folders the isolated kernel must not see (the course root, ...)").tag(config=True)
    keep_paths = List(Unicode(), help="Folders inside private ones the kernel needs (read-only)").tag(config=True)
    max_copy_mb = Integer(200, help="Largest total size of the assignment files copied to the kernel's folder").tag(config=True)

    _sandbox_dir: Path | None = None
    _slot: _Slot | None = None
    _log_file = None
    sandbox_mode_used: str = ""

    def _copy_assignment_files(self, src: Path | None, dest: Path) -> None:
        if src is None or not src.is_dir():
            return
        budget = self.max_copy_mb * 1024 * 1024
        count = 0
        for path in sorted(src.rglob("*")):
            count += 1
            if count > 2000:  # an assignment folder, not a file system
                break
            rel = path.relative_to(src)
            if any(part.startswith(".") for part in rel.parts) or path.suffix == ".ipynb":
                continue
            if path.is_symlink():
                continue
            target = dest / rel
            if path.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif path.is_file():
                size = path.stat().st_size
                if size > budget:
                    continue
                budget -= size
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)

    def _chown_tree(self, root: Path, uid: int, gid: int) -> None:
        for dirpath, dirnames, filenames in os.walk(root):
            os.chown(dirpath, uid, gid, follow_symlinks=False)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)

    async def _async_pre_start_kernel(self, **kw):
        mode = sandbox_mode()
        self.sandbox_mode_used = mode
        limits = Limits.from_env()
        kernels, _ = _secure_dirs()
        self._release_sandbox()
        gid = sandbox_gid() if mode != "limits" else os.getegid()
        self._slot = _acquire_slot(gid) if mode != "limits" else None
        uid = self._slot.uid if self._slot else os.geteuid()
        # the kernel's private folder, named after its uid (for the sweep): the connection
        # file, the Unix sockets (ipc/), its working folder and $HOME
        box = Path(tempfile.mkdtemp(prefix=f"k-{uid}-", dir=kernels))
        self._sandbox_dir = box
        home, work, ipc = box / "home", box / "work", box / "ipc"
        for d in (home, work, ipc):
            d.mkdir()
        self.connection_file = str(box / "connection.json")
        self.transport = "ipc"
        self.ip = str(ipc / "k")
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        src = kw.get("cwd")
        self._copy_assignment_files(Path(src) if src else None, work)
        if mode != "limits":
            # the folder stays root's: the kernel may create its sockets in ipc/ until it is
            # ready (seal() then closes it), and in isolated mode the launcher copies work/
            # into the kernel's private, size-limited /tmp, so that nothing it writes lands
            # on the host's disks; in user mode work/ and home/ are the kernel's
            os.chown(self.connection_file, uid, gid)
            os.chmod(self.connection_file, 0o600)
            os.chmod(ipc, 0o733)
            if mode == "user":
                self._chown_tree(work, uid, gid)
                self._chown_tree(home, uid, gid)
                os.chmod(work, 0o700)
                os.chmod(home, 0o700)
            os.chmod(box, 0o711)
        else:
            os.chmod(box, 0o700)
        env = _base_env(home)
        masks = _default_masks(list(self.private_paths))
        keeps = _default_keeps(list(self.keep_paths))
        spec = _launcher_spec(mode, uid=uid, gid=gid, limits=limits, workdir=work, masks=masks, keeps=keeps)
        kw["cwd"] = str(work)
        kw["env"] = env
        # the kernel's own stdout/stderr (not the notebook's outputs): a log in the private folder,
        # so that a flood written to file descriptor 1 cannot reach nbgrader's log
        self._log_file = open(box / "kernel.log", "ab")
        kw["stdout"] = self._log_file
        kw["stderr"] = self._log_file
        return _wrap(mode, spec, cmd), kw

    def seal(self) -> None:
        """Once the kernel is ready: no more files in its sockets' folder (it is root's)."""
        if self._sandbox_dir is not None and self.sandbox_mode_used != "limits":
            try:
                os.chmod(self._sandbox_dir / "ipc", 0o711)
            except OSError:
                pass

    def kernel_log_tail(self, chars: int = 2000) -> str:
        if self._sandbox_dir is None:
            return ""
        try:
            with open(self._sandbox_dir / "kernel.log", "rb") as fh:
                fh.seek(max(0, fh.seek(0, os.SEEK_END) - chars))
                return fh.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def exit_status(self) -> int | None:
        proc = getattr(self.provisioner, "process", None) if self.provisioner else None
        if proc is None:
            return None
        return proc.poll()

    def _release_sandbox(self) -> None:
        slot, box = self._slot, self._sandbox_dir
        self._slot, self._sandbox_dir = None, None
        if self._log_file is not None:
            try:
                self._log_file.close()
            except OSError:
                pass
            self._log_file = None
        if slot is not None:
            try:
                kill_uid(slot.uid, sandbox_gid())
            finally:
                slot.release()
        if box is not None:
            shutil.rmtree(box, ignore_errors=True)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        try:
            await super()._async_cleanup_resources(restart=restart)
        finally:
            if not restart:
                self._release_sandbox()

    cleanup_resources = _async_cleanup_resources

    def __del__(self):
        try:
            self._release_sandbox()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
