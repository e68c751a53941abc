"""nnlib.metrics against brute-force definitions."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import Unchanged, frozen
from nnlib import metrics


def brute_force_roc(scores, y):
    """For every distinct score t, from the largest down: rates of 'score >= t'."""
    scores, y = np.asarray(scores, float), np.asarray(y)
    fpr, tpr = [0.0], [0.0]
    for t in sorted(set(scores.tolist()), reverse=True):
        tpr.append(np.mean(scores[y == 1] >= t))
        fpr.append(np.mean(scores[y == 0] >= t))
    return np.array(fpr), np.array(tpr)


def mann_whitney(scores, y):
    """P(score of a random positive > score of a random negative), ties counting 1/2."""
    pos, neg = scores[y == 1], scores[y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(6))
def test_roc_curve_and_auc_match_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = 60
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    scores = rng.integers(0, 8, n) + 0.8 * y       # few distinct values: many ties
    fpr, tpr, thresholds = metrics.roc_curve(scores, y)
    bf_fpr, bf_tpr = brute_force_roc(scores, y)
    np.testing.assert_allclose(fpr, bf_fpr, rtol=1e-15)
    np.testing.assert_allclose(tpr, bf_tpr, rtol=1e-15)
    assert thresholds[0] == np.inf
    np.testing.assert_array_equal(thresholds[1:], sorted(set(scores.tolist()), reverse=True))
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert fpr[-1] == 1.0 and tpr[-1] == 1.0
    assert metrics.auc(fpr, tpr) == pytest.approx(mann_whitney(scores, y), rel=1e-12)


def test_roc_of_continuous_scores_matches_brute_force(rng):
    y = rng.integers(0, 2, 200)
    scores = rng.normal(size=200) + y
    fpr, tpr, _ = metrics.roc_curve(scores[:, None], y)        # (N, 1) scores are accepted
    bf_fpr, bf_tpr = brute_force_roc(scores, y)
    np.testing.assert_allclose(fpr, bf_fpr)
    np.testing.assert_allclose(tpr, bf_tpr)
    assert len(fpr) == 201


def test_auc_of_perfect_reversed_and_random_scores(rng):
    y = rng.integers(0, 2, 400)
    y[:2] = [0, 1]
    assert metrics.auc(*metrics.roc_curve(y + 0.1 * rng.uniform(size=400), y)[:2]) == 1.0
    assert metrics.auc(*metrics.roc_curve(-y.astype(float), y)[:2]) == 0.0
    random_auc = metrics.auc(*metrics.roc_curve(rng.uniform(size=400), y)[:2])
    assert random_auc == pytest.approx(0.5, abs=0.08)      # ~ 3 standard errors
    constant = metrics.auc(*metrics.roc_curve(np.zeros(400), y)[:2])
    assert constant == 0.5                                   # one big tie: the diagonal


def test_auc_is_the_trapezoid_area():
    assert metrics.auc([0.0, 0.5, 1.0], [0.0, 1.0, 1.0]) == 0.75
    assert metrics.auc([0.0, 1.0], [0.0, 1.0]) == 0.5


def test_accuracy():
    assert metrics.accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == 0.5
    assert metrics.accuracy(np.array([[1], [0]]), np.array([1, 0])) == 1.0


def test_metrics_leave_their_arguments_alone(rng):
    y = rng.integers(0, 2, 30)
    y[:2] = [0, 1]
    scores = rng.normal(size=30)
    keep = Unchanged(y=y, scores=scores)
    fpr, tpr, thr = metrics.roc_curve(scores, y)
    metrics.auc(fpr, tpr)
    metrics.accuracy(scores > 0, y)
    keep.check("metrics")
    for a, b in zip(metrics.roc_curve(frozen(scores), frozen(y)), (fpr, tpr, thr)):
        np.testing.assert_array_equal(a, b)
    assert metrics.auc(frozen(fpr), frozen(tpr)) == metrics.auc(fpr, tpr)
    assert metrics.accuracy(frozen(scores > 0), frozen(y)) == metrics.accuracy(scores > 0, y)
