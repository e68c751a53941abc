r"""Single neurons: biological rate model, McCulloch-Pitts units, Rosenblatt's perceptron.

Book chapter 3 (*Biological and McCulloch-Pitts neurons*) and
chapter 4 (*The perceptron*).
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from ._checks import as_float_array, check_binary_labels, check_positive
from .activations import step, sigmoid

__all__ = [
    "firing_rate",
    "McCullochPitts", "AND", "OR", "NOT", "xor",
    "perceptron_update", "Perceptron", "ConvergenceWarning",
]


# ------------------------------------------------------------------ rate model
def firing_rate(v, r_max: float = 100.0, v_half: float = -50.0, width: float = 4.0):
    r"""Firing rate of a model neuron against its membrane voltage.

    A saturating curve that drops to 0 for large negative potentials and
    levels off at ``r_max`` for positive ones (lecture, "Firing rate versus
    membrane voltage"):

    .. math::

        r(v) = r_\max\, \sigma\!\left(\frac{v - v_{1/2}}{w}\right).

    The step, sigmoid and ReLU activations are the modeller's approximations
    of this curve.

    Parameters
    ----------
    v : array_like, any shape
        Membrane voltage in mV.
    r_max : float, default 100
        Saturation rate in Hz.
    v_half : float, default -50
        Voltage in mV at which the rate is half its maximum.
    width : float, default 4
        Voltage scale of the rise, in mV.

    Returns
    -------
    ndarray, same shape as ``v``
        Rate in Hz.
    """
    v = as_float_array(v, "v", allow_empty=True)
    check_positive(r_max, "r_max")
    check_positive(width, "width")
    return r_max * sigmoid((v - v_half) / width)


# ------------------------------------------------------------- McCulloch-Pitts
def _binary_inputs(x, n_inputs: int | None) -> np.ndarray:
    x = as_float_array(x, "x", ndim=(1, 2))
    if x.ndim == 1:
        x = x[None, :]
    if n_inputs is not None and x.shape[1] != n_inputs:
        raise ValueError(f"this unit has {n_inputs} inputs but x has {x.shape[1]} columns (shape {x.shape})")
    if np.any((x != 0) & (x != 1)):
        raise ValueError("McCulloch-Pitts inputs must be binary (0 or 1), found "
                         f"{np.unique(x[(x != 0) & (x != 1)])[:5].tolist()}")
    return x


class McCullochPitts:
    r"""A McCulloch-Pitts threshold unit (1943).

    Binary inputs :math:`x_j \in \{0, 1\}` are either excitatory or
    inhibitory. The unit fires (outputs 1) when no inhibitory input is active
    and the number of active excitatory inputs reaches the threshold
    :math:`\theta`:

    .. math::

        y = \begin{cases} 1 & \sum_{j \in E} x_j \ge \theta
            \text{ and } x_k = 0 \;\forall k \in I \\
            0 & \text{otherwise.} \end{cases}

    There are no weights and nothing is learned: the threshold and the wiring
    are chosen by hand.

    Parameters
    ----------
    threshold : int
        :math:`\theta \ge 0`.
    n_inputs : int
        Number of inputs.
    inhibitory : sequence of int, optional
        Indices of the inhibitory inputs (absolute inhibition: any one of
        them active silences the unit).

    Examples
    --------
    >>> unit = McCullochPitts(threshold=2, n_inputs=2)        # AND
    >>> unit(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]))
    array([0, 0, 0, 1])

    Book: chapter 3, *The McCulloch-Pitts neuron*.
    """

    def __init__(self, threshold: int, n_inputs: int, inhibitory: Sequence[int] = ()):
        check_positive(threshold, "threshold", allow_zero=True, integer=True)
        check_positive(n_inputs, "n_inputs", integer=True)
        inhibitory = tuple(int(k) for k in inhibitory)
        for k in inhibitory:
            if not 0 <= k < n_inputs:
                raise ValueError(f"inhibitory input {k} does not exist for a unit with {n_inputs} inputs")
        self.threshold = int(threshold)
        self.n_inputs = int(n_inputs)
        self.inhibitory = inhibitory
        self.excitatory = tuple(j for j in range(n_inputs) if j not in inhibitory)

    def __repr__(self) -> str:
        inh = f", inhibitory={list(self.inhibitory)}" if self.inhibitory else ""
        return f"McCullochPitts(threshold={self.threshold}, n_inputs={self.n_inputs}{inh})"

    def __call__(self, x) -> np.ndarray:
        """Outputs for binary inputs ``x``, shape (N, n_inputs) or (n_inputs,); returns int array (N,)."""
        x = _binary_inputs(x, self.n_inputs)
        excite = x[:, list(self.excitatory)].sum(axis=1)
        inhibited = x[:, list(self.inhibitory)].any(axis=1) if self.inhibitory else np.zeros(x.shape[0], bool)
        return ((excite >= self.threshold) & ~inhibited).astype(int)


AND = McCullochPitts(threshold=2, n_inputs=2)
"""Two-input AND, which fires only when both inputs are active."""
OR = McCullochPitts(threshold=1, n_inputs=2)
"""Two-input OR, which fires when at least one input is active."""
NOT = McCullochPitts(threshold=0, n_inputs=1, inhibitory=[0])
"""NOT, which fires when its single (inhibitory) input is silent."""


def xor(x) -> np.ndarray:
    r"""Exclusive or from two layers of McCulloch-Pitts units.

    No single threshold unit computes XOR: its firing region is a half-plane
    of the input square, and XOR's ones sit on opposite corners. Two layers
    do it:

    .. math::

        x_1 \oplus x_2 = \mathrm{AND}\bigl(\mathrm{OR}(x_1, x_2),\,
        \mathrm{NOT}(\mathrm{AND}(x_1, x_2))\bigr),

    written here as a hidden layer of an OR unit and an AND unit, and an
    output unit with threshold 1 that is excited by the OR unit and
    inhibited by the AND unit.

    Parameters
    ----------
    x : array_like of 0/1, shape (N, 2) or (2,)

    Returns
    -------
    ndarray of int, shape (N,)

    Book: chapter 3, *XOR needs two layers*.
    """
    x = _binary_inputs(x, 2)
    hidden = np.column_stack([OR(x), AND(x)])
    return McCullochPitts(threshold=1, n_inputs=2, inhibitory=[1])(hidden)


# ------------------------------------------------------------------ perceptron
class ConvergenceWarning(UserWarning):
    """The perceptron reached ``max_epochs`` with mistakes left: the data are probably not linearly separable."""


def perceptron_update(A, b, x, y, eta: float = 1.0):
    r"""Rosenblatt's learning rule for one sample.

    With the prediction :math:`\hat y = H(\mathbf A \cdot \mathbf x + b)`,

    .. math::

        \mathbf A \mapsto \mathbf A + \eta\,(y - \hat y)\,\mathbf x, \qquad
        b \mapsto b + \eta\,(y - \hat y).

    Nothing changes when the prediction is right; a mistake moves the
    boundary towards classifying :math:`\mathbf x` correctly.

    Parameters
    ----------
    A : array_like, shape (n_features,)
        Weights.
    b : float
        Bias.
    x : array_like, shape (n_features,)
        One sample.
    y : {0, 1}
        Its label.
    eta : float, default 1.0
        Learning rate :math:`\eta > 0`.

    Returns
    -------
    A_new : ndarray, shape (n_features,)
        New weights (a new array; ``A`` is not modified).
    b_new : float
    mistake : bool
        Whether :math:`\hat y \ne y`.

    Book: chapter 4, *Rosenblatt's learning rule*.
    """
    A = as_float_array(A, "A", ndim=1)
    x = as_float_array(x, "x", ndim=1)
    if A.shape != x.shape:
        raise ValueError(f"A has shape {A.shape} but x has shape {x.shape}; they must match")
    check_positive(eta, "eta")
    if y not in (0, 1):
        raise ValueError(f"y must be 0 or 1, got {y!r}")
    A_new, b_new, mistake = _rosenblatt(A, float(b), x, float(y), float(eta))
    return (A_new if mistake else A.copy()), b_new, mistake


def _rosenblatt(A, b: float, x, y: float, eta: float):
    r"""Rosenblatt's rule without the checks of :func:`perceptron_update` (which validates
    its arguments once; :meth:`Perceptron.fit` calls this for every sample). The prediction
    is :math:`H(\mathbf A \cdot \mathbf x + b)` with :math:`H(0) = 1`, as :func:`step`."""
    err = y - (1.0 if x @ A + b >= 0 else 0.0)
    if err == 0.0:
        return A, b, False
    return A + eta * err * x, b + eta * err, True


class Perceptron:
    r"""Rosenblatt's perceptron (1958): a threshold unit that learns.

    Predicts :math:`\hat y = H(\mathbf A \cdot \mathbf x + b)` with the step
    :math:`H` and learns with :func:`perceptron_update`, sample by sample, in
    epochs. Weights start at zero.

    **Convergence** (Novikoff 1962): if some unit vector
    :math:`\mathbf w^*` (on the inputs augmented by a constant 1) separates
    the two classes with margin :math:`\gamma > 0`, and
    :math:`R = \max_n \lVert (\mathbf x_n, 1) \rVert`, the perceptron makes
    at most :math:`(R/\gamma)^2` mistakes in total, whatever the order of
    the samples and whatever :math:`\eta > 0`.

    Parameters
    ----------
    eta : float, default 1.0
        Learning rate :math:`\eta > 0`.
    max_epochs : int, default 100
        Upper limit on the passes over the data; training on data that are
        not linearly separable stops here with a :class:`ConvergenceWarning`.
    shuffle : bool, default False
        Visit the samples in a new random order each epoch.
    seed : None, int or Generator
        For the shuffling.

    Attributes
    ----------
    A : ndarray, shape (n_features,)
    b : float
    mistakes_ : list of int
        Mistakes (updates) in each epoch.
    boundaries_ : list of (ndarray, float)
        ``(A, b)`` at the end of each epoch, for drawing the boundary move.
    converged_ : bool
        Whether the last epoch had no mistake.

    Book: chapter 4, *The perceptron*.
    """

    def __init__(self, eta: float = 1.0, max_epochs: int = 100, shuffle: bool = False, seed=None):
        self.eta = float(check_positive(eta, "eta"))
        self.max_epochs = int(check_positive(max_epochs, "max_epochs", integer=True))
        self.shuffle = bool(shuffle)
        self.seed = seed
        self.A = None
        self.b = 0.0

    def __repr__(self) -> str:
        return f"Perceptron(eta={self.eta}, max_epochs={self.max_epochs})"

    def decision_function(self, X) -> np.ndarray:
        r""":math:`\mathbf A \cdot \mathbf x + b` for each row of ``X`` (N, n_features); shape (N,)."""
        if self.A is None:
            raise RuntimeError("the perceptron has not been trained: call fit(X, y) first")
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.A.shape[0]:
            raise ValueError(f"the perceptron was trained on {self.A.shape[0]} features but X has {X.shape[1]}")
        return X @ self.A + self.b

    def predict(self, X) -> np.ndarray:
        """Class labels 0/1 for each row of ``X`` (N, n_features); int array of shape (N,)."""
        return step(self.decision_function(X)).astype(int)

    def fit(self, X, y) -> "Perceptron":
        """Train on ``X`` (N, n_features) with labels ``y`` (N,) in {0, 1}.

        Runs epochs until one has no mistake (converged) or ``max_epochs``
        is reached (then warns with :class:`ConvergenceWarning`). Returns
        ``self``.
        """
        X = as_float_array(X, "X", ndim=2)
        y = as_float_array(y, "y", ndim=1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]} labels")
        check_binary_labels(y)
        rng = np.random.default_rng(self.seed)
        A, b = np.zeros(X.shape[1]), 0.0
        self.mistakes_, self.boundaries_, self.converged_ = [], [], False
        for _ in range(self.max_epochs):
            order = rng.permutation(X.shape[0]) if self.shuffle else range(X.shape[0])
            mistakes = 0
            # Rosenblatt's rule is sequential by nature: each update changes the
            # prediction for the next sample, so this loop cannot be vectorised.
            for n in order:
                A, b, mistake = _rosenblatt(A, b, X[n], y[n], self.eta)
                mistakes += mistake
            self.mistakes_.append(mistakes)
            self.boundaries_.append((A.copy(), float(b)))
            if mistakes == 0:
                self.converged_ = True
                break
        self.A, self.b = A, float(b)
        if not self.converged_:
            warnings.warn(
                f"the perceptron still made {self.mistakes_[-1]} mistakes in epoch {self.max_epochs} "
                "(max_epochs): the data are probably not linearly separable",
                ConvergenceWarning, stacklevel=2)
        return self

    @property
    def n_mistakes_(self) -> int:
        """Total number of mistakes (updates) during training."""
        return int(sum(self.mistakes_))
