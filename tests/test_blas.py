"""nnlib._blas.add_product (C += alpha A B in one gemm call) and fit's fused plain-SGD step."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import nnlib
from nnlib import _blas, data
from nnlib.layers import Dense
from nnlib.network import Sequential, mlp
from nnlib.optim import SGD
from nnlib.training import fit


@pytest.fixture(params=["NumPy's OpenBLAS", "NumPy only"])
def backend(request, monkeypatch):
    """Run a test once through the gemm call and once through the NumPy fallback."""
    if request.param == "NumPy only":
        monkeypatch.setattr(_blas, "_GEMM", {})
    elif not _blas.numpy_gemm():
        pytest.skip("NumPy's OpenBLAS is not loaded here (test_numpy_openblas_is_found says where "
                    "it must be)")
    return request.param


def _counting_gemm(monkeypatch) -> list:
    """Count the gemm calls from now on (each call's C shape)."""
    calls = []

    def counted(fn):
        def call(*args):
            calls.append((args[3], args[4]))
            return fn(*args)
        return call
    monkeypatch.setattr(_blas, "_GEMM", {dt: counted(fn) for dt, fn in _blas._GEMM.items()})
    return calls


def _wheel_with_scipy_openblas() -> bool:
    config = np.show_config(mode="dicts")
    return "scipy-openblas" in str(config["Build Dependencies"]["blas"].get("name", ""))


@pytest.mark.skipif(not (sys.platform.startswith("linux") and _wheel_with_scipy_openblas()),
                    reason="checked where CI and the course machines run: NumPy's Linux wheels")
def test_numpy_openblas_is_found():
    """On NumPy's Linux wheels (CI, the course machines) the fast path must be live."""
    assert _blas.numpy_gemm()


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("layout", ["C C", "F C", "C F", "F F"])
@pytest.mark.parametrize("m, k, n", [(128, 48, 160), (3, 4, 5), (1, 64, 16384), (64, 1, 300),
                                     (300, 256, 64)])
def test_add_product_adds_alpha_times_the_product(backend, dtype, rtol, layout, m, k, n):
    rng = np.random.default_rng(0)
    order_a, order_b = layout.split()
    A = np.asarray(rng.standard_normal((m, k)), dtype=dtype, order=order_a)
    B = np.asarray(rng.standard_normal((k, n)), dtype=dtype, order=order_b)
    C = rng.standard_normal((m, n)).astype(dtype)
    want = C.astype(np.float64) - 0.3 * (A.astype(np.float64) @ B.astype(np.float64))
    before = (A.copy(), B.copy())
    address = C.ctypes.data
    _blas.add_product(C, A, B, -0.3)
    assert C.ctypes.data == address and C.dtype == dtype          # in place
    np.testing.assert_allclose(C, want, rtol=rtol, atol=rtol * 10)
    np.testing.assert_array_equal(A, before[0])
    np.testing.assert_array_equal(B, before[1])


def test_add_product_takes_a_transposed_view_without_copying_it(backend):
    """The weight update's form: A (n_out, n_in) += -eta delta.T (n_out, N) @ X (N, n_in)."""
    rng = np.random.default_rng(1)
    delta, X = rng.standard_normal((256, 200)), rng.standard_normal((256, 100))
    W = rng.standard_normal((200, 100))
    want = W - 0.01 * delta.T @ X
    _blas.add_product(W, delta.T, X, -0.01)
    np.testing.assert_allclose(W, want, rtol=1e-12, atol=1e-12)


def test_add_product_falls_back_for_what_blas_cannot_take(monkeypatch):
    """Strided operands, a C that is not C-contiguous, mixed or byte-swapped dtypes, overlap
    and a small C go through NumPy (C += alpha * (A @ B), bit for bit)."""
    def refuse(*args):
        raise AssertionError("gemm called with operands it cannot take")
    monkeypatch.setattr(_blas, "_GEMM", {np.dtype(np.float64): refuse, np.dtype(np.float32): refuse})
    rng = np.random.default_rng(2)
    big = rng.standard_normal((512, 512))
    square = rng.standard_normal((128, 128))
    cases = {
        "strided A": (rng.standard_normal((256, 128)), big[::2, ::2], rng.standard_normal((256, 128))),
        "C not contiguous": (rng.standard_normal((128, 512))[:, ::2], rng.standard_normal((128, 64)),
                             rng.standard_normal((64, 256))),
        "C in Fortran order": (np.asfortranarray(rng.standard_normal((128, 256))),
                               rng.standard_normal((128, 64)), rng.standard_normal((64, 256))),
        "mixed dtypes": (rng.standard_normal((128, 128)), rng.standard_normal((128, 64)).astype(np.float32),
                         rng.standard_normal((64, 128))),
        "byte-swapped A": (rng.standard_normal((128, 128)), rng.standard_normal((128, 64)).astype(">f8"),
                           rng.standard_normal((64, 128))),
        "byte-swapped C": (rng.standard_normal((128, 128)).astype(">f8"), rng.standard_normal((128, 64)),
                           rng.standard_normal((64, 128))),
        "small C": (rng.standard_normal((64, 64)), rng.standard_normal((64, 500)),
                    rng.standard_normal((500, 64))),
        "C overlapping A": (square, square, rng.standard_normal((128, 128))),
    }
    for what, (C, A, B) in cases.items():
        want = C + 0.5 * (A @ B)
        _blas.add_product(C, A, B, 0.5)
        np.testing.assert_array_equal(C, want, err_msg=what)


def test_add_product_refuses_a_read_only_c():
    C = np.zeros((128, 128))
    C.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _blas.add_product(C, np.ones((128, 8)), np.ones((8, 128)), 1.0)
    np.testing.assert_array_equal(C, 0.0)


def test_add_product_names_mismatched_shapes():
    with pytest.raises(ValueError, match=r"C \(3, 4\) \+= A \(3, 5\) @ B \(6, 4\) does not fit"):
        _blas.add_product(np.zeros((3, 4)), np.zeros((3, 5)), np.zeros((6, 4)), 1.0)


def _unfused(eta):
    """Plain SGD that fit runs the long way round: backward, then SGD.step."""
    class PlainSGD(SGD):
        pass
    return PlainSGD(eta)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-9), (np.float32, 2e-3)])
