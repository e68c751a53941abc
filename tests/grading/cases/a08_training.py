"""Homework 8, training and validation: submissions the autograder must tell apart.

Every replacement acts on the solution code of solutions/08-training/training.ipynb (the text
between the solution markers). ``fails`` is the exact set of test cells that must lose points.
``train`` calls ``minibatch_indices``, so a mistake in the batches also costs points there.
"""

ASSIGNMENT = "08-training"
NOTEBOOK = "training"

_MATCH_FIT = {"test_train_matches_fit", "test_train_matches_fit_hidden"}

MUTANTS = [
    dict(name="same_order_every_epoch",
         why="a new generator from the same seed at every epoch: the data are never reshuffled (and "
             "without the noise of reshuffling the validation loss of the noisy problem keeps falling, "
             "so early stopping never triggers)",
         replace=[("for idx in minibatch_indices(n, batch_size, rng):",
                   "for idx in minibatch_indices(n, batch_size, np.random.default_rng(seed)):")],
         fails=_MATCH_FIT | {"test_train_reshuffles", "test_train_early_stopping"}),
    dict(name="stops_one_epoch_late",
         why="early stopping off by one: waits for more than patience epochs without improvement",
         replace=[("if waited >= patience:", "if waited > patience:")],
         fails=_MATCH_FIT | {"test_train_early_stopping"}),
    dict(name="best_weights_not_restored",
         why="training stops at the right epoch but keeps the last weights instead of the best ones",
         replace=[("model.set_weights(best_weights)\n    return", "return")],
         fails=_MATCH_FIT | {"test_train_early_stopping", "test_train_runs"}),
    dict(name="best_weights_restored_only_on_early_stop",
         why="the best weights put back only when early stopping ends the loop, not after the last epoch",
         replace=[("if waited >= patience:\n            break\n    model.set_weights(best_weights)\n    return",
                   "if waited >= patience:\n            model.set_weights(best_weights)\n            break\n    return")],
         fails={"test_train_runs"}),
    dict(name="train_wraps_fit",
         why="the training loop handed to nnlib.fit, which part A forbids",
         replace=[("rng = np.random.default_rng(seed)\n    n = X.shape[0]\n",
                   "history = nnlib.fit(model, loss, X, y, epochs=epochs, batch_size=batch_size, eta=eta,\n"
                   "                        validation_data=(X_val, y_val), patience=patience, seed=seed)\n"
                   "    return history.train_loss, history.val_loss, history.best_epoch\n"
                   "    rng = np.random.default_rng(seed)\n    n = X.shape[0]\n")],
         fails=_MATCH_FIT | {"test_train_runs", "test_train_early_stopping", "test_train_reshuffles"}),
    dict(name="validation_on_training_data",
         why="the 'validation' loss measured on the training data, which keeps falling",
         replace=[("training.evaluate(model, loss, X_val, y_val)", "training.evaluate(model, loss, X, y)")],
         fails=_MATCH_FIT | {"test_train_early_stopping", "test_train_runs"}),
    dict(name="epoch_loss_weighted_by_batch_size",
         why="every batch loss weighted by batch_size, also the smaller last batch: a wrong epoch mean",
         replace=[("* len(idx)", "* batch_size")],
         fails=_MATCH_FIT),
    dict(name="last_batch_dropped",
         why="the minibatches stop before the incomplete last batch: some samples are never used",
         replace=[("range(0, n, batch_size)", "range(0, n - batch_size + 1, batch_size)")],
         fails=_MATCH_FIT | {"test_minibatch_indices_values", "test_minibatch_indices_hidden",
                             "test_train_reshuffles"}),
    dict(name="l2_gradient_factor_two",
         why="the gradient of lam/2 * A^2 taken as 2 * lam * A",
         replace=[("lam * p if np.ndim(p) == 2", "2 * lam * p if np.ndim(p) == 2")],
         fails={"test_l2_penalty_gradient"}),
    dict(name="l2_penalises_biases",
         why="the penalty includes the biases, while the gradient (correctly) leaves them alone",
         replace=[("for p in params if np.ndim(p) == 2))", "for p in params))")],
         fails={"test_l2_penalty_values", "test_l2_penalty_gradient"}),
    dict(name="signal_linear_classifier",
         why="a linear classifier (no hidden layer): it cannot select a window in m_jj",
         replace=[('nnlib.mlp([4, 16, 16, 1], "relu", seed=seed)', "nnlib.mlp([4, 1], seed=seed)")],
         fails={"test_signal_background_auc", "test_signal_background_other_seeds"}),
    dict(name="signal_not_standardised",
         why="the raw features in GeV fed to the network: the updates diverge or stall",
         replace=[("(X - mean) / std, y, epochs=30", "X, y, epochs=30"),
                  ("model.predict((np.asarray(X_new, dtype=float) - mean) / std)[:, 0]",
                   "model.predict(np.asarray(X_new, dtype=float))[:, 0]")],
         fails={"test_signal_background_auc", "test_signal_background_other_seeds"}),
]

