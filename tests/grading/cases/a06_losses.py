"""Homework 6, loss functions: submissions the autograder must tell apart.

Every replacement acts on the solution code of solutions/06-losses/losses.ipynb (the text
between the solution markers). ``fails`` is the exact set of test cells that must lose points.
"""

ASSIGNMENT = "06-losses"
NOTEBOOK = "losses"

MUTANTS = [
    dict(name="mse_from_nnlib",
         why="mse handed to nnlib.losses.mse, which part A re-implements",
         replace=[("return float(0.5 * np.sum(d ** 2) / y_hat.shape[0])", "return losses.mse(y_hat, y)")],
         fails={"test_mse_values", "test_mse_hidden", "test_mse_gradient_values"}),
    dict(name="softmax_ce_shifts_in_place",
         why="the loss subtracts the row maxima from z in place: right value, but the caller's logits change",
         replace=[("m = np.max(z, axis=1)\n    log_sum_exp = m + np.log(np.sum(np.exp(z - m[:, None]), axis=1))\n"
                   "    return float(np.sum(log_sum_exp - z[np.arange(n), y]) / n)",
                   "z = np.asarray(z)\n    m = np.max(z, axis=1)\n    z -= m[:, None]\n"
                   "    log_sum_exp = np.log(np.sum(np.exp(z), axis=1))\n"
                   "    return float(np.sum(log_sum_exp - z[np.arange(n), y]) / n)")],
         fails={"test_softmax_ce_hidden", "test_softmax_ce_gradient_values"}),
    dict(name="mse_gradient_in_place",
         why="the gradient computed in the caller's y_hat (y_hat -= y; y_hat /= N): right values, "
             "but the predictions are overwritten",
         replace=[("return (y_hat - np.asarray(y, dtype=float)) / y_hat.shape[0]",
                   "y_hat -= np.asarray(y, dtype=float)\n    y_hat /= y_hat.shape[0]\n    return y_hat")],
         fails={"test_mse_gradient_values", "test_mse_gradient_hidden"}),
    dict(name="bce_clips_in_place",
         why="the cross-entropy and its gradient clip the caller's p in place (np.clip(..., out=p)): only "
             "visible where p holds 0 or 1",
         replace=[("p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)\n    y = np.asarray(y, dtype=float)\n"
                   "    return float(",
                   "p = np.asarray(p, dtype=float)\n    np.clip(p, eps, 1 - eps, out=p)\n"
                   "    y = np.asarray(y, dtype=float)\n    return float("),
                  ("p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)\n    y = np.asarray(y, dtype=float)\n"
                   "    return (p - y)",
                   "p = np.asarray(p, dtype=float)\n    np.clip(p, eps, 1 - eps, out=p)\n"
                   "    y = np.asarray(y, dtype=float)\n    return (p - y)")],
         fails={"test_bce_clipping"}),
    dict(name="softmax_ce_gradient_in_place",
         why="the gradient shifts the caller's logits in place (z -= max) before the softmax",
         replace=[("e = np.exp(z - np.max(z, axis=1, keepdims=True))",
                   "z -= np.max(z, axis=1, keepdims=True)\n    e = np.exp(z)")],
         fails={"test_softmax_ce_gradient_values", "test_softmax_ce_gradient_hidden"}),
    dict(name="softmax_ce_loss_of_shape_1",
         why="the loss returned as an array of shape (1,) instead of a number",
         replace=[("return float(np.sum(log_sum_exp - z[np.arange(n), y]) / n)",
                   "return np.atleast_1d(np.sum(log_sum_exp - z[np.arange(n), y]) / n)")],
         fails={"test_softmax_ce_values", "test_softmax_ce_hidden", "test_softmax_ce_stable"}),
    dict(name="mse_gradient_without_1_over_n",
         why="the gradient of the mean squared error without the 1/N of the mean",
         replace=[("return (y_hat - np.asarray(y, dtype=float)) / y_hat.shape[0]",
                   "return y_hat - np.asarray(y, dtype=float)")],
         fails={"test_mse_gradient_values", "test_mse_gradient_hidden"}),
    dict(name="mse_without_half",
         why="the squared error without the factor 1/2, while the gradient keeps the convention",
         replace=[("0.5 * np.sum(d ** 2)", "np.sum(d ** 2)")],
         fails={"test_mse_values", "test_mse_hidden", "test_mse_gradient_values"}),
    dict(name="mse_mean_over_all_entries",
         why="the squared error averaged over all N*K entries (scikit-learn's convention) instead of "
             "summed over the outputs and averaged over the N rows",
         replace=[("np.sum(d ** 2) / y_hat.shape[0]", "np.sum(d ** 2) / d.size")],
         fails={"test_mse_values", "test_mse_hidden", "test_mse_gradient_values"}),
    dict(name="bce_gradient_sign",
         why="the cross-entropy gradient with the sign flipped, (y - p) instead of (p - y)",
         replace=[("return (p - y) / (p * (1 - p)) / p.shape[0]", "return (y - p) / (p * (1 - p)) / p.shape[0]")],
         fails={"test_bce_gradient_values", "test_bce_gradient_hidden", "test_bce_clipping"}),
    dict(name="bce_without_clipping",
         why="the cross-entropy without clipping p: log(0) for a saturated output",
         replace=[("p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)\n"
                   "    y = np.asarray(y, dtype=float)\n"
                   "    return float(",
                   "p = np.asarray(p, dtype=float)\n"
                   "    y = np.asarray(y, dtype=float)\n"
                   "    return float(")],
         fails={"test_bce_clipping"}),
    dict(name="softmax_ce_gradient_without_1_over_n",
         why="softmax minus one-hot, but not divided by N",
         replace=[("return s / n", "return s")],
         fails={"test_softmax_ce_gradient_values", "test_softmax_ce_gradient_hidden"}),
    dict(name="softmax_ce_without_max_shift",
         why="log-sum-exp without subtracting the row maximum: exp(1000) overflows",
         replace=[("log_sum_exp = m + np.log(np.sum(np.exp(z - m[:, None]), axis=1))",
                   "log_sum_exp = np.log(np.sum(np.exp(z), axis=1))")],
         fails={"test_softmax_ce_stable"}),
    dict(name="focal_gradient_gamma_term_forgotten",
         why="the focal factor (1 - p)^gamma treated as a constant when differentiating",
         replace=[("gamma * p * (1 - p) ** gamma * log_p - (1 - p) ** (gamma + 1)", "-(1 - p) ** (gamma + 1)"),
                  ("p ** (gamma + 1) - gamma * (1 - p) * p ** gamma * log_q", "p ** (gamma + 1)")],
         fails={"test_focal_loss_gradient"}),
    dict(name="focal_log_of_probability",
         why="the focal loss with log(p) and log(1 - p) of the probabilities: log(0) at |z| = 1000",
         replace=[("log_p = -(np.maximum(-z, 0) + tail)       # log sigma(z) = -softplus(-z)", "log_p = np.log(p)"),
                  ("log_q = -(np.maximum(z, 0) + tail)        # log(1 - sigma(z)) = -softplus(z)",
                   "log_q = np.log(1 - p)")],
         fails={"test_focal_loss_values"}),
    dict(name="logreg_probability_loss_on_logits",
         why="logistic regression trained with the probability loss binary_cross_entropy on the "
             "identity output (nnlib refuses logits outside [0, 1])",
         replace=[('"binary_cross_entropy_with_logits", X, y', '"binary_cross_entropy", X, y')],
         fails={"test_logistic_regression_accuracy", "test_logistic_regression_boundary"}),
    dict(name="logreg_barely_trained",
         why="one epoch with a tiny learning rate: the model has hardly moved from its random start",
         replace=[("epochs=100, batch_size=16, eta=0.5", "epochs=1, batch_size=16, eta=0.001")],
         fails={"test_logistic_regression_accuracy", "test_logistic_regression_boundary"}),
    dict(name="logreg_weights_by_hand",
         why="the boundary written into the model from the class means, without training it with nnlib.fit",
         replace=[("nnlib.fit(model, \"binary_cross_entropy_with_logits\", X, y, epochs=100, batch_size=16, eta=0.5, seed=seed)",
                   "m1, m0 = X[y == 1].mean(axis=0), X[y == 0].mean(axis=0)\n"
                   "    model.layers[0].A[0] = 10.0 * (m1 - m0)\n"
                   "    model.layers[0].b[0] = -10.0 * (m1 - m0) @ (m1 + m0) / 2")],
         fails={"test_logistic_regression_accuracy", "test_logistic_regression_boundary"}),
]

