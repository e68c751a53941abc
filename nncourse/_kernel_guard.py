"""The grader's probe, run inside a grading kernel (sent as source by :mod:`nncourse.guard`).

Not imported by nncourse: :class:`nncourse.guard.GuardedExecute` sends this file's text to
the kernel and evaluates ``probe(kind, arg, key)`` through a silent ``user_expressions``
request, so that nothing is added to the notebook's namespace or history.

The first probe (``begin``, before any of the notebook's code runs) installs an audit hook
(PEP 578: it cannot be removed, and no other hook may be added after it). The hook keeps the
state of the checks (the baseline ids, the stash of protected names, the recorded events,
whether a test is running) in its closure, where the notebook's code cannot reach it: no
module, global or reachable function refers to it. Later probes reach it only through the
hook, with the audit event ``nncourse.guard`` and a one-time key: each probe carries the
secret whose SHA-256 the previous probe announced, and announces the next one, so that a key
seen once is worth nothing. Every answer carries an HMAC with a secret of the first probe,
which only the hook holds, so that an answer made up by the notebook's code (which could
intercept the names the probe's expression uses) is detected. A probe that the hook refuses,
or an answer without a valid HMAC, fails, and the grader counts that as tampering. Every comparison is made by the grader, outside the kernel, on what the probes
return.

Kinds of probe:

``begin``        before the first cell: import numpy and every nnlib module, install the
                 audit hook and the module guards, return the full fingerprint.
``digest``       per watched module, a digest of its callables; the shell's hooks; threads;
                 the events recorded since the last probe.
``detail``       the per-name fingerprint of the modules in ``arg``.
``stash``        after a trusted cell: remember the objects bound to the names in ``arg``.
``restore``      before a test cell: put back every remembered name whose object the
                 submission replaced or changed.
``arm``          a test cell starts: a profile function checks the watched modules whenever
                 the student's code returns to other code (and puts back what it changed);
``disarm``       the test cell has ended.

It is defence in depth, not a sandbox: code that runs in the same process can, with enough
effort aimed at this file, defeat it. The static check of :mod:`nncourse.guard` and the
review of flagged submissions are the other layers.
"""

import builtins
import hashlib
import json
import sys
import threading
import types

WATCH_PREFIXES = ("numpy", "nnlib")
# modules whose callables are compared probe by probe (every numpy*/nnlib* module is guarded)
DIGEST_MODULES = ("builtins", "math", "numpy", "numpy.testing", "numpy.testing._private.utils",
                  "numpy.linalg", "numpy.random", "numpy._core.numeric", "numpy._core.fromnumeric",
                  "numpy._core.multiarray", "numpy._core.umath", "numpy._core._methods")
# names IPython and the display hook put into / remove from builtins during a cell
BUILTINS_ALLOWED = {"_", "__", "___", "get_ipython", "exit", "quit", "display", "__IPYTHON__",
                    "input", "raw_input", "getpass",
                    "help", "copyright", "credits", "license", "dreload"}
CALLBACK_MODULES = ("IPython", "ipykernel", "matplotlib", "matplotlib_inline", "ipywidgets", "comm",
                    "traitlets")
THREAD_ALLOWED = ("tqdm",)
MARK = "GraderIntegrityError"


def _shell():
    from IPython.core.getipython import get_ipython as _get

    return _get()


def _new_state():
    """The checks' state: held by the audit hook's closure only (see the module documentation)."""
    return types.SimpleNamespace(
        expect=None, sign=None,                    # the one-time key, the HMAC secret
        events=[], seen=set(),                     # what was recorded, for the next probe
        protected={}, stash={}, snaps=[],          # guarded objects, the read-only cells' names
        allow=[False], in_hook=[False], armed=[False],
        cell_dir=None, trusted_files=set(), trusted_codes=set(), trusted_dirs=(), frame_safe=set(),
        testing_globals=None,                      # nnlib.testing's namespace, where its codes must run
        started=set(), resume_at={},               # generators started during the running test
        profile=None, profile_code=None, profile_closure={},
        baseline_threads=set(), installed=False, signals={}, signal_setter=None,
    )


def _qual(obj):
    mod = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return f"{mod}.{name}" if mod else str(name)


def _record(st, severity, what, detail=""):
    key = (severity, what)
    if key in st.seen:
        return
    st.seen.add(key)
    if len(st.events) < 200:
        st.events.append({"severity": severity, "what": what, "detail": str(detail)[:300]})


def _from_cell(st, depth_limit=60):
    """Whether a notebook cell (student or test code) is on the stack."""
    if st.cell_dir is None:
        return True
    try:
        f = sys._getframe(2)
    except ValueError:
        return False
    n = 0
    while f is not None and n < depth_limit:
        fn = f.f_code.co_filename
        if fn.startswith(st.cell_dir) or fn.startswith("<ipython-input"):
            return True
        f = f.f_back
        n += 1
    return False