HONEST = [
    dict(name="sgd_object_and_own_validation_loss",
         why="the update with nnlib.SGD, the validation loss from nnlib.losses.get_loss, the best "
             "weights copied from parameters(), minibatches with a while loop",
         replace=[
             ("return [order[start:start + batch_size] for start in range(0, n, batch_size)]",
              "batches, start = [], 0\n"
              "    while start < n:\n"
              "        batches.append(order[start:start + batch_size])\n"
              "        start += batch_size\n"
              "    return batches"),
             ("for p, g in zip(model.parameters(), model.gradients()):\n"
              "                p -= eta * g",
              "optimizer.step(model.parameters(), model.gradients())"),
             ("rng = np.random.default_rng(seed)\n    n = X.shape[0]",
              "rng = np.random.default_rng(seed)\n    optimizer = nnlib.SGD(eta)\n    n = X.shape[0]"),
             ("v = training.evaluate(model, loss, X_val, y_val)",
              "v = float(nnlib.losses.get_loss(loss).function(model.predict(X_val), y_val))"),
             ("best_weights = model.get_weights()", "best_weights = [p.copy() for p in model.parameters()]"),
             ("return float(0.5 * lam * sum(np.sum(p ** 2) for p in params if np.ndim(p) == 2))",
              "total = 0.0\n"
              "    for p in params:\n"
              "        if p.ndim == 2:\n"
              "            total += np.linalg.norm(p) ** 2\n"
              "    return lam * total / 2"),
         ]),
    dict(name="signal_tanh_with_early_stopping",
         why="a tanh network trained by nnlib.fit with early stopping on a held-out fifth of the "
             "training events, another seed, probabilities as scores",
         replace=[
             ('model = nnlib.mlp([4, 16, 16, 1], "relu", seed=seed)\n'
              '    nnlib.fit(model, "binary_cross_entropy_with_logits", (X - mean) / std, y, epochs=30, batch_size=64, eta=0.1,\n'
              '              seed=seed)',
              'model = nnlib.mlp([4, 24, 24, 1], "tanh", seed=seed + 1)\n'
              '    nnlib.fit(model, "binary_cross_entropy_with_logits", (X - mean) / std, y, epochs=60, batch_size=32,\n'
              '              eta=0.05, validation_fraction=0.2, patience=5, seed=seed + 1)'),
             ("return model.predict((np.asarray(X_new, dtype=float) - mean) / std)[:, 0]",
              "return nnlib.activations.sigmoid(model.predict((np.asarray(X_new, dtype=float) - mean) / std))[:, 0]"),
         ]),
    dict(name="signal_wide_network",
         why="a network wide enough that nnlib.fit adds each update inside the matrix product "
             "(NumPy's own gemm, called through ctypes, which the grader must not take for tampering)",
         replace=[
             ('model = nnlib.mlp([4, 16, 16, 1], "relu", seed=seed)',
              'model = nnlib.mlp([4, 128, 128, 1], "relu", seed=seed)'),
         ]),
]
