"""nnlib.losses against formulas written out here and scipy.special references.

The centred-difference checks of every gradient are in test_gradcheck.py; the
bad-input errors in test_errors.py.
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
from nnlib import losses as L

SETTINGS = settings(max_examples=60, deadline=None)


# ---------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------
def test_mse_by_hand():
    # residuals 1, -2, 0 -> (1/3) * (1/2) * (1 + 4 + 0) = 5/6
    assert L.mse([2.0, 0.0, 5.0], [1.0, 2.0, 5.0]) == pytest.approx(5 / 6, rel=1e-15)
    np.testing.assert_allclose(L.mse_gradient([2.0, 0.0, 5.0], [1.0, 2.0, 5.0]), [1 / 3, -2 / 3, 0.0])


def test_mse_two_dimensional_sums_outputs_and_averages_samples(rng):
    y_hat, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    expected = sum(0.5 * sum((a - b) ** 2 for a, b in zip(r1, r2)) for r1, r2 in zip(y_hat, y)) / 6
    assert L.mse(y_hat, y) == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(L.mse_gradient(y_hat, y), (y_hat - y) / 6, rtol=1e-14)
    assert L.mse(y, y) == 0.0


def test_binary_cross_entropy_matches_the_formula(rng):
    p = rng.uniform(0.01, 0.99, 20)
    y = rng.integers(0, 2, 20)
    expected = -sum(yi * math.log(pi) + (1 - yi) * math.log(1 - pi) for pi, yi in zip(p, y)) / 20
    assert L.binary_cross_entropy(p, y) == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(L.binary_cross_entropy_gradient(p, y),
                               (-y / p + (1 - y) / (1 - p)) / 20, rtol=1e-12)


def test_binary_cross_entropy_of_a_coin_flip_is_log_2():
    assert L.binary_cross_entropy([0.5, 0.5], [0, 1]) == pytest.approx(math.log(2), rel=1e-15)
    assert L.binary_cross_entropy_with_logits([0.0, 0.0], [0, 1]) == pytest.approx(math.log(2), rel=1e-15)


def test_binary_cross_entropy_clips_certain_mistakes():
    """p = 0 for a true 1 costs -log(eps), finite, instead of infinity."""
    eps = np.finfo(np.float64).eps
    assert L.binary_cross_entropy([0.0], [1]) == pytest.approx(-math.log(eps), rel=1e-12)
    assert L.binary_cross_entropy([1.0, 0.0], [1, 0]) == pytest.approx(-math.log1p(-eps), abs=1e-15)
    assert np.all(np.isfinite(L.binary_cross_entropy_gradient([0.0, 1.0], [1, 0])))


def test_logit_bce_matches_scipy_log_expit_at_any_scale(rng):
    z = np.concatenate([rng.normal(scale=5, size=30), [-1000.0, -40.0, 40.0, 1000.0]])
    y = rng.integers(0, 2, z.size)
    expected = -np.mean(y * scipy.special.log_expit(z) + (1 - y) * scipy.special.log_expit(-z))
    assert L.binary_cross_entropy_with_logits(z, y) == pytest.approx(expected, rel=1e-13)


def test_logit_bce_equals_bce_of_the_sigmoid_for_moderate_logits(rng):
    z = rng.uniform(-10, 10, (25, 1))
    y = rng.integers(0, 2, (25, 1))
    p = scipy.special.expit(z)
    assert L.binary_cross_entropy_with_logits(z, y) == pytest.approx(L.binary_cross_entropy(p, y), rel=1e-10)
    # chain rule: dL/dz = dL/dp * sigma'(z) = (p - y) / N
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits_gradient(z, y),
                               L.binary_cross_entropy_gradient(p, y) * p * (1 - p), rtol=1e-9)
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits_gradient(z, y), (p - y) / 25, rtol=1e-13)


def test_logit_bce_is_linear_far_from_zero():
    # a confident wrong answer costs |z|, a confident right one costs e^-|z| ~ 0
    assert L.binary_cross_entropy_with_logits([1000.0], [0]) == 1000.0
    assert L.binary_cross_entropy_with_logits([-1000.0], [1]) == 1000.0
    assert L.binary_cross_entropy_with_logits([1000.0, -1000.0], [1, 0]) == 0.0


def test_softmax_cross_entropy_matches_scipy_log_softmax(rng):
    z = rng.normal(scale=3, size=(8, 5))
    labels = rng.integers(0, 5, 8)
    expected = -np.mean(scipy.special.log_softmax(z, axis=1)[np.arange(8), labels])
    assert L.softmax_cross_entropy(z, labels) == pytest.approx(expected, rel=1e-13)
    onehot = np.eye(5)[labels]
    assert L.softmax_cross_entropy(z, onehot) == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(L.softmax_cross_entropy_gradient(z, labels),
                               (scipy.special.softmax(z, axis=1) - onehot) / 8, rtol=1e-12, atol=1e-17)
    np.testing.assert_array_equal(L.softmax_cross_entropy_gradient(z, labels),
                                  L.softmax_cross_entropy_gradient(z, onehot))
    # integer labels take a path without the one-hot matrix: same numbers exactly
    assert L.softmax_cross_entropy(z, labels) == L.softmax_cross_entropy(z, onehot)
    value, grad = L.LOSSES["softmax_cross_entropy"].value_and_gradient(z, onehot)
    assert value == L.softmax_cross_entropy(z, onehot)
    np.testing.assert_array_equal(grad, L.softmax_cross_entropy_gradient(z, onehot))


def test_softmax_cross_entropy_accepts_probability_targets(rng):
    z = rng.normal(size=(4, 3))
    t = rng.dirichlet(np.ones(3), size=4)
    expected = -np.mean(np.sum(t * scipy.special.log_softmax(z, axis=1), axis=1))
    assert L.softmax_cross_entropy(z, t) == pytest.approx(expected, rel=1e-13)


def test_softmax_cross_entropy_with_two_classes_is_logit_bce(rng):
    z = rng.normal(scale=4, size=(30, 2))
    labels = rng.integers(0, 2, 30)
    d = z[:, 1] - z[:, 0]
    assert L.softmax_cross_entropy(z, labels) == pytest.approx(
        L.binary_cross_entropy_with_logits(d, labels), rel=1e-12)
    g = L.softmax_cross_entropy_gradient(z, labels)
    gd = L.binary_cross_entropy_with_logits_gradient(d, labels)
    np.testing.assert_allclose(g[:, 1], gd, rtol=1e-10, atol=1e-17)
    np.testing.assert_allclose(g[:, 0], -gd, rtol=1e-10, atol=1e-17)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, -1000.0]])
    # row 1: label 0 is certain (loss 0); row 2: two equal top scores (loss log 2)
    assert L.softmax_cross_entropy(z, [0, 1]) == pytest.approx(math.log(2) / 2, rel=1e-14)
    assert L.softmax_cross_entropy(z[:1], [2]) == pytest.approx(2000.0, rel=1e-14)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("logits", ["within 30: no shift", "one beyond 30: shifted", "large: shifted"])
def test_softmax_cross_entropy_with_and_without_the_shift_matches_scipy(logits, dtype, rtol, rng):
    # the row-maximum shift is skipped when every |z| <= 30; both paths give the same numbers
    z = rng.uniform(-30, 30, size=(64, 7))
    if logits == "one beyond 30: shifted":
        z[5, 3] = 30.5
    elif logits == "large: shifted":
        z *= 20
    z = z.astype(dtype)
    labels = rng.integers(0, 7, 64)
    z64 = z.astype(np.float64)
    expected = -np.mean(scipy.special.log_softmax(z64, axis=1)[np.arange(64), labels])
    expected_grad = (scipy.special.softmax(z64, axis=1) - np.eye(7)[labels]) / 64
    assert L.softmax_cross_entropy(z, labels) == pytest.approx(expected, rel=rtol)
    grad = L.softmax_cross_entropy_gradient(z, labels)
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad, expected_grad, rtol=rtol * 10, atol=rtol / 64)
    value, fused = L.LOSSES["softmax_cross_entropy"].value_and_gradient(z, labels)
    assert value == L.softmax_cross_entropy(z, labels)
    np.testing.assert_array_equal(fused, grad)


def test_softmax_cross_entropy_is_never_negative_in_float32(rng):
    # without the shift, rounding could put log-sum-exp below the true class's logit
    assert L.softmax_cross_entropy(np.float32([[0.5] + [-24.5] * 9]), [0]) >= 0
    top = rng.uniform(-5, 5, 4000)
    z = np.column_stack([top] + [top - rng.uniform(15, 25, 4000) for _ in range(9)]).astype(np.float32)
    values = [L.softmax_cross_entropy(z[i:i + 1], [0]) for i in range(4000)]
    assert min(values) >= 0
    fused = [L.LOSSES["softmax_cross_entropy"].value_and_gradient(z[i:i + 1], [0])[0] for i in range(0, 4000, 37)]
    assert fused == values[::37]


def test_one_hot():
    np.testing.assert_array_equal(L.one_hot([2, 0, 1, 2]), np.eye(3)[[2, 0, 1, 2]])
    np.testing.assert_array_equal(L.one_hot(np.array([0, 1]), n_classes=4), [[1, 0, 0, 0], [0, 1, 0, 0]])
    np.testing.assert_array_equal(L.one_hot(np.array([1.0, 0.0])), [[0, 1], [1, 0]])


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------
logits = hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-1000, 1000))


@SETTINGS
@given(logits, st.data())
def test_logit_losses_finite_without_warnings(z, data):
    y = data.draw(hnp.arrays(np.int64, z.shape, elements=st.integers(0, 1)))
    Z = np.column_stack([z, -z, np.zeros_like(z)])
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        values = [
            L.binary_cross_entropy_with_logits(z, y),
            L.softmax_cross_entropy(Z, y),
        ]
        grads = [
            L.binary_cross_entropy_with_logits_gradient(z, y),
            L.softmax_cross_entropy_gradient(Z, y),
        ]
    assert all(np.isfinite(v) and v >= 0 for v in values)
    assert all(np.all(np.isfinite(g)) for g in grads)


@SETTINGS
@given(hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(0, 1)), st.data())
def test_bce_of_probabilities_finite_without_warnings(p, data):
    y = data.draw(hnp.arrays(np.int64, p.shape, elements=st.integers(0, 1)))
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        value = L.binary_cross_entropy(p, y)
        grad = L.binary_cross_entropy_gradient(p, y)
    assert np.isfinite(value) and value >= 0
    assert np.all(np.isfinite(grad))


# ---------------------------------------------------------------------------------------
# purity and the table
# ---------------------------------------------------------------------------------------
def test_no_loss_modifies_its_arguments(rng):
    p = rng.uniform(0.1, 0.9, (6, 1))
    z = rng.normal(size=(6, 1))
    y = rng.integers(0, 2, (6, 1)).astype(float)
    Z = rng.normal(size=(6, 3))
    labels = rng.integers(0, 3, 6)
    onehot = np.eye(3)[labels]
    keep = Unchanged(p=p, z=z, y=y, Z=Z, labels=labels, onehot=onehot)
    calls = [
        (L.mse, (z, y)), (L.mse_gradient, (z, y)),
        (L.binary_cross_entropy, (p, y)), (L.binary_cross_entropy_gradient, (p, y)),
        (L.binary_cross_entropy_with_logits, (z, y)),
        (L.binary_cross_entropy_with_logits_gradient, (z, y)),
        (L.softmax_cross_entropy, (Z, labels)), (L.softmax_cross_entropy_gradient, (Z, labels)),
        (L.softmax_cross_entropy, (Z, onehot)), (L.softmax_cross_entropy_gradient, (Z, onehot)),
        (L.one_hot, (labels,)),
    ]
    for f, args in calls:
        out = f(*args)
        keep.check(f.__name__)
        np.testing.assert_array_equal(f(*[frozen(a) for a in args]), out)
    # a gradient is a new array, never one of the arguments
    g = L.mse_gradient(z, np.zeros_like(z))
    assert not np.shares_memory(g, z)


def test_loss_table():
    assert set(L.LOSSES) == {"mse", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                             "softmax_cross_entropy"}
    for name, entry in L.LOSSES.items():
        assert entry.name == name
        assert entry.function is getattr(L, name)
        assert entry.gradient is getattr(L, f"{name}_gradient")
        assert L.get_loss(name) is entry
        assert L.get_loss(entry) is entry
    assert L.get_loss("Binary-Cross-Entropy") is L.LOSSES["binary_cross_entropy"]


# ------------------------------------------------------------ value and gradient at once
def _loss_inputs(name, rng, dtype):
    if name == "mse":
        return rng.normal(size=(17, 3)).astype(dtype), rng.normal(size=(17, 3)).astype(dtype)
    if name == "binary_cross_entropy":
        return rng.uniform(0.01, 0.99, size=(17, 1)).astype(dtype), rng.integers(0, 2, (17, 1)).astype(dtype)
    if name == "binary_cross_entropy_with_logits":
        return (rng.normal(scale=30.0, size=(17, 1)).astype(dtype),
                rng.integers(0, 2, (17, 1)).astype(dtype))
    return rng.normal(scale=20.0, size=(17, 4)).astype(dtype), rng.integers(0, 4, 17)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(L.LOSSES))
def test_value_and_gradient_equal_the_loss_and_its_gradient_exactly(name, dtype, rng):
    loss = L.LOSSES[name]
    assert loss.both is not None, f"{name} has no fused value_and_gradient"
    y_hat, y = _loss_inputs(name, rng, dtype)
    value, grad = loss.value_and_gradient(frozen(y_hat), frozen(y))
    assert value == loss.function(y_hat, y)
    expected = loss.gradient(y_hat, y)
    assert grad.dtype == expected.dtype and grad.shape == expected.shape
    np.testing.assert_array_equal(grad, expected)


def test_value_and_gradient_of_a_loss_without_both_calls_its_two_functions(rng):
    calls = []
    custom = L.Loss("half_abs", lambda a, b: calls.append("f") or float(np.mean(np.abs(a - b))) / 2,
                         lambda a, b: calls.append("g") or np.sign(a - b) / (2 * a.shape[0]))
    value, grad = custom.value_and_gradient(np.array([1.0, -1.0]), np.array([0.0, 0.0]))
    assert calls == ["f", "g"] and value == 0.5
    np.testing.assert_array_equal(grad, [0.25, -0.25])


def test_value_and_gradient_checks_its_arguments_like_the_loss():
    with pytest.raises(ValueError, match="only the labels 0 and 1"):
        L.LOSSES["binary_cross_entropy_with_logits"].value_and_gradient(np.zeros(3), np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="shape"):
        L.LOSSES["mse"].value_and_gradient(np.zeros(3), np.zeros(4))
