"""nnlib.testing: the messages students see when a homework test fails."""

from __future__ import annotations

import types

import numpy as np
import pytest

from nnlib import activations
from nnlib.activations import sigmoid as imported_earlier
from nnlib.testing import (check_calls, check_circuit, check_close, check_raises, check_shape, check_true,
                           forbid_calls, record_calls)


def _message(func, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        func(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------------------
# check_close
# ---------------------------------------------------------------------------------------
def test_check_close_passes_close_values():
    check_close(0.25 + 1e-9, 0.25, what="x")
    check_close([1.0, 2.0], np.array([1.0, 2.0 + 1e-8]), what="x")
    check_close(np.array([np.nan, 1.0]), [np.nan, 1.0], what="x")     # NaN expected, NaN got
    check_close(1.1, 1.0, what="x", rtol=0.2)


def test_check_close_scalar_message_names_quantity_expected_and_got():
    msg = _message(check_close, 0.5, 0.25, what="sigmoid_derivative(0)", read="Chapter 5, 'Sigmoid'")
    assert msg == "sigmoid_derivative(0) should be 0.25, got 0.5. Read: Chapter 5, 'Sigmoid'."


def test_check_close_array_message_quotes_the_first_wrong_input():
    z = np.array([-1.0, 0.0, 1.0])
    got = np.array([0.2689, 0.4, 0.7311])
    msg = _message(check_close, got, [0.2689, 0.5, 0.7311], what="sigmoid(z)", inputs=z, rtol=1e-3)
    assert "sigmoid(z)" in msg
    assert "at input 0" in msg and "expected 0.5" in msg and "got 0.4" in msg
    assert "1 of 3 entries wrong" in msg
    assert "Read:" not in msg


def test_check_close_array_message_without_inputs_gives_the_index():
    msg = _message(check_close, [[1.0, 2.0], [3.0, 5.0]], [[1.0, 2.0], [3.0, 4.0]], what="A")
    assert "A is wrong at index (1, 1): expected 4, got 5" in msg
    msg = _message(check_close, [1.0, 7.0, 9.0], [1.0, 2.0, 3.0], what="h")
    assert "at index 1: expected 2, got 7 (2 of 3 entries wrong)" in msg


def test_check_close_shape_none_nan_and_type_messages():
    assert "x should have shape (3,), got shape (2,)" in _message(check_close, [1.0, 2.0], [1.0, 2.0, 3.0], what="x")
    assert "forget a return statement" in _message(check_close, None, 1.0, what="relu(z)")
    msg = _message(check_close, [np.inf, 1.0], [1.0, 1.0], what="softmax(z)")
    assert "softmax(z) contains 1 NaN or infinite value(s)" in msg and "overflow" in msg
    assert "should be numeric, got str" in _message(check_close, "abc", 1.0, what="loss")


# ---------------------------------------------------------------------------------------
# check_shape, check_raises, check_true
# ---------------------------------------------------------------------------------------
def test_check_shape():
    check_shape(np.zeros((2, 3)), (2, 3), what="H")
    msg = _message(check_shape, np.zeros((3, 2)), (2, 3), what="H", read="Chapter 7")
    assert "H should have shape (2, 3), got shape (3, 2)" in msg and "Read: Chapter 7" in msg
    assert "returned None" in _message(check_shape, None, (1,), what="forward(X)")


def test_check_raises():
    check_raises(lambda: int("x"), ValueError, what="int('x')")
    msg = _message(check_raises, lambda: None, ValueError, what="mse with mismatched shapes")
    assert "mse with mismatched shapes should raise ValueError" in msg and "did not raise" in msg
    msg = _message(check_raises, lambda: [][1], ValueError, what="f()")
    assert "f() should raise ValueError" in msg and "IndexError: list index out of range" in msg
    with pytest.raises(AssertionError):          # a subclass of the wrong kind is not enough
        check_raises(lambda: int("x"), TypeError, what="int('x')")


def test_check_true():
    check_true(True, "never shown")
    msg = _message(check_true, False, "the loss must decrease", read="Chapter 8")
    assert msg.startswith("the loss must decrease") and "Read: Chapter 8" in msg


# ---------------------------------------------------------------------------------------
# forbid_calls
# ---------------------------------------------------------------------------------------
def _student_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _lazy_student_sigmoid(z):
    return imported_earlier(z)          # calls the library through an alias imported at the top


def test_forbid_calls_catches_an_alias_imported_earlier():
    z = np.array([-1.0, 0.0, 2.0])
    expected = activations.sigmoid(z)
    with forbid_calls(activations.sigmoid, exercise="Exercise 5.1"):
        np.testing.assert_allclose(_student_sigmoid(z), expected)     # own code is fine
        with pytest.raises(AssertionError) as info:
            _lazy_student_sigmoid(z)
        # indirect calls are caught too: the derivative uses sigmoid
        with pytest.raises(AssertionError):
            activations.sigmoid_derivative(z)
    msg = str(info.value)
    assert "Exercise 5.1" in msg and "nnlib.activations.sigmoid" in msg
    # restored afterwards, under every name
    np.testing.assert_array_equal(imported_earlier(z), expected)
    np.testing.assert_array_equal(activations.sigmoid(z), expected)


def test_forbid_calls_restores_when_the_block_raises():
    z = np.array([0.0])
    with pytest.raises(ZeroDivisionError):
        with forbid_calls(activations.tanh, activations.relu):
            1 / 0
    assert activations.tanh(z)[0] == 0.0 and activations.relu(z)[0] == 0.0
    with pytest.raises(AssertionError):
        with forbid_calls(activations.tanh):
            activations.tanh(z)
    assert activations.tanh(z)[0] == 0.0


def test_forbid_calls_blocks_a_closure_and_restores_it():
    scale = 3.0

    def reference(x):
        return scale * x

    expected = reference(2.0)
    with forbid_calls(reference, exercise="Exercise 2.1"):
        with pytest.raises(AssertionError, match="Exercise 2.1 must be computed by your own code"):
            reference(2.0)
    assert reference(2.0) == expected
    scale = 4.0   # the closure's cell is the original one again
    assert reference(2.0) == 8.0


def test_forbid_calls_rejects_non_functions_and_restores_the_others():
    z = np.array([0.0])
    with pytest.raises(TypeError, match="plain Python functions"):
        with forbid_calls(activations.sigmoid, np.exp):
            pass
    assert activations.sigmoid(z)[0] == 0.5


def test_check_true_ends_the_sentence_before_pointing_to_the_book():
    with pytest.raises(AssertionError) as info:
        check_true(False, "the loss should decrease", read="Chapter 8, 'Early stopping'")
    assert str(info.value) == "the loss should decrease. Read: Chapter 8, 'Early stopping'."


# ---------------------------------------------------------------------------------------
# check_calls
# ---------------------------------------------------------------------------------------
UNIT = """
import functools
import numpy as np

def mp_unit(x, threshold, inhibitory=()):
    return (x.sum(axis=1) >= threshold).astype(int)
"""


def _notebook(source: str) -> dict:
    """The globals of a notebook that ran UNIT and then ``source``."""
    ns: dict = {}
    exec(UNIT + source, ns)  # noqa: S102
    return ns


@pytest.mark.parametrize("source", [
    # directly
    "def xor_mp(x):\n    return mp_unit(x, 1)\n",
    # through a helper written before or after it, and through two
    "def xor_mp(x):\n    return nand(x)\n\ndef nand(x):\n    return 1 - mp_unit(x, 2)\n",
    "def xor_mp(x):\n    return g(x)\n\ndef g(x):\n    return h(x)\n\ndef h(x):\n    return mp_unit(x, 2)\n",
    # an alias bound at the top of the cell
    "unit = mp_unit\n\ndef xor_mp(x):\n    return unit(x, 1)\n",
    # a lambda, a comprehension, a nested function, a closure, a default argument, a partial
    "xor_mp = lambda x: mp_unit(x, 1)\n",
    "def xor_mp(x):\n    return np.column_stack([mp_unit(x, t) for t in (1, 2)])\n",
    "def xor_mp(x):\n    def layer(h):\n        return mp_unit(h, 1)\n    return layer(x)\n",
    "def make(u):\n    def f(x):\n        return u(x, 1)\n    return f\n\nxor_mp = make(mp_unit)\n",
    "def xor_mp(x, unit=mp_unit):\n    return unit(x, 1)\n",
    "or_unit = functools.partial(mp_unit, threshold=1)\n\ndef xor_mp(x):\n    return or_unit(x)\n",
    "xor_mp = functools.partial(mp_unit, threshold=1)\n",
])
def test_check_calls_finds_the_unit_however_it_is_reached(source):
    ns = _notebook(source)
    check_calls(ns["xor_mp"], ns["mp_unit"], what="xor_mp")


@pytest.mark.parametrize("source", [
    "def xor_mp(x):\n    return (x[:, 0] ^ x[:, 1]).astype(int)\n",
    # helpers that call each other but never the unit: the walk ends
    "def xor_mp(x):\n    return f(x, 2)\n\ndef f(x, n):\n    return g(x, n - 1) if n else x[:, 0]\n\n"
    "def g(x, n):\n    return f(x, n)\n",
    # a name that is never bound, and a closure variable that is never bound
    "def xor_mp(x):\n    return not_defined_yet(x)\n",
    "def make():\n    def f(x):\n        return later(x, 1)\n    return f\n    later = mp_unit\n\nxor_mp = make()\n",
    "def xor_mp(x):\n    return np.logical_xor(x[:, 0], x[:, 1]).astype(int)\n",
])
def test_check_calls_fails_without_the_unit_and_says_what_to_use(source):
    ns = _notebook(source)
    message = _message(check_calls, ns["xor_mp"], ns["mp_unit"], what="xor_mp", read="Chapter 3, 'XOR'")
    assert message == ("xor_mp should call mp_unit (directly or through your other functions), but it never "
                       "does. Read: Chapter 3, 'XOR'.")


def test_check_calls_does_not_follow_functions_of_other_modules():
    """A library function that happens to use a name of the notebook does not count."""
    ns = _notebook("")
    library: dict = {}
    exec("def helper(x):\n    return mp_unit(x, 1)\n", library)  # noqa: S102 - another module
    library["mp_unit"] = ns["mp_unit"]
    ns["helper"] = library["helper"]
    exec("def xor_mp(x):\n    return helper(x)\n", ns)  # noqa: S102
    with pytest.raises(AssertionError, match="should call mp_unit"):
        check_calls(ns["xor_mp"], ns["mp_unit"], what="xor_mp")
    # the library function itself refers to the unit
    check_calls(library["helper"], ns["mp_unit"], what="helper")


def test_check_calls_on_what_is_not_a_function():
    ns = _notebook("xor_mp = np.logical_xor\n")
    with pytest.raises(AssertionError, match="should call mp_unit"):
        check_calls(ns["xor_mp"], ns["mp_unit"], what="xor_mp")
    with pytest.raises(AssertionError, match="should call mp_unit"):
        check_calls(None, ns["mp_unit"], what="xor_mp")


def test_check_calls_follows_module_attributes():
    """nnlib.fit(...) and nnlib.training.fit(...) call nnlib.fit; a closed form does not."""
    import nnlib
    from nnlib import training

    ns: dict = {"nnlib": nnlib, "np": np}
    exec("def by_fit(X, y):\n    return nnlib.fit(None, 'mse', X, y, eta=0.1)\n"  # noqa: S102
         "def by_submodule(X, y):\n    return nnlib.training.fit(None, 'mse', X, y, eta=0.1)\n"
         "def by_helper(X, y):\n    return by_fit(X, y)\n"
         "def closed_form(km, miles):\n    return float(np.sum(km * miles) / np.sum(km ** 2))\n", ns)
    for f in ("by_fit", "by_submodule", "by_helper"):
        check_calls(ns[f], training.fit, what=f, name="nnlib.fit")
    message = _message(check_calls, ns["closed_form"], training.fit, what="fit_conversion", name="nnlib.fit")
    assert message == ("fit_conversion should call nnlib.fit (directly or through your other functions), "
                       "but it never does.")


# ---------------------------------------------------------------------------------------
# record_calls and check_circuit
# ---------------------------------------------------------------------------------------
MP = """
import functools
import numpy as np

def mp_unit(x, threshold, inhibitory=()):
    x = np.asarray(x)
    inhibited = x[:, list(inhibitory)].sum(axis=1) > 0
    excite = np.delete(x, list(inhibitory), axis=1).sum(axis=1)
    return ((excite >= threshold) & ~inhibited).astype(int)
"""
X2 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def _graded(source: str, name: str, x):
    """Run the notebook function ``name`` on ``x`` with its unit recorded: (result, calls, ns)."""
    ns: dict = {}
    exec(MP + source, ns)  # noqa: S102
    with record_calls(ns["mp_unit"]) as calls:
        result = ns[name](x)
    return result, calls, ns


def test_record_calls_sees_every_reference_and_restores():
    ns: dict = {}
    exec(MP + "unit = mp_unit\nor_unit = functools.partial(mp_unit, threshold=1)\n", ns)  # noqa: S102
    code, kwdefaults = ns["mp_unit"].__code__, ns["mp_unit"].__kwdefaults__
    x = X2.copy()
    with record_calls(ns["mp_unit"]) as calls:
        a = ns["unit"](x, 2)
        b = ns["or_unit"](x)
        c = ns["mp_unit"](x, threshold=0, inhibitory=[0])
        x[:] = 7   # the recorded input is a copy taken at the call
    assert [len(call.args) for call in calls] == [2, 1, 1]
    assert calls[1].kwargs == {"threshold": 1} and calls[2].kwargs == {"threshold": 0, "inhibitory": [0]}
    assert all(np.array_equal(call.args[0], X2) for call in calls)
    for call, want in zip(calls, ([0, 0, 0, 1], [0, 1, 1, 1], [1, 1, 0, 0])):
        assert list(call.result) == want
    assert list(a) == [0, 0, 0, 1] and list(b) == [0, 1, 1, 1] and list(c) == [1, 1, 0, 0]
    assert ns["mp_unit"].__code__ is code and ns["mp_unit"].__kwdefaults__ is kwdefaults
    assert list(ns["mp_unit"](X2, 1)) == [0, 1, 1, 1]


def test_record_calls_keeps_keyword_only_defaults_inside_the_block():
    ns: dict = {}
    exec("def train(model, *, epochs=3, eta=0.1):\n    return [model] * epochs\n", ns)  # noqa: S102
    train = ns["train"]
    with record_calls(train) as calls:
        assert train("m") == ["m", "m", "m"]          # epochs by default
        assert train("m", epochs=1) == ["m"]
    assert [c.kwargs for c in calls] == [{}, {"epochs": 1}]
    assert train.__kwdefaults__ == {"epochs": 3, "eta": 0.1}


def test_record_calls_refuses_the_libraries_functions():
    """The grading kernel protects nnlib's and NumPy's code: a handler that could change it
    would be within reach of the student's code."""
    import nnlib
    from nnlib import training

    code = training.fit.__code__
    for func in (nnlib.fit, np.testing.assert_allclose):
        with pytest.raises(TypeError, match="the functions of a notebook"):
            with record_calls(func):
                pass
    assert training.fit.__code__ is code


def test_record_calls_puts_back_the_function_it_was_given_whatever_the_handler_holds():
    """The handler's closure cells can be rewritten by code that reaches it (through the
    function's __kwdefaults__); the end of the block restores from variables of its own."""
    ns: dict = {}
    exec("def f(x):\n    return x + 1\n\ndef g(x):\n    return x - 1\n", ns)  # noqa: S102
    f, g = ns["f"], ns["g"]
    f_code, g_code = f.__code__, g.__code__
    with record_calls(f):
        handler = f.__kwdefaults__["__nnlib_handler__"]
        cells = dict(zip(handler.__code__.co_freevars, handler.__closure__))
        cells["func"].cell_contents = g                  # what an attack would try
        cells["code"].cell_contents = (lambda x: 0).__code__
    assert f.__code__ is f_code and f.__kwdefaults__ is None
    assert g.__code__ is g_code and g(5) == 4


def test_record_calls_restores_when_the_block_raises_and_rejects_non_functions():
    ns: dict = {}
    exec(MP, ns)  # noqa: S102
    code = ns["mp_unit"].__code__
    with pytest.raises(ZeroDivisionError):
        with record_calls(ns["mp_unit"]):
            1 / 0
    assert ns["mp_unit"].__code__ is code
    with pytest.raises(TypeError, match="plain Python function"):
        with record_calls(np.maximum):
            pass


@pytest.mark.parametrize("source", [
    # OR and AND into an output unit with the AND inhibitory
    "def xor_mp(x):\n    h = np.column_stack([mp_unit(x, 1), mp_unit(x, 2)])\n"
    "    return mp_unit(h, threshold=1, inhibitory=[1])\n",
    # AND(OR, NAND), NAND from two units, a constant bias column, one unit per sample row taken together
    "def nand(x):\n    return mp_unit(mp_unit(x, 2)[:, None], threshold=0, inhibitory=[0])\n"
    "def xor_mp(x):\n    ones = np.ones((len(x), 1), int)\n"
    "    h = np.column_stack([mp_unit(np.hstack([x, ones]), 2), nand(x)])\n    return mp_unit(h, 2)\n",
    # one sample at a time: provenance cannot be followed, the calls are enough
    "def xor_mp(x):\n    return np.array([mp_unit(np.column_stack([mp_unit(r[None], 1), mp_unit(r[None], 2)]), 1, [1])[0]"
    " for r in x])\n",
    # both ways: the OR on the whole batch, the AND one sample at a time, the output unit on the batch
    "def xor_mp(x):\n    both = np.array([mp_unit(r[None], 2)[0] for r in x])\n"
    "    return mp_unit(np.column_stack([mp_unit(x, 1), both]), threshold=1, inhibitory=[1])\n",
])
def test_check_circuit_accepts_circuits_of_units(source):
    result, calls, _ = _graded(source, "xor_mp", X2)
    assert list(result) == [0, 1, 1, 0]
    check_circuit(calls, X2, result, what="xor_mp", unit="mp_unit")


@pytest.mark.parametrize("source, message", [
    ("def xor_mp(x):\n    return (x[:, 0] ^ x[:, 1]).astype(int)\n",
     "xor_mp never called mp_unit: build it from your mp_unit units. Read: Chapter 3."),
    # a unit called for show, the result from NumPy
    ("def xor_mp(x):\n    mp_unit(x, threshold=0)\n    return x[:, 0] ^ x[:, 1]\n",
     "xor_mp: its result is not the output of one of your mp_unit units. The last layer of the circuit must be "
     "mp_units too; do not combine their outputs with NumPy. Read: Chapter 3."),
    # NAND as 1 - AND: one unit and NumPy (the wrong values are the value checks' business)
    ("def xor_mp(x):\n    return 1 - mp_unit(x, 2)\n",
     "xor_mp: its result is not the output of one of your mp_unit units. The last layer of the circuit must be "
     "mp_units too; do not combine their outputs with NumPy. Read: Chapter 3."),
    # XOR computed with NumPy and passed through a unit
    ("def xor_mp(x):\n    return mp_unit((x[:, 0] ^ x[:, 1])[:, None], 1)\n",
     "xor_mp: input column 0 of its 1st mp_unit call is neither a column of xor_mp's input, nor the output of "
     "an earlier mp_unit, nor a constant. Compute every signal with your mp_unit units, not with NumPy. "
     "Read: Chapter 3."),
])
def test_check_circuit_rejects_numpy_in_the_circuit(source, message):
    result, calls, _ = _graded(source, "xor_mp", X2)
    assert _message(check_circuit, calls, X2, result, what="xor_mp", unit="mp_unit", read="Chapter 3") == message


def test_check_circuit_names_the_column_of_a_wider_result():
    source = ("def adder(x):\n    s = mp_unit(x, 1)\n    return np.column_stack([s, x.sum(axis=1) // 2])\n")
    x = np.array([[0, 0], [0, 1], [1, 1]])
    result, calls, _ = _graded(source, "adder", x)
    message = _message(check_circuit, calls, x, result, what="adder", unit="mp_unit")
    assert message.startswith("adder: column 1 of its result is not the output of one of your mp_unit units.")


def test_record_calls_records_the_outer_call_of_a_recursive_function():
    ns: dict = {}
    exec("def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\n", ns)  # noqa: S102
    with record_calls(ns["fact"]) as calls:
        assert ns["fact"](5) == 120
        assert ns["fact"](3) == 6
    assert [(c.args, c.result) for c in calls] == [((5,), 120), ((3,), 6)]


def test_check_circuit_is_not_switched_off_by_a_call_on_one_row():
    # a unit on one row for show: not a unit per row
    source = "def xor_mp(x):\n    mp_unit(x[:1], threshold=0)\n    return x[:, 0] ^ x[:, 1]\n"
    result, calls, _ = _graded(source, "xor_mp", X2)
    assert _message(check_circuit, calls, X2, result, what="xor_mp", unit="mp_unit") == (
        "xor_mp made 1 mp_unit call(s) for 4 input rows: every row needs its own units, or call mp_unit on the "
        "whole batch.")
    # with a call on the whole batch as well, the batch calls are still followed
    source = ("def xor_mp(x):\n    mp_unit(x[:1], threshold=0)\n    mp_unit(x, threshold=0)\n"
              "    return x[:, 0] ^ x[:, 1]\n")
    result, calls, _ = _graded(source, "xor_mp", X2)
    with pytest.raises(AssertionError, match="its result is not the output of one of your mp_unit units"):
        check_circuit(calls, X2, result, what="xor_mp", unit="mp_unit")


def test_check_circuit_cannot_follow_units_run_one_sample_at_a_time_next_to_batch_calls():
    """A circuit with some signals computed in a loop over the rows: the batch calls do not
    explain it, and N calls on single samples are what a loop over N rows makes."""
    loop = "def xor_mp(x):\n    either = np.array([mp_unit(r[None], 1)[0] for r in x[:{rows}]])\n"
    tail = "    return mp_unit(np.column_stack([np.resize(either, len(x)), mp_unit(x, 2)]), 1, [1])\n"
    result, calls, _ = _graded(loop.format(rows=4) + tail, "xor_mp", X2)
    check_circuit(calls, X2, result, what="xor_mp", unit="mp_unit")
    result, calls, _ = _graded(loop.format(rows=3) + tail, "xor_mp", X2)    # fewer calls than rows
    assert _message(check_circuit, calls, X2, result, what="xor_mp", unit="mp_unit") == (
        "xor_mp: input column 0 of its 2nd mp_unit call is neither a column of xor_mp's input, nor the output "
        "of an earlier mp_unit, nor a constant. Compute every signal with your mp_unit units, not with NumPy.")


def test_forbid_calls_and_record_calls_run_no_code_of_the_callers_while_they_hold_state():
    """A __module__ or exercise that is not a str is not formatted (its __format__
    would run while the functions to put back are held), and a non-function is refused by its
    exact type (isinstance would read a __class__ property)."""
    ran = []

    class Name:
        def __format__(self, spec):
            ran.append("format")
            return "x"

    class Pretender:
        @property
        def __class__(self):
            ran.append("class")
            return types.FunctionType

    ns: dict = {}
    exec("def f(x):\n    return x\n", ns)  # noqa: S102
    f = ns["f"]
    f.__module__ = Name()      # (a __qualname__ must be a str)
    with pytest.raises(AssertionError, match=r"\? must be computed by your own code, but it called \?\.f"):
        with forbid_calls(f, exercise=Name()):
            f(1)
    with record_calls(f) as calls:
        f(2)
    assert [c.result for c in calls] == [2]
    for block in (forbid_calls, record_calls):
        with pytest.raises(TypeError, match="got a Pretender"):
            with block(Pretender()):
                pass
    assert ran == []