def _trusted_caller(st, depth):
    """Whether the code ``depth`` frames above the caller is the instructor's (a read-only cell of
    the assignment, or nnlib.testing, whose forbid_calls swaps a function's code on purpose)."""
    st.in_hook[0] = True
    try:
        try:
            f = sys._getframe(depth + 1)
        except ValueError:
            return False
        code = f.f_code
        if code.co_filename in st.trusted_files:
            return True
        # nnlib.testing's code, run as nnlib.testing's function: the same code given to a
        # notebook function (``__code__`` of an unprotected function may be assigned) would
        # look up the helpers it calls in the notebook's namespace
        return id(code) in st.trusted_codes and f.f_globals is st.testing_globals
    finally:
        st.in_hook[0] = False


def _installed(st, fn):
    """Whether the file name ``fn`` lies in the installation (standard library, site-packages,
    nnlib). A name that climbs out of it (``<stdlib>/../../tmp/x.py``, from a ``sys.path``
    entry the submission added) starts like one but is not."""
    return fn.startswith(st.trusted_dirs) and "/.." not in fn and "/./" not in fn


def _untrusted_on_stack(st, depth):
    """The file of the first frame, from ``depth`` frames above the caller up to the kernel's
    main loop, whose code is the submission's: a notebook cell that is not read-only, or any
    code from outside the Python installation and nnlib (a module the submission wrote,
    ``<string>``). None when every frame is the instructor's or the installation's."""
    try:
        f = sys._getframe(depth + 1)
    except ValueError:
        return None
    while f is not None:
        code = f.f_code
        fn = code.co_filename
        if not (fn in st.trusted_files or id(code) in st.trusted_codes or _installed(st, fn)
                or fn == GUARD_FILE):
            return fn or "?"
        f = f.f_back
    return None


def _frame_safe(st, depth):
    """Whether the code that asked for a frame (``depth`` frames above the caller) is a function
    of the standard library that only reads its caller's module name or position and does not
    hand the frame on (collections.namedtuple, typing, enum's functional API, and
    logging.currentframe called by Logger.findCaller)."""
    try:
        f = sys._getframe(depth + 1)
    except ValueError:
        return False
    if id(f.f_code) in st.frame_safe:
        return True
    back = f.f_back
    return back is not None and (id(f.f_code), id(back.f_code)) in st.frame_safe


def _compiled_as_trusted(st, filename):
    """``compile`` under the file name of a read-only cell, of this guard or of a file of the
    installation, asked for with the submission's code on the stack: the code would pass for
    the instructor's. Refused. (IPython compiling a read-only cell, and the import system
    compiling a module, have no submission's code on the stack: a student's import of a module
    without a cached .pyc is checked against the file itself.)"""
    if isinstance(filename, bytes):
        filename = filename.decode(errors="replace")
    if not isinstance(filename, str) or st.cell_dir is None:
        return
    if not (filename in st.trusted_files or filename == GUARD_FILE or filename.startswith(st.trusted_dirs)):
        return
    st.in_hook[0] = True
    try:
        culprit = _untrusted_on_stack(st, 2)
        importing = culprit is not None and _importing(2)
    finally:
        st.in_hook[0] = False
    if culprit is None or (importing and _installed(st, filename)):
        return
    _record(st, "tamper", "compiled code under the name of the instructor's or the installation's code",
            f"{filename} from {culprit}")
    raise RuntimeError(f"{MARK}: the submission may not compile code under the name {filename!r}.")


def _importing(depth):
    """Whether the code that asked (``depth`` frames above the caller) is the import system's."""
    try:
        f = sys._getframe(depth + 1)
    except ValueError:
        return False
    return f.f_code.co_filename.startswith("<frozen importlib")


def _guard_frame(st, tb):
    """A traceback entry of this hook (an exception it raised to refuse something): its frame
    would lead to the hook's own namespace. Refused."""
    st.in_hook[0] = True
    try:
        frame = tb.tb_frame
        mine = frame.f_code.co_filename == GUARD_FILE and _untrusted_on_stack(st, 2) is not None
    finally:
        st.in_hook[0] = False
    if mine:
        _record(st, "tamper", "reached the frames of the grader's checks")
        raise RuntimeError(f"{MARK}: the frames of the grader's checks are not the submission's to read.")


