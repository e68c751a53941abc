"""McCulloch-Pitts units, the perceptron and Novikoff's bound (book chapters 3 and 4)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from conftest import Unchanged, frozen
from nnlib import data
from nnlib.neurons import (AND, NOT, OR, ConvergenceWarning, McCullochPitts, Perceptron,
                           firing_rate, perceptron_update, xor)

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
XOR_TABLE = (0, 1, 1, 0)


# ---------------------------------------------------------------------------------------
# McCulloch-Pitts
# ---------------------------------------------------------------------------------------
def test_truth_tables():
    np.testing.assert_array_equal(AND(INPUTS), [0, 0, 0, 1])
    np.testing.assert_array_equal(OR(INPUTS), [0, 1, 1, 1])
    np.testing.assert_array_equal(NOT(np.array([[0], [1]])), [1, 0])
    np.testing.assert_array_equal(xor(INPUTS), XOR_TABLE)


def test_single_samples_and_lists():
    assert AND([1, 1]).tolist() == [1]
    assert xor(np.array([1, 0])).tolist() == [1]
    assert OR([[0, 0]]).tolist() == [0]


def test_xor_is_built_from_two_layers_of_units():
    """The output unit, excited by OR and inhibited by AND, gives XOR."""
    hidden = np.column_stack([OR(INPUTS), AND(INPUTS)])
    out = McCullochPitts(threshold=1, n_inputs=2, inhibitory=[1])
    np.testing.assert_array_equal(out(hidden), XOR_TABLE)


def test_threshold_unit_counts_excitatory_inputs():
    """Three inputs, threshold 2: the majority function; inhibition vetoes it."""
    X = np.array(list(itertools.product([0, 1], repeat=3)))
    np.testing.assert_array_equal(McCullochPitts(2, 3)(X), (X.sum(axis=1) >= 2).astype(int))
    vetoed = McCullochPitts(1, 3, inhibitory=[2])(X)
    np.testing.assert_array_equal(vetoed, ((X[:, 0] + X[:, 1] >= 1) & (X[:, 2] == 0)).astype(int))
    # threshold 0 without inhibition always fires
    np.testing.assert_array_equal(McCullochPitts(0, 3)(X), 1)


def _mp_tables():
    """Truth table of every 2-input McCulloch-Pitts unit with threshold 0..4 and any inhibition."""
    tables = {}
    for theta in range(0, 5):
        for inhibitory in [(), (0,), (1,), (0, 1)]:
            unit = McCullochPitts(theta, 2, inhibitory)
            tables[(theta, inhibitory)] = tuple(int(v) for v in unit(INPUTS))
    return tables


def test_no_single_mcculloch_pitts_unit_computes_xor():
    tables = _mp_tables()
    assert XOR_TABLE not in tables.values()
    # the search is not vacuous: it finds AND, OR, "x1 and not x2", NOR, constants
    for table in [(0, 0, 0, 1), (0, 1, 1, 1), (0, 0, 1, 0), (1, 0, 0, 0), (0, 0, 0, 0), (1, 1, 1, 1)]:
        assert table in tables.values(), table


def test_no_single_weighted_threshold_unit_computes_xor():
    """Integer weights in -3..3 and thresholds in -4..4: all 14 linearly separable
    Boolean functions of two inputs appear, but never XOR or XNOR."""
    tables = set()
    for w1, w2, theta in itertools.product(range(-3, 4), range(-3, 4), range(-4, 5)):
        fires = INPUTS @ np.array([w1, w2]) >= theta
        tables.add(tuple(int(v) for v in fires))
    assert XOR_TABLE not in tables
    assert (1, 0, 0, 1) not in tables
    assert len(tables) == 14


def test_mcculloch_pitts_checks_its_inputs():
    with pytest.raises(ValueError, match=r"binary.*\[2\.0\]"):
        AND(np.array([[0, 2]]))
    with pytest.raises(ValueError, match=r"2 inputs but x has 3 columns"):
        AND(np.ones((1, 3)))
    with pytest.raises(ValueError, match="inhibitory input 2 does not exist"):
        McCullochPitts(1, 2, inhibitory=[2])
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        McCullochPitts(-1, 2)
    with pytest.raises(TypeError, match="threshold must be an integer"):
        McCullochPitts(1.5, 2)


# ---------------------------------------------------------------------------------------
# rate model
# ---------------------------------------------------------------------------------------
def test_firing_rate_is_a_saturating_sigmoid():
    v = np.linspace(-120, 40, 161)
    r = firing_rate(v)
    assert np.all(np.diff(r) > 0)
    assert firing_rate(np.array([-50.0]))[0] == pytest.approx(50.0)
    assert r[0] == pytest.approx(0.0, abs=1e-5) and r[-1] == pytest.approx(100.0, rel=1e-5)
    assert firing_rate(np.array([-40.0]), r_max=20, v_half=-40)[0] == pytest.approx(10.0)
    np.testing.assert_allclose(firing_rate(v, width=4), 100 / (1 + np.exp(-(v + 50) / 4)), rtol=1e-12)


# ---------------------------------------------------------------------------------------
# perceptron
# ---------------------------------------------------------------------------------------
def test_perceptron_update_by_hand():
    A = np.array([0.0, 0.0])
    x = np.array([1.0, 2.0])
    keep = Unchanged(A=A, x=x)
    # A.x + b = 0 >= 0, so the unit says 1; the label 0 is a mistake: A - eta x, b - eta
    A_new, b_new, mistake = perceptron_update(A, 0.0, x, 0, eta=0.5)
    keep.check("perceptron_update")
    np.testing.assert_array_equal(A_new, [-0.5, -1.0])
    assert b_new == -0.5 and mistake is True
    assert not np.shares_memory(A_new, A)
    # now A.x + b = -0.5 - 2 - 0.5 = -3 < 0: says 0, label 0: nothing changes
    A2, b2, mistake2 = perceptron_update(A_new, b_new, x, 0, eta=0.5)
    np.testing.assert_array_equal(A2, A_new)
    assert b2 == b_new and mistake2 is False
    assert A2 is not A_new
    # label 1 for the same point: A + eta x
    A3, b3, _ = perceptron_update(frozen(A_new), b_new, frozen(x), 1, eta=0.5)
    np.testing.assert_array_equal(A3, [0.0, 0.0])
    assert b3 == 0.0


def _novikoff(X, y, w, c):
    Xa = np.column_stack([X, np.ones(len(X))])
    wa = np.r_[w, c]
    R = np.max(np.linalg.norm(Xa, axis=1))
    gamma = np.min((2 * y - 1) * (Xa @ wa)) / np.linalg.norm(wa)
    return R, gamma


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("eta", [1.0, 0.1])
@pytest.mark.parametrize("margin", [0.1, 0.3, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_perceptron_converges_within_novikoffs_bound(seed, margin, eta, shuffle):
    X, y, (w, c) = data.linearly_separable(100, margin, seed=seed, return_boundary=True)
    R, gamma = _novikoff(X, y, w, c)
    assert gamma > 0
    bound = (R / gamma) ** 2
    # every epoch but the last makes a mistake, so bound + 1 epochs always suffice
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        p = Perceptron(eta=eta, max_epochs=int(bound) + 2, shuffle=shuffle, seed=seed).fit(X, y)
    assert p.converged_
    assert p.n_mistakes_ == sum(p.mistakes_) <= bound
    # stops at the first epoch without a mistake
    assert p.mistakes_[-1] == 0
    assert all(m > 0 for m in p.mistakes_[:-1])
    np.testing.assert_array_equal(p.predict(X), y)
    assert len(p.boundaries_) == len(p.mistakes_)
    np.testing.assert_array_equal(p.boundaries_[-1][0], p.A)
    assert p.boundaries_[-1][1] == p.b


def test_perceptron_stops_after_one_epoch_without_mistakes():
    """Weights start at zero and H(0) = 1: all-positive data are right from the start."""
    X, _ = data.linearly_separable(20, seed=0)
    p = Perceptron(max_epochs=10).fit(X, np.ones(20, dtype=int))
    assert p.mistakes_ == [0] and p.converged_
    np.testing.assert_array_equal(p.A, 0.0)


def test_perceptron_learning_rate_only_scales_the_weights():
    """Starting from zero, eta scales every update: same mistakes, weights times eta."""
    X, y = data.linearly_separable(60, 0.2, seed=5)
    p1 = Perceptron(eta=1.0).fit(X, y)
    p2 = Perceptron(eta=0.25).fit(X, y)
    assert p1.mistakes_ == p2.mistakes_
    np.testing.assert_allclose(p2.A, 0.25 * p1.A, rtol=1e-12)
    assert p2.b == pytest.approx(0.25 * p1.b)


def test_perceptron_shuffle_is_seeded():
    X, y = data.linearly_separable(80, 0.1, seed=9)
    runs = [Perceptron(shuffle=True, seed=s).fit(X, y).mistakes_ for s in range(6)]
    assert Perceptron(shuffle=True, seed=3).fit(X, y).mistakes_ == runs[3]
    fixed = Perceptron(shuffle=False).fit(X, y).mistakes_
    assert any(r != fixed for r in runs)


def test_perceptron_on_xor_warns_and_stops_at_max_epochs():
    X, y = data.xor(4, noise=0.0)
    with pytest.warns(ConvergenceWarning, match=r"epoch 25 \(max_epochs\)"):
        p = Perceptron(max_epochs=25).fit(X, y)
    assert len(p.mistakes_) == 25
    assert not p.converged_
    assert all(m > 0 for m in p.mistakes_)
    assert np.mean(p.predict(X) == y) < 1


def test_perceptron_leaves_its_data_alone():
    X, y = data.linearly_separable(30, 0.5, seed=1)
    keep = Unchanged(X=X, y=y)
    p = Perceptron().fit(X, y)
    p.predict(X)
    keep.check("Perceptron")
    q = Perceptron().fit(frozen(X), frozen(y))
    np.testing.assert_array_equal(q.A, p.A)


def test_perceptron_must_be_trained_before_predicting():
    with pytest.raises(RuntimeError, match="call fit"):
        Perceptron().predict(np.zeros((1, 2)))
    p = Perceptron().fit(*data.linearly_separable(20, 0.5, seed=0))
    with pytest.raises(ValueError, match="trained on 2 features but X has 3"):
        p.predict(np.zeros((1, 3)))
