"""Start a grading kernel in its sandbox: ``python -I -S _kernel_launcher.py SPEC -- KERNEL_CMD...``.

Started by :class:`nncourse.sandbox.SandboxKernelManager`, in the ``isolated`` mode inside
new namespaces (``unshare --mount --net --ipc --uts --pid --fork --kill-child --mount-proc``).
It uses the standard library only (``-I -S``: nothing from the working folder, the user's
site-packages or the environment is imported), and in this order:

1. (isolated mode) makes every mount private to the namespace; mounts an empty tmpfs over
   each folder in ``masks`` (the course root, the repository, /root, /home, every folder
   outside the operating system's) and binds back read-only the folders in ``keeps`` (the
   Python installation, nnlib) and writable those in ``binds`` (the kernels' folder) that
   were inside;
   mounts small private tmpfs on /tmp, /var/tmp, /dev/shm (and /run/lock); copies the working
   folder to /tmp/work and makes $HOME /tmp/home, so that all the kernel can write is there;
2. sets the resource limits of ``rlimits`` (soft = hard; the CPU hard limit a little above,
   so that SIGKILL follows an ignored SIGXCPU);
3. (isolated and user modes) drops every group, switches to ``gid``/``uid`` and sets
   ``no_new_privs`` (no setuid program can give the privileges back);
4. changes to ``workdir`` with umask 077 and executes the kernel command.

SPEC is a JSON object; any failure exits with status 70 and a message on stderr (the kernel
log), before the kernel runs.
"""

import ctypes
import json
import os
import resource
import signal
import sys

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_NO_NEW_PRIVS = 38


def fail(message):
    sys.stderr.write(f"nncourse kernel launcher: {message}\n")
    sys.stderr.flush()
    os._exit(70)


_libc = None


def mount(source, target, fstype, flags, data=None):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    enc = (lambda s: None if s is None else s.encode())
    if _libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        fail(f"mount {source} on {target}: {os.strerror(err)}")


def inside(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def isolate(spec):
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    masks = spec.get("masks", [])
    size = int(spec.get("tmp_mb", 256))
    privates = [t for t in spec.get("private_tmp", []) if os.path.isdir(t) and not os.path.islink(t)]
    hidden = masks + privates
    # (folder, read-only): keeps are bound back read-only, binds (the kernels' folder) writable
    wanted = [(k, True) for k in spec.get("keeps", [])] + [(b, False) for b in spec.get("binds", [])]
    wanted = [(k, ro) for k, ro in wanted if any(inside(k, m) for m in hidden)]
    # outermost only (a bind inside a keep stays read-only, like its keep)
    wanted = [(k, ro) for k, ro in wanted if not any(k != o and inside(k, o) for o, _ in wanted)]
    fds = []
    for k, ro in wanted:
        try:
            fds.append((k, ro, os.open(k, os.O_PATH | os.O_DIRECTORY)))
        except OSError as exc:
            fail(f"cannot open {k}: {exc}")
    # the private /tmp first: a Python installation or a repository under /tmp is bound back
    # into it below
    for t in privates:
        mount("tmpfs", t, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,mode=1777")
    for m in masks:
        if any(inside(m, t) for t in privates):
            continue  # gone with the old /tmp already
        mount("tmpfs", m, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for k, ro, fd in fds:
        os.makedirs(k, mode=0o755, exist_ok=True)
        mount(f"/proc/self/fd/{fd}", k, None, MS_BIND | MS_REC)
        flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (MS_RDONLY if ro else 0)
        mount(None, k, None, flags)
        os.close(fd)


def relocate(spec, env):
    """Copy the working folder into the private /tmp and make a $HOME there (isolated mode):
    whatever the kernel writes stays within the size of its tmpfs."""
    import shutil

    uid, gid = int(spec["uid"]), int(spec["gid"])
    work, home = spec["relocate"]["work"], spec["relocate"]["home"]
    try:
        shutil.copytree(spec["workdir"], work, symlinks=True)
        os.makedirs(home)
        for top in (work, home):
            for dirpath, dirnames, filenames in os.walk(top):
                os.chown(dirpath, uid, gid, follow_symlinks=False)
                os.chmod(dirpath, 0o700)
                for name in filenames:
                    os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)
    except OSError as exc:
        fail(f"cannot prepare {work}: {exc}")
    spec["workdir"] = work
    env.update(HOME=home, IPYTHONDIR=f"{home}/.ipython", MPLCONFIGDIR=f"{home}/.config/matplotlib",
               XDG_CACHE_HOME=f"{home}/.cache", XDG_CONFIG_HOME=f"{home}/.config",
               JUPYTER_RUNTIME_DIR=f"{home}/.jupyter-runtime")


def set_limits(rlimits):
    for name, value in rlimits.items():
        which = getattr(resource, name, None)
        if which is None:
            continue
        value = int(value)
        hard = value
        if name == "RLIMIT_CPU":
            hard = value + 5
        try:
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError) as exc:
            # lowering is always allowed; raising above our own hard limit is not (not root)
            cur_soft, cur_hard = resource.getrlimit(which)
            if cur_hard != resource.RLIM_INFINITY and cur_hard < hard:
                try:
                    resource.setrlimit(which, (min(value, cur_hard), cur_hard))
                    continue
                except (ValueError, OSError):
                    pass
            fail(f"setrlimit {name}={value}: {exc}")


def drop(uid, gid):
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != gid:
        fail("could not drop privileges")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        fail("prctl(PR_SET_NO_NEW_PRIVS) failed")


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        fail("usage: _kernel_launcher.py SPEC -- COMMAND...")
    try:
        spec = json.loads(argv[1])
    except ValueError as exc:
        fail(f"bad spec: {exc}")
    cmd = argv[3:]
    env = dict(os.environ)
    if spec.get("masks") is not None and os.geteuid() == 0 and "uid" in spec:
        isolate(spec)
        if spec.get("relocate"):
            relocate(spec, env)
    set_limits(spec.get("rlimits", {}))
    if "uid" in spec:
        drop(int(spec["uid"]), int(spec["gid"]))
    if spec.get("masks") is not None:
        # in its own PID namespace the kernel cannot see its parent: ipykernel, which polls
        # JPY_PARENT_PID, would think the parent died (the namespace ends with its parent)
        env.pop("JPY_PARENT_PID", None)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    try:
        os.chdir(spec.get("workdir", "/"))
    except OSError as exc:
        fail(f"cannot enter {spec.get('workdir')}: {exc}")
    os.umask(0o077)
    try:
        os.execve(cmd[0], cmd, env)
    except OSError as exc:
        fail(f"cannot run {cmd[0]}: {exc}")


if __name__ == "__main__":
    main(sys.argv)