def _tests_frames(st, event):
    """While a test cell runs (armed): refuse to give a frame to the submission's code.

    Every frame taken while a test runs leads (through ``f_back``) to the test's own frames,
    and so to its expected values. The audit hook sees every way Python has of taking a frame
    (``sys._getframe``, ``tb_frame``, ``gi_frame``, ``cr_frame``, ``ag_frame``), whoever makes
    the call: the submission's function directly, or the standard library (``traceback``,
    ``inspect``) on its behalf. The call is refused when any of the submission's code is on the
    stack; the instructor's code and the installation's alone may take frames."""
    if not st.armed[0] or st.cell_dir is None:
        return
    st.in_hook[0] = True
    try:
        culprit = _untrusted_on_stack(st, 2)
        if culprit is None or _frame_safe(st, 2):
            return
        _record(st, "tamper", "took a frame while a test was running (the tests' frames hold their expected "
                              "values)", f"{event} from {culprit}")
    finally:
        st.in_hook[0] = False
    raise RuntimeError(f"{MARK}: the submission's code took a frame ({event}) while a test was running; "
                       f"the tests' frames are not the submission's to read.")


def _channel(st, args):
    """``nncourse.guard``: a probe of the grader, with its one-time key (module documentation)."""
    if len(args) != 4 or not isinstance(args[3], dict):
        return
    kind, arg, key, box = args
    secret = key.get("t") if isinstance(key, dict) else None
    if (not isinstance(secret, str) or st.expect is None
            or hashlib.sha256(secret.encode()).hexdigest() != st.expect):
        _record(st, "tamper", "called the grader's own probe in the kernel, without its key")
        box["refused"] = "the key of the grader's probe did not match: a key was used twice"
        return
    st.expect = key.get("next")
    box["result"] = _signed(st, _serve(st, kind, arg))


def _signed(st, text):
    """The answer of a probe with its HMAC (the secret of the first probe, kept by the hook)."""
    import hmac

    mac = hmac.new((st.sign or "").encode(), text.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"r": text, "mac": mac})


_ALWAYS_REFUSED = ("gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
                   "sys.addaudithook")


def _install_hook(st):
    protected = st.protected
    main_thread = threading.main_thread()

    def hook(event, args):
        if event.startswith("nncourse.guard"):
            if event == "nncourse.guard":
                _channel(st, args)
            elif event == "nncourse.guard.profile" and len(args) == 3:
                _profiled(st, *args)
            elif event in ("nncourse.guard.setattr", "nncourse.guard.delattr"):
                _module_change(st, event, args)
            return
        if st.in_hook[0] or st.allow[0]:
            return
        if event in _ALWAYS_REFUSED:
            # what these give (every object, every thread's frames, a hook of one's own) reaches
            # the tests and this hook's state from anywhere, also from a thread that runs no
            # notebook code (concurrent.futures)
            st.in_hook[0] = True
            try:
                cell = _from_cell(st) or threading.current_thread() is not main_thread
            finally:
                st.in_hook[0] = False
            if cell or event == "sys.addaudithook" or st.armed[0]:
                _record(st, "tamper", f"used {event}", "")
                raise RuntimeError(f"{MARK}: {event} is not allowed while grading.")
            return
        if event in ("object.__setattr__", "object.__delattr__"):
            obj = args[0]
            if id(obj) in protected and protected[id(obj)] is obj:
                if _trusted_caller(st, 1):
                    return
                st.in_hook[0] = True
                try:
                    what = f"changed {_qual(obj)}.{args[1]}" if not isinstance(obj, types.ModuleType) \
                        else f"changed the module {obj.__name__} ({args[1]})"
                    _record(st, "tamper", what)
                finally:
                    st.in_hook[0] = False
                raise RuntimeError(f"{MARK}: the grader does not allow code to change {_qual(obj)} "
                                   f"(attribute {args[1]}); the tests must run on the real library.")
            return
        if event == "object.__getattr__":
            if args[1] == "tb_frame":
                _guard_frame(st, args[0])
            if args[1] in ("tb_frame", "gi_frame", "cr_frame", "ag_frame") and st.cell_dir:
                _tests_frames(st, f".{args[1]}")
                st.in_hook[0] = True
                try:
                    caller = sys._getframe(1).f_code.co_filename
                finally:
                    st.in_hook[0] = False
                if caller.startswith(st.cell_dir) and caller not in st.trusted_files:
                    _record(st, "tamper", f"reached a frame through .{args[1]}")
            return
        if event == "compile" and len(args) >= 2:
            _compiled_as_trusted(st, args[1])
            return
        if event == "sys._getframe":
            _tests_frames(st, "sys._getframe")
            frame = args[0]
            fn = frame.f_code.co_filename if frame is not None else ""
            if st.cell_dir and fn.startswith(st.cell_dir):
                _record(st, "tamper", "inspected the frames of the notebook's code (sys._getframe)")
            return
        if event in ("sys.settrace", "sys.setprofile", "ctypes.string_at",
                     "ctypes.addressof", "ctypes.cdata", "ctypes.dlsym", "ctypes.wstring_at",
                     "ctypes.call_function", "code.__new__", "function.__new__", "marshal.loads"):
            st.in_hook[0] = True
            try:
                cell = _from_cell(st)
            finally:
                st.in_hook[0] = False
            if cell:
                _record(st, "tamper", f"used {event}", "")
            return
        if event in ("socket.connect", "socket.bind", "subprocess.Popen", "os.system", "os.fork",
                     "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.kill", "os.killpg",
                     "pty.spawn", "os.setpgid", "os.setsid"):
            st.in_hook[0] = True
            try:
                cell = _from_cell(st)
            finally:
                st.in_hook[0] = False
            if cell:
                _record(st, "review", f"used {event}", repr(args)[:200])

    sys.addaudithook(hook)


