"""Homework 5, activation functions: submissions the autograder must tell apart.

Every replacement acts on the solution code of solutions/05-activations/activations.ipynb
(the text between the solution markers). ``fails`` is the exact set of test cells that
must lose points.
"""

ASSIGNMENT = "05-activations"
NOTEBOOK = "activations"

MUTANTS = [
    dict(name="sigmoid_derivative_plus",
         why="the sigmoid derivative written as s(1 + s)",
         replace=[("s * (1 - s)", "s * (1 + s)")],
         fails={"test_sigmoid_derivative_values", "test_sigmoid_derivative_hidden"}),
    dict(name="sigmoid_naive",
         why="the textbook 1 / (1 + exp(-z)): right values, but exp(1000) overflows for z = -1000; "
             "softplus_derivative, which calls sigmoid, inherits the overflow",
         replace=[("return np.where(z >= 0, 1 / (1 + e), e / (1 + e))", "return 1 / (1 + np.exp(-z))")],
         fails={"test_sigmoid_stable", "test_softplus_stable"}),
    dict(name="sigmoid_branches_swapped",
         why="the two branches of the stable sigmoid swapped, which computes sigma(-z); the "
             "derivative s(1 - s) is symmetric and survives, softplus' = sigma does not",
         replace=[("np.where(z >= 0, 1 / (1 + e), e / (1 + e))", "np.where(z >= 0, e / (1 + e), 1 / (1 + e))")],
         fails={"test_sigmoid_values", "test_sigmoid_hidden", "test_sigmoid_stable",
                "test_softplus_stable", "test_softplus_gradient"}),
    dict(name="sigmoid_calls_nnlib",
         why="sigmoid returns nnlib's sigmoid instead of computing it; sigmoid_derivative, which "
             "calls it, is caught too",
         replace=[("return np.where(z >= 0, 1 / (1 + e), e / (1 + e))", "return activations.sigmoid(z)")],
         fails={"test_sigmoid_hidden", "test_sigmoid_derivative_hidden"}),
    dict(name="tanh_derivative_no_square",
         why="tanh' written as 1 - tanh(z), the square forgotten",
         replace=[("return 1 - t ** 2", "return 1 - t")],
         fails={"test_tanh_derivative_values", "test_tanh_derivative_hidden"}),
    dict(name="relu_in_place",
         why="ReLU that zeroes the negative entries of its input array in place",
         replace=[("return np.maximum(np.asarray(z, dtype=float), 0.0)",
                   "z = np.asarray(z, dtype=float)\n    z[z < 0] = 0.0\n    return z")],
         fails={"test_relu_values", "test_relu_hidden"}),
    dict(name="gradient_norms_as_a_list",
         why="layer_gradient_norms returns a Python list, not the NumPy array the task asks for "
             "(a bare TypeError from norms > 0 before the test said so)",
         replace=[("return np.array([np.linalg.norm(layer.dA) for layer in model.layers])",
                   "return [float(np.linalg.norm(layer.dA)) for layer in model.layers]")],
         fails={"test_gradient_norms_shape"}),
    dict(name="relu_derivative_one_at_zero",
         why="ReLU'(0) = 1 (z >= 0) against the stated convention ReLU'(0) = 0",
         replace=[("(z > 0).astype(float)", "(z >= 0).astype(float)")],
         fails={"test_relu_derivative_values", "test_relu_derivative_hidden"}),
    dict(name="softmax_no_max_shift",
         why="softmax without subtracting the row maximum: right for small scores, overflows at 1000",
         replace=[("shifted = z - np.max(z, axis=1, keepdims=True)", "shifted = z")],
         fails={"test_softmax_stable"}),
    dict(name="softmax_batch_max_shift",
         why="softmax shifted by the maximum of the whole batch instead of each row's: a row far below it underflows",
         replace=[("shifted = z - np.max(z, axis=1, keepdims=True)", "shifted = z - np.max(z)")],
         fails={"test_softmax_stable"}),
    dict(name="softmax_column_max_shift",
         why="softmax shifted by each column's maximum (axis=0) instead of each row's",
         replace=[("shifted = z - np.max(z, axis=1, keepdims=True)", "shifted = z - np.max(z, axis=0, keepdims=True)")],
         fails={"test_softmax_hidden", "test_softmax_stable"}),
    dict(name="softmax_columns",
         why="softmax normalised over the columns (axis=0) instead of the rows",
         replace=[("np.sum(e, axis=1, keepdims=True)", "np.sum(e, axis=0, keepdims=True)")],
         fails={"test_softmax_values", "test_softmax_hidden", "test_softmax_stable"}),
    dict(name="softplus_naive",
         why="softplus as log(1 + exp(z)): overflows at z = 1000",
         replace=[("return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))", "return np.log(1 + np.exp(z))")],
         fails={"test_softplus_stable"}),
    dict(name="softplus_derivative_wrong",
         why="the derivative of softplus taken as sigma(z)(1 - sigma(z)), the derivative of the sigmoid",
         replace=[("return sigmoid(z)", "return sigmoid_derivative(z)")],
         fails={"test_softplus_stable", "test_softplus_gradient"}),
    dict(name="norms_of_weights",
         why="the norms of the weights layer.A instead of their gradients layer.dA",
         replace=[("np.linalg.norm(layer.dA)", "np.linalg.norm(layer.A)")],
         fails={"test_vanishing_gradients"}),
    dict(name="norms_last_layer_first",
         why="the gradient norms in back-propagation order, last layer first",
         replace=[("for layer in model.layers])", "for layer in reversed(model.layers)])")],
         fails={"test_vanishing_gradients"}),
]

