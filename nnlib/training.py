r"""Training loops: epochs, minibatches, validation and early stopping (book chapter 8).

"Training proceeds multiple times (epochs), reshuffling the data." Each epoch
of :func:`fit` draws a fresh permutation of the training set from one seeded
generator, cuts it into minibatches, and for each minibatch runs the forward
pass, the backward pass and one optimiser step. After every epoch the loss on
held-out validation data is measured; with ``patience`` set, training stops
once the validation loss has not improved for ``patience`` epochs in a row
("stop at the epoch where the validation error starts to increase"), and the
weights of the best epoch are put back.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from ._checks import as_float_array, check_positive, check_rng
from .losses import get_loss
from .layers import Dense
from .network import Sequential, _match_targets
from .optim import SGD

__all__ = ["History", "fit", "minibatches", "train_validation_split", "evaluate"]


@dataclass
class History:
    """What happened during :func:`fit`. Epochs are counted from 1.

    Attributes
    ----------
    train_loss : list of float
        Mean training loss of each epoch (averaged over its minibatches,
        weighted by their sizes).
    val_loss : list of float
        Validation loss after each epoch (empty without validation data).
    best_epoch : int or None
        Epoch with the lowest validation loss (``None`` without validation).
    stopped_epoch : int
        The last epoch that ran.
    early_stopped : bool
        Whether training ended because of ``patience``.
    restored_best : bool
        Whether the weights of ``best_epoch`` were put back at the end.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int = 0
    early_stopped: bool = False
    restored_best: bool = False

    @property
    def epochs(self) -> np.ndarray:
        """Epoch numbers ``1 .. stopped_epoch``, handy as the x axis of a loss curve."""
        return np.arange(1, len(self.train_loss) + 1)


