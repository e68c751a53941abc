r"""Loss functions and their gradients (book chapter 6, *Loss functions*).

Every loss is a mean over the :math:`N` samples of a batch, and comes with
``<name>_gradient``, its gradient with respect to its *first* argument (the
network's output), of the same shape as that argument. Rows are samples.

============================================  ==============================  ===========================
loss                                          first argument                  pairs with output
============================================  ==============================  ===========================
:func:`mse`                                   predictions :math:`\hat y`      identity (regression)
:func:`binary_cross_entropy`                  probabilities :math:`p`         sigmoid
:func:`binary_cross_entropy_with_logits`      logits :math:`z`                identity + implicit sigmoid
:func:`softmax_cross_entropy`                 logits :math:`z`, shape (N, K)  identity + implicit softmax
============================================  ==============================  ===========================

For the two logit-based losses the gradient is :math:`(\hat y - y)/N`: the
neat "prediction minus target" that makes cross-entropy the natural partner
of sigmoid and softmax outputs.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ._checks import as_float_array, check_binary_labels, check_same_shape
from .activations import sigmoid

__all__ = [
    "mse", "mse_gradient",
    "binary_cross_entropy", "binary_cross_entropy_gradient",
    "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_gradient",
    "softmax_cross_entropy", "softmax_cross_entropy_gradient",
    "one_hot",
    "Loss", "LOSSES", "get_loss",
]


def _pair(first, y, first_name: str):
    a = as_float_array(first, first_name, ndim=(1, 2))
    t = as_float_array(y, "y", ndim=(1, 2))
    check_same_shape(a, t, first_name, "y")
    return a, t.astype(a.dtype, copy=False)   # float32 outputs stay float32


# ---------------------------------------------------------------------------- MSE
def mse(y_hat, y):
    r"""Mean squared error, with the factor 1/2.

    .. math::

        L = \frac{1}{N} \sum_{n=1}^{N} \frac{1}{2} \lVert \hat{\mathbf y}_n - \mathbf y_n \rVert^2

    The 1/2 convention makes the gradient simply :math:`(\hat y - y)/N`; it
    does not move the minimum. (Some texts, and scikit-learn's
    ``mean_squared_error``, omit it and also average over outputs.)

    Parameters
    ----------
    y_hat : array_like, shape (N,) or (N, K)
        Predictions.
    y : array_like, same shape as ``y_hat``
        Targets.

    Returns
    -------
    float

    Book: chapter 6, *Squared error*; chapter 2, *The error*.
    """
    y_hat, y = _pair(y_hat, y, "y_hat")
    d = y_hat - y
    return float(0.5 * np.sum(d * d) / y_hat.shape[0])


def mse_gradient(y_hat, y):
    r"""Gradient of :func:`mse` with respect to ``y_hat``: :math:`(\hat y - y)/N`.

    Parameters
    ----------
    y_hat : array_like, shape (N,) or (N, K)
    y : array_like, same shape

    Returns
    -------
    ndarray, same shape as ``y_hat``.
    """
    y_hat, y = _pair(y_hat, y, "y_hat")
    return (y_hat - y) / y_hat.shape[0]


# ---------------------------------------------------------- binary cross-entropy
def _clip(p: np.ndarray) -> np.ndarray:
    eps = np.finfo(p.dtype).eps
    return np.clip(p, eps, 1.0 - eps)


def binary_cross_entropy(p, y):
    r"""Binary cross-entropy from probabilities.

    .. math::

        L = -\frac{1}{N} \sum_{n} \bigl[ y_n \log p_n + (1 - y_n) \log(1 - p_n) \bigr]

    This is the negative log-likelihood of Bernoulli labels :math:`y_n \in
    \{0, 1\}` with success probabilities :math:`p_n`. The probabilities are
    clipped to :math:`[\epsilon, 1 - \epsilon]` with the dtype's machine
    epsilon so that :math:`\log 0` never occurs; prefer
    :func:`binary_cross_entropy_with_logits` when you have the logits.

    Parameters
    ----------
    p : array_like, shape (N,) or (N, 1)
        Predicted probabilities of class 1, in [0, 1].
    y : array_like, same shape as ``p``
        Labels, each 0 or 1.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a label is not 0 or 1, or a probability lies outside [0, 1].

    Book: chapter 6, *Cross-entropy*.
    """
    p, y = _pair(p, y, "p")
    _check_probabilities(p)
    check_binary_labels(y)
    p = _clip(p)
    return float(-np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p)) / p.shape[0])


def binary_cross_entropy_gradient(p, y):
    r"""Gradient of :func:`binary_cross_entropy` with respect to ``p``.

    .. math::

        \frac{\partial L}{\partial p_n} = \frac{1}{N} \, \frac{p_n - y_n}{p_n (1 - p_n)}

    (with ``p`` clipped as in the loss).

    Parameters
    ----------
    p : array_like, shape (N,) or (N, 1)
    y : array_like, same shape

    Returns
    -------
    ndarray, same shape as ``p``.
    """
    p, y = _pair(p, y, "p")
    _check_probabilities(p)
    check_binary_labels(y)
    p = _clip(p)
    return (p - y) / (p * (1.0 - p)) / p.shape[0]


def _check_probabilities(p: np.ndarray) -> None:
    bad = ~np.isfinite(p)
    if np.any(bad):
        raise ValueError(
            f"p must hold probabilities in [0, 1], but {int(np.sum(bad))} of its {p.size} "
            "entries are NaN or infinite (did the training diverge? try a smaller eta)"
        )
    if np.any((p < 0) | (p > 1)):
        lo, hi = float(np.min(p)), float(np.max(p))
        raise ValueError(
            f"p must hold probabilities in [0, 1], got values from {lo} to {hi}; "
            "if these are logits use binary_cross_entropy_with_logits"
        )


def binary_cross_entropy_with_logits(z, y):
    r"""Binary cross-entropy of :math:`\sigma(z)`, computed from the logits ``z``.

    .. math::

        L = \frac{1}{N} \sum_{n} \bigl[ \max(z_n, 0) - z_n y_n + \log(1 + e^{-|z_n|}) \bigr]

    which equals :func:`binary_cross_entropy` of :math:`p = \sigma(z)` but
    never overflows and never takes :math:`\log 0`.

    Parameters
    ----------
    z : array_like, shape (N,) or (N, 1)
        Logits (pre-sigmoid outputs).
    y : array_like, same shape as ``z``
        Labels, each 0 or 1.

    Returns
    -------
    float

    Book: chapter 6, *Why cross-entropy pairs with sigmoid and softmax*.
    """
    z, y = _pair(z, y, "z")
    check_binary_labels(y)
    per = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return float(np.sum(per) / z.shape[0])


def binary_cross_entropy_with_logits_gradient(z, y):
    r"""Gradient of :func:`binary_cross_entropy_with_logits`: :math:`(\sigma(z) - y)/N`.

    Parameters
    ----------
    z : array_like, shape (N,) or (N, 1)
    y : array_like, same shape

    Returns
    -------
    ndarray, same shape as ``z``.
    """
    z, y = _pair(z, y, "z")
    check_binary_labels(y)
    return (sigmoid(z) - y) / z.shape[0]


# ---------------------------------------------------------- softmax cross-entropy
def one_hot(labels, n_classes: int | None = None):
    """One-hot encode integer class labels.

    Parameters
    ----------
    labels : array_like of int, shape (N,)
        Class indices in ``0 .. n_classes - 1``.
    n_classes : int, optional
        Number of classes :math:`K`; by default ``labels.max() + 1``.

    Returns
    -------
    ndarray of float64, shape (N, K)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D integer class indices, got shape {labels.shape}")
    k = None if n_classes is None else int(n_classes)
    labels, k = _check_labels(labels, k)
    out = np.zeros((labels.shape[0], k))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def _check_labels(labels: np.ndarray, k: int | None):
    """Integer class labels (1-D) checked against ``k`` classes (``max + 1`` when None).

    Returns the labels as an integer array and ``k``.
    """
    if labels.size == 0:
        raise ValueError("labels is empty")
    if labels.dtype.kind == "f":
        if not np.all(labels == np.round(labels)):
            raise ValueError("labels must be whole numbers (class indices), got fractions")
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    lo, hi = int(labels.min()), int(labels.max())
    if k is None:
        k = hi + 1
    if lo < 0 or hi >= k:
        raise ValueError(
            f"labels must lie in 0..{k - 1} for {k} classes, got values from {lo} to {hi}"
        )
    return labels, k


