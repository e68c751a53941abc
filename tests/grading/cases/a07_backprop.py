"""Homework 7, back-propagation: submissions the autograder must tell apart.

Every replacement acts on the solution code of solutions/07-backprop/backprop.ipynb (the text
between the solution markers). ``fails`` is the exact set of test cells that must lose points.
The two-layer network and the residual block reuse ``dense_forward`` / ``dense_backward``, so
a mistake in the dense layer also costs their points.
"""

ASSIGNMENT = "07-backprop"
NOTEBOOK = "backprop"

_USES_DENSE_BACKWARD = {"test_dense_backward_gradcheck", "test_dense_backward_hidden",
                        "test_two_layer_gradcheck", "test_two_layer_hidden", "test_residual_gradcheck"}

MUTANTS = [
    dict(name="backward_without_activation_derivative",
         why="the deltas taken as grad_out itself: the factor tanh'(Z) = 1 - H**2 is missing",
         replace=[("delta = grad_out * (1 - H ** 2)     # dL/dZ: the deltas, (N, n_out)", "delta = grad_out")],
         fails=_USES_DENSE_BACKWARD),
    dict(name="dA_transposed",
         why="dA computed as X.T @ delta, shape (n_in, n_out) instead of A's (n_out, n_in)",
         replace=[("dA = delta.T @ X", "dA = X.T @ delta")],
         fails=_USES_DENSE_BACKWARD | {"test_dense_backward_shapes"}),
    dict(name="db_not_summed_over_batch",
         why="db = delta, one row per sample, instead of the sum over the batch",
         replace=[("db = delta.sum(axis=0)", "db = delta")],
         fails=_USES_DENSE_BACKWARD | {"test_dense_backward_shapes"}),
    dict(name="output_delta_without_1_over_n",
         why="the output deltas y_hat - y without the 1/N of the mean squared error",
         replace=[("delta2 = (y_hat - y) / n", "delta2 = y_hat - y")],
         fails={"test_two_layer_gradcheck", "test_two_layer_hidden"}),
    dict(name="two_layer_from_nnlib_layers",
         why="the network built from nnlib.Dense layers, which the task forbids, instead of the student's own layer",
         replace=[("A1, b1, A2, b2 = params\n    H1, cache1 = dense_forward(X, A1, b1)       # hidden layer (tanh)\n"
                   "    y_hat = H1 @ A2.T + b2                      # output layer (identity)\n",
                   "A1, b1, A2, b2 = params\n    hidden, out = nnlib.Dense(A1.shape[1], A1.shape[0], \"tanh\"), "
                   "nnlib.Dense(A2.shape[1], A2.shape[0])\n"
                   "    hidden.A[...], hidden.b[...], out.A[...], out.b[...] = A1, b1, A2, b2\n"
                   "    H1 = hidden.forward(X)\n    y_hat = out.forward(H1)\n"),
                  ("dA2 = delta2.T @ H1\n    db2 = delta2.sum(axis=0)\n    dH1 = delta2 @ A2                           # back to the hidden layer\n"
                   "    _, dA1, db1 = dense_backward(dH1, cache1)\n",
                   "dH1 = out.backward(delta2)\n    dA2, db2 = out.dA, out.db\n    hidden.backward(dH1)\n"
                   "    dA1, db1 = hidden.dA, hidden.db\n")],
         fails={"test_two_layer_gradcheck", "test_two_layer_hidden"}),
    dict(name="dense_backward_in_place",
         why="the deltas computed in grad_out's own array (grad_out *= 1 - H**2): right formula, but the caller's array changes",
         replace=[("delta = grad_out * (1 - H ** 2)     # dL/dZ: the deltas, (N, n_out)",
                   "delta = grad_out\n    delta *= 1 - H ** 2")],
         # the residual block's dX adds grad_out after dense_backward changed it
         fails={"test_dense_backward_gradcheck", "test_dense_backward_hidden", "test_residual_gradcheck"}),
    dict(name="sgd_from_nnlib",
         why="the step handed to nnlib.SGD on copies of the parameters, which part A forbids",
         replace=[("return [p - eta * g for p, g in zip(params, grads)]",
                   "new = [p.copy() for p in params]\n    optim.SGD(eta).step(new, grads)\n    return new")],
         fails={"test_sgd_step_values", "test_sgd_step_no_in_place"}),
    dict(name="sgd_in_place",
         why="the update p -= eta * g, which overwrites the arrays it was given",
         replace=[("return [p - eta * g for p, g in zip(params, grads)]",
                   "for p, g in zip(params, grads):\n        p -= eta * g\n    return params")],
         fails={"test_sgd_step_no_in_place"}),
    dict(name="sgd_ascent",
         why="gradient ascent: the step goes up the gradient, p + eta * g",
         replace=[("p - eta * g", "p + eta * g")],
         fails={"test_sgd_step_values"}),
    dict(name="residual_gradient_without_skip",
         why="the backward pass of the residual block forgets the skip path's grad_out in dX",
         replace=[("return dX + grad_out, dA, db", "return dX, dA, db")],
         fails={"test_residual_gradcheck"}),
    dict(name="moons_without_hidden_layer",
         why="a linear model (no hidden layer) for the two moons: no straight line separates them",
         replace=[('nnlib.mlp([2, 32, 32, 1], "relu", seed=seed)', "nnlib.mlp([2, 1], seed=seed)")],
         fails={"test_two_moons_accuracy", "test_two_moons_other_seeds"}),
]

