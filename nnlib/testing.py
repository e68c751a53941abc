"""Assertions that fail with a message a student can act on.

Used by the tests in the homework notebooks (public and hidden). Every helper
raises ``AssertionError`` whose message says *what* is wrong, with the value
expected and the value found, and *where* in the book to read.

Examples
--------
>>> check_close(0.5, 0.25, what="sigmoid_derivative(0)", read="Chapter 5, 'Sigmoid'")
Traceback (most recent call last):
...
AssertionError: sigmoid_derivative(0) should be 0.25, got 0.5. Read: Chapter 5, 'Sigmoid'.
"""

from __future__ import annotations

import contextlib
import functools
import types
from typing import Callable, NamedTuple

import numpy as np

__all__ = ["Call", "check_calls", "check_circuit", "check_close", "check_shape", "check_raises", "check_true",
           "forbid_calls", "record_calls"]


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    if isinstance(v, np.ndarray) and v.size > 6:
        return np.array2string(v, precision=4, threshold=6)
    if isinstance(v, np.ndarray):
        return np.array2string(v, precision=6)
    return repr(v)


def _fail(message: str, read: str | None):
    message = message.rstrip()
    if read and not message.endswith((".", "!", "?")):
        message += "."
    raise AssertionError(message + (f" Read: {read}." if read else ""))


def check_true(condition, message: str, *, read: str | None = None) -> None:
    """Fail with ``message`` (and where to read) unless ``condition`` holds."""
    if not condition:
        _fail(message, read)


def check_shape(got, shape: tuple, *, what: str, read: str | None = None) -> None:
    """Fail unless ``got`` is an array of the given shape."""
    if got is None:
        _fail(f"{what} returned None; did you forget a return statement?", read)
    got_shape = np.shape(got)
    if tuple(got_shape) != tuple(shape):
        _fail(f"{what} should have shape {tuple(shape)}, got shape {tuple(got_shape)}.", read)


