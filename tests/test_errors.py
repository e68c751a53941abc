"""Every bad input raises ValueError or TypeError with a message that names what is wrong.

Each case is (call, exception, pattern); the pattern checks that the message names the
argument and quotes the shapes or values involved, so a student knows what to change.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from nnlib import activations as act
from nnlib import data, gradcheck, losses, metrics
from nnlib.layers import Dense, dense_backward, dense_forward, init_weights
from nnlib.network import Sequential, mlp
from nnlib.neurons import Perceptron, firing_rate, perceptron_update
from nnlib.optim import SGD
from nnlib.training import fit, train_validation_split

X10 = np.zeros((10, 2))
y10 = np.zeros(10)
KNOWN_ACTIVATIONS = ["elu", "identity", "leaky_relu", "relu", "sigmoid", "softmax", "step", "tanh"]
KNOWN_LOSSES = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "mse", "softmax_cross_entropy"]


def _net():
    return mlp([2, 3, 1], "tanh", seed=0)


def _fit(**kwargs):
    args = dict(model=_net(), loss="mse", X=X10, y=y10, epochs=1, eta=0.1)
    args.update(kwargs)
    return fit(args.pop("model"), args.pop("loss"), args.pop("X"), args.pop("y"), **args)


def _backward_with(grad_shape):
    _, cache = dense_forward(np.ones((4, 3)), np.ones((2, 3)), None)
    return dense_backward(np.ones(grad_shape), cache)


CASES = {
    # ---- losses: shapes
    "mse shapes": (lambda: losses.mse([1.0, 2.0, 3.0], [1.0, 2.0]), ValueError,
                   r"y_hat has shape \(3,\) but y has shape \(2,\)"),
    "mse (N,) vs (N, 1)": (lambda: losses.mse_gradient(np.zeros(3), np.zeros((3, 1))), ValueError,
                           r"y_hat has shape \(3,\) but y has shape \(3, 1\)"),
    "bce shapes": (lambda: losses.binary_cross_entropy([0.5, 0.5], [1]), ValueError,
                   r"p has shape \(2,\) but y has shape \(1,\)"),
    "logit bce shapes": (lambda: losses.binary_cross_entropy_with_logits_gradient(np.zeros((2, 1)), [0, 1, 1]),
                         ValueError, r"z has shape \(2, 1\) but y has shape \(3,\)"),
    "softmax ce label count": (lambda: losses.softmax_cross_entropy(np.zeros((3, 4)), [0, 1]), ValueError,
                               r"z has 3 rows \(samples\) but y has 2 labels"),
    "softmax ce one-hot shape": (lambda: losses.softmax_cross_entropy(np.zeros((3, 4)), np.eye(3)), ValueError,
                                 r"z has shape \(3, 4\) but y has shape \(3, 3\)"),
    "softmax ce 1-D logits": (lambda: losses.softmax_cross_entropy(np.zeros(3), [0, 1, 0]), ValueError,
                              r"z must have 2 dimension\(s\), got shape \(3,\)"),
    "3-D loss input": (lambda: losses.mse(np.zeros((2, 2, 2)), np.zeros((2, 2, 2))), ValueError,
                       r"y_hat must have 1 or 2 dimension\(s\), got shape \(2, 2, 2\)"),
    # ---- losses: values
    "bce label 2": (lambda: losses.binary_cross_entropy([0.5, 0.5], [0, 2]), ValueError,
                    r"y must contain only the labels 0 and 1, found \[2\.0\]"),
    "bce label -1": (lambda: losses.binary_cross_entropy_gradient([0.5], [-1]), ValueError,
                     r"only the labels 0 and 1, found \[-1\.0\]"),
    "logit bce label 0.5": (lambda: losses.binary_cross_entropy_with_logits([0.0, 1.0], [0.5, 1]), ValueError,
                            r"only the labels 0 and 1, found \[0\.5\]"),
    "logit bce gradient label 3": (lambda: losses.binary_cross_entropy_with_logits_gradient([0.0], [3]),
                                   ValueError, r"found \[3\.0\]"),
    "bce probabilities": (lambda: losses.binary_cross_entropy([1.5, -0.5], [1, 0]), ValueError,
                          r"probabilities in \[0, 1\], got values from -0\.5 to 1\.5.*with_logits"),
    "bce nan": (lambda: losses.binary_cross_entropy([np.nan, 0.5], [1, 0]), ValueError,
                r"1 of its 2 entries are NaN or infinite"),
    "softmax ce label out of range": (lambda: losses.softmax_cross_entropy(np.zeros((2, 3)), [0, 5]), ValueError,
                                      r"labels must lie in 0\.\.2 for 3 classes, got values from 0 to 5"),
    "softmax ce negative label": (lambda: losses.softmax_cross_entropy_gradient(np.zeros((2, 3)), [-1, 0]),
                                  ValueError, r"got values from -1 to 0"),
    "softmax ce bad one-hot": (lambda: losses.softmax_cross_entropy(np.zeros((2, 2)), [[1.0, 1.0], [0.0, 1.0]]),
                               ValueError, r"rows summing to 1"),
    "one_hot fractions": (lambda: losses.one_hot([0.5, 1.0]), ValueError, r"whole numbers"),
    "one_hot 2-D": (lambda: losses.one_hot(np.zeros((2, 2), int)), ValueError, r"got shape \(2, 2\)"),
    # ---- dtypes
    "strings to an activation": (lambda: act.sigmoid(["a", "b"]), TypeError,
                                 r"z must be a numeric array, got dtype <U1"),
    "strings to a loss": (lambda: losses.mse(["1", "2"], [1.0, 2.0]), TypeError,
                          r"y_hat must be a numeric array, got dtype <U1"),
    "strings as targets": (lambda: losses.mse([1.0, 2.0], ["1", "2"]), TypeError, r"y must be a numeric array"),
    "string labels": (lambda: losses.softmax_cross_entropy(np.zeros((2, 2)), ["a", "b"]), TypeError,
                      r"labels must be integers, got dtype <U1"),
    "complex input": (lambda: act.relu(np.array([1 + 2j])), TypeError, r"z must be real, got complex dtype"),
    "ragged list": (lambda: act.tanh([[1.0], [1.0, 2.0]]), TypeError, r"z .*numeric array"),
    "object array": (lambda: act.relu(np.array([None, 1.0], dtype=object)), TypeError,
                     r"z must be a numeric array, got dtype object"),
    "strings to Dense": (lambda: Dense(2, 1).forward([["a", "b"]]), TypeError, r"X must be a numeric array"),
    "strings to fit": (lambda: _fit(y=np.array(["x"] * 10)), TypeError, r"y must be a numeric array"),
    # ---- names
    "unknown activation": (lambda: Dense(2, 2, "relux"), ValueError,
                           r"unknown activation 'relux'; known activations: " + ", ".join(KNOWN_ACTIVATIONS)),
    "unknown activation in mlp": (lambda: mlp([2, 2, 1], "swish"), ValueError, r"unknown activation 'swish'"),
    "activation of a wrong type": (lambda: act.get_activation(3), TypeError,
                                   r"activation must be a name such as 'relu' or an Activation, got int"),
    "unknown loss": (lambda: _fit(loss="cross_entropy"), ValueError,
                     r"unknown loss 'cross_entropy'; known losses: " + ", ".join(KNOWN_LOSSES)),
    "unknown loss in loss_and_backward": (lambda: _net().loss_and_backward(X10, y10, "hinge"), ValueError,
                                          r"unknown loss 'hinge'"),
    "loss of a wrong type": (lambda: losses.get_loss(len), TypeError, r"loss must be a name such as 'mse'"),
    "unknown init": (lambda: init_weights(2, 2, "glorot"), ValueError,
                     r"unknown init 'glorot'; use 'he', 'xavier' or 'zeros'"),
    # ---- learning rates and other hyper-parameters
    "SGD eta 0": (lambda: SGD(0), ValueError, r"eta must be > 0, got 0"),
    "SGD eta negative": (lambda: SGD(-0.1), ValueError, r"eta must be > 0, got -0\.1"),
    "SGD eta nan": (lambda: SGD(float("nan")), ValueError, r"eta must be finite, got nan"),
    "SGD eta string": (lambda: SGD("0.1"), TypeError, r"eta must be a number, got '0\.1' of type str"),
    "SGD eta bool": (lambda: SGD(True), TypeError, r"eta must be a number, got True"),
    "fit eta 0": (lambda: _fit(eta=0.0), ValueError, r"eta must be > 0, got 0\.0"),
    "fit eta negative": (lambda: _fit(eta=-1), ValueError, r"eta must be > 0, got -1"),
    "Perceptron eta 0": (lambda: Perceptron(eta=0), ValueError, r"eta must be > 0, got 0"),
    "perceptron_update eta": (lambda: perceptron_update(np.zeros(2), 0.0, np.ones(2), 1, eta=-2.0), ValueError,
                              r"eta must be > 0, got -2\.0"),
    "momentum 1": (lambda: SGD(0.1, momentum=1.0), ValueError, r"momentum must be in \[0, 1\), got 1\.0"),
    "alpha negative": (lambda: act.leaky_relu([1.0], alpha=-0.1), ValueError, r"alpha must be >= 0, got -0\.1"),
    "fit epochs 0": (lambda: _fit(epochs=0), ValueError, r"epochs must be > 0, got 0"),
    "fit batch_size float": (lambda: _fit(batch_size=2.5), TypeError, r"batch_size must be an integer, got 2\.5"),
    "fit eta and optimizer": (lambda: _fit(optimizer=SGD(0.1)), ValueError, r"exactly one of eta .* or optimizer"),
    "fit neither eta nor optimizer": (lambda: _fit(eta=None), ValueError, r"exactly one of eta"),
    "fit optimizer without step": (lambda: _fit(eta=None, optimizer=object()), TypeError,
                                   r"optimizer must have a step\(params, grads\) method, got object"),
    "fit min_delta": (lambda: _fit(min_delta=-1.0, validation_fraction=0.2), ValueError, r"min_delta must be >= 0"),
    "Perceptron max_epochs": (lambda: Perceptron(max_epochs=0), ValueError, r"max_epochs must be > 0, got 0"),
    "firing rate width": (lambda: firing_rate([0.0], width=0.0), ValueError, r"width must be > 0, got 0\.0"),
    # ---- empty arrays
    "empty softmax": (lambda: act.softmax([]), ValueError, r"z is empty \(shape \(0,\)\)"),
    "empty mse": (lambda: losses.mse([], []), ValueError, r"y_hat is empty"),
    "empty labels": (lambda: losses.one_hot([]), ValueError, r"labels is empty"),
    "empty batch to Dense": (lambda: Dense(3, 2).forward(np.zeros((0, 3))), ValueError,
                             r"X is empty \(shape \(0, 3\)\)"),
    "empty fit": (lambda: _fit(X=np.zeros((0, 2)), y=np.zeros(0)), ValueError, r"X is empty"),
    "empty roc": (lambda: metrics.roc_curve([], []), ValueError, r"scores is empty"),
    "empty accuracy": (lambda: metrics.accuracy([], []), ValueError, r"zero predictions"),
    # ---- layers and networks
    "1-D X to Dense": (lambda: Dense(1, 1).forward(np.arange(5.0)), ValueError,
                       r"X must be 2-D, shape \(N, n_in\), got shape \(5,\) \(for a single feature use X\[:, None\]"),
    "1-D X to fit": (lambda: fit(Dense(1, 1), "mse", np.arange(5.0), np.arange(5.0), eta=0.1), ValueError,
                     r"got shape \(5,\) \(for a single feature use X\[:, None\]"),
    "3-D X to Dense": (lambda: Dense(2, 1).forward(np.zeros((2, 2, 2))), ValueError, r"got shape \(2, 2, 2\)$"),
    "wrong number of features": (lambda: Dense(3, 2).forward(np.ones((4, 5))), ValueError,
                                 r"A has shape \(2, 3\) but X has 5 features \(X\.shape = \(4, 5\)\); expected 3"),
    "wrong number of features, functional": (lambda: dense_forward(np.ones((4, 2)), np.ones((2, 3)), None),
                                             ValueError, r"A has shape \(2, 3\) but X has 2 features"),
    "wrong number of features in a network": (lambda: _net().predict(np.ones((4, 5))), ValueError,
                                              r"A has shape \(3, 2\) but X has 5 features"),
    "bias shape": (lambda: dense_forward(np.ones((4, 3)), np.ones((2, 3)), np.zeros(3)), ValueError,
                   r"b has shape \(3,\) but A has shape \(2, 3\); expected b of shape \(2,\)"),
    "grad_out shape": (lambda: _backward_with((4, 3)), ValueError,
                       r"grad_out has shape \(4, 3\) but the layer's output has shape \(4, 2\)"),
    "softmax_backward shapes": (lambda: act.softmax_backward(np.zeros((2, 3)), np.zeros((2, 2))), ValueError,
                                r"grad_out has shape \(2, 2\) but z has shape \(2, 3\)"),
    "softmax of a scalar": (lambda: act.softmax(1.0), ValueError, r"at least a 1-D array"),
    "softmax axis": (lambda: act.softmax(np.zeros((2, 3)), axis=2), ValueError,
                     r"axis 2 is out of range for z of shape \(2, 3\)"),
    "Dense n_in 0": (lambda: Dense(0, 3), ValueError, r"n_in must be a positive integer, got 0"),
    "Dense n_out float": (lambda: Dense(2, 1.5), ValueError, r"n_out must be a positive integer, got 1\.5"),
    "Dense dtype": (lambda: Dense(2, 2, dtype=np.int32), TypeError, r"dtype must be float32 or float64, got int32"),
    "Sequential widths": (lambda: Sequential([Dense(2, 4), Dense(3, 1)]), ValueError,
                          r"layer 0 \(Dense\(2, 4, 'identity'\)\) has 4 outputs but layer 1 "
                          r"\(Dense\(3, 1, 'identity'\)\) expects 3 inputs"),
    "Sequential widths, later layer": (lambda: Sequential([Dense(2, 4), Dense(4, 5), Dense(3, 1)]), ValueError,
                                       r"layer 1 .* has 5 outputs but layer 2 .* expects 3 inputs"),
    "empty Sequential": (lambda: Sequential([]), ValueError, r"at least one layer"),
    "mlp with one size": (lambda: mlp([3]), ValueError, r"at least an input and an output width, got \[3\]"),
    "targets of the wrong shape": (lambda: _net().loss_and_backward(X10, np.zeros((10, 2)), "mse"), ValueError,
                                   r"the network outputs shape \(10, 1\) but y has shape \(10, 2\)"),
    "set_weights count": (lambda: _net().set_weights([np.zeros((3, 2))]), ValueError, r"expected 4 arrays, got 1"),
    "set_weights shape": (lambda: _net().set_weights([np.zeros((2, 3)), np.zeros(3), np.zeros((1, 3)), np.zeros(1)]),
                          ValueError, r"weight 0 has shape \(2, 3\), expected \(3, 2\)"),
    # ---- fit: data and validation
    "fit sample counts": (lambda: _fit(y=np.zeros(9)), ValueError,
                          r"X has 10 samples \(rows\) but y has shape \(9,\)"),
    "validation_fraction 1.5": (lambda: _fit(validation_fraction=1.5), ValueError,
                                r"validation_fraction must be a number between 0 and 1, got 1\.5"),
    "validation_fraction 0": (lambda: _fit(validation_fraction=0.0), ValueError,
                              r"validation_fraction must be a number between 0 and 1, got 0\.0"),
    "validation_fraction 1": (lambda: _fit(validation_fraction=1), ValueError, r"between 0 and 1, got 1"),
    "validation_fraction negative": (lambda: _fit(validation_fraction=-0.2), ValueError, r"got -0\.2"),
    "validation_fraction string": (lambda: _fit(validation_fraction="0.2"), ValueError, r"got '0\.2'"),
    "validation_fraction too small": (lambda: _fit(validation_fraction=0.01), ValueError,
                                      r"validation_fraction=0\.01 of 10 samples leaves 0 for validation and 10 "
                                      r"for training; both need at least one"),
    "split sample counts": (lambda: train_validation_split(X10, np.zeros(3), 0.5), ValueError,
                            r"X has 10 samples but y has 3"),
    "patience without validation": (lambda: _fit(patience=3), ValueError,
                                     r"early stopping \(patience\) needs validation_data or validation_fraction"),
    "patience 0": (lambda: _fit(patience=0, validation_fraction=0.2), ValueError, r"patience must be > 0, got 0"),
    "validation both ways": (lambda: _fit(validation_data=(X10, y10), validation_fraction=0.2), ValueError,
                             r"validation_data or validation_fraction, not both"),
    "validation_data not a pair": (lambda: _fit(validation_data=X10), TypeError,
                                   r"validation_data must be a pair \(X_val, y_val\)"),
    "validation sample counts": (lambda: _fit(validation_data=(X10, np.zeros(4))), ValueError,
                                 r"X_val has 10 samples but y_val has shape \(4,\)"),
    "seed of a wrong type": (lambda: _fit(seed="0"), TypeError,
                             r"seed must be None, an int or a numpy.random.Generator, got str"),
    # ---- perceptron
    "perceptron labels": (lambda: Perceptron().fit(X10, np.full(10, 2)), ValueError,
                          r"y must contain only the labels 0 and 1, found \[2\.0\]"),
    "perceptron sample counts": (lambda: Perceptron().fit(X10, np.zeros(4)), ValueError,
                                 r"X has 10 samples but y has 4 labels"),
    "perceptron_update label": (lambda: perceptron_update(np.zeros(2), 0.0, np.ones(2), 2), ValueError,
                                r"y must be 0 or 1, got 2"),
    "perceptron_update shapes": (lambda: perceptron_update(np.zeros(2), 0.0, np.ones(3), 1), ValueError,
                                 r"A has shape \(2,\) but x has shape \(3,\)"),
    # ---- gradcheck and metrics
    "relative_error shapes": (lambda: gradcheck.relative_error(np.zeros(2), np.zeros(3)), ValueError,
                              r"cannot compare gradients of shapes \(2,\) and \(3,\)"),
    "check_gradient shapes": (lambda: gradcheck.check_gradient(np.sum, lambda x: x[:1], np.zeros(3)), ValueError,
                              r"grad_f returned shape \(1,\), expected \(3,\)"),
    "roc one class": (lambda: metrics.roc_curve([0.1, 0.2], [1, 1]), ValueError, r"needs both classes"),
    "roc labels": (lambda: metrics.roc_curve([0.1, 0.2], [0, 2]), ValueError, r"found \[2\.0\]"),
    "roc shapes": (lambda: metrics.roc_curve([0.1, 0.2, 0.3], [0, 1]), ValueError,
                   r"scores has 3 entries but y has 2"),
    "auc shapes": (lambda: metrics.auc([0.0, 1.0], [0.0, 0.5, 1.0]), ValueError,
                   r"fpr has shape \(2,\) but tpr has shape \(3,\)"),
    "accuracy shapes": (lambda: metrics.accuracy([1, 0], [1, 0, 1]), ValueError, r"y_pred has 2 entries but y has 3"),
    # ---- data
    "n 0": (lambda: data.two_moons(0), ValueError, r"n must be > 0, got 0"),
    "n float": (lambda: data.xor(10.5), TypeError, r"n must be an integer, got 10\.5"),
    "xor n 3": (lambda: data.xor(3), ValueError, r"n must be at least 4, one sample for each corner .* got 3"),
    "n 1 for two classes": (lambda: data.linearly_separable(1), ValueError, r"n must be at least 2, got 1"),
    "margin too wide": (lambda: data.linearly_separable(10, margin=3.0), ValueError,
                        r"margin must be below 3 .* got 3\.0"),
    "negative noise": (lambda: data.km_to_miles(noise=-0.5), ValueError, r"noise must be >= 0, got -0\.5"),
    "circles factor": (lambda: data.circles(factor=1.5), ValueError, r"factor must be between 0 and 1, got 1\.5"),
    "signal fraction": (lambda: data.signal_background(signal_fraction=1.0), ValueError,
                        r"signal_fraction must be between 0 and 1, got 1\.0"),
    "x_range": (lambda: data.nonlinear_1d(x_range=(2.0, -2.0)), ValueError,
                r"x_range must be \(low, high\) with low < high, got \(2\.0, -2\.0\)"),
    "blobs centres": (lambda: data.blobs(centers=np.zeros(3)), ValueError, r"got shape \(3,\)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_raises_a_helpful_error(case):
    call, exception, pattern = CASES[case]
    with pytest.raises(exception, match=pattern):
        call()


def test_error_types_are_exactly_value_or_type_errors():
    """No AssertionError (vanishes under python -O) or IndexError leaks through."""
    for case, (call, exception, _) in CASES.items():
        try:
            call()
        except Exception as exc:  # noqa: BLE001
            assert type(exc) in (ValueError, TypeError), f"{case}: {type(exc).__name__}"
        else:
            raise AssertionError(f"{case}: did not raise")


def test_unknown_names_list_every_known_one():
    with pytest.raises(ValueError) as info:
        act.get_activation("gelu")
    for name in act.ACTIVATIONS:
        assert re.search(rf"\b{name}\b", str(info.value)), name
    with pytest.raises(ValueError) as info:
        losses.get_loss("hinge")
    for name in losses.LOSSES:
        assert name in str(info.value)


def test_elementwise_activations_accept_empty_arrays():
    """Unlike softmax, elementwise functions have a natural answer for no input."""
    for name in ["step", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu"]:
        assert getattr(act, name)(np.zeros((0, 3))).shape == (0, 3)
