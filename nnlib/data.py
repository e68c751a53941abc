r"""Seeded data sets for the lecture's examples.

Every generator takes ``seed`` (None, an int or a ``numpy.random.Generator``)
and returns NumPy arrays; the same seed gives the same data, on any machine,
with no download. Inputs ``X`` have one sample per row.

==========================  =======================================  =======
generator                   what                                     chapter
==========================  =======================================  =======
:func:`km_to_miles`         (km, miles) pairs with noise             2
:func:`linearly_separable`  two classes with a known margin          4
:func:`xor`                 the XOR problem, with noise              3, 4, 7
:func:`two_moons`           two interleaved half circles             7, 8
:func:`circles`             a disc inside a ring                     1, 8
:func:`blobs`               Gaussian clusters                        1
:func:`calibration`         detector response vs. true energy        1
:func:`nonlinear_1d`        a 1-D curve for universal approximation  1, 8
:func:`signal_background`   toy collider signal vs. background       1, 8
==========================  =======================================  =======
"""

from __future__ import annotations

import numpy as np

from ._checks import check_positive, check_rng

__all__ = [
    "KM_TO_MILES", "km_to_miles", "linearly_separable", "xor", "two_moons", "circles",
    "blobs", "calibration", "target_function", "nonlinear_1d", "signal_background",
    "SIGNAL_BACKGROUND_FEATURES",
]

KM_TO_MILES = 0.621371
"""Miles per kilometre (1 mile = 1.609344 km exactly)."""


def _n(n, name="n", minimum=1, why=""):
    check_positive(n, name, integer=True)
    if n < minimum:
        raise ValueError(f"{name} must be at least {minimum}{', ' + why if why else ''}, got {n}")
    return int(n)


def km_to_miles(n: int = 20, noise: float = 0.5, km_max: float = 100.0, seed=None):
    r"""Pairs of distances in kilometres and (noisy) miles.

    .. math::

        \text{miles}_n = c\, \text{km}_n + \varepsilon_n, \qquad c = 0.621371,
        \quad \varepsilon_n \sim \mathcal N(0, \sigma^2)

    Parameters
    ----------
    n : int, default 20
        Number of pairs.
    noise : float, default 0.5
        :math:`\sigma` in miles (0 for exact pairs).
    km_max : float, default 100
        Distances are drawn uniformly from :math:`[0, \text{km\_max}]`.
    seed : None, int or Generator

    Returns
    -------
    km : ndarray, shape (n,)
    miles : ndarray, shape (n,)

    Book: chapter 2, *A training set*.
    """
    n = _n(n)
    check_positive(noise, "noise", allow_zero=True)
    check_positive(km_max, "km_max")
    rng = check_rng(seed)
    km = rng.uniform(0.0, km_max, n)
    miles = KM_TO_MILES * km + noise * rng.standard_normal(n)
    return km, miles


def linearly_separable(n: int = 100, margin: float = 0.5, seed=None, *, return_boundary: bool = False):
    r"""Two classes in the plane separated by a line with a known margin.

    Points are drawn uniformly from :math:`[-3, 3]^2`; a random line
    :math:`\mathbf a \cdot \mathbf x + c = 0` (unit normal :math:`\mathbf a`) through
    the middle region is chosen, and points closer to it than ``margin / 2``
    are rejected and redrawn. Every point therefore lies at distance at least
    ``margin / 2`` from the line. (The margin :math:`\gamma` of the perceptron's
    convergence theorem, measured in the augmented space, is at least
    ``margin / 2`` divided by :math:`\sqrt{1 + c^2}`.)

    Parameters
    ----------
    n : int, default 100
        Number of points (at least 2; both classes are present).
    margin : float, default 0.5
        Width of the empty band around the line.
    seed : None, int or Generator
    return_boundary : bool, default False
        Also return the true line ``(a, c)``.

    Returns
    -------
    X : ndarray, shape (n, 2)
    y : ndarray of int, shape (n,)
        1 where :math:`\mathbf a \cdot \mathbf x + c > 0`, else 0.
    (a, c) : (ndarray of shape (2,), float), only with ``return_boundary``

    Book: chapter 4, *The perceptron*.
    """
    n = _n(n, minimum=2)
    check_positive(margin, "margin")
    if margin >= 3.0:
        raise ValueError(f"margin must be below 3 to leave room in the [-3, 3]^2 square, got {margin}")
    rng = check_rng(seed)
    angle = rng.uniform(0, 2 * np.pi)
    w = np.array([np.cos(angle), np.sin(angle)])
    c = float(rng.uniform(-0.5, 0.5))
    X = np.empty((0, 2))
    while X.shape[0] < n:
        cand = rng.uniform(-3, 3, size=(2 * n, 2))
        cand = cand[np.abs(cand @ w + c) >= margin / 2]
        X = np.vstack([X, cand])
    X = X[:n]
    y = (X @ w + c > 0).astype(int)
    # make sure both classes are present
    y[0], X[0] = 1, X[0] - (X[0] @ w + c) * w + (margin / 2 + 0.5) * w
    y[1], X[1] = 0, X[1] - (X[1] @ w + c) * w - (margin / 2 + 0.5) * w
    if return_boundary:
        return X, y, (w, c)
    return X, y