def check_close(got, expected, *, what: str, read: str | None = None, inputs=None,
                rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Fail unless ``got`` matches ``expected`` elementwise within tolerances.

    Parameters
    ----------
    got, expected : scalar or array_like
    what : str
        How to name the quantity in the message, e.g. ``"sigmoid(z)"``.
    read : str, optional
        The book section to read when it fails.
    inputs : array_like, optional
        The inputs, same shape as ``expected``; the message then quotes the
        input at the first wrong entry ("wrong at z = 0.0").
    rtol, atol : float

    Notes
    -----
    The message quotes the first wrong entry and how many are wrong, never
    the code of the expected answer.
    """
    if got is None:
        _fail(f"{what} returned None; did you forget a return statement?", read)
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        _fail(f"{what} should be numeric, got {type(got).__name__}.", read)
    e = np.asarray(expected, dtype=float)
    if g.shape != e.shape:
        _fail(f"{what} should have shape {e.shape}, got shape {g.shape}.", read)
    if not np.all(np.isfinite(g) | ~np.isfinite(e)):
        n_bad = int(np.sum(~np.isfinite(g) & np.isfinite(e)))
        _fail(f"{what} contains {n_bad} NaN or infinite value(s) where finite ones were expected "
              "(an overflow? look for exp of a large number).", read)
    ok = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    if np.all(ok):
        return
    if e.ndim == 0:
        _fail(f"{what} should be {_fmt(e[()])}, got {_fmt(g[()])}.", read)
    first = tuple(int(i) for i in np.argwhere(~ok)[0])
    where = ""
    if inputs is not None and np.shape(inputs) == e.shape:
        where = f" at input {_fmt(np.asarray(inputs)[first])}"
    else:
        where = f" at index {first if len(first) > 1 else first[0]}"
    _fail(f"{what} is wrong{where}: expected {_fmt(e[first])}, got {_fmt(g[first])} "
          f"({int(np.sum(~ok))} of {e.size} entries wrong).", read)


def check_raises(func: Callable, exception=ValueError, *, what: str, read: str | None = None) -> None:
    """Fail unless calling ``func()`` raises ``exception``."""
    try:
        func()
    except exception:
        return
    except Exception as exc:  # noqa: BLE001 - we report what happened instead
        _fail(f"{what} should raise {exception.__name__}, but raised "
              f"{type(exc).__name__}: {exc}.", read)
    _fail(f"{what} should raise {exception.__name__}, but did not raise.", read)


def _plain(name) -> str:
    """``name`` if it is a str, else "?": a name the student's code set to another object must
    not run code of theirs (its ``__format__``) while forbid_calls or record_calls holds state."""
    return name if type(name) is str else "?"


def _template_code(name: str, params: str, statement: str, n_free: int) -> types.CodeType:
    """The code of ``def name(params): statement`` with ``n_free`` free variables: a function's
    code can only be swapped for one with as many (a closure's)."""
    cells = [f"_cell{i}" for i in range(n_free)]
    src = "def _outer():\n"
    src += "".join(f"    {c} = None\n" for c in cells)
    src += f"    def {name}({params}):\n"
    if cells:
        src += f"        {', '.join(cells)}\n"
    src += f"        {statement}\n"
    src += f"    return {name}\n"
    ns: dict = {}
    exec(src, ns)  # noqa: S102
    return ns["_outer"]().__code__


def _blocked_code(msg: str, n_free: int) -> types.CodeType:
    """The code of a function that raises ``AssertionError(msg)``, with ``n_free`` free variables."""
    return _template_code("_blocked", "*args, **kwargs", f"raise AssertionError({msg!r})", n_free)


@contextlib.contextmanager
def forbid_calls(*functions: Callable, exercise: str = "this exercise", read: str | None = None):
    """Make the given (reference) functions fail if anything calls them.

    The code object of each function is swapped for one that raises
    ``AssertionError``, so every reference to the function is caught, also
    one imported earlier with ``from nnlib.activations import sigmoid``. The
    original code is restored on exit.

    Use it to check that a student's function computes its answer itself
    instead of calling the nnlib function it re-implements; compute the
    expected values *before* entering the block. ``read`` is the book section
    the message points to.
    """
    # no code of the caller's may run while `saved` holds what the end puts back: the types
    # are compared exactly (isinstance would read a __class__ property), names only used if str
    saved = []
    try:
        for f in functions:
            if type(f) is not types.FunctionType:
                raise TypeError(f"forbid_calls needs plain Python functions, got a {type(f).__name__}")
            name = f"{_plain(f.__module__)}.{_plain(f.__qualname__)}"
            msg = (f"{_plain(exercise)} must be computed by your own code, but it called {name}. "
                   "Write the formula yourself with NumPy." + (f" Read: {_plain(read)}." if read else ""))
            blocked = _blocked_code(msg, len(f.__code__.co_freevars))
            saved.append((f, f.__code__, blocked))
            f.__code__ = blocked
        yield
    finally:
        for f, code, blocked in saved:
            if f.__code__ is blocked:
                f.__code__ = code


def _codes(code: types.CodeType):
    """``code`` and the code of every function, lambda and comprehension defined inside it."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _reaches(func, target, seen: set) -> bool:
    """Whether ``func`` refers to ``target``: by a global name, a closure variable or a default
    argument, directly or through the functions of its own namespace that it refers to."""
    if func is target:
        return True
    if isinstance(func, functools.partial):
        return _reaches(func.func, target, seen)
    if isinstance(func, types.MethodType):
        func = func.__func__
    if not isinstance(func, types.FunctionType) or id(func) in seen:
        return False
    seen.add(id(func))
    names = {name for code in _codes(func.__code__) for name in code.co_names}
    referred = [func.__globals__.get(name) for name in names]
    referred += [cell.cell_contents for cell in func.__closure__ or () if _filled(cell)]
    referred += list(func.__defaults__ or ()) + list((func.__kwdefaults__ or {}).values())
    # attributes of modules: nnlib.fit, nnlib.training.fit (the names of both are in co_names)
    modules = [obj for obj in referred if isinstance(obj, types.ModuleType)]
    for _ in range(3):
        found = [getattr(m, name, None) for m in modules for name in names]
        referred += found
        modules = [obj for obj in found if isinstance(obj, types.ModuleType) and obj not in modules]
    for obj in referred:
        if obj is target or isinstance(obj, functools.partial) and obj.func is target:
            return True
        # follow the functions written next to func (a notebook's), not those of libraries
        if (isinstance(obj, (types.FunctionType, functools.partial))
                and getattr(obj, "__globals__", getattr(getattr(obj, "func", None), "__globals__", None))
                is func.__globals__ and _reaches(obj, target, seen)):
            return True
    return False


def _filled(cell) -> bool:
    try:
        cell.cell_contents
    except ValueError:   # a closure variable not bound yet
        return False
    return True


def check_calls(func: Callable, target: Callable, *, what: str, name: str | None = None,
                read: str | None = None) -> None:
    """Fail unless ``func`` calls ``target``, itself or through the other functions of its
    namespace that it uses (a notebook's helper functions).

    A static check of the code, which follows aliases (``unit = mp_unit``), helper functions,
    lambdas, closures, default arguments, ``functools.partial`` and module attributes
    (``nnlib.fit``): use it to check that an exercise is wired from the student's own building
    block (an XOR network from their McCulloch-Pitts unit) or trained with the library (with
    ``nnlib.fit``), and not computed some other way (``x[:, 0] ^ x[:, 1]``, a closed form). It
    does not run ``func``, so it cannot tell whether the result comes out of ``target``:
    combine it with value checks.

    Parameters
    ----------
    func : callable
        The student's function.
    target : callable
        What it must call.
    what : str
        How to name ``func`` in the message.
    name : str, optional
        How to name ``target`` in the message, e.g. ``"nnlib.fit"``; default its ``__name__``.
    read : str, optional
        The book section to read when it fails.

    Examples
    --------
    >>> def unit(x): return x
    >>> def built(x): return unit(x) + 1
    >>> def shortcut(x): return x + 1
    >>> check_calls(built, unit, what="built")
    >>> check_calls(shortcut, unit, what="shortcut", read="Chapter 3")
    Traceback (most recent call last):
    ...
    AssertionError: shortcut should call unit (directly or through your other functions), but it never does. Read: Chapter 3.
    """
    if name is None:
        name = getattr(target, "__name__", repr(target))
    if not _reaches(func, target, set()):
        _fail(f"{what} should call {name} (directly or through your other functions), "
              "but it never does.", read)


class Call(NamedTuple):
    """One call recorded by :func:`record_calls`: NumPy arrays among ``args`` and ``kwargs`` are
    copies taken when the call began, other arguments (a model) the objects themselves."""

    args: tuple
    kwargs: dict
    result: object


def _forwarding_code(n_free: int) -> types.CodeType:
    """The code of ``def f(*args, __nnlib_handler__, **kwargs): return __nnlib_handler__(args,
    kwargs)`` with ``n_free`` free variables."""
    return _template_code("_forward", "*args, __nnlib_handler__, **kwargs",
                          "return __nnlib_handler__(args, kwargs)", n_free)


# packages whose functions record_calls refuses: the grading kernel protects their code
_LIBRARIES = ("nnlib", "numpy")


def _snapshot(value):
    return value.copy() if isinstance(value, np.ndarray) else value


@contextlib.contextmanager
def record_calls(func: Callable):
    """Record every call of ``func`` while the block runs; yields the list of :class:`Call`.

    Use it to check *how* a result was made: that ``xor_mp`` is a circuit of the student's
    units (:func:`check_circuit`). Like :func:`forbid_calls`, the function's code is swapped,
    so every reference to it is seen (an alias bound earlier, a ``functools.partial``, a
    helper); each call runs the original code, put back for its duration (no new function
    object is made, which the grading kernel would count as tampering).

    Only a notebook's functions can be recorded, not those of nnlib or NumPy, whose code the
    grading kernel protects (a handler that could change their code would be reachable from
    the student's code); to check that a student's function uses one of those, read its code
    with :func:`check_calls`.

    Examples
    --------
    >>> def unit(x, threshold=1):
    ...     return int(x >= threshold)
    >>> unit.__module__ = "__main__"    # a notebook's function (this example runs in nnlib.testing)
    >>> with record_calls(unit) as calls:
    ...     _ = unit(3), unit(0, threshold=0)
    >>> [(c.args, c.kwargs, c.result) for c in calls]
    [((3,), {}, 1), ((0,), {'threshold': 0}, 1)]
    """
    if type(func) is not types.FunctionType:
        raise TypeError(f"record_calls needs a plain Python function, got a {type(func).__name__}")
    module = _plain(func.__module__)
    if module.split(".")[0] in _LIBRARIES:
        raise TypeError(f"record_calls records the functions of a notebook, not {module}."
                        f"{_plain(func.__qualname__)}: the grader keeps the libraries' code as it is")
    # what the block puts back at the end, in variables of its own: the handler's closure cells
    # can be reached (and rewritten) by the code that calls the function
    target, saved_code, saved_kwdefaults = func, func.__code__, func.__kwdefaults__
    calls: list[Call] = []
    code, kwdefaults = saved_code, saved_kwdefaults
    forwarding = _forwarding_code(len(code.co_freevars))

    def handler(args, kwargs):
        # the original code runs in the function itself, put back for the call (a call the
        # original makes of the function, recursion, is then not recorded)
        snap = Call(tuple(_snapshot(a) for a in args), {k: _snapshot(v) for k, v in kwargs.items()}, None)
        func.__code__, func.__kwdefaults__ = code, kwdefaults
        try:
            result = func(*args, **kwargs)
        finally:
            func.__code__, func.__kwdefaults__ = forwarding, {"__nnlib_handler__": handler}
        calls.append(snap._replace(result=_snapshot(result)))
        return result

    target.__code__, target.__kwdefaults__ = forwarding, {"__nnlib_handler__": handler}
    try:
        yield calls
    finally:
        target.__code__, target.__kwdefaults__ = saved_code, saved_kwdefaults


def _columns(a, n: int):
    """The columns of ``a`` as n-vectors, or None when ``a`` does not have n rows."""
    a = np.asarray(a)
    if a.ndim == 0 or a.shape[0] != n:
        return None
    return list(a.reshape(n, -1).T)


def check_circuit(calls, x, result, *, what: str, unit: str, read: str | None = None) -> None:
    """Fail unless ``result`` was computed by a circuit of the recorded units from ``x``.

    Parameters
    ----------
    calls : list of Call
        The unit's calls while the student's function ran on ``x``, from :func:`record_calls`.
        The unit's input is its first argument (or the keyword ``x``), shape (N, k).
    x : ndarray, shape (N, n)
        The input the function was given.
    result : array_like
        What it returned, shape (N,) or (N, m).
    what, unit : str
        How to name the function and the unit in the message.
    read : str, optional
        The book section to read when it fails.

    Notes
    -----
    Every column of every unit's input must be a column of ``x``, a constant, or the output of
    a unit called before; every column of ``result`` must be the output of a unit. Columns are
    compared by value, and only the calls on all N rows are followed. The outputs of calls on
    fewer rows (one sample at a time) cannot be followed: when the units were only called that
    way, at least N such calls are required, and when they were called both ways, a circuit
    that the calls on all N rows do not explain passes if there were at least N of the others.
    """
    x = np.asarray(x)
    n = x.shape[0]
    if not calls:
        _fail(f"{what} never called {unit}: build it from your {unit} units.", read)
    # the calls on the whole batch, whose columns can be followed; calls on fewer rows (one
    # sample at a time) cannot
    batch = [(c.args[0] if c.args else c.kwargs.get("x"), c) for c in calls]
    batch = [(i, c) for i, c in batch if _columns(i, n) is not None and _columns(c.result, n) is not None
             and len(_columns(c.result, n)) == 1]
    if not batch:
        if len(calls) < n:
            _fail(f"{what} made {len(calls)} {unit} call(s) for {n} input rows: every row needs its own "
                  f"units, or call {unit} on the whole batch.", read)
        return
    problem = _unexplained(batch, x, result, what=what, unit=unit)
    # a circuit that also runs units one sample at a time (a loop over the rows for some of its
    # signals) builds columns from outputs that cannot be followed
    if problem is not None and len(calls) - len(batch) < n:
        _fail(problem, read)


def _unexplained(batch, x, result, *, what: str, unit: str) -> str | None:
    """Why the calls on all N rows, ``batch`` [(input, Call)], do not explain ``result``, or None."""
    n = x.shape[0]
    known = _columns(x, n)
    outputs = []
    for k, (inp, call) in enumerate(batch, start=1):
        for j, col in enumerate(_columns(inp, n)):
            if not (np.all(col == col[0]) or any(np.array_equal(col, s) for s in known)):
                return (f"{what}: input column {j} of its {_ordinal(k)} {unit} call is neither a column of "
                        f"{what}'s input, nor the output of an earlier {unit}, nor a constant. Compute "
                        f"every signal with your {unit} units, not with NumPy.")
        out = _columns(call.result, n)[0]
        known.append(out)
        outputs.append(out)
    got = _columns(result, n)
    if got is None:
        return None   # the shape is the value checks' business
    for j, col in enumerate(got):
        if not any(np.array_equal(col, o) for o in outputs):
            where = f"column {j} of its result" if len(got) > 1 else "its result"
            return (f"{what}: {where} is not the output of one of your {unit} units. The last layer "
                    f"of the circuit must be {unit}s too; do not combine their outputs with NumPy.")
    return None


def _ordinal(k: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(k, f"{k}th")
