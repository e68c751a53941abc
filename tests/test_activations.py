"""nnlib.activations against independent references, and its numerical properties.

References: scalar formulas written with the ``math`` module, ``scipy.special``
(``expit``, ``softmax``), and identities such as tanh z = 2 sigma(2z) - 1.
The gradient checks of every derivative are in test_gradcheck.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import Unchanged, frozen
from nnlib import activations as act

SETTINGS = settings(max_examples=60, deadline=None)

ELEMENTWISE = ["step", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu"]

# scalar references, written from the formulas in the lecture (moderate |z| only:
# math.exp overflows beyond about 709)
SCALAR = {
    "step": lambda z: 1.0 if z >= 0 else 0.0,
    "identity": lambda z: z,
    "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
    "tanh": lambda z: (math.exp(z) - math.exp(-z)) / (math.exp(z) + math.exp(-z)),
    "relu": lambda z: max(0.0, z),
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
    "elu": lambda z: z if z > 0 else math.exp(z) - 1.0,
}
SCALAR_DERIVATIVE = {
    "step": lambda z: 0.0,
    "identity": lambda z: 1.0,
    "sigmoid": lambda z: math.exp(-z) / (1.0 + math.exp(-z)) ** 2,
    "tanh": lambda z: 1.0 / math.cosh(z) ** 2,
    "relu": lambda z: 1.0 if z > 0 else 0.0,
    "leaky_relu": lambda z: 1.0 if z > 0 else 0.01,
    "elu": lambda z: 1.0 if z > 0 else math.exp(z),
}

GRID = np.concatenate([np.linspace(-20, 20, 161), [-1e-3, -1e-9, 0.0, 1e-9, 1e-3]])


def _f(name):
    return getattr(act, name)


def _df(name):
    return getattr(act, f"{name}_derivative")


# ---------------------------------------------------------------------------------------
# independent references
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_matches_scalar_formula(name):
    expected = np.array([SCALAR[name](float(z)) for z in GRID])
    np.testing.assert_allclose(_f(name)(GRID), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_scalar_formula(name):
    expected = np.array([SCALAR_DERIVATIVE[name](float(z)) for z in GRID])
    np.testing.assert_allclose(_df(name)(GRID), expected, rtol=1e-12, atol=1e-15)


def test_sigmoid_matches_scipy_expit_over_the_whole_range():
    z = np.linspace(-1000, 1000, 20001)
    # (in the subnormal range the two may differ by a few units of 5e-324)
    np.testing.assert_allclose(act.sigmoid(z), scipy.special.expit(z), rtol=1e-14, atol=1e-300)


def test_tanh_is_a_rescaled_sigmoid():
    z = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(act.tanh(z), 2 * act.sigmoid(2 * z) - 1, atol=1e-15)
    np.testing.assert_allclose(act.tanh_derivative(z), 4 * act.sigmoid_derivative(2 * z), atol=1e-15)


def test_sigmoid_derivative_is_sigma_times_one_minus_sigma():
    z = np.linspace(-30, 30, 601)
    s = scipy.special.expit(z)
    np.testing.assert_allclose(act.sigmoid_derivative(z), s * (1 - s), rtol=1e-13, atol=1e-300)
    # the famous bound behind vanishing gradients: sigma' <= 1/4, attained at 0
    assert act.sigmoid_derivative(z).max() <= 0.25
    assert act.sigmoid_derivative(np.array([0.0]))[0] == 0.25


def test_conventions_at_zero():
    """H(0) = 1 (a unit fires at threshold); ReLU'(0) = 0; leaky ReLU'(0) = alpha."""
    zero = np.array([0.0])
    assert act.step(zero)[0] == 1.0
    assert act.relu_derivative(zero)[0] == 0.0
    assert act.leaky_relu_derivative(zero, alpha=0.2)[0] == 0.2
    assert act.sigmoid(zero)[0] == 0.5
    assert act.tanh_derivative(zero)[0] == 1.0
    assert act.elu(zero)[0] == 0.0


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.3])
def test_leaky_relu_alpha(alpha):
    z = np.array([-4.0, -0.5, 0.5, 4.0])
    np.testing.assert_array_equal(act.leaky_relu(z, alpha), [-4 * alpha, -0.5 * alpha, 0.5, 4.0])
    np.testing.assert_array_equal(act.leaky_relu_derivative(z, alpha), [alpha, alpha, 1.0, 1.0])


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_elu_alpha_saturates_at_minus_alpha(alpha):
    z = np.array([-1000.0, -50.0, -1.0, 2.0])
    expected = [-alpha, alpha * math.expm1(-50.0), alpha * math.expm1(-1.0), 2.0]
    np.testing.assert_allclose(act.elu(z, alpha), expected, rtol=1e-14)
    np.testing.assert_allclose(act.elu_derivative(z, alpha),
                               [0.0, alpha * math.exp(-50.0), alpha * math.exp(-1.0), 1.0],
                               rtol=1e-14, atol=0)


def test_softmax_matches_scipy_and_the_formula(rng):
    z = rng.normal(scale=5, size=(7, 4))
    np.testing.assert_allclose(act.softmax(z), scipy.special.softmax(z, axis=1), rtol=1e-13)
    row = [0.5, -1.0, 2.0]
    denom = sum(math.exp(v) for v in row)
    np.testing.assert_allclose(act.softmax(np.array(row)), [math.exp(v) / denom for v in row],
                               rtol=1e-14)


def test_softmax_axis(rng):
    z = rng.normal(size=(3, 5))
    np.testing.assert_allclose(act.softmax(z, axis=0), act.softmax(z.T).T, rtol=1e-14)
    np.testing.assert_allclose(act.softmax(z, axis=0), scipy.special.softmax(z, axis=0), rtol=1e-13)


def test_softmax_of_two_classes_is_the_sigmoid_of_the_difference(rng):
    z = rng.normal(scale=4, size=(50, 2))
    np.testing.assert_allclose(act.softmax(z)[:, 1], act.sigmoid(z[:, 1] - z[:, 0]), rtol=1e-12)


def test_softmax_backward_is_the_jacobian_product(rng):
    """Compare with the explicit Jacobian diag(s) - s s^T, row by row."""
    z = rng.normal(size=(4, 5))
    g = rng.normal(size=(4, 5))
    s = scipy.special.softmax(z, axis=1)
    expected = np.stack([(np.diag(si) - np.outer(si, si)).T @ gi for si, gi in zip(s, g)])
    np.testing.assert_allclose(act.softmax_backward(z, g), expected, rtol=1e-12, atol=1e-15)


def test_extreme_values_are_exact_limits():
    z = np.array([-1000.0, 1000.0])
    np.testing.assert_array_equal(act.sigmoid(z), [0.0, 1.0])
    np.testing.assert_array_equal(act.tanh(z), [-1.0, 1.0])
    np.testing.assert_array_equal(act.sigmoid_derivative(z), [0.0, 0.0])
    np.testing.assert_array_equal(act.softmax(np.array([[1000.0, -1000.0], [1000.0, 1000.0]])),
                                  [[1.0, 0.0], [0.5, 0.5]])


# ---------------------------------------------------------------------------------------
# properties (hypothesis)
# ---------------------------------------------------------------------------------------
finite = st.floats(-1000, 1000, allow_nan=False, allow_infinity=False)
matrices = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
                      elements=finite)
vectors = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=1, min_side=1, max_side=20),
                     elements=finite)


@SETTINGS
@given(matrices)
def test_softmax_rows_are_probability_vectors(z):
    s = act.softmax(z)
    assert s.shape == z.shape
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@SETTINGS
@given(matrices, st.data())
def test_softmax_is_unchanged_by_a_constant_per_row(z, data):
    c = data.draw(hnp.arrays(np.float64, (z.shape[0], 1), elements=st.floats(-1000, 1000)))
    # rounding z + c loses about ulp(2000) ~ 2e-13 in each score
    np.testing.assert_allclose(act.softmax(z + c), act.softmax(z), rtol=1e-9, atol=1e-12)


@SETTINGS
@given(vectors)
def test_sigmoid_range_and_symmetry(z):
    s = act.sigmoid(z)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(act.sigmoid(-z), 1 - s, rtol=1e-12, atol=1e-15)


# Underflow (e^-1000 rounding to 0.0) is the correct answer, not an error, and NumPy ignores
# it by default; overflow, division by zero and invalid operations (NaN) must never happen.
@SETTINGS
@given(vectors)
def test_no_overflow_nan_or_warning_for_large_inputs(z):
    z = np.concatenate([z, [-1000.0, 1000.0, 0.0]])
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        for name in ELEMENTWISE:
            for f in (_f(name), _df(name)):
                out = f(z)
                assert np.all(np.isfinite(out)), f"{f.__name__} is not finite"
        s = act.softmax(z)
        g = act.softmax_backward(z, np.ones_like(z))
        assert np.all(np.isfinite(s)) and np.all(np.isfinite(g))


@SETTINGS
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                  elements=st.floats(-1000, 1000, width=32)))
def test_float32_stays_float32(z):
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        for name in ELEMENTWISE:
            for f in (_f(name), _df(name)):
                out = f(z)
                assert out.dtype == np.float32, f"{f.__name__} returned {out.dtype}"
                assert out.shape == z.shape
                assert np.all(np.isfinite(out))
        assert act.softmax(z).dtype == np.float32
        assert act.softmax_backward(z, np.ones_like(z)).dtype == np.float32


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_shape_and_integer_input(name):
    z = np.arange(-6, 6).reshape(2, 3, 2)
    out = _f(name)(z)
    assert out.shape == z.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, _f(name)(z.astype(float)))
    assert _df(name)(z).shape == z.shape
    assert _f(name)([1.0, -2.0]).shape == (2,)          # lists are accepted


def test_identity_returns_a_copy():
    z = np.array([1.0, 2.0])
    out = act.identity(z)
    out[0] = 99.0
    assert z[0] == 1.0


# ---------------------------------------------------------------------------------------
# no function modifies its input
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_functions_do_not_modify_their_input(name, rng):
    z = rng.normal(size=(5, 3))
    keep = Unchanged(z=z)
    _f(name)(z)
    _df(name)(z)
    act.ACTIVATIONS[name].backward(z, np.ones_like(z))
    keep.check(name)
    ro = frozen(z)
    np.testing.assert_array_equal(_f(name)(ro), _f(name)(z))
    np.testing.assert_array_equal(_df(name)(ro), _df(name)(z))


def test_softmax_does_not_modify_its_input(rng):
    z, g = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    keep = Unchanged(z=z, g=g)
    act.softmax(z)
    act.softmax_backward(z, g)
    keep.check("softmax")
    np.testing.assert_array_equal(act.softmax_backward(frozen(z), frozen(g)), act.softmax_backward(z, g))


# ---------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------
def test_activation_table(rng):
    assert set(act.ACTIVATIONS) == set(ELEMENTWISE) | {"softmax"}
    z, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    for name in ELEMENTWISE:
        entry = act.ACTIVATIONS[name]
        assert entry.name == name
        np.testing.assert_array_equal(entry.function(z), _f(name)(z))
        np.testing.assert_array_equal(entry.derivative(z), _df(name)(z))
        np.testing.assert_allclose(entry.backward(z, g), g * _df(name)(z))
    sm = act.ACTIVATIONS["softmax"]
    assert sm.derivative is None
    np.testing.assert_allclose(sm.backward(z, g), act.softmax_backward(z, g))


def test_get_activation_lookup():
    assert act.get_activation("Leaky-ReLU") is act.ACTIVATIONS["leaky_relu"]
    assert act.get_activation(None) is act.ACTIVATIONS["identity"]
    entry = act.ACTIVATIONS["tanh"]
    assert act.get_activation(entry) is entry
