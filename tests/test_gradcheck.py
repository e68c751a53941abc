"""Centred-difference gradient checks of every derivative, loss gradient, layer and network.

Each analytic gradient is compared twice, in float64, to a relative error below 1e-6:
with ``nnlib.gradcheck`` and with the small centred difference ``centred`` written
below, independently of nnlib. Comparing the two numerical gradients with each other
also checks ``nnlib.gradcheck`` itself, and the last tests make sure it catches wrong
gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import Unchanged, frozen
from nnlib import activations as act
from nnlib import gradcheck, layers, losses
from nnlib.layers import Dense
from nnlib.network import Sequential, mlp

TOL = 1e-6
H = 1e-6


def centred(f, x, h=H):
    """(f(x + h e_i) - f(x - h e_i)) / 2h for every entry i, on copies of x."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (float(f(up)) - float(f(down))) / (2 * h)
    return grad


def rel_err(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def assert_gradient(f, analytic, x, what):
    """Check ``analytic`` = grad f(x) with both centred differences."""
    own = centred(f, x)
    lib = gradcheck.numerical_gradient(f, x)
    assert rel_err(lib, own) < 1e-9, f"{what}: nnlib.gradcheck disagrees with the reference"
    assert rel_err(analytic, own) < TOL, f"{what}: relative error {rel_err(analytic, own):.2e}"
    assert gradcheck.relative_error(analytic, lib) < TOL, what


def away_from_zero(rng, shape, low=0.1, high=3.0):
    """Random numbers with |z| in [low, high]: no kink of step, ReLU or ELU within h."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


# ---------------------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------------------
ELEMENTWISE = {
    "step": (act.step, act.step_derivative),
    "identity": (act.identity, act.identity_derivative),
    "sigmoid": (act.sigmoid, act.sigmoid_derivative),
    "tanh": (act.tanh, act.tanh_derivative),
    "relu": (act.relu, act.relu_derivative),
    "leaky_relu": (act.leaky_relu, act.leaky_relu_derivative),
    "leaky_relu(alpha=0.2)": (lambda z: act.leaky_relu(z, 0.2), lambda z: act.leaky_relu_derivative(z, 0.2)),
    "elu": (act.elu, act.elu_derivative),
    "elu(alpha=0.5)": (lambda z: act.elu(z, 0.5), lambda z: act.elu_derivative(z, 0.5)),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_derivative(name, rng):
    f, df = ELEMENTWISE[name]
    z = away_from_zero(rng, (4, 5), high=6.0)
    G = rng.normal(size=z.shape)            # weights make every entry count separately
    assert_gradient(lambda t: np.sum(G * f(t)), G * df(z), z, name)


def test_step_derivative_really_is_zero_away_from_zero(rng):
    """The check above is not vacuous for step: its numerical gradient is exactly 0 there."""
    z = away_from_zero(rng, (10,))
    np.testing.assert_array_equal(centred(lambda t: np.sum(act.step(t)), z), 0.0)


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_backward(axis, rng):
    z = rng.normal(scale=2, size=(4, 5))
    G = rng.normal(size=z.shape)
    assert_gradient(lambda t: np.sum(G * act.softmax(t, axis=axis)),
                    act.softmax_backward(z, G, axis=axis), z, f"softmax_backward(axis={axis})")


# ---------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------
def _loss_cases(rng):
    y1 = rng.normal(size=7)
    y2 = rng.normal(size=(7, 3))
    labels = rng.integers(0, 2, 7)
    classes = rng.integers(0, 4, 7)
    return {
        "mse 1-D": (losses.mse, losses.mse_gradient, rng.normal(size=7), y1),
        "mse 2-D": (losses.mse, losses.mse_gradient, rng.normal(size=(7, 3)), y2),
        "binary_cross_entropy": (losses.binary_cross_entropy, losses.binary_cross_entropy_gradient,
                                 rng.uniform(0.05, 0.95, size=(7, 1)), labels[:, None]),
        "binary_cross_entropy_with_logits": (
            losses.binary_cross_entropy_with_logits, losses.binary_cross_entropy_with_logits_gradient,
            rng.normal(scale=3, size=7), labels),
        "softmax_cross_entropy, integer labels": (
            losses.softmax_cross_entropy, losses.softmax_cross_entropy_gradient,
            rng.normal(scale=2, size=(7, 4)), classes),
        "softmax_cross_entropy, one-hot labels": (
            losses.softmax_cross_entropy, losses.softmax_cross_entropy_gradient,
            rng.normal(scale=2, size=(7, 4)), np.eye(4)[classes]),
    }


@pytest.mark.parametrize("case", list(_loss_cases(np.random.default_rng(0))))
def test_loss_gradient(case, rng):
    f, grad, first, y = _loss_cases(rng)[case]
    assert_gradient(lambda t: f(t, y), grad(first, y), first, case)


# ---------------------------------------------------------------------------------------
# the dense layer
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("activation", sorted(act.ACTIVATIONS))
def test_dense_layer(activation, bias, rng):
    layer = Dense(3, 4, activation, seed=rng, bias=bias)
    if bias:
        layer.b[...] = rng.normal(size=4)
    X = rng.normal(size=(6, 3))
    _, (_, _, Z, _) = layers.dense_forward(X, layer.A, layer.b, activation)
    assert np.min(np.abs(Z)) > 1e-4, "choose another seed: a pre-activation sits on a kink"

    # nnlib.gradcheck.check_layer: input and every parameter
    errors = gradcheck.check_layer(layer, X, seed=1)
    assert set(errors) == ({"X", "param0", "param1"} if bias else {"X", "param0"})
    assert max(errors.values()) < TOL, errors

    # the reference centred difference on the pure functions
    G = rng.normal(size=(6, 4))
    A, b = layer.A.copy(), (layer.b.copy() if bias else None)

    def scalar(X_, A_, b_):
        return np.sum(G * layers.dense_forward(X_, A_, b_, activation)[0])

    _, cache = layers.dense_forward(X, A, b, activation)
    dX, dA, db = layers.dense_backward(G, cache)
    assert_gradient(lambda t: scalar(t, A, b), dX, X, f"Dense {activation}: dX")
    assert_gradient(lambda t: scalar(X, t, b), dA, A, f"Dense {activation}: dA")
    if bias:
        assert_gradient(lambda t: scalar(X, A, t), db, b, f"Dense {activation}: db")

    # the class stores the same gradients
    layer.forward(X)
    dX_layer = layer.backward(G)
    np.testing.assert_allclose(dX_layer, dX, rtol=1e-13)
    np.testing.assert_allclose(layer.dA, dA, rtol=1e-13)
    assert (layer.db is None) == (not bias)


# ---------------------------------------------------------------------------------------
# whole networks with two hidden layers
# ---------------------------------------------------------------------------------------
NETWORK_CASES = {
    # loss: (output width, output activation, targets)
    "mse": (2, "identity", lambda rng: rng.normal(size=(6, 2))),
    "binary_cross_entropy": (1, "sigmoid", lambda rng: rng.integers(0, 2, 6)),
    "binary_cross_entropy_with_logits": (1, "identity", lambda rng: rng.integers(0, 2, (6, 1))),
    "softmax_cross_entropy": (3, "identity", lambda rng: rng.integers(0, 3, 6)),
    "softmax_cross_entropy one-hot": (3, "identity", lambda rng: np.eye(3)[rng.integers(0, 3, 6)]),
}


def _flat(arrays):
    return np.concatenate([a.ravel() for a in arrays])


def _unflat(theta, like):
    out, k = [], 0
    for a in like:
        out.append(theta[k:k + a.size].reshape(a.shape))
        k += a.size
    return out


@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "elu"])
@pytest.mark.parametrize("case", list(NETWORK_CASES))
def test_two_hidden_layer_network(case, hidden, rng):
    n_out, out_act, make_y = NETWORK_CASES[case]
    loss = case.split()[0]
    net = mlp([3, 5, 4, n_out], hidden, out_act, seed=rng)
    for layer in net.layers:                 # non-zero biases, so their gradients matter
        layer.b[...] = rng.normal(scale=0.5, size=layer.b.shape)
    X = rng.normal(size=(6, 3))
    y = make_y(rng)
    before = net.get_weights()

    errors = gradcheck.check_model(net, loss, X, y)
    assert len(errors) == 6 and max(errors) < TOL, errors
    for p, q in zip(net.parameters(), before):      # check_model puts every weight back
        np.testing.assert_array_equal(p, q)

    # reference: the loss as a function of all weights, through set_weights
    value = net.loss_and_backward(X, y, loss)
    analytic = _flat(net.gradients())
    f_loss = losses.get_loss(loss).function

    def of_theta(theta):
        net.set_weights(_unflat(theta, before))
        y_hat = net.predict(X)
        target = y if loss == "softmax_cross_entropy" or np.ndim(y) == 2 else y[:, None]
        return f_loss(y_hat, target)

    assert_gradient(of_theta, analytic, _flat(before), f"{case} network, {hidden} hidden")
    net.set_weights(before)
    assert of_theta(_flat(before)) == value


def test_network_input_gradient(rng):
    """Sequential.backward returns dL/dX; check it like any other gradient."""
    net = mlp([3, 5, 4, 2], "tanh", seed=rng)
    X = rng.normal(size=(5, 3))
    G = rng.normal(size=(5, 2))
    net.forward(X)
    dX = net.backward(G)
    assert_gradient(lambda t: np.sum(G * net.predict(t)), dX, X, "dL/dX of a network")


# ---------------------------------------------------------------------------------------
# nnlib.gradcheck itself
# ---------------------------------------------------------------------------------------
def test_numerical_gradient_of_a_quadratic_is_exact(rng):
    M = rng.normal(size=(4, 4))
    M = M + M.T
    c = rng.normal(size=4)
    x = rng.normal(size=4)
    g = gradcheck.numerical_gradient(lambda t: 0.5 * t @ M @ t + c @ t, x)
    np.testing.assert_allclose(g, M @ x + c, rtol=1e-7, atol=1e-8)


def test_numerical_gradient_leaves_its_input_alone(rng):
    x = rng.normal(size=(2, 3))
    keep = Unchanged(x=x)
    g = gradcheck.numerical_gradient(lambda t: np.sum(t ** 3), x)
    keep.check("numerical_gradient")
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-7)
    np.testing.assert_array_equal(gradcheck.numerical_gradient(lambda t: np.sum(t ** 3), frozen(x)), g)
    # integer input: differentiated as float64
    np.testing.assert_allclose(gradcheck.numerical_gradient(lambda t: np.sum(t ** 2), [1, 2]), [2, 4], rtol=1e-7)


def test_relative_error():
    assert gradcheck.relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert gradcheck.relative_error([1.0, 0.0], [0.0, 1.0]) == pytest.approx(np.sqrt(2))
    assert gradcheck.relative_error([2.0], [1.0]) == 0.5
    assert gradcheck.relative_error([1.0], [2.0]) == 0.5


def test_check_gradient_passes_right_and_fails_wrong_gradients(rng):
    z = rng.normal(size=6)
    good = gradcheck.check_gradient(lambda t: np.sum(act.sigmoid(t)), act.sigmoid_derivative, z)
    bad = gradcheck.check_gradient(lambda t: np.sum(act.sigmoid(t)), act.sigmoid, z)
    assert good < TOL
    assert bad > 0.5
    # a gradient off by a factor 1.01 is caught too
    slightly = gradcheck.check_gradient(lambda t: np.sum(t ** 2), lambda t: 2.02 * t, z)
    assert slightly == pytest.approx(0.01 / 1.01, rel=1e-4)


class _BrokenDense(Dense):
    """A dense layer whose backward forgets the activation's derivative for dA."""

    def backward(self, grad_out, *args, **kwargs):
        dX = super().backward(grad_out, *args, **kwargs)
        X = self._cache[0]
        self.dA = grad_out.T @ X
        return dX


def test_check_layer_catches_a_wrong_backward(rng):
    layer = _BrokenDense(3, 2, "tanh", seed=rng)
    X = rng.normal(size=(5, 3))
    errors = gradcheck.check_layer(layer, X)
    assert errors["param0"] > 1e-2
    assert errors["X"] < TOL and errors["param1"] < TOL


def test_check_layer_with_a_transposed_weight_matrix(rng):
    """A non-contiguous A (assigned as W.T) is perturbed in place, not in a copy."""
    layer = Dense(3, 2, "tanh", seed=rng)
    W = rng.normal(size=(3, 2))
    layer.A = W.T
    assert not layer.A.flags.c_contiguous
    before = layer.A.copy()
    errors = gradcheck.check_layer(layer, rng.normal(size=(4, 3)))
    assert max(errors.values()) < TOL, errors
    np.testing.assert_array_equal(layer.A, before)


def test_check_model_catches_a_wrong_loss_gradient(rng):
    wrong = losses.Loss("mse", losses.mse, lambda y_hat, y: 2 * losses.mse_gradient(y_hat, y))
    net = mlp([2, 3, 1], "tanh", seed=rng)
    errors = gradcheck.check_model(net, wrong, rng.normal(size=(4, 2)), rng.normal(size=(4, 1)))
    assert min(errors) > 0.1


def test_gradient_checks_refuse_float32_parameters():
    """A 1e-6 step is below float32 resolution: the check says so instead of returning noise."""
    import nnlib

    layer = nnlib.Dense(3, 2, "tanh", seed=0, dtype=np.float32)
    with pytest.raises(TypeError, match="float64.*float32"):
        gradcheck.check_layer(layer, np.ones((4, 3)))
    net = nnlib.mlp([3, 4, 1], seed=0, dtype=np.float32)
    with pytest.raises(TypeError, match="dtype=np.float64"):
        gradcheck.check_model(net, "mse", np.ones((4, 3)), np.ones(4))