@pytest.mark.parametrize("sizes, activation, loss", [
    ([784, 64, 32, 10], "relu", "softmax_cross_entropy"),
    ([2, 16, 16, 1], "relu", "binary_cross_entropy_with_logits"),
    ([30, 200, 100, 1], "tanh", "mse"),
])
def test_fused_step_trains_like_backward_then_sgd_step(backend, monkeypatch, dtype, rtol, sizes,
                                                       activation, loss):
    """fit's fused plain-SGD step (each layer updates its weights as back-propagation leaves
    it) gives the weights and losses of loss_and_backward followed by SGD.step: bit for bit
    through NumPy, up to rounding through gemm, which runs for every weight matrix of at least
    16,384 entries."""
    rng = np.random.default_rng(3)
    if sizes[0] == 2:
        X, y = data.two_moons(600, noise=0.2, seed=0)
    elif sizes[-1] == 10:
        y = rng.integers(0, 10, 600)
        X = rng.standard_normal((10, 784))[y] + rng.standard_normal((600, 784))
    else:
        X = rng.standard_normal((600, 30))
        y = np.sin(X[:, :3].sum(axis=1))
    X = X.astype(dtype)
    nets = [mlp(sizes, activation, seed=0, dtype=dtype) for _ in range(2)]
    calls = _counting_gemm(monkeypatch)
    h_fused = fit(nets[0], loss, X, y, epochs=3, batch_size=64, eta=0.01, seed=1)
    big = sum(a * b >= 1 << 14 for a, b in zip(sizes[1:], sizes))      # (n_out, n_in) of each layer
    steps = 3 * 10                                                     # 600 samples at 64 a batch
    assert len(calls) == (steps * big if backend == "NumPy's OpenBLAS" else 0)
    h_long = fit(nets[1], loss, X, y, epochs=3, batch_size=64, optimizer=_unfused(0.01), seed=1)
    assert len(calls) == (steps * big if backend == "NumPy's OpenBLAS" else 0)   # not the long way
    same = np.testing.assert_array_equal if backend == "NumPy only" or not big else \
        (lambda p, q: np.testing.assert_allclose(p, q, rtol=rtol, atol=rtol))
    same(h_fused.train_loss, h_long.train_loss)
    for p, q in zip(nets[0].parameters(), nets[1].parameters()):
        assert p.dtype == q.dtype == dtype
        same(p, q)
    assert h_fused.train_loss[-1] < h_fused.train_loss[0]          # it did train


def test_fused_step_without_biases():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((256, 300))
    y = rng.integers(0, 10, 256)
    nets = [Sequential([Dense(300, 128, "relu", seed=0, bias=False), Dense(128, 10, seed=1, bias=False)])
            for _ in range(2)]
    fit(nets[0], "softmax_cross_entropy", X, y, epochs=2, batch_size=32, eta=0.05)
    fit(nets[1], "softmax_cross_entropy", X, y, epochs=2, batch_size=32, optimizer=_unfused(0.05))
    for p, q in zip(nets[0].parameters(), nets[1].parameters()):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-12)
    assert [layer.b for layer in nets[0].layers] == [None, None]