HONEST = [
    dict(name="other_formulas",
         why="sigma(z) = (1 + tanh(z/2))/2, ReLU with np.where, ReLU' with np.heaviside, "
             "tanh' = 1/cosh^2, softplus with np.logaddexp, softplus' = exp(-softplus(-z)), "
             "the norms from model.gradients()",
         replace=[
             ("return np.where(z >= 0, 1 / (1 + e), e / (1 + e))", "return 0.5 * (1 + np.tanh(z / 2))"),
             ("return np.maximum(np.asarray(z, dtype=float), 0.0)",
              "z = np.asarray(z, dtype=float)\n    return np.where(z > 0, z, 0.0)"),
             ("return (z > 0).astype(float)", "return np.heaviside(z, 0.0)"),
             ("t = np.tanh(z)\n    return 1 - t ** 2", "return 1 / np.cosh(z) ** 2"),
             ("return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))", "return np.logaddexp(0.0, z)"),
             ("return sigmoid(z)", "return np.exp(-softplus(-np.asarray(z, dtype=float)))"),
             ("return np.array([np.linalg.norm(layer.dA) for layer in model.layers])",
              "grads = model.gradients()[0::2]   # dA_1, db_1, dA_2, ... -> the dA\n"
              "    return np.array([np.sqrt(np.sum(g ** 2)) for g in grads])"),
         ]),
    dict(name="loop_and_input_dtype",
         why="softmax row by row in a Python loop; sigmoid computed in the input's own dtype "
             "(float32 stays float32)",
         replace=[
             ("shifted = z - np.max(z, axis=1, keepdims=True)\n"
              "    e = np.exp(shifted)\n"
              "    return e / np.sum(e, axis=1, keepdims=True)",
              "out = np.empty_like(z)\n"
              "    for n in range(z.shape[0]):\n"
              "        e = np.exp(z[n] - z[n].max())\n"
              "        out[n] = e / e.sum()\n"
              "    return out"),
             ("z = np.asarray(z, dtype=float)\n    e = np.exp(-np.abs(z))",
              "z = np.asarray(z)  # float32 stays float32\n    e = np.exp(-np.abs(z))"),
         ]),
]
