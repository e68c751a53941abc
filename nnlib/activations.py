r"""Activation functions and their derivatives (book chapter 5, *Activation functions*).

Every elementwise activation :math:`f` comes with its derivative :math:`f'`,
named ``<name>_derivative``. Both take an array ``z`` of any shape and return
an array of the same shape and floating dtype (float32 stays float32). None of
them modifies its input, and all are stable for :math:`|z|` up to 1000 and
beyond: no overflow warning, no NaN.

Softmax acts on a whole vector, so instead of a derivative it has the
vector-Jacobian product :func:`softmax_backward`.

The table :data:`ACTIVATIONS` maps a name (``"sigmoid"``) to an
:class:`Activation` record holding the function, its derivative and its
backward rule, which is how :class:`nnlib.layers.Dense` looks them up.

Examples
--------
>>> import numpy as np
>>> from nnlib.activations import sigmoid, sigmoid_derivative
>>> sigmoid(np.array([0.0]))
array([0.5])
>>> sigmoid_derivative(np.array([0.0]))
array([0.25])
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from ._checks import as_float_array, check_positive

__all__ = [
    "step", "step_derivative",
    "identity", "identity_derivative",
    "sigmoid", "sigmoid_derivative",
    "tanh", "tanh_derivative",
    "relu", "relu_derivative",
    "leaky_relu", "leaky_relu_derivative",
    "elu", "elu_derivative",
    "softmax", "softmax_backward",
    "Activation", "ACTIVATIONS", "get_activation",
]


def _z(z) -> np.ndarray:
    return as_float_array(z, "z", allow_empty=True)


# --------------------------------------------------------------------------- step
def step(z):
    r"""Heaviside step function, the McCulloch-Pitts and perceptron activation.

    .. math::

        H(z) = \begin{cases} 1 & z \ge 0 \\ 0 & z < 0 \end{cases}

    The convention :math:`H(0) = 1` means a unit fires when its input reaches
    the threshold exactly.

    Parameters
    ----------
    z : array_like, any shape
        Pre-activations.

    Returns
    -------
    ndarray, same shape as ``z``
        Zeros and ones, in ``z``'s floating dtype.

    Book: chapter 3, *The McCulloch-Pitts neuron*; chapter 4, *The perceptron*.
    """
    z = _z(z)
    return (z >= 0).astype(z.dtype)


def step_derivative(z):
    r"""Derivative of the step function: :math:`H'(z) = 0` for :math:`z \ne 0`.

    The step is not differentiable at 0; we return 0 there too. This zero
    gradient everywhere is why a network of step units cannot be trained by
    gradient descent (chapter 5).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``, all zeros.
    """
    z = _z(z)
    return np.zeros_like(z)


# ----------------------------------------------------------------------- identity
def identity(z):
    r"""Identity (linear) activation :math:`f(z) = z`, used for regression outputs.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z`` (a copy).

    Book: chapter 2, *A one-parameter model*; chapter 5.
    """
    return _z(z).copy()


def identity_derivative(z):
    r"""Derivative of the identity: :math:`f'(z) = 1`.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``, all ones.
    """
    return np.ones_like(_z(z))


# ------------------------------------------------------------------------ sigmoid
def sigmoid(z):
    r"""Logistic sigmoid.

    .. math::

        \sigma(z) = \frac{1}{1 + e^{-z}} \in (0, 1),
        \qquad \sigma(-z) = 1 - \sigma(z).

    Computed as :math:`e^{-|z|}`-based fractions so that no exponential of a
    large positive number is ever taken: stable for any finite ``z``.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape and dtype as ``z``, values in [0, 1].

    Book: chapter 5, *Sigmoid*.
    """
    z = _z(z)
    e = np.exp(-np.abs(z))           # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def sigmoid_derivative(z):
    r"""Derivative of the sigmoid.

    .. math::

        \sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr) \le \tfrac14,

    largest at :math:`z = 0` where it equals 1/4: the origin of the
    vanishing-gradient problem in deep sigmoid networks.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape and dtype as ``z``.
    """
    s = sigmoid(z)
    return s * (1.0 - s)


# --------------------------------------------------------------------------- tanh
def tanh(z):
    r"""Hyperbolic tangent :math:`\tanh z = (e^{z} - e^{-z})/(e^{z} + e^{-z}) \in (-1, 1)`.

    Related to the sigmoid by :math:`\tanh z = 2\sigma(2z) - 1`.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape and dtype as ``z``.

    Book: chapter 5, *tanh*.
    """
    return np.tanh(_z(z))


def tanh_derivative(z):
    r"""Derivative of tanh: :math:`\tanh'(z) = 1 - \tanh^2 z \le 1`.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape and dtype as ``z``.
    """
    t = tanh(z)
    return 1.0 - t * t


# --------------------------------------------------------------------------- ReLU
def relu(z):
    r"""Rectified linear unit :math:`\mathrm{ReLU}(z) = \max(0, z)`.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape and dtype as ``z``.

    Book: chapter 5, *ReLU*.
    """
    return _relu(_z(z))


def _relu(z, out=None):
    """:func:`relu` of a checked float array, into ``out`` if given (``out=z`` overwrites z)."""
    # against a row of zeros rather than the scalar 0, same result: NumPy 2.4 runs
    # maximum(float32 array, scalar) through a slower loop (256 x 256: 27 us against 13 us;
    # float64 gains nothing)
    return np.maximum(z, np.zeros(z.shape[-1:], z.dtype), out=out)


def relu_derivative(z):
    r"""Derivative of ReLU: :math:`1` for :math:`z > 0`, else :math:`0`.

    ReLU is not differentiable at 0; like most libraries we use 0 there.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape and dtype as ``z``.
    """
    z = _z(z)
    return (z > 0).astype(z.dtype)


# --------------------------------------------------------------------- leaky ReLU
def leaky_relu(z, alpha: float = 0.01):
    r"""Leaky ReLU: :math:`f(z) = z` for :math:`z > 0`, :math:`\alpha z` otherwise.

    The small slope :math:`\alpha` keeps a gradient flowing for negative
    inputs, so a unit cannot "die".

    Parameters
    ----------
    z : array_like, any shape
    alpha : float, default 0.01
        Slope for negative inputs, :math:`\alpha \ge 0`.

    Returns
    -------
    ndarray, same shape and dtype as ``z``.

    Book: chapter 5, *Leaky ReLU and ELU*.
    """
    check_positive(alpha, "alpha", allow_zero=True)
    z = _z(z)
    return np.where(z > 0, z, alpha * z).astype(z.dtype, copy=False)


def leaky_relu_derivative(z, alpha: float = 0.01):
    r"""Derivative of leaky ReLU: :math:`1` for :math:`z > 0`, :math:`\alpha` otherwise.

    Parameters
    ----------
    z : array_like, any shape
    alpha : float, default 0.01

    Returns
    -------
    ndarray, same shape and dtype as ``z``.
    """
    check_positive(alpha, "alpha", allow_zero=True)
    z = _z(z)
    return np.where(z > 0, 1.0, alpha).astype(z.dtype, copy=False)


# ---------------------------------------------------------------------------- ELU
def elu(z, alpha: float = 1.0):
    r"""Exponential linear unit.

    .. math::

        \mathrm{ELU}(z) = \begin{cases} z & z > 0 \\
        \alpha\,(e^{z} - 1) & z \le 0 \end{cases}

    Smooth for :math:`\alpha = 1`, saturating at :math:`-\alpha` for very
    negative inputs (Clevert, Unterthiner & Hochreiter 2016).

    Parameters
    ----------
    z : array_like, any shape
    alpha : float, default 1.0
        Saturation value for negative inputs, :math:`\alpha \ge 0`.

    Returns
    -------
    ndarray, same shape and dtype as ``z``.

    Book: chapter 5, *Leaky ReLU and ELU*.
    """
    check_positive(alpha, "alpha", allow_zero=True)
    z = _z(z)
    neg = alpha * np.expm1(np.minimum(z, 0))   # exp of a non-positive number only
    return np.where(z > 0, z, neg).astype(z.dtype, copy=False)


def elu_derivative(z, alpha: float = 1.0):
    r"""Derivative of ELU: :math:`1` for :math:`z > 0`, :math:`\alpha e^{z}` otherwise.

    Parameters
    ----------
    z : array_like, any shape
    alpha : float, default 1.0

    Returns
    -------
    ndarray, same shape and dtype as ``z``.
    """
    check_positive(alpha, "alpha", allow_zero=True)
    z = _z(z)
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0))).astype(z.dtype, copy=False)


# ------------------------------------------------------------------------ softmax
def _check_axis(z: np.ndarray, axis: int) -> None:
    if z.ndim == 0:
        raise ValueError("softmax needs at least a 1-D array of scores, got a scalar")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(f"axis {axis} is out of range for z of shape {z.shape}")


def softmax(z, axis: int = -1):
    r"""Softmax, the generalisation of the sigmoid to :math:`K` classes.

    .. math::

        \mathrm{softmax}(\mathbf z)_i = \frac{e^{z_i}}{\sum_{k=1}^{K} e^{z_k}}

    Each slice along ``axis`` is a probability vector (entries in [0, 1],
    summing to 1). Adding a constant to every score leaves the result
    unchanged; we use this to subtract the maximum first, so no exponential
    overflows.

    Parameters
    ----------
    z : array_like, shape (..., K)
        Scores (logits); for a batch, ``(N, K)`` with one row per sample.
    axis : int, default -1
        The axis holding the :math:`K` classes.

    Returns
    -------
    ndarray, same shape and dtype as ``z``.

    Book: chapter 5, *Softmax*.
    """
    z = as_float_array(z, "z")
    _check_axis(z, axis)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_backward(z, grad_out, axis: int = -1):
    r"""Vector-Jacobian product of the softmax.

    With :math:`\mathbf s = \mathrm{softmax}(\mathbf z)` and the upstream
    gradient :math:`\mathbf g = \partial L / \partial \mathbf s`,

    .. math::

        \frac{\partial L}{\partial z_j} = \sum_i g_i \frac{\partial s_i}{\partial z_j}
        = s_j \Bigl(g_j - \sum_i g_i s_i\Bigr),

    since :math:`\partial s_i / \partial z_j = s_i(\delta_{ij} - s_j)`. The
    Jacobian is never built, so the cost is :math:`O(K)` per sample.

    Parameters
    ----------
    z : array_like, shape (..., K)
        The scores the softmax was applied to.
    grad_out : array_like, same shape as ``z``
        :math:`\partial L / \partial \mathbf s`.
    axis : int, default -1

    Returns
    -------
    ndarray, same shape as ``z``
        :math:`\partial L / \partial \mathbf z`.
    """
    z = as_float_array(z, "z")
    grad_out = as_float_array(grad_out, "grad_out")
    if z.shape != grad_out.shape:
        raise ValueError(
            f"grad_out has shape {grad_out.shape} but z has shape {z.shape}; they must match"
        )
    s = softmax(z, axis=axis)
    return s * (grad_out - np.sum(grad_out * s, axis=axis, keepdims=True))


# -------------------------------------------------------------------------- table
class Activation(NamedTuple):
    """An activation as the layers see it.

    Attributes
    ----------
    name : str
    function : callable, ``z -> f(z)``
    derivative : callable or None
        ``z -> f'(z)`` for elementwise activations; ``None`` for softmax.
    backward : callable
        ``(z, grad_out) -> grad_in``, the vector-Jacobian product. For an
        elementwise activation it is ``grad_out * f'(z)``.
    """

    name: str
    function: Callable
    derivative: Callable | None
    backward: Callable


def _elementwise(name: str, f: Callable, df: Callable) -> Activation:
    def backward(z, grad_out):
        return grad_out * df(z)

    backward.__doc__ = f"Backward rule of {name}: ``grad_out * {df.__name__}(z)``."
    return Activation(name, f, df, backward)


ACTIVATIONS: dict[str, Activation] = {
    "step": _elementwise("step", step, step_derivative),
    "identity": _elementwise("identity", identity, identity_derivative),
    "sigmoid": _elementwise("sigmoid", sigmoid, sigmoid_derivative),
    "tanh": _elementwise("tanh", tanh, tanh_derivative),
    "relu": _elementwise("relu", relu, relu_derivative),
    "leaky_relu": _elementwise("leaky_relu", leaky_relu, leaky_relu_derivative),
    "elu": _elementwise("elu", elu, elu_derivative),
    "softmax": Activation("softmax", softmax, None, softmax_backward),
}
"""Name -> :class:`Activation`: every activation nnlib knows."""


def get_activation(activation) -> Activation:
    """Look up an activation by name, or pass an :class:`Activation` through.

    Parameters
    ----------
    activation : str or Activation or None
        A key of :data:`ACTIVATIONS` (``"relu"``), an :class:`Activation`,
        or ``None`` for the identity.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    TypeError
        For anything else.
    """
    if activation is None:
        return ACTIVATIONS["identity"]
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        key = activation.lower().replace("-", "_").replace(" ", "_")
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]
        known = ", ".join(sorted(ACTIVATIONS))
        raise ValueError(f"unknown activation {activation!r}; known activations: {known}")
    raise TypeError(
        f"activation must be a name such as 'relu' or an Activation, got {type(activation).__name__}"
    )
