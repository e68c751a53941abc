r"""Measures of a trained classifier: accuracy and the ROC curve (book chapter 8)."""

from __future__ import annotations

import numpy as np

from ._checks import as_float_array, check_binary_labels

__all__ = ["accuracy", "roc_curve", "auc"]


def accuracy(y_pred, y) -> float:
    """Fraction of predictions equal to the labels.

    Parameters
    ----------
    y_pred : array_like, shape (N,) or (N, 1)
        Predicted labels.
    y : array_like, same number of entries
        True labels.

    Returns
    -------
    float in [0, 1]
    """
    y_pred, y = np.ravel(y_pred), np.ravel(y)
    if y_pred.shape != y.shape:
        raise ValueError(f"y_pred has {y_pred.size} entries but y has {y.size}")
    if y.size == 0:
        raise ValueError("cannot compute the accuracy of zero predictions")
    return float(np.mean(y_pred == y))


def roc_curve(scores, y):
    r"""Receiver operating characteristic of a score that ranks signal above background.

    For every threshold :math:`t` the classifier "score :math:`\ge t` means
    signal" has true-positive rate (signal efficiency)
    :math:`\mathrm{TPR}(t) = P(s \ge t \mid y = 1)` and false-positive rate
    (background efficiency) :math:`\mathrm{FPR}(t) = P(s \ge t \mid y = 0)`.

    Parameters
    ----------
    scores : array_like, shape (N,) or (N, 1)
        Larger means "more signal-like" (a probability or a logit).
    y : array_like of {0, 1}, shape (N,)

    Returns
    -------
    fpr, tpr : ndarray, shape (M,)
        Increasing, from (0, 0) to (1, 1).
    thresholds : ndarray, shape (M,)
        Decreasing; the first is ``+inf``.
    """
    s = as_float_array(np.ravel(scores), "scores")
    y = as_float_array(np.ravel(y), "y")
    if s.shape != y.shape:
        raise ValueError(f"scores has {s.size} entries but y has {y.size}")
    check_binary_labels(y)
    n_pos, n_neg = y.sum(), (1 - y).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("the ROC curve needs both classes in y (some 0s and some 1s)")
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]   # last index of each score value
    tp = np.cumsum(y)[distinct]
    fp = (distinct + 1) - tp
    tpr = np.r_[0.0, tp / n_pos]
    fpr = np.r_[0.0, fp / n_neg]
    thresholds = np.r_[np.inf, s[distinct]]
    return fpr, tpr, thresholds


def auc(fpr, tpr) -> float:
    """Area under a curve given by increasing ``fpr`` and ``tpr`` (trapezoidal rule).

    Parameters
    ----------
    fpr, tpr : array_like, shape (M,)

    Returns
    -------
    float
        0.5 for a random score, 1 for a perfect one.
    """
    fpr = as_float_array(fpr, "fpr", ndim=1)
    tpr = as_float_array(tpr, "tpr", ndim=1)
    if fpr.shape != tpr.shape:
        raise ValueError(f"fpr has shape {fpr.shape} but tpr has shape {tpr.shape}")
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
