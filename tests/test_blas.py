"""nnlib._blas.add_product (C += alpha A B in one gemm call) and fit's fused plain-SGD step."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import nnlib
from nnlib import _blas, data
from nnlib.layers import Dense
from nnlib.network import mlp
from nnlib.optim import SGD
from nnlib.training import fit


@pytest.fixture(params=["NumPy's OpenBLAS", "NumPy only"])
def backend(request, monkeypatch):
    """Run a test once through the gemm call and once through the NumPy fallback."""
    if request.param == "NumPy only":
        monkeypatch.setattr(_blas, "_GEMM", {})
    elif not _blas.numpy_gemm():
        pytest.fail("NumPy's OpenBLAS was not found (see test_numpy_openblas_is_found)")
    return request.param


def _wheel_with_scipy_openblas() -> bool:
    config = np.show_config(mode="dicts")
    return "scipy-openblas" in str(config["Build Dependencies"]["blas"].get("name", ""))


@pytest.mark.skipif(not (sys.platform.startswith("linux") and _wheel_with_scipy_openblas()),
                    reason="the gemm call is for NumPy's own wheels on Linux and macOS")
def test_numpy_openblas_is_found():
    """On NumPy's Linux wheels (CI, the course machines) the fast path must be live."""
    assert _blas.numpy_gemm()


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("layout", ["C C", "F C", "C F", "F F"])
@pytest.mark.parametrize("m, k, n", [(64, 48, 40), (3, 4, 5), (1, 300, 256), (256, 1, 300)])
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
    delta, X = rng.standard_normal((256, 64)), rng.standard_normal((256, 100))
    W = rng.standard_normal((64, 100))
    want = W - 0.01 * delta.T @ X
    _blas.add_product(W, delta.T, X, -0.01)
    np.testing.assert_allclose(W, want, rtol=1e-12, atol=1e-12)


def test_add_product_falls_back_for_what_blas_cannot_take(monkeypatch):
    """Strided operands, a non-contiguous C, mixed dtypes and overlap go through NumPy."""
    def refuse(*args):
        raise AssertionError("gemm called with operands it cannot take")
    monkeypatch.setattr(_blas, "_GEMM", {np.dtype(np.float64): refuse, np.dtype(np.float32): refuse})
    rng = np.random.default_rng(2)
    big = rng.standard_normal((128, 256))
    cases = {
        "strided A": (rng.standard_normal((64, 64)), big[::2, ::2], rng.standard_normal((128, 64))),
        "C not contiguous": (rng.standard_normal((64, 128))[:, ::2], rng.standard_normal((64, 128)),
                             rng.standard_normal((128, 64))),
        "mixed dtypes": (rng.standard_normal((64, 64)), rng.standard_normal((64, 128)).astype(np.float32),
                         rng.standard_normal((128, 64))),
    }
    for what, (C, A, B) in cases.items():
        want = C + 0.5 * (A @ B)
        _blas.add_product(C, A, B, 0.5)
        np.testing.assert_allclose(C, want, rtol=1e-6, err_msg=what)
    S = rng.standard_normal((64, 64))          # C overlapping an operand
    want = S + 0.5 * (S @ S)
    _blas.add_product(S, S, S, 0.5)
    np.testing.assert_allclose(S, want, rtol=1e-12)


def test_add_product_names_mismatched_shapes():
    with pytest.raises(ValueError, match=r"C \(3, 4\) \+= A \(3, 5\) @ B \(6, 4\) does not fit"):
        _blas.add_product(np.zeros((3, 4)), np.zeros((3, 5)), np.zeros((6, 4)), 1.0)


def _unfused(eta):
    """Plain SGD that fit runs the long way round: backward, then SGD.step."""
    class PlainSGD(SGD):
        pass
    return PlainSGD(eta)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-9), (np.float32, 2e-3)])
@pytest.mark.parametrize("sizes, loss", [([784, 64, 32, 10], "softmax_cross_entropy"),
                                         ([2, 16, 16, 1], "binary_cross_entropy_with_logits")])
def test_fused_step_trains_like_backward_then_sgd_step(backend, dtype, rtol, sizes, loss):
    """fit's fused plain-SGD step (each layer updates its weights as back-propagation leaves
    it) gives the weights and losses of loss_and_backward followed by SGD.step."""
    rng = np.random.default_rng(3)
    if sizes[0] == 2:
        X, y = data.two_moons(600, noise=0.2, seed=0)
    else:
        y = rng.integers(0, 10, 600)
        X = rng.standard_normal((10, 784))[y] + rng.standard_normal((600, 784))
    X = X.astype(dtype)
    nets = [mlp(sizes, "relu", seed=0, dtype=dtype) for _ in range(2)]
    h_fused = fit(nets[0], loss, X, y, epochs=3, batch_size=64, eta=0.01, seed=1)
    h_long = fit(nets[1], loss, X, y, epochs=3, batch_size=64, optimizer=_unfused(0.01), seed=1)
    np.testing.assert_allclose(h_fused.train_loss, h_long.train_loss, rtol=rtol)
    for p, q in zip(nets[0].parameters(), nets[1].parameters()):
        assert p.dtype == q.dtype == dtype
        np.testing.assert_allclose(p, q, rtol=rtol, atol=rtol)
    assert h_fused.train_loss[-1] < h_fused.train_loss[0]          # it did train


def test_fused_step_keeps_no_gradients_and_says_so():
    X, y = data.two_moons(100, seed=0)
    net = mlp([2, 8, 1], "tanh", seed=0)
    fit(net, "binary_cross_entropy_with_logits", X, y, epochs=1, batch_size=50, eta=0.1)
    assert all(layer.dA is None and layer.db is None for layer in net.layers)
    with pytest.raises(RuntimeError, match="fit's plain SGD steps update the weights"):
        net.gradients()
    net.loss_and_backward(X, y, "binary_cross_entropy_with_logits")   # backward stores them again
    assert [g.shape for g in net.gradients()] == [(8, 2), (8,), (1, 8), (1,)]


def test_fused_step_updates_the_weights_in_place():
    """A bare layer given to fit, and every array of a network, keep their identity."""
    layer = Dense(1, 1, seed=0)
    A, b = layer.A, layer.b
    x = np.linspace(0, 10, 50)[:, None]
    fit(layer, "mse", x, nnlib.data.KM_TO_MILES * x, epochs=200, batch_size=10, eta=0.005)
    assert layer.A is A and layer.b is b
    assert A[0, 0] == pytest.approx(nnlib.data.KM_TO_MILES, rel=1e-2)   # it trained


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
    np.testing.assert_allclose(dX, want_dX, rtol=1e-5)
    for p, q in zip(one.parameters(), two.parameters()):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)


def test_a_batch_with_a_non_finite_loss_changes_nothing():
    net = mlp([2, 4, 1], seed=0)
    before = net.get_weights()
    X = np.array([[np.inf, 0.0], [1.0, 2.0]])
    with np.errstate(invalid="ignore"):
        value = net._sgd_step(X, np.array([0.0, 1.0]), "mse", 0.1)
    assert not np.isfinite(value)
    for p, q in zip(net.parameters(), before):
        np.testing.assert_array_equal(p, q)