def _softmax_targets(z, y):
    """Checked logits ``z`` (N, K) and targets: ``(z, labels, None)`` for integer class labels
    (N,), ``(z, None, t)`` for one-hot or probability rows ``t`` (N, K)."""
    z = as_float_array(z, "z", ndim=2)
    y_arr = np.asarray(y)
    if y_arr.ndim == 1:
        if y_arr.shape[0] != z.shape[0]:
            raise ValueError(
                f"z has {z.shape[0]} rows (samples) but y has {y_arr.shape[0]} labels"
            )
        labels, _ = _check_labels(y_arr, z.shape[1])
        return z, labels, None
    t = as_float_array(y_arr, "y", ndim=2)
    check_same_shape(z, t, "z", "y")
    if np.any(t < 0) or not np.allclose(t.sum(axis=1), 1.0):
        raise ValueError("one-hot (or probability) targets y must be non-negative rows summing to 1")
    return z, None, t.astype(z.dtype, copy=False)


def _target_logit(z, labels, t):
    r""":math:`\sum_k y_{nk} z_{nk}`, shape (N,): the logit of the true class for labels."""
    if labels is not None:
        return z[np.arange(z.shape[0]), labels]
    return np.sum(t * z, axis=1)


_NO_SHIFT = 30.0   # every |z| <= 30: e^z lies between 9e-14 and 1.1e13, no overflow, no underflow