def minibatches(n: int, batch_size: int, rng: np.random.Generator | None = None):
    """Yield index arrays that split ``range(n)`` into minibatches.

    Parameters
    ----------
    n : int
        Number of samples.
    batch_size : int
        Samples per batch; the last batch may be smaller.
    rng : numpy.random.Generator, optional
        If given, the order is a fresh random permutation (reshuffling);
        otherwise the natural order.

    Yields
    ------
    ndarray of int, shape (<= batch_size,)
    """
    check_positive(n, "n", integer=True)
    check_positive(batch_size, "batch_size", integer=True)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def train_validation_split(X, y, validation_fraction: float, seed=None):
    """Split ``(X, y)`` at random into a training and a validation part.

    Parameters
    ----------
    X : array_like, shape (N, ...)
    y : array_like, shape (N, ...)
    validation_fraction : float in (0, 1)
        Share of the samples held out for validation (at least one sample
        goes to each side).
    seed : None, int or numpy.random.Generator

    Returns
    -------
    X_train, X_val, y_train, y_val : ndarray
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
    if (isinstance(validation_fraction, bool) or not isinstance(validation_fraction, numbers.Real)
            or not 0 < validation_fraction < 1):
        raise ValueError(
            f"validation_fraction must be a number between 0 and 1, got {validation_fraction!r}")
    n = X.shape[0]
    n_val = int(round(validation_fraction * n))
    if n_val < 1 or n_val > n - 1:
        raise ValueError(
            f"validation_fraction={validation_fraction} of {n} samples leaves "
            f"{n_val} for validation and {n - n_val} for training; both need at least one"
        )
    perm = check_rng(seed).permutation(n)
    val, train = perm[:n_val], perm[n_val:]
    return X[train], X[val], y[train], y[val]


def _keep_freed_memory() -> None:
    """Let the C allocator keep the memory of a training step's large arrays for the next step.

    Each step makes new arrays too large for the allocator's small-block pools: the
    minibatch, the activations, the deltas (about 20 MB for a 784-256-256-10 network at batch
    1024 in float64). glibc returns freed memory at the top of its heap to the kernel once
    there is more than its *trim threshold* of it, and the next step then pays a page fault
    for every 4 KiB it writes again. The trim threshold follows the *mmap threshold*: when a
    block above the mmap threshold is freed, glibc raises the mmap threshold to that block's
    size and the trim threshold to twice that (mallopt(3), M_MMAP_THRESHOLD). Left alone, the
    largest block of that step (the 6.4 MB minibatch) sets them to 6.4 and 12.8 MB, less than
    a step frees. Allocating and freeing one 16 MiB block, never written, sets them to 16 and
    32 MiB: over the first two epochs, 3-33 page faults per step instead of 358 (glibc 2.36;
    after a few epochs glibc's own thresholds catch up). At batch 256 a step frees less than
    the thresholds either way (8 faults per step with and without). The process then keeps
    up to 32 MiB of freed memory. Later calls cost one allocation from the heap. With another
    C library, or with glibc's thresholds set by the user (MALLOC_TRIM_THRESHOLD_,
    GLIBC_TUNABLES), it is one harmless allocation. (No flag remembers the first call: nnlib
    keeps no state between calls.)
    """
    np.empty(1 << 24, dtype=np.uint8)


def _fused_sgd(model, optimizer) -> bool:
    """Whether fit may run plain SGD as one backward sweep (:meth:`Sequential._sgd_step`).

    Only for what the sweep reproduces: an ``SGD`` without momentum whose ``step`` was not
    replaced on the object, and a ``Sequential`` of ``Dense`` layers none of whose methods
    that the sweep bypasses (``loss_and_backward``, ``backward``, ``parameters``,
    ``gradients``) was replaced on the object. A wrapper put on the optimizer, the network or
    a layer object for logging or clipping keeps working, through the long way round; a
    method replaced on the class itself (``Dense.backward = ...``) is not looked for."""
    bypassed = {"loss_and_backward", "backward", "parameters", "gradients"}
    return (type(optimizer) is SGD and optimizer.momentum == 0.0 and "step" not in vars(optimizer)
            and type(model) is Sequential
            and not bypassed & vars(model).keys()
            and all(type(layer) is Dense and not bypassed & vars(layer).keys()
                    for layer in model.layers))


def _model_dtype(model):
    """The floating dtype of the model's parameters, or None if it has none."""
    params = model.parameters() if callable(getattr(model, "parameters", None)) else []
    return params[0].dtype if params and params[0].dtype.kind == "f" else None


def _diverged(model, X) -> bool:
    """Whether the model's parameters, or its outputs for ``X``, are no longer all finite."""
    with np.errstate(all="ignore"):
        if not all(np.all(np.isfinite(p)) for p in model.parameters()):
            return True
        return not np.all(np.isfinite(model.predict(X)))


def evaluate(model, loss, X, y) -> float:
    """The loss of ``model`` on ``(X, y)``, without touching its gradients."""
    loss = get_loss(loss)
    y_hat = model.predict(X)
    return float(loss.function(y_hat, _match_targets(y, y_hat, loss.name)))