def _snapshot(st):
    """Copies of the dictionaries of the watched modules (compared at every checkpoint)."""
    snaps = []
    for name in (*DIGEST_MODULES, *sorted(n for n in sys.modules if n == "nnlib" or n.startswith("nnlib."))):
        mod = sys.modules.get(name)
        if mod is None:
            continue
        try:
            d = types.ModuleType.__getattribute__(mod, "__dict__")
        except Exception:  # noqa: BLE001
            continue
        snaps.append((name, d, dict(d)))
    st.snaps = snaps


def _checkpoint(st):
    """Compare the watched modules with their snapshots; put back and record what changed."""
    for name, d, snap in st.snaps:
        if d == snap:
            continue
        for k, v in list(snap.items()):
            if k not in d or d[k] is not v:
                if not (name == "builtins" and k in BUILTINS_ALLOWED):
                    _record(st, "tamper", f"changed {name}.{k} while a test was running")
                d[k] = v
        for k in list(d):
            if k not in snap:
                snap[k] = d[k]  # an attribute added later (a submodule imported): the new normal


# generators, coroutines and asynchronous generators (inspect.CO_GENERATOR | CO_COROUTINE |
# CO_ASYNC_GENERATOR)
_SUSPENDABLE = 0x20 | 0x80 | 0x200


def _first_resume(code):
    """The f_lasti of a generator's frame when it first starts (its first RESUME), or None."""
    import dis

    for ins in dis.get_instructions(code):
        if ins.opname == "RESUME":
            return ins.offset
    return None


def _resumed(st, frame):
    """A generator (or coroutine) of the submission's code runs while a test runs.

    One started during the test is the submission's own business. One suspended before the
    test began is not: while it runs, its frame's ``f_back`` leads to the test's frames, and a
    frame of it taken earlier (which no audit event reports when it is read) would hand them
    over. Graded functions must not carry a generator over from an earlier cell."""
    code = frame.f_code
    fn = code.co_filename
    if fn in st.trusted_files or _installed(st, fn) or id(code) in st.trusted_codes:
        return
    if id(frame) in st.started:
        return
    key = id(code)
    if key not in st.resume_at:
        st.resume_at[key] = (code, _first_resume(code))
    first = st.resume_at[key][1]
    if first is None or frame.f_lasti == first:
        st.started.add(id(frame))
        return
    _record(st, "tamper", "resumed, while a test was running, a generator it had started before the test",
            f"{code.co_name} from {fn}")


def _profiled(st, frame, event, arg):
    """``nncourse.guard.profile``, from the profile function of a test cell.

    * ``return``: a checkpoint whenever the student's code returns to other code, so that a
      patch the student's function makes (and would undo later) is gone before the test goes on;
    * ``call`` of a generator or coroutine: see :func:`_resumed`;
    * ``c_call`` of ``signal.signal``: a signal handler is handed the frame it interrupts (no
      audit event reports that), so the submission may not set one while a test runs."""
    if st.in_hook[0] or st.allow[0] or not st.armed[0]:
        return
    st.in_hook[0] = True
    try:
        caller = sys._getframe(2)  # the hook, the profile function, the frame of the event
        if caller.f_code is not st.profile_code:
            _record(st, "tamper", "called the grader's profile channel itself")
            return
        if event == "call":
            _resumed(st, frame)
        elif event == "c_call":
            if _untrusted_on_stack(st, 3) is not None:
                _record(st, "tamper", "set a signal handler while a test was running (a handler is handed "
                                      "the test's frame)")
        elif event == "return":
            fn = frame.f_code.co_filename
            cell_dir, trusted = st.cell_dir, st.trusted_files
            if fn.startswith(cell_dir) and fn not in trusted:
                back = frame.f_back
                bfn = back.f_code.co_filename if back is not None else ""
                if not bfn.startswith(cell_dir) or bfn in trusted:
                    _checkpoint(st)
    finally:
        st.in_hook[0] = False


def _signal_handlers():
    """The Python-level handler of every signal (what ``signal.getsignal`` says)."""
    import signal

    out = {}
    for n in signal.valid_signals():
        try:
            out[int(n)] = signal.getsignal(n)
        except (ValueError, OSError):
            continue
    return out


