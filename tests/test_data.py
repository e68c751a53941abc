"""nnlib.data: every generator is seeded, has the documented shapes and labels, and
produces the geometry its docstring promises."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import Unchanged, frozen
from nnlib import data

# name: (call with a seed, expected shapes of the returned arrays, label set of the last array or None)
GENERATORS = {
    "km_to_miles": (lambda s: data.km_to_miles(20, seed=s), [(20,), (20,)], None),
    "linearly_separable": (lambda s: data.linearly_separable(50, seed=s), [(50, 2), (50,)], {0, 1}),
    "xor": (lambda s: data.xor(40, seed=s), [(40, 2), (40,)], {0, 1}),
    "two_moons": (lambda s: data.two_moons(60, seed=s), [(60, 2), (60,)], {0, 1}),
    "circles": (lambda s: data.circles(60, seed=s), [(60, 2), (60,)], {0, 1}),
    "blobs": (lambda s: data.blobs(90, centers=3, seed=s), [(90, 2), (90,)], {0, 1, 2}),
    "calibration": (lambda s: data.calibration(30, seed=s), [(30,), (30,)], None),
    "nonlinear_1d": (lambda s: data.nonlinear_1d(30, noise=0.1, seed=s), [(30, 1), (30, 1)], None),
    "signal_background": (lambda s: data.signal_background(200, seed=s), [(200, 4), (200,)], {0, 1}),
}


@pytest.mark.parametrize("name", list(GENERATORS))
def test_generator_is_seeded_and_shaped(name):
    make, shapes, labels = GENERATORS[name]
    first, again, other = make(0), make(0), make(1)
    assert [a.shape for a in first] == shapes
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    # a Generator works as a seed and gives the same data as its integer seed
    for a, b in zip(make(np.random.default_rng(0)), first):
        np.testing.assert_array_equal(a, b)
    if labels is not None:
        assert first[-1].dtype.kind == "i"
        assert set(np.unique(first[-1]).tolist()) == labels
    for a in first:
        assert np.all(np.isfinite(a))


def test_unseeded_calls_differ():
    assert not np.array_equal(data.two_moons(50)[0], data.two_moons(50)[0])


def test_km_to_miles():
    km, miles = data.km_to_miles(500, noise=0.0, km_max=10.0, seed=0)
    assert km.min() >= 0 and km.max() <= 10
    np.testing.assert_allclose(miles, 0.621371 * km, rtol=1e-15)
    assert data.KM_TO_MILES == pytest.approx(1 / 1.609344, rel=1e-6)
    km, miles = data.km_to_miles(5000, noise=0.5, seed=1)
    assert np.std(miles - data.KM_TO_MILES * km) == pytest.approx(0.5, rel=0.05)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("margin", [0.05, 0.5, 2.0])
def test_linearly_separable_respects_its_margin(seed, margin):
    X, y, (w, c) = data.linearly_separable(80, margin, seed=seed, return_boundary=True)
    assert np.linalg.norm(w) == pytest.approx(1.0)
    signed = X @ w + c
    assert np.all(np.abs(signed) >= margin / 2 - 1e-12)
    np.testing.assert_array_equal(y, (signed > 0).astype(int))
    assert set(y.tolist()) == {0, 1}


def test_linearly_separable_has_both_classes_even_for_two_points():
    for seed in range(20):
        assert set(data.linearly_separable(2, seed=seed)[1].tolist()) == {0, 1}


def test_xor_without_noise_is_the_truth_table():
    X, y = data.xor(4, noise=0.0)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    X, y = data.xor(400, noise=0.05, seed=0)
    corners = np.rint(X).astype(int)
    np.testing.assert_array_equal(y, corners[:, 0] ^ corners[:, 1])


def test_two_moons_without_noise_lie_on_their_half_circles():
    X, y = data.two_moons(101, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    assert len(upper) == 50 and len(lower) == 51
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert np.all(upper[:, 1] >= 0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert np.all(lower[:, 1] <= 0.5)


def test_circles_without_noise():
    X, y = data.circles(100, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    assert np.sum(y == 0) == 50


def test_blobs_with_given_centres():
    centres = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]])
    keep = Unchanged(centres=centres)
    X, labels = data.blobs(200, centers=centres, std=0.5, seed=0)
    keep.check("blobs")
    assert X.shape == (200, 3)
    nearest = np.argmin(np.linalg.norm(X[:, None, :] - centres[None], axis=2), axis=1)
    np.testing.assert_array_equal(nearest, labels)
    X2, labels2 = data.blobs(200, centers=frozen(centres), std=0.5, seed=0)
    np.testing.assert_array_equal(X2, X)


def test_calibration_ranges():
    E, R = data.calibration(500, seed=0)
    assert E.min() >= 5 and E.max() <= 300
    # the response saturates: 100 tanh(E / 150), within the resolution
    assert np.median(np.abs(R / (100 * np.tanh(E / 150)) - 1)) < 0.1


def test_nonlinear_1d():
    X, y = data.nonlinear_1d(50, noise=0.0, x_range=(-2.0, 3.0), seed=0)
    assert np.all(np.diff(X[:, 0]) >= 0)
    assert X.min() >= -2 and X.max() <= 3
    np.testing.assert_allclose(y, data.target_function(X))
    x = np.array([0.0, 1.0])
    keep = Unchanged(x=x)
    np.testing.assert_allclose(data.target_function(x),
                               [0.0, np.sin(2) * np.exp(-1 / 8) + 0.3], rtol=1e-15)
    keep.check("target_function")
    np.testing.assert_allclose(data.target_function(frozen(x)), data.target_function(x))


def test_signal_background():
    X, y = data.signal_background(4000, signal_fraction=0.3, seed=0)
    assert X.shape == (4000, 4) and len(data.SIGNAL_BACKGROUND_FEATURES) == 4
    assert np.mean(y) == pytest.approx(0.3, abs=0.03)
    # the signal is a peak at 125 GeV in m_jj, and the jets are central (smaller |delta eta|)
    assert np.median(X[y == 1, 0]) == pytest.approx(125, abs=3)
    assert np.mean(X[y == 1, 2]) < np.mean(X[y == 0, 2])
    assert np.all(X[:, 2] >= 0) and np.all(X[:, 3] >= 0)


def test_signal_background_has_both_classes_even_when_small():
    for seed in range(30):
        assert set(data.signal_background(2, seed=seed)[1].tolist()) == {0, 1}
        assert set(data.signal_background(5, signal_fraction=0.02, seed=seed)[1].tolist()) == {0, 1}
