r"""Optimisers: phase 2 of back-propagation, the weight update (book chapter 7).

Stochastic gradient descent moves every weight against its gradient,

.. math::

    A_{ij} \mapsto A_{ij} - \eta\, \frac{\partial \mathcal L}{\partial A_{ij}},

with the learning rate :math:`\eta > 0`. With momentum :math:`\mu` it keeps a
velocity :math:`v` per weight:

.. math::

    v \mapsto \mu v - \eta\, \nabla \mathcal L, \qquad A \mapsto A + v .
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._checks import check_positive

__all__ = ["SGD"]


class SGD:
    r"""Stochastic gradient descent, optionally with momentum.

    Parameters
    ----------
    eta : float
        Learning rate :math:`\eta > 0`.
    momentum : float, default 0.0
        :math:`\mu \in [0, 1)`; 0 is plain SGD.

    Notes
    -----
    :meth:`step` updates the parameter arrays *in place*: they belong to
    the network, and updating them is the optimiser's one job. Nothing else
    in nnlib modifies an array it is given.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([1.0, 2.0])
    >>> SGD(eta=0.5).step([A], [np.array([2.0, -2.0])])
    >>> A
    array([0., 3.])

    Book: chapter 7, *Gradient descent*.
    """

    def __init__(self, eta: float, momentum: float = 0.0):
        self.eta = float(check_positive(eta, "eta"))
        check_positive(momentum, "momentum", allow_zero=True)
        if momentum >= 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self._velocity: list[np.ndarray] | None = None
        self._scratch: list[np.ndarray] | None = None   # eta * grad, reused between steps

    def __repr__(self) -> str:
        m = f", momentum={self.momentum}" if self.momentum else ""
        return f"SGD(eta={self.eta}{m})"

    def step(self, params: Sequence[np.ndarray], grads: Sequence[np.ndarray]) -> None:
        """Apply one update to ``params`` (in place) from ``grads`` (same shapes)."""
        if len(params) != len(grads):
            raise ValueError(f"got {len(params)} parameter arrays but {len(grads)} gradients")
        for i, (p, g) in enumerate(zip(params, grads)):
            if p.shape != g.shape:
                raise ValueError(f"parameter {i} has shape {p.shape} but its gradient has shape {g.shape}")
        if not _fits(self._scratch, params):
            self._scratch = [np.empty_like(p) for p in params]
        if self.momentum == 0.0:
            for p, g, s in zip(params, grads, self._scratch):
                p -= np.multiply(g, self.eta, out=s, casting="same_kind")
            return
        if not _fits(self._velocity, params):
            self._velocity = [np.zeros_like(p) for p in params]
        for p, g, v, s in zip(params, grads, self._velocity, self._scratch):
            v *= self.momentum
            v -= np.multiply(g, self.eta, out=s, casting="same_kind")
            p += v

    def reset(self) -> None:
        """Forget the momentum buffers."""
        self._velocity = None


def _fits(buffers, params) -> bool:
    """Whether preallocated ``buffers`` match ``params`` in number, shape and dtype."""
    return buffers is not None and len(buffers) == len(params) and all(
        b.shape == p.shape and b.dtype == p.dtype for b, p in zip(buffers, params))