HONEST = [
    dict(name="loop_over_samples_cache_Z",
         why="the cache keeps Z (not H) and tanh' is recomputed from it; dA and db accumulated "
             "sample by sample in a Python loop with np.outer; the residual adds X after a copy",
         replace=[
             ("return H, (X, A, H)", "return H, (X, A, Z)"),
             ("X, A, H = cache\n"
              "    delta = grad_out * (1 - H ** 2)     # dL/dZ: the deltas, (N, n_out)\n"
              "    dA = delta.T @ X                    # (n_out, n_in)\n"
              "    db = delta.sum(axis=0)              # (n_out,)",
              "X, A, Z = cache\n"
              "    delta = grad_out / np.cosh(Z) ** 2\n"
              "    dA = np.zeros(A.shape)\n"
              "    db = np.zeros(A.shape[0])\n"
              "    for n in range(X.shape[0]):\n"
              "        dA += np.outer(delta[n], X[n])\n"
              "        db += delta[n]"),
             ("return np.asarray(X, dtype=float) + H, cache", "out = np.array(X, dtype=float)\n    out += H\n    return out, cache"),
         ]),
    dict(name="einsum_and_tanh_moons",
         why="dA with np.einsum, an explicit loop in sgd_step, the output layer via matmul of the "
             "transposes, and a tanh network for the moons with another seed",
         replace=[
             ("dA = delta.T @ X", "dA = np.einsum('ni,nj->ij', delta, X)"),
             ("return [p - eta * g for p, g in zip(params, grads)]",
              "new = []\n    for p, g in zip(params, grads):\n        new.append(np.subtract(p, eta * g))\n    return new"),
             ("y_hat = H1 @ A2.T + b2", "y_hat = (A2 @ H1.T).T + b2"),
             ('model = nnlib.mlp([2, 32, 32, 1], "relu", seed=seed)\n'
              '    nnlib.fit(model, "binary_cross_entropy_with_logits", X, y, epochs=80, batch_size=16, eta=0.1, seed=seed)',
              'model = nnlib.mlp([2, 32, 32, 1], "tanh", seed=seed + 3)\n'
              '    nnlib.fit(model, "binary_cross_entropy_with_logits", X, y, epochs=100, batch_size=32, eta=0.3,\n'
              '              seed=seed + 3)'),
         ]),
]
