"""Wrong and honest submissions of homework 4 (the perceptron), for tests/test_grading_scores.py."""

ASSIGNMENT = "04-perceptron"
NOTEBOOK = "perceptron"

MUTANTS = [
    dict(name="updates_when_correct",
         why="the weights move on every sample, also when the prediction is right (with t = 2y - 1)",
         replace=[("error = y - y_hat\n    return A + eta * error * x, float(b + eta * error), bool(error != 0)",
                   "t = 2 * y - 1\n    return A + eta * t * x, float(b + eta * t), bool(y != y_hat)")],
         fails={"test_perceptron_update_values", "test_perceptron_update_hidden", "test_train_perceptron_values",
                "test_train_perceptron_hidden", "test_pocket_separable", "test_pocket_hidden"}),
    dict(name="strict_step",
         why="the step taken as H(0) = 0 (> instead of >=): zero weights predict 0",
         replace=[("y_hat = 1 if A @ x + b >= 0 else 0", "y_hat = 1 if A @ x + b > 0 else 0")],
         fails={"test_perceptron_update_values", "test_train_perceptron_hidden"}),
    dict(name="in_place_update",
         why="A updated in place with +=, which changes the caller's array",
         replace=[("return A + eta * error * x, float(b + eta * error), bool(error != 0)",
                   "A += eta * error * x\n    return A, float(b + eta * error), bool(error != 0)")],
         fails={"test_perceptron_update_pure"}),
    dict(name="stops_before_clean_epoch",
         why="the clean last epoch is not recorded: the loop breaks before appending its count of 0",
         replace=[("mistakes.append(count)\n        if count == 0:\n            break",
                   "if count == 0:\n            break\n        mistakes.append(count)")],
         fails={"test_train_perceptron_values", "test_train_perceptron_hidden"}),
    dict(name="one_epoch_short",
         why="an off-by-one in the epoch loop: at most max_epochs - 1 epochs run",
         replace=[("for epoch in range(max_epochs):", "for epoch in range(max_epochs - 1):")],
         fails={"test_train_perceptron_max_epochs", "test_train_perceptron_hidden"}),
    dict(name="pocket_keeps_last",
         why="the pocket returns the last weights instead of the best ones",
         replace=[("return best_A, best_b", "return A, b")],
         fails={"test_pocket_hidden"}),
    dict(name="gamma_not_unit_vector",
         why="the margin measured with (w, c) without normalising it to a unit vector",
         replace=[("w_star = w_star / np.linalg.norm(w_star)\n", "")],
         fails={"test_novikoff_values", "test_novikoff_hidden"}),
]

HONEST = [
    dict(name="three_cases",
         why="the rule written as the book's three cases with if/elif, and the epochs as a while loop",
         replace=[("y_hat = 1 if A @ x + b >= 0 else 0\n    error = y - y_hat\n"
                   "    return A + eta * error * x, float(b + eta * error), bool(error != 0)",
                   "z = float(np.dot(A, x)) + b\n    if y == 1 and z < 0:\n        return A + eta * x, float(b + eta), True\n"
                   "    elif y == 0 and z >= 0:\n        return A - eta * x, float(b - eta), True\n"
                   "    return A.copy(), float(b), False"),
                  ("for epoch in range(max_epochs):\n        count = 0\n        for x_n, y_n in zip(X, y):\n"
                   "            A, b, mistake = perceptron_update(A, b, x_n, int(y_n), eta)\n"
                   "            count += int(mistake)\n        mistakes.append(count)\n        if count == 0:\n            break",
                   "while len(mistakes) < max_epochs:\n        count = 0\n        for n in range(len(X)):\n"
                   "            A, b, mistake = perceptron_update(A, b, X[n], int(y[n]), eta)\n"
                   "            count += mistake\n        mistakes.append(int(count))\n        if count == 0:\n            break")]),
    dict(name="pocket_every_update",
         why="the pocket checked after every update, and the bound with explicit loops",
         replace=[("count += int(mistake)\n        acc = accuracy(predict(A, b, X), y)\n        if acc > best_acc:\n"
                   "            best_A, best_b, best_acc = A.copy(), b, acc",
                   "count += int(mistake)\n            if mistake:\n                acc = accuracy(predict(A, b, X), y)\n"
                   "                if acc > best_acc:\n                    best_A, best_b, best_acc = A.copy(), b, acc"),
                  ("R = np.max(np.linalg.norm(X_aug, axis=1))\n    gamma = np.min((2 * y - 1) * (X_aug @ w_star))",
                   "R = max(float(np.sqrt(row @ row)) for row in X_aug)\n"
                   "    gamma = min((1 if y_n == 1 else -1) * float(row @ w_star) for row, y_n in zip(X_aug, y))")]),
]