def xor(n: int = 200, noise: float = 0.1, seed=None):
    r"""The XOR problem: four clusters at the corners of the unit square.

    Sample :math:`k` sits at corner :math:`k \bmod 4` of
    :math:`(0,0), (0,1), (1,0), (1,1)` plus Gaussian noise of standard
    deviation ``noise``; its label is :math:`x_1 \oplus x_2` of the corner.
    With ``n=4, noise=0`` this is exactly the truth table.

    Parameters
    ----------
    n : int, default 200
        At least 4, so that every corner (and both classes) is there.
    noise : float, default 0.1
    seed : None, int or Generator

    Returns
    -------
    X : ndarray, shape (n, 2)
    y : ndarray of int, shape (n,)

    Book: chapter 4, *Failure on XOR*.
    """
    n = _n(n, minimum=4, why="one sample for each corner of the XOR square")
    check_positive(noise, "noise", allow_zero=True)
    rng = check_rng(seed)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    idx = np.arange(n) % 4
    X = corners[idx] + noise * rng.standard_normal((n, 2))
    y = np.array([0, 1, 1, 0])[idx]
    return X, y


def two_moons(n: int = 200, noise: float = 0.1, seed=None):
    """Two interleaving half circles, a classic non-linear classification task.

    Parameters
    ----------
    n : int, default 200
        Total number of points (split evenly between the two moons).
    noise : float, default 0.1
        Standard deviation of Gaussian noise added to each coordinate.
    seed : None, int or Generator

    Returns
    -------
    X : ndarray, shape (n, 2)
    y : ndarray of int, shape (n,)

    Book: chapter 8, *Training and validation*.
    """
    n = _n(n, minimum=2)
    check_positive(noise, "noise", allow_zero=True)
    rng = check_rng(seed)
    n0 = n // 2
    t0 = rng.uniform(0, np.pi, n0)
    t1 = rng.uniform(0, np.pi, n - n0)
    X = np.vstack([
        np.column_stack([np.cos(t0), np.sin(t0)]),
        np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)]),
    ])
    X += noise * rng.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n0, int), np.ones(n - n0, int)])
    perm = rng.permutation(n)
    return X[perm], y[perm]


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed=None):
    """A disc of class 1 inside a ring of class 0.

    Parameters
    ----------
    n : int, default 200
    noise : float, default 0.05
    factor : float in (0, 1), default 0.5
        Radius of the inner circle relative to the outer one (radius 1).
    seed : None, int or Generator

    Returns
    -------
    X : ndarray, shape (n, 2)
    y : ndarray of int, shape (n,)
    """
    n = _n(n, minimum=2)
    check_positive(noise, "noise", allow_zero=True)
    if not 0 < factor < 1:
        raise ValueError(f"factor must be between 0 and 1, got {factor}")
    rng = check_rng(seed)
    n_out = n // 2
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.where(np.arange(n) < n_out, 1.0, factor)
    X = np.column_stack([r * np.cos(t), r * np.sin(t)]) + noise * rng.standard_normal((n, 2))
    y = (np.arange(n) >= n_out).astype(int)
    perm = rng.permutation(n)
    return X[perm], y[perm]


def blobs(n: int = 300, centers=3, std: float = 0.6, seed=None):
    """Isotropic Gaussian clusters, for clustering and anomaly detection.

    Parameters
    ----------
    n : int, default 300
    centers : int or array_like of shape (k, d), default 3
        Number of clusters (centres drawn in :math:`[-4, 4]^2`) or the centres.
    std : float, default 0.6
    seed : None, int or Generator

    Returns
    -------
    X : ndarray, shape (n, d)
    labels : ndarray of int, shape (n,)
        The cluster each point came from (unknown to an unsupervised method).
    """
    n = _n(n)
    check_positive(std, "std")
    rng = check_rng(seed)
    if isinstance(centers, (int, np.integer)):
        centers = rng.uniform(-4, 4, size=(_n(int(centers), "centers"), 2))
    centers = np.asarray(centers, dtype=float)
    if centers.ndim != 2:
        raise ValueError(f"centers must be an int or a (k, d) array, got shape {centers.shape}")
    labels = rng.integers(0, centers.shape[0], n)
    X = centers[labels] + std * rng.standard_normal((n, centers.shape[1]))
    return X, labels


