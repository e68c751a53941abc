"""Wrong and honest submissions of homework 2 (the strawman), for tests/test_grading_scores.py."""

ASSIGNMENT = "02-strawman"
NOTEBOOK = "strawman"

MUTANTS = [
    dict(name="loss_sum_not_mean",
         why="the error summed over the pairs instead of averaged: the 1/N is missing",
         replace=[("return float(np.mean(0.5 * residual ** 2))", "return float(np.sum(0.5 * residual ** 2))")],
         fails={"test_strawman_loss_values", "test_strawman_loss_hidden"}),
    dict(name="loss_without_half",
         why="the mean squared error without the factor 1/2 of nnlib's convention",
         replace=[("np.mean(0.5 * residual ** 2)", "np.mean(residual ** 2)")],
         fails={"test_strawman_loss_values", "test_strawman_loss_hidden"}),
    dict(name="gradient_sign",
         why="the derivative with the wrong sign (miles - c km instead of c km - miles): descent climbs",
         replace=[("residual = c * km - np.asarray(miles, dtype=float)\n    return float(np.mean(residual * km))",
                   "residual = np.asarray(miles, dtype=float) - c * km\n    return float(np.mean(residual * km))")],
         fails={"test_strawman_gradient_values", "test_strawman_gradient_hidden",
                "test_iterate_values", "test_iterate_hidden"}),
    dict(name="iterate_off_by_one",
         why="the history without the starting value c_0: n_steps entries instead of n_steps + 1",
         replace=[("return np.array(history)", "return np.array(history[1:])")],
         fails={"test_iterate_values", "test_iterate_hidden"}),
    dict(name="huber_gradient_unclipped",
         why="the Huber derivative written as the squared-error derivative: the residual is not clipped at delta",
         replace=[("np.mean(np.clip(r, -delta, delta) * km)", "np.mean(r * km)")],
         fails={"test_huber_gradient_gradcheck", "test_huber_hidden"}),
    dict(name="fit_fixed_eta",
         why="a learning rate tuned to the book's data (distances up to 100 km) that diverges or crawls on others",
         replace=[("eta = 1.0 / np.mean(km ** 2)  # half the stability limit 2 / <km^2>", "eta = 1e-4")],
         fails={"test_fit_conversion_hidden"}),
    dict(name="fit_by_closed_form",
         why="c from the least-squares closed form <km miles> / <km^2> instead of training with nnlib.fit",
         replace=[("model = nnlib.Sequential([nnlib.Dense(1, 1, bias=False, init=\"zeros\")])\n"
                   "    eta = 1.0 / np.mean(km ** 2)  # half the stability limit 2 / <km^2>\n"
                   "    nnlib.fit(model, \"mse\", km[:, None], miles, epochs=20, batch_size=km.size, eta=eta, seed=seed)\n"
                   "    return model.layers[0].A.item()",
                   "return float(np.mean(km * np.asarray(miles)) / np.mean(km ** 2))")],
         fails={"test_fit_conversion_book_data", "test_fit_conversion_hidden"}),
]

HONEST = [
    dict(name="loops",
         why="the error and its derivative as explicit loops over the pairs",
         replace=[("residual = predict_miles(km, c) - np.asarray(miles, dtype=float)\n    return float(np.mean(0.5 * residual ** 2))",
                   "total = 0.0\n    for k, m in zip(np.ravel(km), np.ravel(miles)):\n        total += 0.5 * (c * k - m) ** 2\n    return total / len(np.ravel(km))"),
                  ("return float(np.mean(residual * km))",
                   "total = 0.0\n    for r_n, k in zip(residual, km):\n        total += r_n * k\n    return float(total / len(km))")]),
    dict(name="closed_form_gradient",
         why="the derivative as <km^2> c - <km miles>, and the history preallocated",
         replace=[("return float(np.mean(residual * km))",
                   "return float(c * np.mean(km ** 2) - np.mean(km * np.asarray(miles, dtype=float)))"),
                  ("history = [float(c0)]\n    for _ in range(n_steps):\n        history.append(history[-1] - eta * strawman_gradient(history[-1], km, miles))\n    return np.array(history)",
                   "history = np.empty(n_steps + 1)\n    history[0] = c0\n    for t in range(n_steps):\n        history[t + 1] = history[t] - eta * strawman_gradient(history[t], km, miles)\n    return history")]),
    dict(name="fit_by_keywords",
         why="nnlib.fit called with keyword arguments on a bare Dense layer, the weight read from parameters()",
         replace=[("model = nnlib.Sequential([nnlib.Dense(1, 1, bias=False, init=\"zeros\")])",
                   "model = nnlib.Dense(1, 1, bias=False, init=\"zeros\")"),
                  ("nnlib.fit(model, \"mse\", km[:, None], miles, epochs=20, batch_size=km.size, eta=eta, seed=seed)\n"
                   "    return model.layers[0].A.item()",
                   "nnlib.fit(model=model, loss=\"mse\", X=km[:, None], y=miles, epochs=20, batch_size=km.size,\n"
                   "              eta=eta, seed=seed)\n    return float(model.parameters()[0][0, 0])")]),
    dict(name="minibatch_sgd",
         why="nnlib.fit with shuffled minibatches of 8, a smaller learning rate and more epochs",
         replace=[("nnlib.fit(model, \"mse\", km[:, None], miles, epochs=20, batch_size=km.size, eta=eta, seed=seed)",
                   "nnlib.fit(model, \"mse\", km[:, None], miles, epochs=60, batch_size=8, eta=0.2 * eta, seed=seed)")]),
]
