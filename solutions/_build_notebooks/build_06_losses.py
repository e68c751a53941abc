"""Write solutions/06-losses/losses.ipynb (homework 6, loss functions).

Run from the repository root:  .venv/bin/python solutions/_build_notebooks/build_06_losses.py
"""

from pathlib import Path

from nbcells import answer, code, markdown, test, write_notebook, written

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "solutions" / "06-losses" / "losses.ipynb"

SQ = "Chapter 6, 'Squared error' (book/06-losses.md)"
CE = "Chapter 6, 'Cross-entropy' (book/06-losses.md)"
PAIR = "Chapter 6, 'Why cross-entropy pairs with sigmoid and softmax' (book/06-losses.md)"
ML = "Chapter 6, 'Maximum likelihood' (book/06-losses.md)"
SOFTMAX = "Chapter 5, 'Softmax' (book/05-activations.md)"
CHECKGRAD = "Chapter 7, 'Checking gradients' (book/07-backprop.md)"

cells = [
    markdown("intro", """
    # Homework 6: Loss functions

    **Read first:** book chapter 6, *Loss functions* (`book/06-losses.md`): the sections
    *Squared error*, *Cross-entropy*, *Why cross-entropy pairs with sigmoid and softmax* and
    *Maximum likelihood*. Part B uses the centred-difference check of chapter 7, *Checking
    gradients* (`book/07-backprop.md`).

    Conventions, the same as in `nnlib.losses`: a batch has $N$ samples, one per row; every loss
    is a **mean over the $N$ samples** and returns a Python `float`; its gradient is taken with
    respect to the loss's first argument (the network's output) and has that argument's shape.

    In this homework you

    * **A** (14 points) implement the squared error, the binary cross-entropy and the softmax
      cross-entropy, with their gradients, numerically stable;
    * **B** (4 points) implement a loss `nnlib` does not have, the *focal loss*, and check its
      gradient with `nnlib.gradcheck`;
    * **C** (3 points) train a logistic regression with `nnlib` and recover the true boundary of
      a data set;
    * **D** (3 points, graded by hand) connect the cross-entropy to maximum likelihood.

    **How to work.** Replace every `# YOUR CODE HERE` / `raise NotImplementedError()` with your
    code; do not change the other cells. In part A write the formulas yourself with NumPy: **do
    not call the `nnlib.losses` functions that part A re-implements** (every test of part A blocks
    them while your code runs; you may use `nnlib.activations.sigmoid` and
    `nnlib.activations.softmax`). Your functions must not modify the arrays they are given.

    **How to check.** Each task is followed by test cells. The visible tests run when you run the
    notebook (*Kernel > Restart & Run All*): a passing cell prints nothing
    (or a line of measured values), a failing one says
    what is wrong and which book section to read. Hidden tests, run at grading time, compare your
    functions with `nnlib.losses` on random batches (while blocking the `nnlib` function you
    re-implement) and train on other data sets in part C. Before you submit, run

        nbgrader validate losses.ipynb

    which runs every cell and reports failing tests. The whole notebook runs in a few seconds.

    | part | task | points |
    |---|---|---|
    | A | `mse`, `mse_gradient` (4), `binary_cross_entropy`, `binary_cross_entropy_gradient` (5), `softmax_cross_entropy`, `softmax_cross_entropy_gradient` (5) | 14 |
    | B | `focal_loss`, `focal_loss_gradient` | 4 |
    | C | `train_logistic_regression` | 3 |
    | D | written answer | 3 |
    """),
    code("setup", """
    import warnings

    import numpy as np

    import nnlib
    from nnlib import losses
    from nnlib.activations import sigmoid, softmax
    from nnlib.gradcheck import check_gradient
    from nnlib.testing import check_calls, check_close, check_shape, check_true, forbid_calls


    def call_checked(func, *args, what, hint, read):
        \"\"\"Call ``func(*args)`` with NumPy's overflow, divide-by-zero and invalid warnings turned into errors.\"\"\"
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with np.errstate(over="raise", divide="raise", invalid="raise"):
                try:
                    return func(*args)
                except (FloatingPointError, RuntimeWarning) as exc:
                    message = f"{what} is not numerically stable: NumPy reported '{exc}'. {hint} Read: {read}."
        raise AssertionError(message)


    # the nnlib functions that part A re-implements: every test of part A blocks them while your code runs
    PART_A_REFERENCES = (losses.mse, losses.mse_gradient, losses._mse_both, losses.binary_cross_entropy,
                         losses.binary_cross_entropy_with_logits,
                         losses.binary_cross_entropy_gradient, losses.binary_cross_entropy_with_logits_gradient,
                         losses.softmax_cross_entropy, losses.softmax_cross_entropy_gradient)


    def check_unchanged(function, first, y, *, name, arg, read):
        \"\"\"Fail if ``function(first, y)`` (a loss or its gradient) changes its first argument.\"\"\"
        trial = np.array(first, dtype=float)
        function(trial, y)
        check_true(np.array_equal(trial, first), f"your {name} modified its argument {arg} (an in-place operation "
                   f"such as {arg} -= ... or np.clip(..., out={arg})?): compute on a new array; the caller's "
                   "array must not change, and the centred differences that check a gradient go wrong too.",
                   read=read)


    def gradient_error(loss, gradient, first, y, *, name, arg, read):
        \"\"\"Relative error of ``gradient`` against centred differences of ``loss`` at ``first``, once neither
        changes its input. The loss is summed: a loss of the wrong shape costs its own tests, not the gradient's.\"\"\"
        check_unchanged(loss, first, y, name=name, arg=arg, read=read)
        check_unchanged(gradient, first, y, name=f"{name}_gradient", arg=arg, read=read)
        check_true(loss(first, y) is not None, f"{name} returned None; did you forget a return statement?", read=read)
        return check_gradient(lambda a: float(np.sum(loss(a, y))), lambda a: gradient(a, y), first)


    def check_scalar(value, what, read):
        \"\"\"A loss is one number: a Python float or a 0-d NumPy value.\"\"\"
        check_true(value is not None, f"{what} returned None; did you forget a return statement?", read=read)
        check_true(np.ndim(value) == 0, f"{what} should be a single number (the mean over the batch), "
                   f"got an array of shape {np.shape(value)}.", read=read)
    """),
    # ---------------------------------------------------------------------- MSE
    markdown("mse_md", r"""
    ## Part A: loss functions from scratch

    ### A1. Squared error (4 points)

    For predictions $\hat y$ and targets $y$ of shape `(N,)` or `(N, K)`,

    $$L = \frac{1}{N} \sum_{n=1}^{N} \frac12 \lVert \hat{\mathbf y}_n - \mathbf y_n \rVert^2,
    \qquad \frac{\partial L}{\partial \hat y_{nk}} = \frac{\hat y_{nk} - y_{nk}}{N}.$$

    The factor $\tfrac12$ cancels the 2 of the derivative. $N$ is the number of rows,
    `y_hat.shape[0]`; for `(N, K)` arrays sum over the $K$ outputs, then average over the rows.
    """),
    answer("mse", """
    def mse(y_hat, y):
        \"\"\"Mean over the batch of 1/2 ||y_hat_n - y_n||^2; a float.\"\"\"
        ### BEGIN SOLUTION
        y_hat = np.asarray(y_hat, dtype=float)
        d = y_hat - np.asarray(y, dtype=float)
        return float(0.5 * np.sum(d ** 2) / y_hat.shape[0])
        ### END SOLUTION
    """),
    test("test_mse_values", 1, f"""
    \"\"\"mse: hand-worked batches of shape (N,) and (N, K); a single number.\"\"\"
    READ = "{SQ}"
    with forbid_calls(*PART_A_REFERENCES, exercise="mse", read=READ):
        got = mse(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]))
        check_scalar(got, "mse(y_hat, y)", READ)
        # (0 + 1 + 4) / 2 / 3 = 0.833333
        check_close(got, 5 / 6, what="mse([1, 2, 3], [1, 1, 1])", read=READ)
        # rows: (1 + 4) / 2 = 2.5 and (9 + 16) / 2 = 12.5; mean over the 2 rows = 7.5
        check_close(mse(np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 2))), 7.5,
                    what="mse([[1, 2], [3, 4]], zeros) (sum over outputs, mean over rows)", read=READ)
    """),
    test("test_mse_hidden", 1, f"""
    \"\"\"Hidden tests: mse agrees with nnlib on random batches, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{SQ}"
    rng = np.random.default_rng(6001)
    for shape in [(12,), (7, 3), (1, 5)]:
        y_hat, y = rng.normal(size=shape), rng.normal(size=shape)
        expected = losses.mse(y_hat, y)
        # on a copy, first: a loss that shifts its input in place leaves a shifted one unchanged
        check_unchanged(mse, y_hat, y, name="mse", arg="y_hat", read=READ)
        with forbid_calls(losses.mse, losses.mse_gradient, exercise="mse", read=READ):
            got = mse(y_hat, y)
        check_scalar(got, "mse(y_hat, y)", READ)
        check_close(got, expected, what=f"mse for a random batch of shape {{shape}}", read=READ)
    ### END HIDDEN TESTS
    """),
    answer("mse_gradient", """
    def mse_gradient(y_hat, y):
        \"\"\"Gradient of mse with respect to y_hat, shape of y_hat.\"\"\"
        ### BEGIN SOLUTION
        y_hat = np.asarray(y_hat, dtype=float)
        return (y_hat - np.asarray(y, dtype=float)) / y_hat.shape[0]
        ### END SOLUTION
    """),
    test("test_mse_gradient_values", 1, f"""
    \"\"\"mse_gradient: a hand-worked batch, and agreement with centred differences of your mse.\"\"\"
    READ = "{SQ}"
    with forbid_calls(*PART_A_REFERENCES, exercise="mse_gradient (or the mse it is checked against)", read=READ):
        # (y_hat - y) / N with N = 3
        check_close(mse_gradient(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0])), [0.0, 1 / 3, 2 / 3],
                    what="mse_gradient([1, 2, 3], [1, 1, 1])", read=READ)
        y = np.array([[0.5, -1.0], [2.0, 0.0], [1.0, 1.0]])
        y_hat = np.array([[1.0, 0.0], [0.0, 0.0], [3.0, -2.0]])
        err = gradient_error(mse, mse_gradient, y_hat, y, name="mse", arg="y_hat", read=READ)
        check_true(err < 1e-6, f"mse_gradient does not match the slope of your mse: relative error {{err:.2e}}, "
                   "it should be below 1e-6 (a missing 1/N or 1/2?).", read=READ)
    """),
    test("test_mse_gradient_hidden", 1, f"""
    \"\"\"Hidden tests: mse_gradient agrees with nnlib on random batches, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{SQ}"
    rng = np.random.default_rng(6002)
    for shape in [(9,), (5, 4)]:
        y_hat, y = rng.normal(size=shape), rng.normal(size=shape)
        y_hat_before = y_hat.copy()
        expected = losses.mse_gradient(y_hat, y)
        with forbid_calls(losses.mse, losses.mse_gradient, exercise="mse_gradient", read=READ):
            got = mse_gradient(y_hat, y)
        check_close(got, expected, what=f"mse_gradient for a random batch of shape {{shape}}", read=READ)
        check_true(np.array_equal(y_hat, y_hat_before), "mse_gradient modified its argument y_hat.", read=READ)
    ### END HIDDEN TESTS
    """),
    # ---------------------------------------------------------------------- BCE
    markdown("bce_md", r"""
    ### A2. Binary cross-entropy (5 points)

    For predicted probabilities $p_n \in [0, 1]$ of class 1 (the book's $\hat y_n$) and labels
    $y_n \in \{0, 1\}$ (arrays of shape `(N,)` or `(N, 1)`),

    $$L = -\frac{1}{N} \sum_{n} \bigl[ y_n \log p_n + (1 - y_n) \log(1 - p_n) \bigr],
    \qquad \frac{\partial L}{\partial p_n} = \frac{1}{N}\,\frac{p_n - y_n}{p_n (1 - p_n)} .$$

    A network can output $p = 0$ or $p = 1$ exactly (a saturated sigmoid), and $\log 0 = -\infty$.
    As `nnlib` does, first **clip** the probabilities to $[\epsilon, 1 - \epsilon]$ with
    $\epsilon$ = `np.finfo(float).eps` $\approx 2.2 \times 10^{-16}$ (`np.clip`), in the loss
    **and** in the gradient; then no $\log 0$ and no division by zero can occur.
    """),
    answer("binary_cross_entropy", """
    def binary_cross_entropy(p, y):
        \"\"\"Mean binary cross-entropy of probabilities p against labels y in {0, 1}; a float.\"\"\"
        ### BEGIN SOLUTION
        eps = np.finfo(float).eps
        p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
        y = np.asarray(y, dtype=float)
        return float(-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / p.shape[0])
        ### END SOLUTION
    """),
    test("test_bce_values", 1, f"""
    \"\"\"binary_cross_entropy: hand-worked values; a single number.\"\"\"
    READ = "{CE}"
    with forbid_calls(*PART_A_REFERENCES, exercise="binary_cross_entropy", read=READ):
        got = binary_cross_entropy(np.array([0.5, 0.5]), np.array([1.0, 0.0]))
        check_scalar(got, "binary_cross_entropy(p, y)", READ)
        check_close(got, np.log(2.0), what="binary_cross_entropy([0.5, 0.5], [1, 0])", read=READ)
        # -(log 0.9 + log 0.8 + log 0.3) / 3 = (0.105361 + 0.223144 + 1.203973) / 3 = 0.510826
        check_close(binary_cross_entropy(np.array([0.9, 0.2, 0.3]), np.array([1.0, 0.0, 1.0])), 0.5108256237659907,
                    what="binary_cross_entropy([0.9, 0.2, 0.3], [1, 0, 1])", read=READ)
    """),
    test("test_bce_hidden", 1, f"""
    \"\"\"Hidden tests: binary_cross_entropy agrees with nnlib on random batches, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{CE}"
    rng = np.random.default_rng(6003)
    for shape in [(15,), (8, 1)]:
        p = rng.uniform(0.02, 0.98, size=shape)
        y = rng.integers(0, 2, size=shape).astype(float)
        expected = losses.binary_cross_entropy(p, y)
        # on a copy, first: a loss that shifts its input in place leaves a shifted one unchanged
        check_unchanged(binary_cross_entropy, p, y, name="binary_cross_entropy", arg="p", read=READ)
        with forbid_calls(losses.binary_cross_entropy, losses.binary_cross_entropy_gradient,
                          losses.binary_cross_entropy_with_logits, exercise="binary_cross_entropy", read=READ):
            got = binary_cross_entropy(p, y)
        check_scalar(got, "binary_cross_entropy(p, y)", READ)
        check_close(got, expected, what=f"binary_cross_entropy for a random batch of shape {{shape}}", read=READ)
    ### END HIDDEN TESTS
    """),
    answer("binary_cross_entropy_gradient", """
    def binary_cross_entropy_gradient(p, y):
        \"\"\"Gradient of binary_cross_entropy with respect to p, shape of p.\"\"\"
        ### BEGIN SOLUTION
        eps = np.finfo(float).eps
        p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
        y = np.asarray(y, dtype=float)
        return (p - y) / (p * (1 - p)) / p.shape[0]
        ### END SOLUTION
    """),
    test("test_bce_gradient_values", 1, f"""
    \"\"\"binary_cross_entropy_gradient: a hand-worked value, and centred differences of your loss.\"\"\"
    READ = "{CE}"
    with forbid_calls(*PART_A_REFERENCES, exercise="binary_cross_entropy_gradient (or the binary_cross_entropy it is "
                      "checked against)", read=READ):
        # (p - y) / (p (1 - p)) / N = (0.5 - 1) / 0.25 / 2 = -1 and (0.5 - 0) / 0.25 / 2 = 1
        check_close(binary_cross_entropy_gradient(np.array([0.5, 0.5]), np.array([1.0, 0.0])), [-1.0, 1.0],
                    what="binary_cross_entropy_gradient([0.5, 0.5], [1, 0])", read=READ)
        p = np.array([[0.9], [0.2], [0.3], [0.6]])
        y = np.array([[1.0], [0.0], [1.0], [0.0]])
        err = gradient_error(binary_cross_entropy, binary_cross_entropy_gradient, p, y, name="binary_cross_entropy",
                             arg="p", read=READ)
        check_true(err < 1e-6, f"binary_cross_entropy_gradient does not match the slope of your binary_cross_entropy: "
                   f"relative error {{err:.2e}}, it should be below 1e-6.", read=READ)
    """),
    test("test_bce_gradient_hidden", 1, f"""
    \"\"\"Hidden tests: binary_cross_entropy_gradient agrees with nnlib on random batches, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{CE}"
    rng = np.random.default_rng(6004)
    for shape in [(10,), (6, 1)]:
        p = rng.uniform(0.02, 0.98, size=shape)
        y = rng.integers(0, 2, size=shape).astype(float)
        p_before = p.copy()
        expected = losses.binary_cross_entropy_gradient(p, y)
        with forbid_calls(losses.binary_cross_entropy, losses.binary_cross_entropy_gradient,
                          losses.binary_cross_entropy_with_logits_gradient,
                          exercise="binary_cross_entropy_gradient", read=READ):
            got = binary_cross_entropy_gradient(p, y)
        check_close(got, expected, what=f"binary_cross_entropy_gradient for a random batch of shape {{shape}}",
                    read=READ)
        check_true(np.array_equal(p, p_before), "binary_cross_entropy_gradient modified its argument p "
                   "(np.clip(p, ..., out=p)?); work on a new array.", read=READ)
    ### END HIDDEN TESTS
    """),
    test("test_bce_clipping", 1, f"""
    \"\"\"binary_cross_entropy and its gradient stay finite for p = 0 and p = 1 (clipping), without warnings.\"\"\"
    p = np.array([0.0, 1.0, 1.0, 0.0])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    expected_gradient = losses.binary_cross_entropy_gradient(p, y)
    HINT = "Clip p to [eps, 1 - eps] with eps = np.finfo(float).eps before taking logs or dividing."
    READ = "{CE}"
    with forbid_calls(*PART_A_REFERENCES, exercise="binary_cross_entropy or its gradient", read=READ):
        got = call_checked(binary_cross_entropy, p.copy(), y, what="binary_cross_entropy at p = 0 and p = 1", hint=HINT,
                           read=READ)
        # two confident mistakes cost -log(eps) = 36.04 each, the two right answers about 0: mean 18.02
        check_close(got, 18.021826694558577, what="binary_cross_entropy([0, 1, 1, 0], [1, 0, 1, 0]), clipped with "
                    "eps = np.finfo(float).eps,", read=READ)
        got = call_checked(binary_cross_entropy_gradient, p.copy(), y,
                           what="binary_cross_entropy_gradient at p = 0 and p = 1", hint=HINT, read=READ)
        check_close(got, expected_gradient, what="binary_cross_entropy_gradient([0, 1, 1, 0], [1, 0, 1, 0]), clipped "
                    "with eps = np.finfo(float).eps,", read=READ)
        # clipping is where an in-place operation would show: p holds 0 and 1
        check_unchanged(binary_cross_entropy, p, y, name="binary_cross_entropy", arg="p", read=READ)
        check_unchanged(binary_cross_entropy_gradient, p, y, name="binary_cross_entropy_gradient", arg="p", read=READ)
    """),
    # ------------------------------------------------------ softmax cross-entropy
    markdown("softmax_ce_md", r"""
    ### A3. Softmax cross-entropy from logits (5 points)

    For $K$ classes the network outputs scores (*logits*) $\mathbf z_n$, one row of `z` of shape
    `(N, K)` per sample, and the labels `y` are integers in $0, \dots, K-1$, shape `(N,)`. With
    $s = \mathrm{softmax}(\mathbf z_n)$,

    $$L = -\frac1N \sum_n \log s_{n, y_n}
        = \frac1N \sum_n \Bigl[\log \sum_k e^{z_{nk}} - z_{n, y_n}\Bigr], \qquad
      \frac{\partial L}{\partial z_{nk}} = \frac{s_{nk} - [k = y_n]}{N}.$$

    The gradient is "probabilities minus one-hot targets", divided by $N$. Make the loss stable
    with the max-shift of the softmax: $\log \sum_k e^{z_k} = m + \log \sum_k e^{z_k - m}$ with
    $m = \max_k z_k$. The entries $z_{n, y_n}$ are `z[np.arange(N), y]`.
    """),
    answer("softmax_cross_entropy", """
    def softmax_cross_entropy(z, y):
        \"\"\"Mean cross-entropy of softmax(z) (z of shape (N, K)) against integer labels y (N,); a float.\"\"\"
        ### BEGIN SOLUTION
        z = np.asarray(z, dtype=float)
        y = np.asarray(y)
        n = z.shape[0]
        m = np.max(z, axis=1)
        log_sum_exp = m + np.log(np.sum(np.exp(z - m[:, None]), axis=1))
        return float(np.sum(log_sum_exp - z[np.arange(n), y]) / n)
        ### END SOLUTION
    """),
    test("test_softmax_ce_values", 1, f"""
    \"\"\"softmax_cross_entropy: hand-worked values; a single number.\"\"\"
    READ = "{CE}"
    with forbid_calls(*PART_A_REFERENCES, exercise="softmax_cross_entropy", read=READ):
        z = np.array([[0.0, 0.0, 0.0, 0.0]])
        got = softmax_cross_entropy(z, np.array([2]))
        check_scalar(got, "softmax_cross_entropy(z, y)", READ)
        check_close(got, np.log(4.0), what="softmax_cross_entropy of equal scores for 4 classes (log 4)", read=READ)
        # row 1: log(1 + 2 + 3) - log 3 = log 2; row 2: log(1 + 1 + e^-50) - 0 = log 2; mean log 2
        z = np.array([[0.0, np.log(2.0), np.log(3.0)], [0.0, 0.0, -50.0]])
        check_close(softmax_cross_entropy(z, np.array([2, 1])), np.log(2.0),
                    what="softmax_cross_entropy([[0, log 2, log 3], [0, 0, -50]], [2, 1])", read=READ)
    """),
    test("test_softmax_ce_hidden", 1, f"""
    \"\"\"Hidden tests: softmax_cross_entropy agrees with nnlib on random batches, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{CE}"
    rng = np.random.default_rng(6005)
    for n, k in [(10, 3), (1, 5), (6, 2)]:
        z = rng.normal(0.0, 3.0, size=(n, k))
        y = rng.integers(0, k, size=n)
        expected = losses.softmax_cross_entropy(z, y)
        # on a copy, first: a loss that shifts its input in place leaves a shifted one unchanged
        check_unchanged(softmax_cross_entropy, z, y, name="softmax_cross_entropy", arg="z", read=READ)
        with forbid_calls(losses.softmax_cross_entropy, losses.softmax_cross_entropy_gradient,
                          exercise="softmax_cross_entropy", read=READ):
            got = softmax_cross_entropy(z, y)
        check_scalar(got, "softmax_cross_entropy(z, y)", READ)
        check_close(got, expected, what=f"softmax_cross_entropy for random logits of shape {{(n, k)}}", read=READ)
    ### END HIDDEN TESTS
    """),
    test("test_softmax_ce_stable", 1, f"""
    \"\"\"softmax_cross_entropy is stable: logits of 1000 give the right loss, without overflow or log(0).\"\"\"
    READ = "{SOFTMAX}"
    with forbid_calls(*PART_A_REFERENCES, exercise="softmax_cross_entropy", read=READ):
        z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 0.0]])
        y = np.array([1, 0])
        got = call_checked(softmax_cross_entropy, z, y, what="softmax_cross_entropy with logits of 1000",
                           hint="Subtract each row's maximum before exp (log-sum-exp), never take log(softmax).",
                           read=READ)
        # row 1: 1000 - 0 = 1000; row 2: 1000 + log 2 - 1000 = log 2
        check_close(got, (1000.0 + np.log(2.0)) / 2, what="softmax_cross_entropy with logits of 1000", read=READ)
    """),
    answer("softmax_cross_entropy_gradient", """
    def softmax_cross_entropy_gradient(z, y):
        \"\"\"Gradient of softmax_cross_entropy with respect to z, shape (N, K).\"\"\"
        ### BEGIN SOLUTION
        z = np.asarray(z, dtype=float)
        n = z.shape[0]
        e = np.exp(z - np.max(z, axis=1, keepdims=True))
        s = e / np.sum(e, axis=1, keepdims=True)     # a new array: safe to change
        s[np.arange(n), y] -= 1.0
        return s / n
        ### END SOLUTION
    """),
    test("test_softmax_ce_gradient_values", 1, f"""
    \"\"\"softmax_cross_entropy_gradient: a hand-worked batch, and centred differences of your loss.\"\"\"
    READ = "{PAIR}"
    with forbid_calls(*PART_A_REFERENCES, exercise="softmax_cross_entropy_gradient (or the softmax_cross_entropy it is "
                      "checked against)", read=READ):
        z = np.array([[0.0, np.log(2.0), np.log(3.0)], [1.0, 1.0, 1.0]])
        # (softmax - one-hot) / N with N = 2: row 1 (1/6, 2/6, 3/6 - 1) / 2, row 2 (1/3 - 1, 1/3, 1/3) / 2
        expected = np.array([[1 / 6, 2 / 6, -3 / 6], [-2 / 3, 1 / 3, 1 / 3]]) / 2
        got = softmax_cross_entropy_gradient(z, np.array([2, 0]))
        check_shape(got, (2, 3), what="softmax_cross_entropy_gradient for z of shape (2, 3)", read=READ)
        check_close(got, expected, what="softmax_cross_entropy_gradient([[0, log 2, log 3], [1, 1, 1]], [2, 0])",
                    read=READ)
        z = np.array([[0.5, -1.0, 2.0, 0.0], [1.0, 0.3, -0.2, 0.1], [-2.0, 0.0, 0.0, 3.0]])
        y = np.array([3, 0, 1])
        err = gradient_error(softmax_cross_entropy, softmax_cross_entropy_gradient, z, y,
                             name="softmax_cross_entropy", arg="z", read=READ)
        check_true(err < 1e-6, f"softmax_cross_entropy_gradient does not match the slope of your softmax_cross_entropy: "
                   f"relative error {{err:.2e}}, it should be below 1e-6.", read=READ)
    """),
    test("test_softmax_ce_gradient_hidden", 1, f"""
    \"\"\"Hidden tests: softmax_cross_entropy_gradient agrees with nnlib on random batches, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{PAIR}"
    rng = np.random.default_rng(6006)
    for n, k in [(8, 3), (5, 6)]:
        z = rng.normal(0.0, 3.0, size=(n, k))
        y = rng.integers(0, k, size=n)
        z_before = z.copy()
        expected = losses.softmax_cross_entropy_gradient(z, y)
        with forbid_calls(losses.softmax_cross_entropy, losses.softmax_cross_entropy_gradient,
                          exercise="softmax_cross_entropy_gradient", read=READ):
            got = softmax_cross_entropy_gradient(z, y)
        check_close(got, expected, what=f"softmax_cross_entropy_gradient for random logits of shape {{(n, k)}}",
                    read=READ)
        check_true(np.array_equal(z, z_before), "softmax_cross_entropy_gradient modified its argument z.", read=READ)
    ### END HIDDEN TESTS
    """),
    # -------------------------------------------------------------- focal loss
    markdown("focal_md", r"""
    ## Part B: a loss nnlib does not have

    ### B1. The focal loss (4 points)

    When one class is rare, or most samples are easy, the cross-entropy is dominated by the many
    samples the network already classifies well. The *focal loss* (Lin et al. 2017) multiplies
    each term by a factor that vanishes for confident, correct predictions: with $p = \sigma(z)$
    computed from the logit $z$ and a focusing parameter $\gamma \ge 0$,

    $$L = -\frac1N \sum_n \Bigl[ y_n (1 - p_n)^\gamma \log p_n
          + (1 - y_n)\, p_n^\gamma \log(1 - p_n) \Bigr].$$

    For $\gamma = 0$ it is the binary cross-entropy of $\sigma(z)$, i.e.
    `nnlib.losses.binary_cross_entropy_with_logits`.

    1. Write `focal_loss(z, y, gamma)` for logits `z` and labels `y` of shape `(N,)` or `(N, 1)`.
       Compute the logarithms from the logits, stably: $\log \sigma(z) = -\mathrm{softplus}(-z)$
       and $\log(1 - \sigma(z)) = -\mathrm{softplus}(z)$, with the stable softplus
       $\max(z, 0) + \log(1 + e^{-|z|})$ of homework 5.
    2. Derive $\partial L / \partial z_n$ (use $\mathrm{d}p/\mathrm{d}z = p(1 - p)$) and write
       `focal_loss_gradient(z, y, gamma)`. For $\gamma = 0$ it must reduce to $(p_n - y_n)/N$.

    The tests compare your gradient with centred differences of your loss
    (`nnlib.gradcheck.check_gradient`, relative error below $10^{-6}$) for several $\gamma$.
    """),
    answer("focal_loss", """
    def focal_loss(z, y, gamma=2.0):
        \"\"\"Mean focal loss of the logits z against labels y in {0, 1}; a float.\"\"\"
        ### BEGIN SOLUTION
        z = np.asarray(z, dtype=float)
        y = np.asarray(y, dtype=float)
        p = sigmoid(z)
        tail = np.log1p(np.exp(-np.abs(z)))
        log_p = -(np.maximum(-z, 0) + tail)       # log sigma(z) = -softplus(-z)
        log_q = -(np.maximum(z, 0) + tail)        # log(1 - sigma(z)) = -softplus(z)
        per_sample = -(y * (1 - p) ** gamma * log_p + (1 - y) * p ** gamma * log_q)
        return float(np.sum(per_sample) / z.shape[0])
        ### END SOLUTION
    """),
    answer("focal_loss_gradient", """
    def focal_loss_gradient(z, y, gamma=2.0):
        \"\"\"Gradient of focal_loss with respect to the logits z, shape of z.\"\"\"
        ### BEGIN SOLUTION
        z = np.asarray(z, dtype=float)
        y = np.asarray(y, dtype=float)
        p = sigmoid(z)
        tail = np.log1p(np.exp(-np.abs(z)))
        log_p = -(np.maximum(-z, 0) + tail)
        log_q = -(np.maximum(z, 0) + tail)
        d_pos = gamma * p * (1 - p) ** gamma * log_p - (1 - p) ** (gamma + 1)   # y = 1 terms
        d_neg = p ** (gamma + 1) - gamma * (1 - p) * p ** gamma * log_q         # y = 0 terms
        return (y * d_pos + (1 - y) * d_neg) / z.shape[0]
        ### END SOLUTION
    """),
    test("test_focal_loss_values", 1, f"""
    \"\"\"focal_loss: a hand-worked value, gamma = 0 gives the cross-entropy of nnlib, no overflow at |z| = 1000.\"\"\"
    READ = "{CE}"
    # z = 0: p = 1/2, each term (1/2)^2 log 2, mean 0.25 log 2 = 0.173287
    got = focal_loss(np.array([0.0, 0.0]), np.array([1.0, 0.0]), gamma=2.0)
    check_scalar(got, "focal_loss(z, y)", READ)
    check_close(got, 0.25 * np.log(2.0), what="focal_loss([0, 0], [1, 0], gamma=2)", read=READ)
    rng = np.random.default_rng(0)
    z = rng.normal(0.0, 3.0, size=(20, 1))
    y = (rng.uniform(size=(20, 1)) < 0.5).astype(float)
    check_close(focal_loss(z, y, gamma=0.0), losses.binary_cross_entropy_with_logits(z, y),
                what="focal_loss with gamma = 0 (the binary cross-entropy of sigmoid(z))", read=READ)
    z = np.array([-1000.0, 1000.0, 1000.0])
    y = np.array([1.0, 0.0, 1.0])
    got = call_checked(focal_loss, z, y, 2.0, what="focal_loss with logits of 1000",
                       hint="Compute log sigma(z) as -softplus(-z) with the stable softplus.", read=READ)
    # two confident mistakes cost about 1000 each, the right answer 0: mean 2000 / 3
    check_close(got, 2000.0 / 3.0, what="focal_loss([-1000, 1000, 1000], [1, 0, 1], gamma=2)", read=READ)
    """),
    test("test_focal_loss_gradient", 3, f"""
    \"\"\"focal_loss_gradient matches centred differences of focal_loss (nnlib.gradcheck) for several gamma.\"\"\"
    READ = "{CHECKGRAD}"
    rng = np.random.default_rng(1)
    z = rng.normal(0.0, 2.0, size=(12, 1))
    y = (rng.uniform(size=(12, 1)) < 0.5).astype(float)
    check_close(focal_loss_gradient(z, y, gamma=0.0), (sigmoid(z) - y) / 12,
                what="focal_loss_gradient with gamma = 0 (should be (sigmoid(z) - y) / N)", read="{PAIR}")
    for gamma in (0.5, 2.0):
        err = check_gradient(lambda a: focal_loss(a, y, gamma), lambda a: focal_loss_gradient(a, y, gamma), z)
        check_true(err < 1e-6, f"focal_loss_gradient with gamma = {{gamma}} does not match the slope of focal_loss: "
                   f"relative error {{err:.2e}}, it should be below 1e-6.", read=READ)
    ### BEGIN HIDDEN TESTS
    rng = np.random.default_rng(6007)
    for gamma, shape in [(1.0, (15,)), (3.0, (9, 1)), (5.0, (10,))]:
        z = rng.normal(0.0, 3.0, size=shape)
        y = rng.integers(0, 2, size=shape).astype(float)
        err = check_gradient(lambda a: focal_loss(a, y, gamma), lambda a: focal_loss_gradient(a, y, gamma), z)
        check_true(err < 1e-6, f"focal_loss_gradient with gamma = {{gamma}} on a random batch of shape {{shape}} does "
                   f"not match the slope of focal_loss: relative error {{err:.2e}}.", read=READ)
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------ logistic regression
    markdown("logreg_md", r"""
    ## Part C: logistic regression with nnlib

    ### C1. Recover a linear boundary (3 points)

    `nnlib.data.linearly_separable(n, seed=seed)` draws points in the plane on both sides of a
    random line $\mathbf w \cdot \mathbf x + c = 0$ (with `return_boundary=True` it also returns
    the true `(w, c)`). A logistic regression is a network with no hidden layer,
    $p(\mathbf x) = \sigma(\mathbb A \mathbf x + b)$: `nnlib.mlp([2, 1], seed=seed)` with an
    identity output, trained on the logits with the loss `"binary_cross_entropy_with_logits"`.

    Write `train_logistic_regression(X, y, seed)` that builds this model, trains it with
    `nnlib.fit(model, "binary_cross_entropy_with_logits", X, y, ...)` (choose `epochs`,
    `batch_size`, `eta`; pass `seed=seed`) and returns the trained model. The tests train it on
    data sets drawn with other seeds and check that

    * the predicted class `model.predict(X_val)[:, 0] > 0` is right for at least 95 % of new
      points from the same distribution;
    * the learned normal vector $\mathbb A$ (`model.layers[0].A[0]`) points along the true
      $\mathbf w$: cosine of the angle above 0.95;
    * `train_logistic_regression` calls `nnlib.fit` (weights written by hand, from the class
      means say, are not the exercise).

    Keep the training under a second (a few hundred samples, about 100 epochs are plenty).
    """),
    answer("train_logistic_regression", """
    def train_logistic_regression(X, y, seed=0):
        \"\"\"A logistic regression nnlib.mlp([2, 1]) trained on (X, y) with the cross-entropy of the logits.\"\"\"
        ### BEGIN SOLUTION
        model = nnlib.mlp([2, 1], seed=seed)
        nnlib.fit(model, "binary_cross_entropy_with_logits", X, y, epochs=100, batch_size=16, eta=0.5, seed=seed)
        return model
        ### END SOLUTION
    """),
    code("logreg_helper", """
    def logistic_regression_outcome(seed, n=300):
        \"\"\"Train on 2/3 of linearly_separable(n, seed) and return (validation accuracy, cosine to the true w).\"\"\"
        X, y, (w, c) = nnlib.data.linearly_separable(n, seed=seed, return_boundary=True)
        n_train = 2 * n // 3
        try:
            model = train_logistic_regression(X[:n_train], y[:n_train], seed=seed)
        except (ValueError, TypeError, FloatingPointError) as exc:
            raise AssertionError(f"train_logistic_regression raised {type(exc).__name__}: {exc}. Read: "
                                 "Chapter 6, 'Why cross-entropy pairs with sigmoid and softmax' (book/06-losses.md).") from None
        check_calls(train_logistic_regression, nnlib.fit, what="train_logistic_regression", name="nnlib.fit",
                    read="Chapter 6, 'Why cross-entropy pairs with sigmoid and softmax' (book/06-losses.md)")
        accuracy = nnlib.metrics.accuracy((model.predict(X[n_train:])[:, 0] > 0).astype(int), y[n_train:])
        a = model.layers[0].A[0]
        cosine = float(a @ w / np.linalg.norm(a))
        return accuracy, cosine
    """),
    test("test_logistic_regression_accuracy", 2, f"""
    \"\"\"The trained logistic regression classifies at least 95 % of held-out points correctly.\"\"\"
    READ = "{PAIR}"
    accuracy, cosine = logistic_regression_outcome(seed=0)
    print(f"seed 0: validation accuracy {{accuracy:.3f}}, cosine to the true normal {{cosine:.4f}}")
    check_true(accuracy >= 0.95, f"the validation accuracy is {{accuracy:.3f}}, below 0.95: train longer or with a "
               "larger eta, and use the logits loss 'binary_cross_entropy_with_logits'.", read=READ)
    ### BEGIN HIDDEN TESTS
    for seed in (3, 11, 2024):
        accuracy, cosine = logistic_regression_outcome(seed=seed, n=240)
        check_true(accuracy >= 0.95, f"on a data set drawn with seed {{seed}} the validation accuracy is "
                   f"{{accuracy:.3f}}, below 0.95.", read=READ)
    ### END HIDDEN TESTS
    """),
    test("test_logistic_regression_boundary", 1, f"""
    \"\"\"The learned weights point along the true normal vector of the boundary (cosine above 0.95).\"\"\"
    READ = "{PAIR}"
    accuracy, cosine = logistic_regression_outcome(seed=1)
    check_true(cosine > 0.95, f"the learned normal vector A makes an angle with the true w whose cosine is "
               f"{{cosine:.3f}}, expected above 0.95.", read=READ)
    ### BEGIN HIDDEN TESTS
    for seed in (5, 42):
        accuracy, cosine = logistic_regression_outcome(seed=seed, n=240)
        check_true(cosine > 0.95, f"on a data set drawn with seed {{seed}} the cosine between A and the true w is "
                   f"{{cosine:.3f}}, expected above 0.95.", read=READ)
    ### END HIDDEN TESTS
    """),
    # ----------------------------------------------------------------- written
    markdown("written_md", r"""
    ## Part D: written answer (3 points, graded by hand)

    In the cell below, show in a few lines that **minimising the binary cross-entropy is the same
    as maximising the likelihood** of the labels $y_1, \dots, y_N$ when the network's output
    $p_n$ is the probability that $y_n = 1$. Then say which probability model for the targets
    makes the squared error of part A1 the maximum-likelihood loss, and why the cross-entropy,
    not the squared error, is the natural partner of a sigmoid output (think of the gradient
    with respect to the logit).
    """),
    written("written_likelihood", 3, r"""
    If the labels are independent Bernoulli variables with $P(y_n = 1) = p_n$, then
    $P(y_n) = p_n^{y_n} (1 - p_n)^{1 - y_n}$ and the likelihood of the data is
    $P = \prod_n p_n^{y_n} (1 - p_n)^{1 - y_n}$. The logarithm is monotonic, so
    maximising $P$ is minimising
    $-\frac1N \log P = -\frac1N \sum_n [y_n \log p_n + (1 - y_n) \log(1 - p_n)]$,
    which is exactly the binary cross-entropy. For real targets with Gaussian noise of fixed
    width $s$, $y_n = \hat y_n + \varepsilon_n$ with $\varepsilon_n \sim \mathcal N(0, s^2)$,
    $-\log P = \frac{1}{2 s^2} \sum_n (y_n - \hat y_n)^2 + \text{const}$: the squared
    error is the maximum-likelihood loss of Gaussian errors. With a sigmoid output
    $p = \sigma(z)$ the cross-entropy has $\partial L/\partial z = (p - y)/N$: the gradient is
    large when the network is confidently wrong. The squared error gives
    $(p - y)\,\sigma'(z)/N$, and $\sigma'(z) \to 0$ for a saturated unit, so a confidently wrong
    unit hardly learns.

    === BEGIN MARK SCHEME ===
    1 point: the Bernoulli likelihood written as a product and its negative log (per sample)
    identified with the binary cross-entropy.
    1 point: the squared error is the negative log-likelihood of Gaussian noise with fixed
    variance (up to constants).
    1 point: with a sigmoid output the cross-entropy gradient with respect to the logit is
    $p - y$, while the squared error carries a factor $\sigma'(z)$ that vanishes for saturated
    units.
    === END MARK SCHEME ===
    """),
]

if __name__ == "__main__":
    print(write_notebook(cells, OUT))