def _exp_rows(z):
    r"""The exponentials of checked logits ``z`` (N, K), and what the loss makes of them.

    Returns ``e`` (N, K) with :math:`e_{nk} = e^{z_{nk} - c_n}`, its row sums ``s`` (N, 1) and
    the log-sum-exp ``lse`` (N,), :math:`\log \sum_k e^{z_{nk}} = c_n + \log s_n`; then
    :math:`\mathrm{softmax}(\mathbf z_n) = \mathbf e_n / s_n`. The shift :math:`c_n` is the row
    maximum, which keeps :math:`e^{z}` from overflowing and at least one term of every row at 1.
    When every :math:`|z_{nk}| \le 30` neither danger exists (:math:`e^{\pm 30}` is about
    :math:`10^{\pm 13}`, fine in float32 too) and :math:`c_n = 0`: NumPy's maximum along short
    rows is slow (20 of the loss's 70 us in a training step of a 784-256-256-10 network at
    batch 256). NaN fails the test and takes the shifted path. The row sums are a product with
    a column of ones, 3x faster than ``sum(axis=1)`` for few columns.
    """
    if -_NO_SHIFT <= z.min() and z.max() <= _NO_SHIFT:
        m, e = None, np.exp(z)
    else:
        m = np.max(z, axis=1, keepdims=True)
        e = np.exp(z - m)
    s = e @ np.ones((z.shape[1], 1), z.dtype)
    lse = np.log(s[:, 0])
    return e, s, lse if m is None else m[:, 0] + lse


def _mean_of_rows(per_row) -> float:
    """The mean of the rows' cross-entropies (N,), each clamped at 0.

    A row's cross-entropy is never negative, but without the shift rounding can put its
    log-sum-exp a few units in the last place below the true class's logit (float32: -3e-8
    for the logits [0.5, -24.5, ..., -24.5] and class 0); the clamp keeps the loss >= 0.
    """
    return float(np.sum(np.maximum(per_row, 0)) / per_row.shape[0])


def _softmax_gradient(e, s, labels, t):
    """``(softmax(z) - y) / N`` from the exponentials ``e`` (N, K, overwritten) and their row
    sums ``s`` (N, 1) of :func:`_exp_rows`."""
    g = _softmax_minus_targets(np.divide(e, s, out=e), labels, t)
    g /= e.shape[0]
    return g


def _softmax_minus_targets(p, labels, t):
    """``p - y`` for probabilities ``p`` (N, K) that this module owns: in place for labels."""
    if labels is not None:
        p[np.arange(p.shape[0]), labels] -= 1
        return p
    return p - t