def test_a_method_replaced_on_the_model_is_honoured():
    """A wrapper put on the object (logging, clipping) sends fit the long way round."""
    X, y = data.two_moons(200, seed=0)
    net = mlp([2, 8, 1], "tanh", seed=0)
    seen = []
    inner = net.loss_and_backward

    def loss_and_backward(X, y, loss):
        seen.append(len(X))
        return inner(X, y, loss)
    net.loss_and_backward = loss_and_backward
    fit(net, "binary_cross_entropy_with_logits", X, y, epochs=2, batch_size=50, eta=0.1)
    assert seen == [50] * 8
    clipped = mlp([2, 8, 1], "tanh", seed=0)
    layer = clipped.layers[0]
    layer.backward = lambda g, input_grad=True: seen.append("layer") or Dense.backward(layer, g, input_grad)
    fit(clipped, "binary_cross_entropy_with_logits", X, y, epochs=1, batch_size=100, eta=0.1)
    assert seen[8:] == ["layer", "layer"]
    optimizer = SGD(0.1)                        # clipping put on the optimizer
    inner_step = optimizer.step
    optimizer.step = lambda params, grads: seen.append("step") or inner_step(
        params, [np.clip(g, -0.01, 0.01) for g in grads])
    fit(mlp([2, 8, 1], "tanh", seed=0), "binary_cross_entropy_with_logits", X, y, epochs=1,
        batch_size=100, optimizer=optimizer)
    assert seen[10:] == ["step", "step"]


def test_fused_step_keeps_no_gradients_and_says_so():
    X, y = data.two_moons(100, seed=0)
    net = mlp([2, 8, 1], "tanh", seed=0)
    fit(net, "binary_cross_entropy_with_logits", X, y, epochs=1, batch_size=50, eta=0.1)
    assert all(layer.dA is None and layer.db is None for layer in net.layers)
    with pytest.raises(RuntimeError, match="fit's plain SGD steps update the weights"):
        net.gradients()
    net.loss_and_backward(X, y, "binary_cross_entropy_with_logits")   # backward stores them again
    assert [g.shape for g in net.gradients()] == [(8, 2), (8,), (1, 8), (1,)]


def test_fused_step_updates_the_weights_in_place(backend):
    """A bare layer given to fit, and every array of a network, keep their identity."""
    layer = Dense(1, 1, seed=0)
    A, b = layer.A, layer.b
    x = np.linspace(0, 10, 50)[:, None]
    fit(layer, "mse", x, nnlib.data.KM_TO_MILES * x, epochs=200, batch_size=10, eta=0.005)
    assert layer.A is A and layer.b is b
    assert A[0, 0] == pytest.approx(nnlib.data.KM_TO_MILES, rel=1e-2)   # it trained
    net = mlp([300, 128, 10], seed=0)                                   # 38,400 weights: gemm
    arrays = net.parameters()
    before = [p.copy() for p in arrays]
    rng = np.random.default_rng(6)
    fit(net, "softmax_cross_entropy", rng.standard_normal((64, 300)), rng.integers(0, 10, 64),
        epochs=1, batch_size=32, eta=0.1)
    assert all(p is q for p, q in zip(net.parameters(), arrays))
    assert all(not np.array_equal(p, q) for p, q in zip(arrays, before))


def test_descend_with_a_gradient_of_another_dtype_takes_the_checked_path():
    """A float32 layer given a float64 dL/dH converts it, as backward does, and steps."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((32, 300)).astype(np.float32)
    g = rng.standard_normal((32, 40))                      # float64
    one, two = Dense(300, 40, "relu", seed=0, dtype=np.float32), Dense(300, 40, "relu", seed=0,
                                                                        dtype=np.float32)
    one.forward(X)
    two.forward(X)
    dX = one._descend(g, 0.1)
    want_dX = two.backward(g)
    SGD(0.1).step(two.parameters(), two.gradients())
    np.testing.assert_array_equal(dX, want_dX)
    for p, q in zip(one.parameters(), two.parameters()):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p, q)


def test_a_batch_with_a_non_finite_loss_changes_nothing():
    net = mlp([2, 4, 1], seed=0)
    before = net.get_weights()
    X = np.array([[np.inf, 0.0], [1.0, 2.0]])
    with np.errstate(invalid="ignore"):
        value = net._sgd_step(X, np.array([0.0, 1.0]), "mse", 0.1)
    assert not np.isfinite(value)
    for p, q in zip(net.parameters(), before):
        np.testing.assert_array_equal(p, q)


def test_relu_at_exactly_zero_passes_no_gradient(backend):
    """Zero initial weights make every pre-activation exactly 0 at the first step, where the
    ReLU derivative is 0 (chapter 5): the fused step applies it in place the same way."""
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((64, 300)), rng.integers(0, 10, 64)
    nets = [Sequential([Dense(300, 128, "relu", init="zeros"), Dense(128, 64, "relu", seed=1),
                        Dense(64, 10, seed=2)]) for _ in range(2)]
    fit(nets[0], "softmax_cross_entropy", X, y, epochs=1, batch_size=64, eta=0.1)
    fit(nets[1], "softmax_cross_entropy", X, y, epochs=1, batch_size=64, optimizer=_unfused(0.1))
    for p, q in zip(nets[0].parameters(), nets[1].parameters()):
        np.testing.assert_array_equal(p, q)
    first, second, last = nets[0].layers
    assert np.all(first.A == 0) and np.all(first.b == 0) and np.all(second.b == 0)   # no gradient
    assert np.any(last.b != 0)                                                       # it trained
