"""fit: learning XOR, the moons and km -> miles; early stopping; seeds and reshuffling.

Every training run here is small (a few hundred samples at most) so the file runs in
a few seconds; the numbers of epochs were chosen so that each run finishes well inside
its target, not tuned to the last digit.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from conftest import Unchanged, frozen
from nnlib import data, losses, metrics
from nnlib.data import KM_TO_MILES
from nnlib.layers import Dense
from nnlib.network import Sequential, mlp
from nnlib.optim import SGD
from nnlib.training import History, evaluate, fit, minibatches, train_validation_split


# ---------------------------------------------------------------------------------------
# learning
# ---------------------------------------------------------------------------------------
def test_mlp_learns_xor():
    X, y = data.xor(4, noise=0.0)
    net = mlp([2, 8, 1], "tanh", seed=0)
    history = fit(net, "binary_cross_entropy_with_logits", X, y, epochs=500, batch_size=4, eta=0.5, seed=0)
    assert metrics.accuracy((net.predict(X)[:, 0] > 0).astype(int), y) == 1.0
    assert history.train_loss[-1] < 0.1 * history.train_loss[0]


def test_mlp_learns_the_moons_on_held_out_data():
    X, y = data.two_moons(300, noise=0.15, seed=1)
    X_test, y_test = data.two_moons(1000, noise=0.15, seed=2)
    net = mlp([2, 16, 16, 1], "tanh", seed=0)
    fit(net, "binary_cross_entropy_with_logits", X, y, epochs=150, batch_size=16, eta=0.1, seed=0)
    y_pred = (net.predict(X_test)[:, 0] > 0).astype(int)
    assert metrics.accuracy(y_pred, y_test) >= 0.95


def test_mlp_learns_the_moons_with_a_sigmoid_output():
    X, y = data.two_moons(300, noise=0.1, seed=3)
    X_test, y_test = data.two_moons(1000, noise=0.1, seed=4)
    net = mlp([2, 16, 16, 1], "tanh", "sigmoid", seed=1)
    fit(net, "binary_cross_entropy", X, y, epochs=150, batch_size=16, eta=0.1, seed=1)
    assert metrics.accuracy((net.predict(X_test)[:, 0] > 0.5).astype(int), y_test) >= 0.95


@pytest.mark.parametrize("wrap", [False, True])
def test_km_to_miles_recovers_the_conversion_factor(wrap):
    km, miles = data.km_to_miles(50, noise=0.5, seed=0)
    layer = Dense(1, 1, bias=False, seed=0)
    model = Sequential([layer]) if wrap else layer
    # inputs up to 100 km: the curvature mean(km^2) ~ 3300, so eta must stay below 2/3300
    fit(model, "mse", km[:, None], miles, epochs=30, batch_size=10, eta=1e-4, seed=0)
    assert layer.A[0, 0] == pytest.approx(KM_TO_MILES, rel=0.01)


def test_momentum_optimizer():
    km, miles = data.km_to_miles(50, noise=0.0, seed=1)
    layer = Dense(1, 1, bias=False, init="zeros")
    fit(layer, "mse", km[:, None] / 100, miles / 100, epochs=200, batch_size=50,
        optimizer=SGD(eta=1.0, momentum=0.5), seed=0)
    assert layer.A[0, 0] == pytest.approx(KM_TO_MILES, rel=1e-6)


def test_full_batch_gradient_descent_on_a_quadratic_decreases_the_loss():
    X, y = data.nonlinear_1d(40, seed=0)
    net = Sequential([Dense(1, 1, seed=0)])
    history = fit(net, "mse", X, y, epochs=50, batch_size=40, eta=0.05, shuffle=False)
    assert np.all(np.diff(history.train_loss) < 0)


def test_train_loss_of_the_first_full_batch_epoch_is_the_initial_loss():
    X, y = data.two_moons(60, seed=0)
    net = mlp([2, 5, 1], "tanh", seed=0)
    initial = evaluate(net, "binary_cross_entropy_with_logits", X, y)
    history = fit(net, "binary_cross_entropy_with_logits", X, y, epochs=1, batch_size=60, eta=0.1)
    assert history.train_loss[0] == pytest.approx(initial, rel=1e-14)


# ---------------------------------------------------------------------------------------
# early stopping
# ---------------------------------------------------------------------------------------
def test_early_stopping_on_a_validation_set_that_disagrees():
    """Train w x on y = x, validate on y = x / 2.

    Full-batch gradient descent from w = 0 with eta * mean(x^2) = 0.1 gives
    w_t = 1 - 0.9^t, increasing monotonically towards 1, and the validation loss
    1/2 mean(x_val^2) (w_t - 1/2)^2 falls until w_t passes 1/2 and then rises for ever:
    the best epoch is the t closest to 1/2 (t = 7: 0.5217), computed here independently.
    """
    x = np.linspace(0.5, 1.5, 11)
    x_val = np.linspace(0.2, 2.0, 7)
    eta = 0.1 / np.mean(x ** 2)
    t = np.arange(1, 40)
    w_t = 1 - (1 - eta * np.mean(x ** 2)) ** t
    best = int(t[np.argmin(np.abs(w_t - 0.5))])
    assert best == 7
    patience = 4

    layer = Dense(1, 1, bias=False, init="zeros")
    history = fit(layer, "mse", x[:, None], x, epochs=100, batch_size=x.size, eta=eta, shuffle=False,
                  validation_data=(x_val[:, None], 0.5 * x_val), patience=patience)
    assert history.best_epoch == best
    assert history.stopped_epoch == best + patience
    assert history.early_stopped and history.restored_best
    assert len(history.train_loss) == len(history.val_loss) == best + patience
    expected_val = 0.5 * np.mean(x_val ** 2) * (w_t[:best + patience] - 0.5) ** 2
    np.testing.assert_allclose(history.val_loss, expected_val, rtol=1e-9)
    assert layer.A[0, 0] == pytest.approx(w_t[best - 1], rel=1e-12)


def _overfitting_run(patience=20, epochs=3000, **kwargs):
    X, y = data.nonlinear_1d(12, noise=0.6, seed=0)           # a tiny noisy training set
    X_val, y_val = data.nonlinear_1d(200, noise=0.0, seed=100)
    net = mlp([1, 32, 32, 1], "tanh", seed=0)                  # a big network
    history = fit(net, "mse", X, y, epochs=epochs, batch_size=4, eta=0.05,
                  validation_data=(X_val, y_val), patience=patience, seed=0, **kwargs)
    return net, history, (X, y, X_val, y_val)


def test_early_stopping_restores_the_best_weights():
    net, history, (X, y, X_val, y_val) = _overfitting_run()
    best, patience = history.best_epoch, 20
    assert history.early_stopped
    assert history.stopped_epoch == best + patience < 3000
    assert best > 1
    # the training loss kept falling while the validation loss did not: overfitting
    assert history.train_loss[-1] < history.train_loss[best - 1]
    assert history.val_loss[best - 1] == min(history.val_loss)
    assert all(v >= history.val_loss[best - 1] for v in history.val_loss[best:])
    # the weights after fit are those of the best epoch ...
    assert evaluate(net, "mse", X_val, y_val) == history.val_loss[best - 1]
    # ... bit for bit the weights of a run that simply stops there
    twin = mlp([1, 32, 32, 1], "tanh", seed=0)
    fit(twin, "mse", X, y, epochs=best, batch_size=4, eta=0.05, seed=0)
    for p, q in zip(net.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p, q)


def test_without_restore_best_the_last_weights_stay():
    net, history, (_, _, X_val, y_val) = _overfitting_run(restore_best=False)
    assert not history.restored_best
    assert evaluate(net, "mse", X_val, y_val) == history.val_loss[-1]
    assert history.val_loss[-1] > history.val_loss[history.best_epoch - 1]


def test_restore_best_without_patience_runs_every_epoch():
    net, history, (_, _, X_val, y_val) = _overfitting_run(patience=None, epochs=60)
    assert history.stopped_epoch == 60 and not history.early_stopped
    assert history.best_epoch < 60 and history.restored_best
    assert evaluate(net, "mse", X_val, y_val) == min(history.val_loss)


def test_a_plateau_is_not_an_improvement():
    """A dead ReLU unit (A = 0, ReLU'(0) = 0) never changes: the validation loss stays
    exactly the same, the first epoch stays the best, and training stops after patience."""
    x = np.linspace(0.5, 1.5, 11)
    layer = Dense(1, 1, "relu", bias=False, init="zeros")
    history = fit(layer, "mse", x[:, None], x, epochs=50, batch_size=11, eta=0.1,
                  validation_data=(x[:, None], x), patience=3)
    assert len(set(history.val_loss)) == 1
    assert history.best_epoch == 1 and history.stopped_epoch == 4 and history.early_stopped


def test_min_delta_counts_small_improvements_as_none():
    x = np.linspace(0.5, 1.5, 11)
    # validation = training: the loss falls every epoch, by less and less
    kwargs = dict(epochs=200, batch_size=11, eta=0.05, shuffle=False,
                  validation_data=(x[:, None], x), patience=3)
    h0 = fit(Dense(1, 1, bias=False, init="zeros"), "mse", x[:, None], x, **kwargs)
    h1 = fit(Dense(1, 1, bias=False, init="zeros"), "mse", x[:, None], x, min_delta=1e-4, **kwargs)
    assert not h0.early_stopped and h0.stopped_epoch == 200
    assert h1.early_stopped and h1.stopped_epoch == h1.best_epoch + 3 < 200
    improvements = -np.diff(h1.val_loss)
    assert np.all(improvements > 0)                     # it still improved, but too little
    assert np.all(improvements[-3:] <= 1e-4)


def test_validation_fraction_holds_out_a_seeded_share():
    X, y = data.two_moons(100, seed=0)
    runs = [fit(mlp([2, 4, 1], "tanh", seed=0), "binary_cross_entropy_with_logits", X, y,
                epochs=3, eta=0.1, validation_fraction=0.2, seed=s) for s in (5, 5, 6)]
    assert runs[0] == runs[1] and runs[0] != runs[2]
    assert len(runs[0].val_loss) == 3
    # the split is the one train_validation_split makes with the same generator
    X_tr, X_val, y_tr, y_val = train_validation_split(X, y, 0.2, np.random.default_rng(5))
    assert X_val.shape == (20, 2) and X_tr.shape == (80, 2)


# ---------------------------------------------------------------------------------------
# seeds, reshuffling, batches
# ---------------------------------------------------------------------------------------
def _run(seed, shuffle=True):
    X, y = data.two_moons(80, noise=0.2, seed=0)
    X_val, y_val = data.two_moons(40, noise=0.2, seed=1)
    net = mlp([2, 8, 1], "relu", seed=0)
    history = fit(net, "binary_cross_entropy_with_logits", X, y, epochs=15, batch_size=8, eta=0.2,
                  validation_data=(X_val, y_val), seed=seed, shuffle=shuffle)
    return net, history


def test_same_seed_same_history_and_weights_bit_for_bit():
    net1, h1 = _run(7)
    net2, h2 = _run(7)
    assert h1 == h2
    assert h1.train_loss == h2.train_loss and h1.val_loss == h2.val_loss
    for p, q in zip(net1.parameters(), net2.parameters()):
        np.testing.assert_array_equal(p, q)


def test_different_seed_different_history():
    _, h1 = _run(7)
    _, h2 = _run(8)
    assert h1.train_loss != h2.train_loss
    assert h1.val_loss != h2.val_loss


def test_without_shuffle_the_seed_does_not_matter():
    _, h1 = _run(7, shuffle=False)
    _, h2 = _run(8, shuffle=False)
    assert h1 == h2


def _spy(model):
    """Record the rows of every minibatch the model is trained on (every forward pass: these
    tests train without validation data)."""
    batches = []
    inner = model.forward

    def forward(X):
        batches.append(np.array(X[:, 0], copy=True))
        return inner(X)

    model.forward = forward
    return batches


def _labelled_rows(n):
    """Column 0 is the row number, so a minibatch tells which samples it holds."""
    X = np.column_stack([np.arange(n, dtype=float), np.zeros(n)])
    return X, (np.arange(n) % 2)


@pytest.mark.parametrize("step", [dict(eta=0.01), dict(optimizer=SGD(0.01, momentum=0.5))],
                         ids=["plain SGD, fused", "momentum"])
def test_each_epoch_reshuffles_and_visits_every_sample_once(step):
    n, batch, epochs = 23, 5, 4
    X, y = _labelled_rows(n)
    net = mlp([2, 3, 1], "tanh", seed=0)
    batches = _spy(net)
    fit(net, "binary_cross_entropy_with_logits", X / n, y, epochs=epochs, batch_size=batch, **step)
    per_epoch = math.ceil(n / batch)
    assert len(batches) == epochs * per_epoch
    orders = []
    for e in range(epochs):
        chunk = batches[e * per_epoch:(e + 1) * per_epoch]
        assert [len(b) for b in chunk] == [5, 5, 5, 5, 3]
        order = np.rint(np.concatenate(chunk) * n).astype(int)
        assert sorted(order) == list(range(n))        # a permutation of the samples
        orders.append(tuple(order))
    assert len(set(orders)) == epochs                  # a new order every epoch
    assert tuple(range(n)) not in orders


def test_without_shuffle_the_order_is_natural():
    n = 12
    X, y = _labelled_rows(n)
    net = mlp([2, 3, 1], "tanh", seed=0)
    batches = _spy(net)
    fit(net, "binary_cross_entropy_with_logits", X / n, y, epochs=3, batch_size=5, eta=0.01, shuffle=False)
    order = np.rint(np.concatenate(batches) * n).astype(int)
    np.testing.assert_array_equal(order, np.tile(np.arange(n), 3))


def test_one_vectorised_call_per_minibatch():
    """No per-sample loop: with batch_size = N each epoch is one call on all N rows."""
    X, y = data.two_moons(500, seed=0)
    net = mlp([2, 4, 1], "tanh", seed=0)
    batches = _spy(net)
    fit(net, "binary_cross_entropy_with_logits", X, y, epochs=3, batch_size=500, eta=0.1)
    assert [len(b) for b in batches] == [500, 500, 500]


def test_minibatches_partition_the_indices():
    parts = list(minibatches(10, 4))
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    shuffled = list(minibatches(10, 4, np.random.default_rng(0)))
    assert sorted(np.concatenate(shuffled).tolist()) == list(range(10))
    assert np.concatenate(shuffled).tolist() != list(range(10))


def test_train_validation_split():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20)
    X_tr, X_val, y_tr, y_val = train_validation_split(X, y, 0.25, seed=3)
    assert X_val.shape == (5, 2) and X_tr.shape == (15, 2)
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)    # rows stay with their labels
    np.testing.assert_array_equal(X_val[:, 0] // 2, y_val)
    assert sorted(np.r_[y_tr, y_val].tolist()) == list(range(20))
    again = train_validation_split(X, y, 0.25, seed=3)
    np.testing.assert_array_equal(again[3], y_val)
    assert not np.array_equal(train_validation_split(X, y, 0.25, seed=4)[3], y_val)
    # np.float32 is a number between 0 and 1 like any other
    assert train_validation_split(X, y, np.float32(0.25), seed=3)[1].shape == (5, 2)


# ---------------------------------------------------------------------------------------
# history, purity, divergence
# ---------------------------------------------------------------------------------------
def test_history_without_validation():
    X, y = data.two_moons(40, seed=0)
    history = fit(mlp([2, 3, 1], "tanh", seed=0), "binary_cross_entropy_with_logits", X, y,
                  epochs=6, eta=0.1)
    assert isinstance(history, History)
    assert len(history.train_loss) == 6 and history.val_loss == []
    assert history.best_epoch is None and history.stopped_epoch == 6
    assert not history.early_stopped and not history.restored_best
    np.testing.assert_array_equal(history.epochs, np.arange(1, 7))


def test_fit_leaves_its_data_alone():
    X, y = data.two_moons(50, seed=0)
    X_val, y_val = data.two_moons(20, seed=1)
    keep = Unchanged(X=X, y=y, X_val=X_val, y_val=y_val)
    h1 = fit(mlp([2, 4, 1], "tanh", seed=0), "binary_cross_entropy_with_logits", X, y,
             epochs=3, eta=0.1, validation_data=(X_val, y_val))
    keep.check("fit")
    h2 = fit(mlp([2, 4, 1], "tanh", seed=0), "binary_cross_entropy_with_logits", frozen(X), frozen(y),
             epochs=3, eta=0.1, validation_data=(frozen(X_val), frozen(y_val)))
    assert h1 == h2
    Xi = np.arange(20).reshape(10, 2)           # integers are converted, not overwritten
    keep_i = Unchanged(Xi=Xi)
    fit(mlp([2, 2, 1], seed=0), "mse", Xi, np.ones(10), epochs=2, eta=0.001)
    keep_i.check("fit")


@pytest.mark.parametrize("layout", ["C", "F", "strided", "memmap"])
def test_fit_gathers_only_the_minibatch_from_any_layout(layout, tmp_path, monkeypatch):
    """Every memory layout of X trains the same weights, bit for bit, and no step copies the
    whole training set (a C copy of a Fortran-ordered X at every step made an epoch 15x
    slower): the traced peak stays far below the size of X."""
    import tracemalloc

    rng = np.random.default_rng(0)
    X_c = rng.standard_normal((4000, 100))
    y = (X_c[:, 0] > 0).astype(float)
    if layout == "C":
        X = X_c
    elif layout == "F":
        X = np.asfortranarray(X_c)
    elif layout == "strided":
        wide = np.zeros((4000, 200))
        wide[:, ::2] = X_c
        X = wide[:, ::2]
    else:
        X = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=X_c.dtype, shape=X_c.shape)
        X[...] = X_c
    reference = mlp([100, 8, 1], "relu", seed=0)
    fit(reference, "binary_cross_entropy_with_logits", X_c, y, epochs=1, batch_size=32, eta=0.05)
    net = mlp([100, 8, 1], "relu", seed=0)
    # the 16 MiB block that fit allocates and frees, unwritten, before training would set the
    # peak; what is measured here is the training
    monkeypatch.setattr("nnlib.training._keep_freed_memory", lambda: None)
    tracemalloc.start()
    try:
        fit(net, "binary_cross_entropy_with_logits", X, y, epochs=1, batch_size=32, eta=0.05)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    for p, q in zip(net.parameters(), reference.parameters()):
        np.testing.assert_array_equal(p, q)
    assert peak < X_c.nbytes / 4, f"peak {peak} bytes for an X of {X_c.nbytes}"


def test_evaluate_does_not_change_the_model():
    X, y = data.two_moons(30, seed=0)
    net = mlp([2, 4, 1], "tanh", seed=0)
    before = net.get_weights()
    value = evaluate(net, "binary_cross_entropy_with_logits", X, y)
    assert value == pytest.approx(losses.binary_cross_entropy_with_logits(net.predict(X), y[:, None]))
    for p, q in zip(net.parameters(), before):
        np.testing.assert_array_equal(p, q)


DIVERGING = {
    # loss: (hidden activation, output activation, output width, eta)
    "mse": ("relu", "identity", 1, 1e10),
    "binary_cross_entropy": ("relu", "sigmoid", 1, 1e200),
    "binary_cross_entropy_with_logits": ("identity", "identity", 1, 1e3),
    "softmax_cross_entropy": ("leaky_relu", "identity", 2, 1e3),
}


@pytest.mark.parametrize("loss", list(DIVERGING))
def test_a_diverging_run_raises_floating_point_error(loss):
    hidden, out, width, eta = DIVERGING[loss]
    X, y = data.two_moons(100, noise=0.1, seed=0)
    net = mlp([2, 8, 8, width], hidden, out, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)       # overflow on the way there
        with pytest.raises(FloatingPointError, match=r"in epoch \d+.*eta") as info:
            fit(net, loss, X, y, epochs=30, batch_size=10, eta=eta)
    assert f"eta (now {eta})" in str(info.value)
    epoch = int(str(info.value).split("in epoch ")[1].split(":")[0].split(";")[0])
    assert 1 <= epoch <= 30


_PAGE_FAULTS = r"""
import resource, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import nnlib
import nnlib.training

if sys.argv[2] == "without":
    nnlib.training._keep_freed_memory = lambda: None   # fit leaves the allocator alone
rng = np.random.default_rng(0)
X, y = rng.standard_normal((8192, 784)), rng.integers(0, 10, 8192)
net = nnlib.mlp([784, 256, 256, 10], seed=0)
nnlib.fit(net, "softmax_cross_entropy", X[:1024], y[:1024], epochs=1, batch_size=1024, eta=0.01)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
nnlib.fit(net, "softmax_cross_entropy", X, y, epochs=2, batch_size=1024, eta=0.01)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 16)
"""


def _glibc_with_its_own_thresholds() -> bool:
    """glibc, with its dynamic mmap and trim thresholds (no MALLOC_* or GLIBC_TUNABLES setting)."""
    import os

    if any(k.startswith("MALLOC_") or k == "GLIBC_TUNABLES" for k in os.environ):
        return False
    try:
        return "glibc" in (os.confstr("CS_GNU_LIBC_VERSION") or "")
    except (AttributeError, ValueError, OSError):
        return False


@pytest.mark.skipif(not _glibc_with_its_own_thresholds(),
                    reason="the thresholds are glibc's, and only adapt when nobody set them")
def test_fit_keeps_the_memory_of_its_steps_instead_of_faulting_in_fresh_pages():
    """fit raises glibc's mmap and trim thresholds (nnlib.training._keep_freed_memory): the
    large arrays of each step then reuse memory the process keeps instead of fresh pages."""
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])

    def faults_per_step(mode):
        out = subprocess.run([sys.executable, "-c", _PAGE_FAULTS, root, mode], capture_output=True,
                             text=True, check=True)
        return float(out.stdout.split()[-1])

    without, with_ = faults_per_step("without"), faults_per_step("with")
    # a step of this network at batch 1024 writes about 20 MB of new arrays: 5,000 pages.
    # Measured on glibc 2.36: 358 faults per step without, 3-33 with.
    assert without > 200, without
    assert with_ < without / 5, (with_, without)