def calibration(n: int = 200, seed=None):
    r"""A toy calorimeter calibration: measured response against true energy.

    The response saturates at high energy and has a stochastic resolution,

    .. math::

        R = 100\,\tanh(E / 150\ \mathrm{GeV}) \cdot (1 + \varepsilon),

    .. math::

        \varepsilon \sim \mathcal N\!\bigl(0, (0.5/\sqrt{E/\mathrm{GeV}})^2 + 0.02^2\bigr),

    and regression learns :math:`E` from :math:`R`.

    Parameters
    ----------
    n : int, default 200
    seed : None, int or Generator

    Returns
    -------
    E_true : ndarray, shape (n,)
        True energy in GeV, uniform in [5, 300].
    response : ndarray, shape (n,)
        Measured response in arbitrary units (ADC counts / 10).

    Book: chapter 1, *Regression*.
    """
    n = _n(n)
    rng = check_rng(seed)
    E = rng.uniform(5.0, 300.0, n)
    sigma = np.sqrt((0.5 / np.sqrt(E)) ** 2 + 0.02 ** 2)
    R = 100.0 * np.tanh(E / 150.0) * (1.0 + sigma * rng.standard_normal(n))
    return E, R


def target_function(x):
    r"""The 1-D target of the universal-approximation examples.

    .. math::

        g(x) = \sin(2x)\, e^{-x^2/8} + 0.3\,x

    Parameters
    ----------
    x : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``x``
    """
    x = np.asarray(x, dtype=float)
    return np.sin(2 * x) * np.exp(-x ** 2 / 8) + 0.3 * x


def nonlinear_1d(n: int = 200, noise: float = 0.0, x_range=(-4.0, 4.0), seed=None):
    """Samples of :func:`target_function` on an interval, for universal approximation.

    Parameters
    ----------
    n : int, default 200
    noise : float, default 0.0
        Standard deviation of Gaussian noise added to ``y``.
    x_range : (float, float), default (-4, 4)
    seed : None, int or Generator

    Returns
    -------
    X : ndarray, shape (n, 1)
        Inputs, sorted.
    y : ndarray, shape (n, 1)

    Book: chapter 8, *Universal approximation in practice*.
    """
    n = _n(n)
    check_positive(noise, "noise", allow_zero=True)
    lo, hi = x_range
    if not lo < hi:
        raise ValueError(f"x_range must be (low, high) with low < high, got {x_range}")
    rng = check_rng(seed)
    x = np.sort(rng.uniform(lo, hi, n))
    y = target_function(x) + noise * rng.standard_normal(n)
    return x[:, None], y[:, None]


SIGNAL_BACKGROUND_FEATURES = ("m_jj [GeV]", "pT_lead [GeV]", "|delta_eta_jj|", "MET [GeV]")
"""Names (with units) of the columns of :func:`signal_background`."""


def signal_background(n: int = 2000, signal_fraction: float = 0.5, seed=None):
    r"""A toy collider data set: a resonance (signal) over a smooth background.

    Four physics-like features per event:

    * ``m_jj``: di-jet invariant mass; signal is a Gaussian peak at
      125 GeV (width 12 GeV), background falls exponentially from 40 GeV;
    * ``pT_lead``: leading-jet transverse momentum; signal is harder;
    * ``|delta_eta_jj|``: pseudorapidity separation of the two jets; background is
      more forward-backward;
    * ``MET``: missing transverse energy; nearly the same for both (a nuisance).

    The two populations overlap, so no cut is perfect: this is the
    classification task of chapter 8, with a ROC curve.

    Parameters
    ----------
    n : int, default 2000
        Number of events.
    signal_fraction : float in (0, 1), default 0.5
    seed : None, int or Generator

    Returns
    -------
    X : ndarray, shape (n, 4)
        Columns as in :data:`SIGNAL_BACKGROUND_FEATURES`.
    y : ndarray of int, shape (n,)
        1 for signal, 0 for background. Both classes are always present
        (a ROC curve needs both), also for a small ``n``.

    Book: chapter 1, *Classification*; chapter 8.
    """
    n = _n(n, minimum=2)
    if not 0 < signal_fraction < 1:
        raise ValueError(f"signal_fraction must be between 0 and 1, got {signal_fraction}")
    rng = check_rng(seed)
    y = (rng.uniform(size=n) < signal_fraction).astype(int)
    if y.min() == y.max():   # a small sample drew one class only
        y[0], y[1] = 1, 0
    s = y == 1
    m = np.where(s, rng.normal(125.0, 12.0, n), 40.0 + rng.exponential(60.0, n))
    pt = np.where(s, rng.gamma(4.0, 22.0, n), rng.gamma(2.5, 20.0, n)) + 20.0
    deta = np.abs(np.where(s, rng.normal(0.0, 1.2, n), rng.normal(0.0, 2.0, n)))
    met = rng.exponential(np.where(s, 32.0, 28.0))
    return np.column_stack([m, pt, deta, met]), y
