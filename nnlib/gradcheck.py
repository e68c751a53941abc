r"""Numerical gradients by centred differences (book chapter 7, *Checking gradients*).

For a scalar function :math:`L(\mathbf x)` the centred difference

.. math::

    \frac{\partial L}{\partial x_i} \approx
    \frac{L(\mathbf x + h\mathbf e_i) - L(\mathbf x - h\mathbf e_i)}{2h}

has an error of order :math:`h^2`. Comparing it with an analytic
(back-propagated) gradient through the relative error

.. math::

    r = \frac{\lVert g_\text{analytic} - g_\text{numeric} \rVert}
             {\max(\lVert g_\text{analytic} \rVert, \lVert g_\text{numeric} \rVert)}

catches almost every bug in a backward pass: in float64, :math:`r < 10^{-6}`
for a correct gradient, while a wrong one gives :math:`r \sim 1`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._checks import as_float_array, check_rng

__all__ = ["numerical_gradient", "relative_error", "check_gradient",
           "check_layer", "check_model"]


def numerical_gradient(f: Callable, x, h: float = 1e-6) -> np.ndarray:
    r"""Centred-difference gradient of a scalar function.

    Each entry of a float64 copy of ``x`` is perturbed by :math:`\pm h` in
    turn and restored; ``x`` itself is never modified.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` (a 0-d array is accepted).
    x : array_like, any shape
        Point at which to differentiate.
    h : float, default 1e-6
        Step size.

    Returns
    -------
    ndarray of float64, same shape as ``x``
    """
    x = np.array(as_float_array(x, "x"), dtype=np.float64)  # our own copy
    return _param_gradient(lambda: f(x), x, h)


def relative_error(a, b) -> float:
    r"""Relative error :math:`\lVert a - b\rVert / \max(\lVert a\rVert, \lVert b\rVert)`.

    Returns 0 when both are exactly zero.

    Parameters
    ----------
    a, b : array_like, same shape
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of shapes {a.shape} and {b.shape}")
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    if scale == 0.0:
        return 0.0
    return float(np.linalg.norm(a - b) / scale)


def check_gradient(f: Callable, grad_f: Callable, x, h: float = 1e-6) -> float:
    """Relative error between ``grad_f(x)`` and the numerical gradient of ``f`` at ``x``.

    Parameters
    ----------
    f : callable, ``x -> float``
    grad_f : callable, ``x -> ndarray`` of the shape of ``x``
    x : array_like

    Returns
    -------
    float
        Below about 1e-6 for a correct gradient in float64.
    """
    x = np.array(as_float_array(x, "x"), dtype=np.float64)
    analytic = np.asarray(grad_f(x.copy()), dtype=np.float64)
    if analytic.shape != x.shape:
        raise ValueError(f"grad_f returned shape {analytic.shape}, expected {x.shape}")
    return relative_error(analytic, numerical_gradient(f, x, h))


def check_layer(layer, X, seed=0, h: float = 1e-6) -> dict[str, float]:
    r"""Check a layer's backward pass against centred differences.

    Uses the scalar :math:`L = \sum_{nk} G_{nk} H_{nk}` with a random
    upstream gradient :math:`G`, so that :math:`\partial L/\partial H = G`.

    Parameters
    ----------
    layer : object with ``forward``, ``backward``, ``parameters``, ``gradients``
        Its parameters are perturbed during the check and restored after.
    X : array_like, shape (N, n_in)

    Returns
    -------
    dict
        ``{"X": r, "param0": r, "param1": r, ...}``: relative errors of the
        gradient with respect to the input and to each parameter
        (for :class:`~nnlib.layers.Dense`, ``param0`` is ``A`` and
        ``param1`` is ``b``).
    """
    _require_float64(layer.parameters())
    X = np.array(as_float_array(X, "X", ndim=2), dtype=np.float64)
    G = check_rng(seed).standard_normal(layer.forward(X).shape)
    layer.forward(X)
    dX = layer.backward(G)
    errors = {"X": relative_error(dX, numerical_gradient(lambda x: np.sum(G * layer.forward(x)), X, h))}
    for i, (p, g) in enumerate(zip(layer.parameters(), [g.copy() for g in layer.gradients()])):
        errors[f"param{i}"] = relative_error(g, _param_gradient(lambda: np.sum(G * layer.forward(X)), p, h))
    return errors


def check_model(model, loss, X, y, h: float = 1e-6) -> list[float]:
    """Relative error of every parameter gradient of a whole network.

    Parameters
    ----------
    model : Sequential
    loss : str or Loss
    X : array_like, shape (N, n_in)
    y : array_like, targets for ``loss``

    Returns
    -------
    list of float
        One relative error per array in ``model.parameters()``.
    """
    from .training import evaluate

    _require_float64(model.parameters())
    model.loss_and_backward(X, y, loss)
    analytic = [g.copy() for g in model.gradients()]
    return [relative_error(g, _param_gradient(lambda: evaluate(model, loss, X, y), p, h))
            for p, g in zip(model.parameters(), analytic)]


def _param_gradient(f: Callable, p: np.ndarray, h: float) -> np.ndarray:
    """Centred differences of ``f()`` with respect to the array ``p``, perturbed in place and restored."""
    grad = np.empty(p.shape)
    # index p itself (not p.reshape(-1), which is a copy for a non-contiguous p
    # such as a transposed weight matrix, and would leave p unperturbed)
    for i in np.ndindex(p.shape):
        old = p[i]
        p[i] = old + h
        f_plus = float(f())
        p[i] = old - h
        f_minus = float(f())
        p[i] = old
        grad[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


def _require_float64(params) -> None:
    """Centred differences with h ~ 1e-6 are meaningless below float64 resolution."""
    for i, p in enumerate(params):
        if p.dtype != np.float64:
            raise TypeError(
                f"gradient checks need float64 parameters, but parameter {i} is {p.dtype}: "
                "a step of 1e-6 is below float32 resolution. Build the layer or network "
                "with dtype=np.float64 for the check."
            )
