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
from typing import Callable

import numpy as np

__all__ = ["check_calls", "check_close", "check_shape", "check_raises", "check_true", "forbid_calls"]


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


def _blocked_code(msg: str, n_free: int) -> types.CodeType:
    """The code of a function that raises ``AssertionError(msg)``, with ``n_free`` free
    variables: a function's code can only be swapped for one with as many (a closure's)."""
    cells = [f"_cell{i}" for i in range(n_free)]
    src = "def _outer():\n"
    src += "".join(f"    {c} = None\n" for c in cells)
    src += "    def _blocked(*args, **kwargs):\n"
    if cells:
        src += f"        {', '.join(cells)}\n"
    src += f"        raise AssertionError({msg!r})\n"
    src += "    return _blocked\n"
    ns: dict = {}
    exec(src, ns)  # noqa: S102
    return ns["_outer"]().__code__


@contextlib.contextmanager
def forbid_calls(*functions: Callable, exercise: str = "this exercise"):
    """Make the given (reference) functions fail if anything calls them.

    The code object of each function is swapped for one that raises
    ``AssertionError``, so every reference to the function is caught, also
    one imported earlier with ``from nnlib.activations import sigmoid``. The
    original code is restored on exit.

    Use it to check that a student's function computes its answer itself
    instead of calling the nnlib function it re-implements; compute the
    expected values *before* entering the block.
    """
    saved = []
    try:
        for f in functions:
            if not isinstance(f, types.FunctionType):
                raise TypeError(f"forbid_calls needs plain Python functions, got {f!r}")
            name = f"{f.__module__}.{f.__qualname__}"
            msg = (f"{exercise} must be computed by your own code, but it called {name}. "
                   "Write the formula yourself with NumPy.")
            saved.append((f, f.__code__))
            f.__code__ = _blocked_code(msg, len(f.__code__.co_freevars))
        yield
    finally:
        for f, code in saved:
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