def _check_signals(st):
    """Before a test: a signal handler the submission set, or a timer it started, would be
    handed the test's frames (no audit event reports that)."""
    import signal

    for n, h in _signal_handlers().items():
        if h is not st.signals.get(n) and h not in (signal.SIG_DFL, signal.SIG_IGN, None,
                                                    signal.default_int_handler):
            _record(st, "tamper", "set a signal handler (a handler is handed the frame it interrupts, "
                                  "and so the tests' frames)", f"signal {n}: {_qual(h)}")
    for which in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
        if signal.getitimer(which) != (0.0, 0.0):
            _record(st, "tamper", "left an interval timer running (its signal would interrupt the tests)")


def _profile_intact(st):
    """The profile function is still the grader's, forwarding to the hook."""
    prof = sys.getprofile()
    if prof is not st.profile or prof.__code__ is not st.profile_code:
        return False
    values = dict(zip(prof.__code__.co_freevars, (c.cell_contents for c in prof.__closure__ or ())))
    return all(values.get(k) is v for k, v in st.profile_closure.items())


# The class of every numpy/nnlib module while grading (their attributes cannot be rebound),
# compiled in a namespace of its own: its methods are reachable (``numpy.__class__``), so
# they hold nothing but a call to the audit hook, which decides.
_GUARDED_MODULE_SOURCE = '''
import sys
import types


class GuardedModule(types.ModuleType):
    """A module whose attributes the grader's audit hook guards while grading."""

    def __setattr__(self, name, value):
        sys.audit("nncourse.guard.setattr", self, name, value)
        types.ModuleType.__setattr__(self, name, value)

    def __delattr__(self, name):
        sys.audit("nncourse.guard.delattr", self, name)
        types.ModuleType.__delattr__(self, name)
'''

# The profile function of a test cell, in a namespace of its own for the same reason: it
# forwards to the hook the returns of the notebook's code (for the checkpoints), the starts of
# generators and coroutines from outside the installation, and the calls of signal.signal.
# It runs at every call and return of every function while a test runs, so it filters before
# it forwards: what the hook would let pass anyway never reaches it.
_PROFILE_SOURCE = '''
def make(audit, suspendable, signal_setter, cell_dir, installation):
    def profile(frame, event, arg):
        if event == "return":
            if frame.f_code.co_filename.startswith(cell_dir):
                audit("nncourse.guard.profile", frame, event, None)
        elif event == "call":
            code = frame.f_code
            if code.co_flags & suspendable:
                fn = code.co_filename
                if not fn.startswith(installation) or "/.." in fn or "/./" in fn:
                    audit("nncourse.guard.profile", frame, event, None)
        elif event == "c_call" and arg is signal_setter:
            audit("nncourse.guard.profile", frame, event, arg)
    return profile
'''

GUARD_FILE = "<nncourse-guard>"


def _compile_apart(source, name):
    ns = {"__name__": "_nncourse_guard", "__builtins__": builtins}
    exec(compile(source, GUARD_FILE, "exec"), ns)
    return ns[name]


def _module_change(st, event, args):
    """``nncourse.guard.setattr`` / ``.delattr`` from GuardedModule: allow or refuse (raise)."""
    if st.allow[0]:
        return
    module, name = args[0], args[1]
    # frames, from _trusted_caller: itself, this function, the hook, GuardedModule's method, the code
    if event.endswith("setattr"):
        if _benign(module, name, args[2]) or _trusted_caller(st, 3):
            return
        _record(st, "tamper", f"replaced {module.__name__}.{name}")
        raise RuntimeError(f"{MARK}: the grader does not allow code to replace {module.__name__}.{name}; "
                           "the tests must run on the real library.")
    if (module.__name__ == "builtins" and name in BUILTINS_ALLOWED) or _trusted_caller(st, 3):
        return
    _record(st, "tamper", f"deleted {module.__name__}.{name}")
    raise RuntimeError(f"{MARK}: the grader does not allow code to delete {module.__name__}.{name}.")


def _benign(module, name, value):
    if module.__name__ == "builtins":
        return name in BUILTINS_ALLOWED
    # the import system binds a submodule to its package
    if isinstance(value, types.ModuleType) and sys.modules.get(f"{module.__name__}.{name}") is value:
        return True
    return name.startswith("__") and name.endswith("__") and name in ("__warningregistry__",)


def _watched(name):
    return name == "builtins" or name == "math" or any(
        name == p or name.startswith(p + ".") for p in WATCH_PREFIXES)


def _import_all():
    import importlib
    import pkgutil

    import numpy  # noqa: F401
    import numpy.linalg  # noqa: F401
    import numpy.random  # noqa: F401
    import numpy.testing  # noqa: F401
    import math  # noqa: F401
    try:
        import nnlib
    except ImportError:
        return
    for info in pkgutil.walk_packages(nnlib.__path__, "nnlib."):
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 - an optional nnlib module
            pass


