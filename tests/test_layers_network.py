"""Dense layers, Sequential networks and SGD: hand-worked examples, shapes, batching, purity.

Gradient checks by centred differences are in test_gradcheck.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import Unchanged, frozen
from nnlib import activations as act
from nnlib import losses
from nnlib.layers import Dense, dense_backward, dense_forward, init_weights
from nnlib.network import Sequential, mlp
from nnlib.optim import SGD


# ---------------------------------------------------------------------------------------
# hand-worked examples (regression tests)
# ---------------------------------------------------------------------------------------
def _hand_network():
    hidden = Dense(2, 2, "relu")
    hidden.A[...] = [[1.0, -1.0], [0.5, 0.5]]
    hidden.b[...] = [0.0, 1.0]
    out = Dense(2, 1, "identity")
    out.A[...] = [[2.0, -1.0]]
    out.b[...] = [0.5]
    return Sequential([hidden, out])


def test_two_two_one_network_by_hand():
    """A 2-2-1 network, ReLU hidden layer, identity output, MSE, one sample.

    forward:  x = (1, 2)
              z1 = A1 x + b1 = (1*1 - 1*2 + 0, 0.5*1 + 0.5*2 + 1) = (-1, 2.5)
              h1 = relu(z1) = (0, 2.5)
              y_hat = A2 h1 + b2 = 2*0 - 1*2.5 + 0.5 = -2
              L = 1/2 (y_hat - y)^2 = 1/2 (-2 - 1)^2 = 4.5            (y = 1)
    backward: dL/dy_hat = y_hat - y = -3 = delta2
              dA2 = delta2 h1 = (0, -7.5), db2 = -3
              dh1 = delta2 A2 = (-6, 3); delta1 = dh1 * relu'(z1) = (0, 3)
              dA1 = delta1 x^T = [[0, 0], [3, 6]], db1 = (0, 3)
              dx = A1^T delta1 = (0*1 + 3*0.5, 0*(-1) + 3*0.5) = (1.5, 1.5)
    SGD, eta = 0.1: A1 = [[1, -1], [0.2, -0.1]], b1 = (0, 0.7), A2 = (2, -0.25), b2 = 0.8
              z1 = (-1, 0.2 - 0.2 + 0.7) = (-1, 0.7); y_hat = -0.25*0.7 + 0.8 = 0.625
              L = 1/2 (0.625 - 1)^2 = 0.0703125
    """
    net = _hand_network()
    X, y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    np.testing.assert_allclose(net.layers[0].forward(X), [[0.0, 2.5]])
    assert net.predict(X)[0, 0] == pytest.approx(-2.0)
    assert net.loss_and_backward(X, y, "mse") == pytest.approx(4.5)
    hidden, out = net.layers
    np.testing.assert_allclose(out.dA, [[0.0, -7.5]])
    np.testing.assert_allclose(out.db, [-3.0])
    np.testing.assert_allclose(hidden.dA, [[0.0, 0.0], [3.0, 6.0]])
    np.testing.assert_allclose(hidden.db, [0.0, 3.0])
    net.forward(X)
    np.testing.assert_allclose(net.backward(np.array([[-3.0]])), [[1.5, 1.5]])

    SGD(eta=0.1).step(net.parameters(), net.gradients())
    np.testing.assert_allclose(hidden.A, [[1.0, -1.0], [0.2, -0.1]])
    np.testing.assert_allclose(hidden.b, [0.0, 0.7])
    np.testing.assert_allclose(out.A, [[2.0, -0.25]])
    np.testing.assert_allclose(out.b, [0.8])
    assert losses.mse(net.predict(X), y) == pytest.approx(0.0703125)


def test_sigmoid_unit_with_cross_entropy_by_hand():
    """One sigmoid unit, A = (ln 3, 0), b = 0, x = (1, 5), y = 1.

    z = ln 3, p = 3 / (3 + 1) = 3/4, L = -ln(3/4) = ln(4/3)
    dL/dp = -1/p = -4/3; sigma'(z) = p (1 - p) = 3/16; dL/dz = -4/3 * 3/16 = -1/4 = p - y
    dA = dL/dz x = (-1/4, -5/4), db = -1/4
    """
    layer = Dense(2, 1, "sigmoid")
    layer.A[...] = [[math.log(3.0), 0.0]]
    x = np.array([[1.0, 5.0]])
    p = layer.forward(x)
    assert p[0, 0] == pytest.approx(0.75)
    assert losses.binary_cross_entropy(p, [[1]]) == pytest.approx(math.log(4 / 3))
    dp = losses.binary_cross_entropy_gradient(p, [[1]])
    assert dp[0, 0] == pytest.approx(-4 / 3)
    layer.backward(dp)
    np.testing.assert_allclose(layer.dA, [[-0.25, -1.25]])
    np.testing.assert_allclose(layer.db, [-0.25])


# ---------------------------------------------------------------------------------------
# batches: whole arrays at once, equal to the per-sample formula
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "relu", "softmax"])
def test_dense_forward_on_100000_rows_equals_the_per_row_formula(activation, rng):
    layer = Dense(5, 3, activation, seed=rng)
    layer.b[...] = rng.normal(size=3)
    X = rng.normal(size=(100_000, 5))
    H = layer.forward(X)
    assert H.shape == (100_000, 3)
    f = act.ACTIVATIONS[activation].function
    for n in [0, 1, 4321, 99_999]:
        z = np.array([sum(layer.A[i, j] * X[n, j] for j in range(5)) + layer.b[i] for i in range(3)])
        np.testing.assert_allclose(H[n], f(z), rtol=1e-12, atol=1e-15)


def test_sequential_on_100000_rows_equals_the_composition(rng):
    net = mlp([4, 6, 2], "tanh", seed=rng)
    X = rng.normal(size=(100_000, 4))
    Y = net.predict(X)
    (A1, b1), (A2, b2) = [(layer.A, layer.b) for layer in net.layers]
    for n in [0, 77_777, 99_999]:
        np.testing.assert_allclose(Y[n], A2 @ np.tanh(A1 @ X[n] + b1) + b2, rtol=1e-12)


def test_backward_on_a_batch_sums_the_per_sample_gradients(rng):
    layer = Dense(3, 2, "tanh", seed=rng)
    X, G = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    layer.forward(X)
    dX = layer.backward(G)
    dA_sum, db_sum = np.zeros_like(layer.A), np.zeros(2)
    for n in range(8):
        single = Dense(3, 2, "tanh")
        single.A[...], single.b[...] = layer.A, layer.b
        single.forward(X[n:n + 1])
        np.testing.assert_allclose(single.backward(G[n:n + 1])[0], dX[n], rtol=1e-12)
        dA_sum += single.dA
        db_sum += single.db
    np.testing.assert_allclose(layer.dA, dA_sum, rtol=1e-12)
    np.testing.assert_allclose(layer.db, db_sum, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------
def test_dense_shapes_and_parameters(rng):
    layer = Dense(3, 5, "relu", seed=rng)
    assert layer.A.shape == (5, 3) and layer.b.shape == (5,)
    np.testing.assert_array_equal(layer.b, 0.0)
    assert [p.shape for p in layer.parameters()] == [(5, 3), (5,)]
    layer.forward(rng.normal(size=(7, 3)))
    assert layer.backward(np.ones((7, 5))).shape == (7, 3)
    assert [g.shape for g in layer.gradients()] == [(5, 3), (5,)]


def test_dense_without_bias(rng):
    layer = Dense(2, 3, "tanh", bias=False, seed=rng)
    assert layer.b is None and len(layer.parameters()) == 1
    X = rng.normal(size=(4, 2))
    np.testing.assert_allclose(layer.forward(X), np.tanh(X @ layer.A.T), rtol=1e-14)
    layer.backward(np.ones((4, 3)))
    assert layer.db is None and len(layer.gradients()) == 1


def test_dense_float32_stays_float32(rng):
    layer = Dense(3, 2, "sigmoid", seed=rng, dtype=np.float32)
    assert layer.A.dtype == np.float32 and layer.b.dtype == np.float32
    assert layer.forward(rng.normal(size=(4, 3)).astype(np.float32)).dtype == np.float32


def test_softmax_layer_outputs_probabilities(rng):
    layer = Dense(4, 3, "softmax", seed=rng)
    H = layer.forward(rng.normal(size=(10, 4)))
    np.testing.assert_allclose(H.sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("method, variance", [("he", lambda i, o: 2 / i), ("xavier", lambda i, o: 2 / (i + o))])
def test_init_weights_variance(method, variance):
    A = init_weights(800, 250, method, seed=0)
    assert A.shape == (250, 800)
    # 200 000 draws: the sample std is within 1 % of the target (about 6 standard errors)
    assert A.std() == pytest.approx(math.sqrt(variance(800, 250)), rel=0.01)
    assert abs(A.mean()) < 0.01 * A.std()
    np.testing.assert_array_equal(A, init_weights(800, 250, method, seed=0))
    assert not np.array_equal(A, init_weights(800, 250, method, seed=1))


def test_dense_default_init_is_he_for_relu_and_xavier_otherwise():
    for name in ["relu", "leaky_relu", "elu"]:
        assert Dense(800, 250, name, seed=0).A.std() == pytest.approx(math.sqrt(2 / 800), rel=0.01)
    for name in ["tanh", "sigmoid", "identity"]:
        assert Dense(800, 250, name, seed=0).A.std() == pytest.approx(math.sqrt(2 / 1050), rel=0.01)
    np.testing.assert_array_equal(Dense(3, 2, init="zeros").A, 0.0)


def test_order_of_calls():
    layer = Dense(2, 2)
    with pytest.raises(RuntimeError, match="forward before backward"):
        layer.backward(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="no gradients stored: call forward and backward"):
        layer.gradients()


def test_dense_functions_leave_their_arguments_alone(rng):
    X, A, b, G = rng.normal(size=(5, 3)), rng.normal(size=(2, 3)), rng.normal(size=2), rng.normal(size=(5, 2))
    keep = Unchanged(X=X, A=A, b=b, G=G)
    H, cache = dense_forward(X, A, b, "relu")
    grads = dense_backward(G, cache)
    keep.check("dense_forward/dense_backward")
    H_ro, cache_ro = dense_forward(frozen(X), frozen(A), frozen(b), "relu")
    np.testing.assert_array_equal(H_ro, H)
    for g_ro, g in zip(dense_backward(frozen(G), cache_ro), grads):
        np.testing.assert_array_equal(g_ro, g)
    layer = Dense(3, 2, "tanh", seed=0)
    layer.forward(X)
    layer.backward(G)
    keep.check("Dense.forward/backward")


# ---------------------------------------------------------------------------------------
# networks
# ---------------------------------------------------------------------------------------
def test_mlp_structure_and_seed():
    net = mlp([2, 16, 16, 1], "tanh", "sigmoid", seed=0)
    assert [layer.A.shape for layer in net.layers] == [(16, 2), (16, 16), (1, 16)]
    assert [layer.activation.name for layer in net.layers] == ["tanh", "tanh", "sigmoid"]
    assert net.n_parameters() == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    twin = mlp([2, 16, 16, 1], "tanh", "sigmoid", seed=0)
    other = mlp([2, 16, 16, 1], "tanh", "sigmoid", seed=1)
    for p, q, r in zip(net.parameters(), twin.parameters(), other.parameters()):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(net.layers[0].A, other.layers[0].A)


def test_get_and_set_weights_are_copies(rng):
    net = mlp([2, 3, 1], seed=rng)
    saved = net.get_weights()
    saved[0][0, 0] += 1.0
    assert net.layers[0].A[0, 0] != saved[0][0, 0]
    new = [rng.normal(size=p.shape) for p in net.parameters()]
    net.set_weights(new)
    new[0][0, 0] = 123.0                      # the network keeps its own copy
    assert net.layers[0].A[0, 0] != 123.0
    for p, q in zip(net.parameters(), net.get_weights()):
        np.testing.assert_array_equal(p, q)


def test_loss_and_backward_returns_the_loss_of_the_prediction(rng):
    net = mlp([3, 4, 1], "tanh", seed=rng)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    value = net.loss_and_backward(X, y, "mse")
    assert value == losses.mse(net.predict(X), y[:, None])
    net3 = mlp([3, 4, 3], "tanh", seed=rng)
    labels = rng.integers(0, 3, 6)
    assert net3.loss_and_backward(X, labels, "softmax_cross_entropy") == pytest.approx(
        losses.softmax_cross_entropy(net3.predict(X), labels), rel=1e-15)


def test_sequential_input_gradient_on_request(rng):
    net = mlp([3, 4, 2], "tanh", seed=rng)
    X, G = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    net.forward(X)
    dX = net.backward(G)
    assert dX.shape == (5, 3)
    dA1 = net.layers[0].dA.copy()
    net.forward(X)
    assert net.backward(G, input_grad=False) is None
    np.testing.assert_array_equal(net.layers[0].dA, dA1)


# ---------------------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------------------
def test_sgd_step_in_place():
    A = np.array([1.0, 2.0])
    SGD(eta=0.5).step([A], [np.array([2.0, -2.0])])
    np.testing.assert_array_equal(A, [0.0, 3.0])


def test_sgd_momentum_by_hand():
    """mu = 0.5, eta = 0.1, constant gradient 1:
    v1 = -0.1, w1 = 1 - 0.1 = 0.9; v2 = 0.5*(-0.1) - 0.1 = -0.15, w2 = 0.75."""
    w = np.array([1.0])
    opt = SGD(eta=0.1, momentum=0.5)
    opt.step([w], [np.array([1.0])])
    assert w[0] == pytest.approx(0.9)
    opt.step([w], [np.array([1.0])])
    assert w[0] == pytest.approx(0.75)
    opt.reset()
    opt.step([w], [np.array([1.0])])
    assert w[0] == pytest.approx(0.65)


def test_sgd_checks_shapes():
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(2,\) but its gradient has shape \(3,\)"):
        SGD(0.1).step([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(ValueError, match="2 parameter arrays but 1 gradients"):
        SGD(0.1).step([np.zeros(2), np.zeros(2)], [np.zeros(2)])


def test_a_relu_layer_keeps_its_output_in_place_of_z_with_the_same_gradients(rng):
    """Dense.forward writes a ReLU's output over Z (one array less per step); forward and
    backward give what the pure functions give, also where Z is exactly 0."""
    layer = Dense(6, 5, "relu", seed=0)
    layer.A[:2] = 0.0                       # units 0 and 1: Z = b = 0 exactly
    X, g = rng.standard_normal((7, 6)), rng.standard_normal((7, 5))
    H = layer.forward(X)
    assert layer._cache[2] is H                 # the output, kept in place of Z
    want_H, cache = dense_forward(X, layer.A, layer.b, "relu")
    np.testing.assert_array_equal(H, want_H)
    np.testing.assert_array_equal(cache[2][:, :2], 0.0)
    dX = layer.backward(g)
    want_dX, want_dA, want_db = dense_backward(g, cache)
    np.testing.assert_array_equal(dX, want_dX)
    np.testing.assert_array_equal(layer.dA, want_dA)
    np.testing.assert_array_equal(layer.db, want_db)
    np.testing.assert_array_equal(layer.db[:2], 0.0)   # ReLU'(0) = 0
    np.testing.assert_array_equal(H, want_H)           # backward leaves the output alone