def softmax_cross_entropy(z, y):
    r"""Categorical cross-entropy of :math:`\mathrm{softmax}(z)`, from the logits.

    .. math::

        L = -\frac{1}{N} \sum_{n} \sum_{k} y_{nk} \log \mathrm{softmax}(\mathbf z_n)_k
          = \frac{1}{N} \sum_n \Bigl[\log \sum_k e^{z_{nk}} - \sum_k y_{nk} z_{nk}\Bigr]

    evaluated stably: the log-sum-exp is shifted by the row maximum whenever an
    exponential could overflow or vanish (some :math:`|z_{nk}| > 30`).

    Parameters
    ----------
    z : array_like, shape (N, K)
        Logits.
    y : array_like, shape (N,) of int, or shape (N, K)
        Integer class labels in ``0..K-1``, or one-hot rows.

    Returns
    -------
    float

    Book: chapter 6, *Cross-entropy for K classes*.
    """
    z, labels, t = _softmax_targets(z, y)
    _, _, lse = _exp_rows(z)
    return _mean_of_rows(lse - _target_logit(z, labels, t))


def softmax_cross_entropy_gradient(z, y):
    r"""Gradient of :func:`softmax_cross_entropy`: :math:`(\mathrm{softmax}(z) - y)/N`.

    Parameters
    ----------
    z : array_like, shape (N, K)
    y : array_like, shape (N,) of int, or (N, K)

    Returns
    -------
    ndarray, shape (N, K)
    """
    z, labels, t = _softmax_targets(z, y)
    e, s, _ = _exp_rows(z)
    return _softmax_gradient(e, s, labels, t)


# ------------------------------------------------------ value and gradient at once
# What a training step needs: the same formulas as the loss and its gradient above, with the
# arguments checked once instead of twice (it matters for small networks, where checks are a
# sizeable part of a step).
def _mse_both(y_hat, y):
    y_hat, y = _pair(y_hat, y, "y_hat")
    d = y_hat - y
    n = y_hat.shape[0]
    return float(0.5 * np.sum(d * d) / n), d / n


def _bce_both(p, y):
    p, y = _pair(p, y, "p")
    _check_probabilities(p)
    check_binary_labels(y)
    p = _clip(p)
    n = p.shape[0]
    value = float(-np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p)) / n)
    return value, (p - y) / (p * (1.0 - p)) / n


def _bce_logits_both(z, y):
    z, y = _pair(z, y, "z")
    check_binary_labels(y)
    n = z.shape[0]
    per = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return float(np.sum(per) / n), (sigmoid(z) - y) / n


def _softmax_ce_both(z, y):
    # the exponentials are shared by the log-sum-exp and the softmax
    z, labels, t = _softmax_targets(z, y)
    e, s, lse = _exp_rows(z)
    return _mean_of_rows(lse - _target_logit(z, labels, t)), _softmax_gradient(e, s, labels, t)


# -------------------------------------------------------------------------- table
class Loss(NamedTuple):
    """A loss as :func:`nnlib.training.fit` sees it: value and gradient.

    ``both``, when given, returns ``(value, gradient)`` from one call, equal to
    ``(function(y_hat, y), gradient(y_hat, y))`` (the arguments are checked once).
    """

    name: str
    function: Callable
    gradient: Callable
    both: Callable | None = None

    def value_and_gradient(self, y_hat, y):
        """``(function(y_hat, y), gradient(y_hat, y))``, through ``both`` when there is one."""
        if self.both is not None:
            return self.both(y_hat, y)
        return self.function(y_hat, y), self.gradient(y_hat, y)


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", mse, mse_gradient, _mse_both),
    "binary_cross_entropy": Loss(
        "binary_cross_entropy", binary_cross_entropy, binary_cross_entropy_gradient, _bce_both),
    "binary_cross_entropy_with_logits": Loss(
        "binary_cross_entropy_with_logits", binary_cross_entropy_with_logits,
        binary_cross_entropy_with_logits_gradient, _bce_logits_both),
    "softmax_cross_entropy": Loss(
        "softmax_cross_entropy", softmax_cross_entropy, softmax_cross_entropy_gradient,
        _softmax_ce_both),
}
"""Name -> :class:`Loss`: every loss nnlib knows."""


def get_loss(loss) -> Loss:
    """Look up a loss by name, or pass a :class:`Loss` through.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        key = loss.lower().replace("-", "_").replace(" ", "_")
        if key in LOSSES:
            return LOSSES[key]
        raise ValueError(f"unknown loss {loss!r}; known losses: {', '.join(sorted(LOSSES))}")
    raise TypeError(f"loss must be a name such as 'mse' or a Loss, got {type(loss).__name__}")