def _sig(obj):
    """A short signature of one module attribute: changes when the object or its code changes."""
    if isinstance(obj, types.FunctionType):
        kw = obj.__kwdefaults__
        return (f"f{id(obj)}:{id(obj.__code__)}:{id(obj.__defaults__)}:{id(obj.__globals__)}:"
                f"{repr(sorted(kw.items()))[:120] if kw else ''}")
    if isinstance(obj, types.ModuleType):
        return f"m{id(obj)}:{type(obj).__name__}"
    if isinstance(obj, type):
        if obj.__flags__ & (1 << 9) and _watched(getattr(obj, "__module__", "") or ""):  # a Python class
            parts = []
            for k, v in list(vars(obj).items()):
                code = getattr(v, "__code__", None) or getattr(getattr(v, "__func__", None), "__code__", None)
                parts.append(f"{k}:{id(v)}:{id(code) if code is not None else ''}")
            return f"t{id(obj)}:" + hashlib.sha1("|".join(sorted(parts)).encode()).hexdigest()[:16]
        return f"t{id(obj)}"
    impl = getattr(obj, "_implementation", None)
    if impl is not None and isinstance(impl, types.FunctionType):
        return f"d{id(obj)}:{id(impl)}:{id(impl.__code__)}"
    if callable(obj):
        return f"c{id(obj)}"
    if isinstance(obj, (int, float, str, bool, bytes, type(None))):
        return "v" + repr(obj)[:80]
    return None


def _module_fp(name):
    mod = sys.modules.get(name)
    if mod is None:
        return None
    out = {"__module__": f"m{id(mod)}"}
    try:
        items = list(types.ModuleType.__getattribute__(mod, "__dict__").items())
    except Exception:  # noqa: BLE001
        return {"__module__": "unreadable"}
    for k, v in items:
        if name == "builtins" and k in BUILTINS_ALLOWED:
            continue
        s = _sig(v)
        if s is not None:
            out[k] = s
    return out


def _digest(fp):
    if fp is None:
        return None
    return hashlib.sha1(json.dumps(fp, sort_keys=True).encode()).hexdigest()


def _shell_fp(st):
    out = {}
    ip = _shell()
    if ip is None:
        return {"shell": "missing"}

    def ids(seq):
        return [_qual(x) + f"@{id(x)}" for x in seq]

    out["input_transformers_cleanup"] = ids(ip.input_transformers_cleanup)
    out["input_transformers_post"] = ids(ip.input_transformers_post)
    out["ast_transformers"] = ids(ip.ast_transformers)
    tm = ip.input_transformer_manager
    for attr in ("cleanup_transforms", "line_transforms", "token_transformers"):
        out["transformer_manager." + attr] = ids(getattr(tm, attr, []) or [])
    cbs = {}
    for ev, fns in ip.events.callbacks.items():
        names = []
        for f in fns:
            mod = getattr(getattr(f, "__func__", f), "__module__", "") or ""
            if not mod.startswith(CALLBACK_MODULES):
                names.append(_qual(f))
        cbs[ev] = sorted(names)
    out["events"] = cbs
    out["custom_exceptions"] = repr(ip.custom_exceptions)
    own = {}
    for k, v in list(vars(ip).items()):
        if callable(v) and not isinstance(v, type) and hasattr(type(ip), k):
            own[k] = f"{id(v)}"
    out["shell_overrides"] = own
    parts = []
    for cls in type(ip).__mro__:
        for k, v in list(vars(cls).items()):
            code = getattr(v, "__code__", None)
            if code is not None:
                parts.append(f"{cls.__name__}.{k}:{id(v)}:{id(code)}")
    kernel = getattr(ip, "kernel", None)
    if kernel is not None:
        for cls in type(kernel).__mro__:
            for k, v in list(vars(cls).items()):
                code = getattr(v, "__code__", None)
                if code is not None:
                    parts.append(f"{cls.__name__}.{k}:{id(v)}:{id(code)}")
        handlers = getattr(kernel, "shell_handlers", {}) or {}
        parts += [f"handler.{k}:{id(v)}" for k, v in sorted(handlers.items())]
        parts += [f"kernel.{k}:{id(v)}" for k, v in sorted(vars(kernel).items())
                  if callable(v) and not isinstance(v, type) and hasattr(type(kernel), k)]
    out["shell_code"] = hashlib.sha1("|".join(sorted(parts)).encode()).hexdigest()
    out["sys_hooks"] = {"displayhook": f"{id(sys.displayhook)}", "excepthook": f"{id(sys.excepthook)}",
                        "stdout": f"{id(sys.stdout)}", "stderr": f"{id(sys.stderr)}",
                        "trace": repr(sys.gettrace()), "profile": repr(sys.getprofile()),
                        "import": f"{id(builtins.__import__)}"}
    # the file names cells are compiled under (the guard trusts code by its file name):
    # ipykernel takes IPYKERNEL_CELL_NAME when it is set; then the compiler's methods and the
    # functions of the modules that define it (ipykernel.compiler.get_file_name, ...), read
    # and never called (a replaced one would run the submission's code inside this probe)
    import os

    out["cell_names"] = repr(os.environ.get("IPYKERNEL_CELL_NAME"))
    compiler = getattr(ip, "compile", None)
    parts = []
    if compiler is not None:
        parts += [f"{k}:{id(v)}" for k, v in vars(compiler).items() if callable(v)]
        for cls in type(compiler).__mro__:
            parts += [f"{cls.__name__}.{k}:{id(getattr(v, '__code__', v))}"
                      for k, v in vars(cls).items() if callable(v)]
            mod = sys.modules.get(cls.__module__)
            if mod is not None and mod is not builtins:
                parts += [f"{mod.__name__}.{k}:{id(getattr(v, '__code__', v))}"
                          for k, v in list(vars(mod).items()) if callable(v)]
    out["compiler"] = hashlib.sha1("|".join(sorted(parts)).encode()).hexdigest()
    out["meta_path"] = ids(sys.meta_path)
    out["path_hooks"] = ids(sys.path_hooks)
    return out