def fit(model, loss, X, y, *, epochs: int = 100, batch_size: int = 32, eta: float | None = None,
        optimizer=None, validation_data=None, validation_fraction: float | None = None,
        patience: int | None = None, min_delta: float = 0.0, restore_best: bool = True,
        shuffle: bool = True, seed=0, progress: bool = False) -> History:
    r"""Train ``model`` by minibatch stochastic gradient descent.

    For each epoch :math:`t = 1, \dots, T`: reshuffle the training set, and
    for each minibatch :math:`B` compute :math:`L_B`, back-propagate, and
    update :math:`A_{ij} \mapsto A_{ij} - \eta\, \partial L_B / \partial A_{ij}`.

    With plain SGD (``eta``, or ``SGD(eta)`` without momentum) on a network of
    :class:`~nnlib.layers.Dense` layers, phases 1 and 2 share one backward sweep:
    each layer passes its delta back, computed with its old weights, and then
    adds :math:`-\eta\, \boldsymbol\delta^\top \mathbf X` to :math:`\mathbb A`
    inside the matrix product that computes it (one BLAS call where NumPy's
    OpenBLAS is found and the weight matrix has at least 16,384 entries; see
    ``nnlib._blas``). The updates are those of ``loss_and_backward`` followed
    by ``SGD.step``: bit for bit without that call, up to rounding in the last
    bit with it. The gradients are not kept (``model.gradients()`` raises after
    such a fit).

    Parameters
    ----------
    model : Sequential, a single layer such as ``Dense(1, 1)``, or any object with
        ``loss_and_backward``, ``predict``, ``parameters``, ``gradients``,
        ``get_weights`` and ``set_weights``. A single layer is trained in place
        as a one-layer network.
    loss : str or nnlib.losses.Loss
        For example ``"mse"`` or ``"binary_cross_entropy_with_logits"``.
    X : array_like, shape (N, n_in)
    y : array_like, shape (N, n_out), or (N,)
    epochs : int, default 100
        Maximum number of passes over the training set.
    batch_size : int, default 32
        Samples per minibatch (``N`` gives full-batch gradient descent,
        1 gives "pure" stochastic gradient descent).
    eta : float, optional
        Learning rate for plain SGD. Give either ``eta`` or ``optimizer``.
    optimizer : object with ``step(params, grads)``, optional
        For example ``SGD(eta=0.1, momentum=0.9)``.
    validation_data : tuple (X_val, y_val), optional
    validation_fraction : float, optional
        Instead of ``validation_data``: hold out this share of ``(X, y)``,
        chosen with ``seed``.
    patience : int, optional
        Early stopping: stop after this many epochs in a row without an
        improvement of the validation loss by more than ``min_delta``.
        Needs validation data.
    min_delta : float, default 0.0
    restore_best : bool, default True
        With validation data, put back the weights of the epoch with the
        lowest validation loss at the end.
    shuffle : bool, default True
        Reshuffle the training set at every epoch.
    seed : None, int or numpy.random.Generator, default 0
        Drives the validation split and every reshuffle: the same seed gives
        the same history, bit for bit.
    progress : bool, default False
        Show a tqdm progress bar over the epochs.

    Returns
    -------
    History

    Raises
    ------
    FloatingPointError
        If the loss becomes NaN or infinite; the message names the epoch
        and suggests a smaller ``eta``.

    Book: chapter 8, *Training and validation*.
    """
    X = as_float_array(X, "X")
    if X.ndim != 2:
        hint = " (for a single feature use X[:, None] or X.reshape(-1, 1))" if X.ndim == 1 else ""
        raise ValueError(f"X must be 2-D, shape (N, n_in), got shape {X.shape}{hint}")
    if not callable(getattr(model, "loss_and_backward", None)) and callable(getattr(model, "backward", None)):
        model = Sequential([model])   # a bare layer: shares its arrays, so training updates it
    y = np.asarray(y)
    if y.shape[:1] != X.shape[:1]:
        raise ValueError(f"X has {X.shape[0]} samples (rows) but y has shape {y.shape}")
    check_positive(epochs, "epochs", integer=True)
    check_positive(batch_size, "batch_size", integer=True)
    loss = get_loss(loss)
    if (eta is None) == (optimizer is None):
        raise ValueError("give exactly one of eta (plain SGD) or optimizer")
    if optimizer is None:
        optimizer = SGD(eta)
    elif not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"optimizer must have a step(params, grads) method, got {type(optimizer).__name__}")
    if validation_data is not None and validation_fraction is not None:
        raise ValueError("give validation_data or validation_fraction, not both")
    rng = check_rng(seed)
    if validation_fraction is not None:
        X, X_val, y, y_val = train_validation_split(X, y, validation_fraction, rng)
    elif validation_data is not None:
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise TypeError("validation_data must be a pair (X_val, y_val)") from None
        X_val = as_float_array(X_val, "X_val", ndim=2)
        y_val = np.asarray(y_val)
        if y_val.shape[:1] != X_val.shape[:1]:
            raise ValueError(f"X_val has {X_val.shape[0]} samples but y_val has shape {y_val.shape}")
    else:
        X_val = y_val = None
    if patience is not None:
        check_positive(patience, "patience", integer=True)
        if X_val is None:
            raise ValueError("early stopping (patience) needs validation_data or validation_fraction")
    check_positive(min_delta, "min_delta", allow_zero=True)

    # Work in the model's precision: a float32 network trains in float32 end to end.
    dtype = _model_dtype(model)
    if dtype is not None:
        X = X.astype(dtype, copy=False)
        if y.dtype.kind == "f":
            y = y.astype(dtype, copy=False)
        if X_val is not None:
            X_val = as_float_array(X_val, "X_val").astype(dtype, copy=False)

    fused = _fused_sgd(model, optimizer)
    # np.take(X, idx, axis=0) gathers the same rows as X[idx] and, from a C-contiguous
    # ndarray, faster (copied row by row, without the general machinery of fancy indexing:
    # in paired runs 1-5 % faster training of a 2-16-16-1 network, within the noise for
    # 784-256-256-10). Any other array np.take would first copy whole, at every step.
    take_rows = type(X) is np.ndarray and X.flags.c_contiguous
    _keep_freed_memory()
    history = History()
    best_val, best_weights, waited = np.inf, None, 0
    n = X.shape[0]
    epoch_iter = range(1, epochs + 1)
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("progress=True needs tqdm: pip install 'nnlib[progress]'") from None
        epoch_iter = tqdm(epoch_iter, desc="epochs", unit="epoch")

    for epoch in epoch_iter:
        total = 0.0
        for idx in minibatches(n, batch_size, rng if shuffle else None):
            X_batch = np.take(X, idx, axis=0) if take_rows else X[idx]
            try:
                if fused:
                    batch_loss = model._sgd_step(X_batch, y[idx], loss, optimizer.eta)
                else:
                    batch_loss = model.loss_and_backward(X_batch, y[idx], loss)
            except ValueError as exc:
                # a loss that validates its input (probabilities in [0, 1]) sees NaN
                # outputs before fit sees a NaN loss: report the divergence instead
                if not _diverged(model, X[idx]):   # a fresh copy of the rows
                    raise
                raise FloatingPointError(
                    f"the network's output became NaN or infinite in epoch {epoch}: the updates "
                    f"diverged. Try a smaller learning rate eta (now {getattr(optimizer, 'eta', '?')}) "
                    "or standardise the inputs."
                ) from exc
            total += batch_loss * idx.shape[0]
            if not np.isfinite(total):
                raise FloatingPointError(
                    f"the training loss became {total} in epoch {epoch}: the updates diverged. "
                    f"Try a smaller learning rate eta (now {getattr(optimizer, 'eta', '?')}) "
                    "or standardise the inputs."
                )
            if not fused:
                optimizer.step(model.parameters(), model.gradients())
        history.train_loss.append(total / n)
        history.stopped_epoch = epoch
        if X_val is not None:
            try:
                v = evaluate(model, loss, X_val, y_val)
            except ValueError as exc:
                if not _diverged(model, X_val):
                    raise
                v = float("nan")
                cause = exc
            else:
                cause = None
            if not np.isfinite(v):
                raise FloatingPointError(
                    f"the validation loss became {v} in epoch {epoch}; try a smaller eta "
                    f"(now {getattr(optimizer, 'eta', '?')})"
                ) from cause
            history.val_loss.append(v)
            if v < best_val - min_delta:
                best_val, waited = v, 0
                history.best_epoch = epoch
                if restore_best:
                    best_weights = model.get_weights()
            else:
                waited += 1
            if progress:
                epoch_iter.set_postfix(train=history.train_loss[-1], val=v)
            if patience is not None and waited >= patience:
                history.early_stopped = True
                break
    if restore_best and best_weights is not None and history.best_epoch != history.stopped_epoch:
        model.set_weights(best_weights)
        history.restored_best = True
    return history