HONEST = [
    dict(name="other_formulas",
         why="mse as a mean of per-row sums, the cross-entropy gradient as -y/p + (1 - y)/(1 - p), "
             "log-sum-exp with np.logaddexp.reduce, the softmax gradient with nnlib's softmax and "
             "one_hot, the focal logarithms with np.logaddexp",
         replace=[
             ("return float(0.5 * np.sum(d ** 2) / y_hat.shape[0])",
              "return float(0.5 * np.mean(np.sum(d.reshape(len(d), -1) ** 2, axis=1)))"),
             ("return (p - y) / (p * (1 - p)) / p.shape[0]", "return (-y / p + (1 - y) / (1 - p)) / len(p)"),
             ("m = np.max(z, axis=1)\n"
              "    log_sum_exp = m + np.log(np.sum(np.exp(z - m[:, None]), axis=1))",
              "log_sum_exp = np.logaddexp.reduce(z, axis=1)"),
             ("e = np.exp(z - np.max(z, axis=1, keepdims=True))\n"
              "    s = e / np.sum(e, axis=1, keepdims=True)     # a new array: safe to change\n"
              "    s[np.arange(n), y] -= 1.0\n"
              "    return s / n",
              "return (softmax(z) - losses.one_hot(y, z.shape[1])) / n"),
             ("log_p = -(np.maximum(-z, 0) + tail)       # log sigma(z) = -softplus(-z)",
              "log_p = -np.logaddexp(0.0, -z)"),
             ("log_q = -(np.maximum(z, 0) + tail)        # log(1 - sigma(z)) = -softplus(z)",
              "log_q = -np.logaddexp(0.0, z)"),
         ]),
    dict(name="full_batch_training_other_seed",
         why="logistic regression by full-batch gradient descent (batch_size = N), more epochs, "
             "a larger eta and a different seed for the reshuffling",
         replace=[("nnlib.fit(model, \"binary_cross_entropy_with_logits\", X, y, epochs=100, batch_size=16, eta=0.5, seed=seed)",
                   "nnlib.fit(model, \"binary_cross_entropy_with_logits\", X, y, epochs=300, batch_size=len(X),\n"
                   "              eta=2.0, seed=seed + 1)")]),
]