def _threads(st):
    out = []
    for t in threading.enumerate():
        if t.ident in st.baseline_threads:
            continue
        mod = type(t).__module__ or ""
        if mod.startswith(THREAD_ALLOWED):
            continue
        out.append(f"{t.name} ({type(t).__module__}.{type(t).__name__})")
    return sorted(out)


def _drain(st):
    ev, st.events = st.events, []
    return ev


def _user_ns():
    return _shell().user_ns


def _copy(value):
    try:
        import numpy as np
        if isinstance(value, np.ndarray):
            return value.copy()
    except Exception:  # noqa: BLE001
        pass
    return None


def _same_array(a, b):
    import numpy as np
    return (isinstance(a, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def probe(kind, arg=None, key=None):
    """The grader's first probe (``begin``), which installs the hook; later probes are a bare
    ``sys.audit("nncourse.guard", kind, arg, key, box)`` (see :mod:`nncourse.guard`)."""
    box = {}
    sys.audit("nncourse.guard", kind, arg, key, box)
    if "result" in box:
        return box["result"]
    if "refused" in box:
        return json.dumps({"error": box["refused"]})
    if kind != "begin":
        return json.dumps({"error": "the grader's checks are not installed in this kernel"})
    st = _new_state()
    st.expect = key.get("next") if isinstance(key, dict) else None
    st.sign = key.get("sign") if isinstance(key, dict) else None
    return _signed(st, _serve(st, kind, arg))


def _serve(st, kind, arg):
    st.allow[0] = True
    try:
        if kind == "begin":
            result = _begin(st, arg or {})
        elif kind == "digest":
            result = {"digest": {m: _digest(_module_fp(m)) for m in DIGEST_MODULES},
                      "shell": _shell_fp(st), "threads": _threads(st)}
        elif kind == "detail":
            result = {"fp": {m: _module_fp(m) for m in (arg or [])}}
        elif kind == "stash":
            ns = _user_ns()
            stashed = []
            for name in arg or []:
                if name in ns:
                    st.stash[name] = (ns[name], _copy(ns[name]))
                    stashed.append(name)
            result = {"stashed": stashed}
        elif kind == "arm":  # a test cell starts: checkpoints while it runs, no frames for the submission
            _plain_tracebacks()
            _checkpoint(st)
            _check_signals(st)
            st.armed[0] = True
            st.started = set()
            if st.profile is not None and st.cell_dir:
                sys.setprofile(st.profile)
            result = {}
        elif kind == "disarm":
            st.armed[0] = False
            if st.profile is not None and st.cell_dir:
                if not _profile_intact(st):
                    _record(st, "tamper", "removed or changed the grader's profile function while a test was "
                                          "running")
                sys.setprofile(None)
            _checkpoint(st)
            result = {}
        elif kind == "restore":
            ns = _user_ns()
            restored = []
            for name, (obj, copy) in list(st.stash.items()):
                cur = ns.get(name, st)
                if cur is st:
                    ns[name] = obj
                    restored.append([name, "deleted"])
                elif cur is not obj:
                    ns[name] = obj
                    restored.append([name, "rebound"])
                if copy is not None and not _same_array(obj, copy):
                    fresh = copy.copy()
                    ns[name] = fresh
                    st.stash[name] = (fresh, copy)
                    restored.append([name, "changed in place"])
            result = {"restored": restored}
        else:
            result = {"error": f"unknown probe {kind!r}"}
        result["events"] = _drain(st)
        return json.dumps(result)
    finally:
        st.allow[0] = False


def _installation_dirs():
    """Where the instructor's and the installation's code lives (read-only for the kernel):
    the standard library, site-packages, nnlib, and the frozen modules of importlib."""
    import os
    import sysconfig

    dirs = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            dirs.add(paths[key])
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        dirs.add(os.path.join(prefix, "lib"))
    nnlib = sys.modules.get("nnlib")
    if nnlib is not None and getattr(nnlib, "__file__", None):
        dirs.add(os.path.dirname(nnlib.__file__))
    out = set()
    for d in dirs:
        for v in (d, os.path.realpath(d)):
            out.add(v.rstrip("/") + "/")
    return (*sorted(out), "<frozen ")


def _frame_safe_codes():
    """The code of the standard library's functions that take their caller's frame only to read
    its module name or position (see :func:`_frame_safe`)."""
    import collections
    import enum
    import logging
    import typing

    codes = set()
    for f in (collections.namedtuple, getattr(typing, "_caller", None),
              getattr(enum.EnumType, "_create_", None)):
        f = getattr(f, "__func__", f)
        if isinstance(f, types.FunctionType):
            codes.add(id(f.__code__))
    # logging.currentframe (a lambda around sys._getframe), when Logger.findCaller calls it
    if isinstance(getattr(logging, "currentframe", None), types.FunctionType):
        codes.add((id(logging.currentframe.__code__), id(logging.Logger.findCaller.__code__)))
    return codes


def _plain_tracebacks():
    """Plain tracebacks (the file, line and source of every frame, and the message) instead of
    IPython's default, which parses the source file of every frame (stack_data): under the
    profile function of a test cell that took 1.5-3 s for a failing test's first traceback,
    a large part of a short cell time limit."""
    try:
        _shell().InteractiveTB.set_mode(mode="Plain")
    except Exception:  # noqa: BLE001 - no IPython shell: nothing to format
        pass


def _begin(st, arg):
    _import_all()
    try:
        ip = _shell()
        st.cell_dir = ip.compile.get_code_name("", "", 0).rsplit("/", 1)[0] + "/"
    except Exception:  # noqa: BLE001
        st.cell_dir = None
    _plain_tracebacks()
    st.baseline_threads = {t.ident for t in threading.enumerate()}
    if st.cell_dir:
        st.trusted_files = {st.cell_dir + n for n in arg.get("trusted", [])}
    st.trusted_dirs = _installation_dirs()
    st.frame_safe = _frame_safe_codes()
    testing = sys.modules.get("nnlib.testing")
    if testing is not None:
        st.testing_globals = types.ModuleType.__getattribute__(testing, "__dict__")
        # the functions defined there (not what it imports, such as typing.NamedTuple), and not
        # the functions defined inside them: record_calls' handler keeps its state in closure
        # cells, which code that reaches the handler can rewrite without an audit event
        for v in list(vars(testing).values()):
            for f in (v, getattr(v, "__wrapped__", None)):
                if isinstance(f, types.FunctionType) and f.__module__ == testing.__name__:
                    st.trusted_codes.add(id(f.__code__))
    if not st.installed:
        protected = st.protected
        guarded = _compile_apart(_GUARDED_MODULE_SOURCE, "GuardedModule")
        for name, mod in list(sys.modules.items()):
            if mod is None or not _watched(name):
                continue
            protected[id(mod)] = mod
            try:
                values = list(types.ModuleType.__getattribute__(mod, "__dict__").values())
            except Exception:  # noqa: BLE001
                continue
            for v in values:
                if isinstance(v, (types.FunctionType, type, types.BuiltinFunctionType)) or hasattr(v, "_implementation"):
                    if isinstance(v, type) and not (v.__flags__ & (1 << 9)):
                        continue  # a C type cannot be changed anyway
                    protected[id(v)] = v
                    if isinstance(v, type):
                        for w in list(vars(v).values()):
                            f = getattr(w, "__func__", w)
                            if isinstance(f, types.FunctionType):
                                protected[id(f)] = f
            if name != "builtins" and type(mod) is types.ModuleType:
                try:
                    object.__setattr__(mod, "__class__", guarded)
                except TypeError:
                    pass
        if type(builtins) is types.ModuleType:
            object.__setattr__(builtins, "__class__", guarded)
        import _signal

        st.signals = _signal_handlers()
        st.signal_setter = _signal.signal
        st.profile = _compile_apart(_PROFILE_SOURCE, "make")(sys.audit, _SUSPENDABLE, _signal.signal,
                                                              st.cell_dir or "", st.trusted_dirs)
        st.profile_code = st.profile.__code__
        st.profile_closure = dict(zip(st.profile_code.co_freevars,
                                      (c.cell_contents for c in st.profile.__closure__ or ())))
        protected[id(st.profile)] = st.profile
        _install_hook(st)
        st.installed = True
    _snapshot(st)
    return {"fp": {m: _module_fp(m) for m in DIGEST_MODULES},
            "digest": {m: _digest(_module_fp(m)) for m in DIGEST_MODULES},
            "shell": _shell_fp(st), "threads": _threads(st)}
