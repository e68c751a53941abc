r"""Networks as compositions of layers (book chapter 7, *Back-propagation in nnlib*).

A :class:`Sequential` network is the composition

.. math::

    \hat{\mathbf y} = f_L\bigl(\mathbb A_L \cdots f_2(\mathbb A_2 f_1(\mathbb A_1 \mathbf x
    + \mathbf b_1) + \mathbf b_2) \cdots + \mathbf b_L\bigr),

evaluated layer by layer in the forward pass; back-propagation walks the same
layers in reverse, each turning :math:`\partial L/\partial(\text{its output})`
into :math:`\partial L/\partial(\text{its input})` and storing the gradients
of its own weights on the way.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._checks import as_float_array, check_rng
from .layers import Dense
from .losses import get_loss

__all__ = ["Sequential", "mlp"]


class Sequential:
    r"""A feed-forward network: layers applied one after another.

    Parameters
    ----------
    layers : sequence of layers
        Each has ``forward``, ``backward``, ``parameters`` and ``gradients``
        (as :class:`nnlib.layers.Dense` does); the output width of each must
        equal the input width of the next.

    Shape:
        input ``(N, n_in of the first layer)`` -> output ``(N, n_out of the last)``.

    Examples
    --------
    >>> from nnlib import Dense, Sequential
    >>> net = Sequential([Dense(2, 8, "tanh", seed=0), Dense(8, 1, seed=1)])
    >>> net.predict(np.zeros((3, 2))).shape
    (3, 1)

    Book: chapter 7, *Back-propagation in nnlib*.
    """

    def __init__(self, layers: Sequence):
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, (a, b) in enumerate(zip(layers, layers[1:])):
            n_out, n_in = getattr(a, "n_out", None), getattr(b, "n_in", None)
            if n_out is not None and n_in is not None and n_out != n_in:
                raise ValueError(
                    f"layer {i} ({a!r}) has {n_out} outputs but layer {i + 1} ({b!r}) "
                    f"expects {n_in} inputs"
                )
        self.layers = layers

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n    {inner},\n])"

    def forward(self, X):
        """Run ``X`` (N, n_in) through every layer, keeping caches for :meth:`backward`."""
        H = X
        for layer in self.layers:
            H = layer.forward(H)
        return H

    __call__ = forward

    def predict(self, X):
        """The network's output for ``X``, shape (N, n_out). Same as :meth:`forward`."""
        return self.forward(X)

    def backward(self, grad_out, input_grad: bool = True):
        """Back-propagate :math:`\\partial L/\\partial \\hat y` (N, n_out) through all layers.

        Every layer stores the gradients of its parameters; returns
        :math:`\\partial L / \\partial X`, shape (N, n_in), or ``None``
        with ``input_grad=False`` (then a first :class:`~nnlib.layers.Dense`
        layer skips that product: training never needs it).
        """
        g = grad_out
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if i == 0 and not input_grad and isinstance(layer, Dense):
                return layer.backward(g, input_grad=False)
            g = layer.backward(g)
        return g

    def loss_and_backward(self, X, y, loss="mse") -> float:
        r"""One forward and one backward pass: compute :math:`L(\hat y, y)` and all gradients.

        This is the lecture's phase 1 (propagation); an optimiser then does
        phase 2 (the weight update) with :meth:`parameters` and
        :meth:`gradients`.

        Parameters
        ----------
        X : array_like, shape (N, n_in)
        y : array_like, shape (N, n_out), or (N,) for one output or integer class labels
        loss : str or nnlib.losses.Loss, default "mse"

        Returns
        -------
        float
            The loss on this batch.
        """
        value, grad = self._loss_and_output_gradient(X, y, loss)
        self.backward(grad, input_grad=False)
        return value

    def _loss_and_output_gradient(self, X, y, loss):
        r"""The forward pass, then the batch loss and :math:`\partial L/\partial \hat y` (N, n_out)."""
        loss = get_loss(loss)
        y_hat = self.forward(X)
        return loss.value_and_gradient(y_hat, _match_targets(y, y_hat, loss.name))

    def _sgd_step(self, X, y, loss, eta: float) -> float:
        """:meth:`loss_and_backward` and a plain SGD step in one pass; return the batch loss.

        For a network of :class:`~nnlib.layers.Dense` layers (what :func:`nnlib.fit` uses
        for ``eta`` or ``SGD(eta)``): each layer updates its weights as back-propagation
        leaves it (:meth:`Dense._descend`), without storing the gradients. A batch whose
        loss is not finite changes nothing; an error in the middle of the sweep leaves the
        layers above it updated.
        """
        value, grad = self._loss_and_output_gradient(X, y, loss)
        if not np.isfinite(value):
            return value
        g = grad
        for i in range(len(self.layers) - 1, -1, -1):
            g = self.layers[i]._descend(g, eta, input_grad=i > 0, own_grad=g is not grad)
        return value

    def parameters(self) -> list[np.ndarray]:
        """All trainable arrays, layer by layer: ``[A_1, b_1, A_2, b_2, ...]``."""
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self) -> list[np.ndarray]:
        """Gradients from the last backward pass, in the order of :meth:`parameters`."""
        return [g for layer in self.layers for g in layer.gradients()]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of all parameters (for keeping the best weights during training)."""
        return [p.copy() for p in self.parameters()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Overwrite all parameters with ``weights`` (as returned by :meth:`get_weights`)."""
        params = self.parameters()
        if len(weights) != len(params):
            raise ValueError(f"expected {len(params)} arrays, got {len(weights)}")
        for i, (p, w) in enumerate(zip(params, weights)):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ValueError(f"weight {i} has shape {w.shape}, expected {p.shape}")
            p[...] = w

    def n_parameters(self) -> int:
        """Total number of trainable numbers."""
        return int(sum(p.size for p in self.parameters()))


def _match_targets(y, y_hat: np.ndarray, loss_name: str):
    """Reshape a 1-D target to (N, 1) when the network has a single output."""
    if loss_name == "softmax_cross_entropy":
        return y
    y = as_float_array(y, "y", ndim=(1, 2))
    if y.ndim == 1 and y_hat.ndim == 2 and y_hat.shape[1] == 1:
        y = y[:, None]
    if y.shape != y_hat.shape:
        raise ValueError(
            f"the network outputs shape {y_hat.shape} but y has shape {y.shape}; "
            "they must match for this loss"
        )
    return y


def mlp(sizes: Sequence[int], activation="relu", output_activation="identity", *,
        init: str | None = None, seed=None, dtype=np.float64) -> Sequential:
    """Build a multi-layer perceptron from its layer widths.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_in, n_hidden_1, ..., n_out]``; at least two entries.
    activation : str, default "relu"
        Activation of every hidden layer.
    output_activation : str, default "identity"
        Activation of the last layer. Keep "identity" when training with a
        logit-based loss (``binary_cross_entropy_with_logits``,
        ``softmax_cross_entropy``).
    init : str, optional
        Passed to every :class:`~nnlib.layers.Dense`.
    seed : None, int or numpy.random.Generator
        One generator is drawn from for all layers, so the network is
        reproducible from a single seed.
    dtype : float64 or float32

    Returns
    -------
    Sequential

    Examples
    --------
    >>> net = mlp([2, 16, 16, 1], "tanh", seed=0)
    >>> [layer.A.shape for layer in net.layers]
    [(16, 2), (16, 16), (1, 16)]
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {sizes}")
    rng = check_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        last = i == len(sizes) - 2
        layers.append(Dense(n_in, n_out, output_activation if last else activation,
                            init=init, seed=rng, dtype=dtype))
    return Sequential(layers)
