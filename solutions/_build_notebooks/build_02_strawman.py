"""Write solutions/02-strawman/strawman.ipynb (homework 2, the kilometres-to-miles strawman).

Run from the repository root:  .venv/bin/python solutions/_build_notebooks/build_02_strawman.py
"""

from pathlib import Path

from nbcells import answer, code, markdown, test, write_notebook, written

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "solutions" / "02-strawman" / "strawman.ipynb"

MODEL = "Chapter 2, 'A one-parameter model' (book/02-strawman.md)"
ERROR = "Chapter 2, 'The error' (book/02-strawman.md)"
UPDATES = "Chapter 2, 'Iterative updates' (book/02-strawman.md)"
ETA = "Chapter 2, 'The learning rate' (book/02-strawman.md)"
CHECKGRAD = "Chapter 7, 'Checking gradients' (book/07-backprop.md)"

cells = [
    markdown("intro", """
    # Homework 2: The strawman, kilometres to miles

    **Read first:** book chapter 2, *The strawman: kilometres to miles*
    (`book/02-strawman.md`), sections *A one-parameter model*, *The error*, *Iterative
    updates* and *The learning rate*. Part B uses the centred-difference check of chapter 7,
    *Checking gradients* (`book/07-backprop.md`).

    The model $\\widehat{\\text{miles}} = c\\,\\text{km}$ has one parameter $c$, and the
    training pairs come from `nnlib.data.km_to_miles`. In this homework you

    * **A** (13 points) write the model, its error $L(c)$, the derivative
      $\\mathrm{d}L/\\mathrm{d}c$ and the gradient-descent iteration yourself, with NumPy;
    * **B** (5 points) do the same for an error that `nnlib` does not have, the *Huber*
      error, and check your derivative with `nnlib.gradcheck`;
    * **C** (3 points) learn $c$ with `nnlib.fit`, for any training set of this kind;
    * **D** (2 points, graded by hand) explain why the Huber error resists outliers.

    **How to work.** Replace every `# YOUR CODE HERE` / `raise NotImplementedError()` with your
    code; do not change the other cells. In part A write the formulas yourself: **do not call
    `nnlib.losses.mse` or `nnlib.losses.mse_gradient`**, which compute the same error. Your
    functions must not modify the arrays they are given.

    **How to check.** Each task is followed by test cells. The visible tests run when you run
    the notebook (*Kernel > Restart & Run All*): a passing cell prints nothing
    (or a line of measured values), a failing one
    says what is wrong and which book section to read. Hidden tests, run at grading time,
    compare your functions with `nnlib` on random training sets (while blocking the `nnlib`
    function you re-implement) and train on other data sets in part C. Before you submit, run

        nbgrader validate strawman.ipynb

    which runs every cell and reports failing tests. The whole notebook runs in a few seconds.

    | part | task | points |
    |---|---|---|
    | A | `predict_miles` (2), `strawman_loss` (3), `strawman_gradient` (4), `iterate` (4) | 13 |
    | B | `huber_loss`, `huber_gradient` | 5 |
    | C | `fit_conversion` | 3 |
    | D | written answer | 2 |
    """),
    code("setup", """
    import numpy as np

    import nnlib
    from nnlib.data import KM_TO_MILES, km_to_miles
    from nnlib.gradcheck import check_gradient
    from nnlib.losses import mse, mse_gradient
    from nnlib.testing import check_calls, check_close, check_shape, check_true, forbid_calls

    # the training set of the book's chapter 2: 20 pairs, 0.5 miles of measurement noise
    km, miles = km_to_miles(n=20, noise=0.5, seed=1)
    """),
    # -------------------------------------------------------------- the model
    markdown("predict_md", r"""
    ## Part A: the strawman from scratch

    ### A1. The model (2 points)

    $$\widehat{\text{miles}}(\text{km}) = c\,\text{km}.$$

    `km` is a NumPy array of distances (or a single number) and `c` a number; return the
    predicted distances in miles, an array of the same shape as `km`.
    """),
    answer("predict_miles", """
    def predict_miles(km, c):
        \"\"\"Distances in miles predicted by the model miles = c * km.\"\"\"
        ### BEGIN SOLUTION
        return c * np.asarray(km, dtype=float)
        ### END SOLUTION
    """),
    test("test_predict_miles_values", 1, f"""
    \"\"\"predict_miles: hand-worked values and the shape of the result.\"\"\"
    READ = "{MODEL}"
    check_close(predict_miles(np.array([0.0, 1.0, 10.0]), 0.5), [0.0, 0.5, 5.0],
                what="predict_miles([0, 1, 10], c=0.5)", read=READ)
    check_close(predict_miles(100.0, KM_TO_MILES), 62.1371, what="predict_miles(100, c=0.621371)", read=READ)
    check_shape(predict_miles(km, 0.6), km.shape, what="predict_miles(km, c) for the 20 training distances", read=READ)
    """),
    test("test_predict_miles_hidden", 1, f"""
    \"\"\"Hidden tests: predict_miles on random distances and parameters.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{MODEL}"
    rng = np.random.default_rng(2001)
    for _ in range(3):
        x = rng.uniform(0.0, 300.0, size=rng.integers(1, 30))
        c = float(rng.normal(0.6, 0.3))
        x_before = x.copy()
        check_close(predict_miles(x, c), c * x_before, what=f"predict_miles(km, c={{c:.4f}})", inputs=x_before, read=READ)
        check_true(np.array_equal(x, x_before), "predict_miles modified its argument km; return a new array instead", read=READ)
    ### END HIDDEN TESTS
    """),
    # -------------------------------------------------------------- the error
    markdown("loss_md", r"""
    ### A2. The error (3 points)

    The mean squared error with the factor $\tfrac12$, the convention of `nnlib.losses.mse`:

    $$L(c) = \frac{1}{N} \sum_{n=1}^{N} \frac12 \bigl(c\,\text{km}_n - \text{miles}_n\bigr)^2 .$$

    Return a Python `float`.
    """),
    answer("strawman_loss", """
    def strawman_loss(c, km, miles):
        \"\"\"The error L(c): half the mean squared residual of the model on the pairs (km, miles).\"\"\"
        ### BEGIN SOLUTION
        residual = predict_miles(km, c) - np.asarray(miles, dtype=float)
        return float(np.mean(0.5 * residual ** 2))
        ### END SOLUTION
    """),
    test("test_strawman_loss_values", 1, f"""
    \"\"\"strawman_loss: a hand-worked example and the value at the exact conversion factor.\"\"\"
    READ = "{ERROR}"
    # residuals c*km - miles = 1*[1, 2] - [0, 4] = [1, -2]; L = (1/2) (1 + 4) / 2 = 1.25
    check_close(strawman_loss(1.0, np.array([1.0, 2.0]), np.array([0.0, 4.0])), 1.25,
                what="strawman_loss(c=1, km=[1, 2], miles=[0, 4])", read=READ)
    check_close(strawman_loss(KM_TO_MILES, np.array([5.0, 10.0]), KM_TO_MILES * np.array([5.0, 10.0])), 0.0,
                what="strawman_loss at the exact conversion factor on exact pairs", read=READ)
    check_true(isinstance(strawman_loss(0.5, km, miles), float),
               "strawman_loss should return a Python float (use float(...))", read=READ)
    """),
    test("test_strawman_loss_hidden", 2, f"""
    \"\"\"Hidden tests: strawman_loss agrees with nnlib.losses.mse on random training sets, without calling it.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{ERROR}"
    rng = np.random.default_rng(2002)
    for n in (1, 7, 50):
        x, y = km_to_miles(n=n, noise=2.0, seed=rng)
        c = float(rng.uniform(0.0, 1.5))
        expected = mse(c * x, y)
        with forbid_calls(mse, mse_gradient, nnlib.losses._mse_both,
                          exercise="strawman_loss", read=READ):
            got = strawman_loss(c, x, y)
        check_close(got, expected, what=f"strawman_loss(c={{c:.4f}}) on {{n}} random pairs", read=READ)
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------------ the gradient
    markdown("gradient_md", r"""
    ### A3. The derivative (4 points)

    $$\frac{\mathrm{d}L}{\mathrm{d}c} = \frac1N \sum_{n=1}^{N} \bigl(c\,\text{km}_n - \text{miles}_n\bigr)\,\text{km}_n .$$

    Derive it from A2 before you code it (each pair contributes its residual times its input).
    Return a Python `float`.
    """),
    answer("strawman_gradient", """
    def strawman_gradient(c, km, miles):
        \"\"\"The derivative dL/dc of strawman_loss at c.\"\"\"
        ### BEGIN SOLUTION
        km = np.asarray(km, dtype=float)
        residual = c * km - np.asarray(miles, dtype=float)
        return float(np.mean(residual * km))
        ### END SOLUTION
    """),
    test("test_strawman_gradient_values", 2, f"""
    \"\"\"strawman_gradient: a hand-worked example and a centred-difference check of the error.\"\"\"
    READ = "{UPDATES}"
    # residuals [1, -2] times inputs [1, 2] = [1, -4]; mean = -1.5
    check_close(strawman_gradient(1.0, np.array([1.0, 2.0]), np.array([0.0, 4.0])), -1.5,
                what="strawman_gradient(c=1, km=[1, 2], miles=[0, 4])", read=READ)
    for c in (0.0, 0.5, 0.9):
        # the slope of nnlib's 1/2-MSE, by centred differences
        err = check_gradient(lambda p: mse(p[0] * km, miles),
                             lambda p: np.array([strawman_gradient(p[0], km, miles)]), np.array([c]))
        check_true(err < 1e-6, f"strawman_gradient(c={{c}}) disagrees with the slope of the error L(c): "
                   f"relative error {{err:.2g}} (should be below 1e-6). Is the sign right? Is there a 1/N?",
                   read=READ)
    """),
    test("test_strawman_gradient_hidden", 2, f"""
    \"\"\"Hidden tests: strawman_gradient agrees with nnlib's MSE gradient and the chain rule, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{UPDATES}"
    rng = np.random.default_rng(2003)
    for n in (1, 9, 40):
        x, y = km_to_miles(n=n, noise=1.0, km_max=float(rng.uniform(5.0, 500.0)), seed=rng)
        c = float(rng.uniform(-0.5, 1.5))
        expected = float(mse_gradient(c * x, y) @ x)
        with forbid_calls(mse, mse_gradient, nnlib.losses._mse_both,
                          exercise="strawman_gradient", read=READ):
            got = strawman_gradient(c, x, y)
        check_close(got, expected, what=f"strawman_gradient(c={{c:.4f}}) on {{n}} random pairs", read=READ)
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------------ the iteration
    markdown("iterate_md", r"""
    ### A4. Iterative updates (4 points)

    Starting from $c_0$, apply the gradient-descent update `n_steps` $= T$ times on the whole
    training set,

    $$c_{t+1} = c_t - \eta \, \frac{\mathrm{d}L}{\mathrm{d}c}(c_t), \qquad t = 0, 1, \dots, T - 1,$$

    and return the whole history $c_0, c_1, \dots, c_T$ as a NumPy array of shape `(n_steps + 1,)`.
    Use your `strawman_gradient`.
    """),
    answer("iterate", """
    def iterate(c0, km, miles, eta, n_steps):
        \"\"\"Gradient descent on strawman_loss: the array [c_0, c_1, ..., c_n_steps].\"\"\"
        ### BEGIN SOLUTION
        history = [float(c0)]
        for _ in range(n_steps):
            history.append(history[-1] - eta * strawman_gradient(history[-1], km, miles))
        return np.array(history)
        ### END SOLUTION
    """),
    test("test_iterate_values", 1, f"""
    \"\"\"iterate: the shape of the history, its start, one hand-worked step, and convergence on the book's data.\"\"\"
    READ = "{UPDATES}"
    path = iterate(0.0, km, miles, eta=1e-4, n_steps=30)
    check_shape(path, (31,), what="iterate(..., n_steps=30)", read=READ)
    check_close(path[0], 0.0, what="the first entry of the history (c_0)", read=READ)
    # one step from c=1 on km=[1, 2], miles=[0, 4]: dL/dc = -1.5, so c_1 = 1 - 0.1 * (-1.5) = 1.15
    check_close(iterate(1.0, np.array([1.0, 2.0]), np.array([0.0, 4.0]), eta=0.1, n_steps=1), [1.0, 1.15],
                what="iterate(c0=1, km=[1, 2], miles=[0, 4], eta=0.1, n_steps=1)", read=READ)
    c_star = np.mean(km * miles) / np.mean(km ** 2)
    check_close(path[-1], c_star, rtol=1e-3, what="c after 30 steps with eta = 1e-4", read=READ)
    """),
    test("test_iterate_hidden", 3, f"""
    \"\"\"Hidden tests: iterate against nnlib's gradient, for slow, oscillating and diverging learning rates.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{ETA}"
    rng = np.random.default_rng(2004)
    x, y = km_to_miles(n=15, noise=0.5, km_max=60.0, seed=rng)
    kappa = np.mean(x ** 2)
    for factor, c0, n_steps in [(0.3, 0.0, 7), (1.5, 2.0, 12), (2.2, 0.1, 5)]:
        eta = factor / kappa
        expected = [c0]
        for _ in range(n_steps):
            expected.append(expected[-1] - eta * float(mse_gradient(expected[-1] * x, y) @ x))
        x_before = x.copy()
        with forbid_calls(mse, mse_gradient, nnlib.losses._mse_both,
                          exercise="iterate", read=READ):
            got = iterate(c0, x, y, eta, n_steps)
        check_close(got, expected, what=f"iterate(c0={{c0}}, eta={{factor}}/<km^2>, n_steps={{n_steps}})", read=READ)
        check_true(np.array_equal(x, x_before), "iterate modified its argument km", read=READ)
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------------------ Huber
    markdown("huber_md", r"""
    ## Part B: an error nnlib does not have (5 points)

    A few pairs with a large measurement error (an odometer that skipped) dominate the
    squared error, because it grows with the square of the residual. The **Huber error**
    grows only linearly beyond a scale $\delta > 0$. With the residual
    $r_n = c\,\text{km}_n - \text{miles}_n$,

    $$L_\delta(c) = \frac1N \sum_{n=1}^N h_\delta(r_n), \qquad
      h_\delta(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta, \\
                                  \delta\,\bigl(|r| - \tfrac12\delta\bigr) & |r| > \delta. \end{cases}$$

    Write `huber_loss` (a Python `float`) and its derivative `huber_gradient`
    $= \mathrm{d}L_\delta/\mathrm{d}c$ (a Python `float`; differentiate $h_\delta$ piece by piece
    and use the chain rule $\mathrm{d}r_n/\mathrm{d}c = \text{km}_n$). For small residuals
    both agree with the squared error of part A. The tests check your derivative with
    `nnlib.gradcheck.check_gradient`, the centred-difference check of book chapter 7: you can
    run that check yourself.
    """),
    answer("huber", """
    def huber_loss(c, km, miles, delta=1.0):
        \"\"\"The Huber error L_delta(c) of the model miles = c * km.\"\"\"
        ### BEGIN SOLUTION
        r = c * np.asarray(km, dtype=float) - np.asarray(miles, dtype=float)
        a = np.abs(r)
        return float(np.mean(np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta))))
        ### END SOLUTION


    def huber_gradient(c, km, miles, delta=1.0):
        \"\"\"The derivative dL_delta/dc of huber_loss at c.\"\"\"
        ### BEGIN SOLUTION
        km = np.asarray(km, dtype=float)
        r = c * km - np.asarray(miles, dtype=float)
        return float(np.mean(np.clip(r, -delta, delta) * km))
        ### END SOLUTION
    """),
    test("test_huber_loss_values", 1, f"""
    \"\"\"huber_loss: hand-worked values on both sides of delta.\"\"\"
    READ = "{ERROR}"
    # residuals 1*[1, 2, 3] - [1.5, 0, 3] = [-0.5, 2, 0]; h = [0.125, 1 * (2 - 0.5), 0] = [0.125, 1.5, 0]
    check_close(huber_loss(1.0, np.array([1.0, 2.0, 3.0]), np.array([1.5, 0.0, 3.0]), delta=1.0), 1.625 / 3,
                what="huber_loss(c=1, km=[1, 2, 3], miles=[1.5, 0, 3], delta=1)", read=READ)
    # with a large delta every residual is small: the Huber error is the squared error
    check_close(huber_loss(0.5, km, miles, delta=1e6), mse(0.5 * km, miles),
                what="huber_loss with delta = 1e6 compared with the 1/2-MSE", read=READ)
    """),
    test("test_huber_gradient_gradcheck", 2, f"""
    \"\"\"huber_gradient: centred-difference check with nnlib.gradcheck on the book's data, for two deltas.\"\"\"
    READ = "{CHECKGRAD}"
    for delta in (1.0, 5.0):
        for c in (0.3, 0.6, 0.8):
            err = check_gradient(lambda p: huber_loss(p[0], km, miles, delta),
                                 lambda p: np.array([huber_gradient(p[0], km, miles, delta)]), np.array([c]))
            check_true(err < 1e-6, f"huber_gradient(c={{c}}, delta={{delta}}) disagrees with the slope of huber_loss: "
                       f"relative error {{err:.2g}} (should be below 1e-6)", read=READ)
    """),
    test("test_huber_hidden", 2, f"""
    \"\"\"Hidden tests: huber_loss values and a gradient check of huber_gradient on random data with outliers.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{CHECKGRAD}"
    rng = np.random.default_rng(2005)
    for n, delta in [(12, 0.5), (30, 2.0), (5, 10.0)]:
        x, y = km_to_miles(n=n, noise=3.0, km_max=50.0, seed=rng)
        y[:2] += 25.0  # two outliers
        c = float(rng.uniform(0.3, 0.9))
        r = c * x - y
        expected = np.mean(np.where(np.abs(r) <= delta, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta)))
        check_close(huber_loss(c, x, y, delta), expected,
                    what=f"huber_loss(c={{c:.4f}}, delta={{delta}}) on {{n}} random pairs with outliers", read="{ERROR}")
        err = check_gradient(lambda p: huber_loss(p[0], x, y, delta),
                             lambda p: np.array([huber_gradient(p[0], x, y, delta)]), np.array([c]))
        check_true(err < 1e-6, f"huber_gradient(c={{c:.4f}}, delta={{delta}}) on random pairs with outliers: "
                   f"relative error {{err:.2g}} against centred differences", read=READ)
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------------- nnlib.fit
    markdown("fit_md", r"""
    ## Part C: learning $c$ with nnlib (3 points)

    Write `fit_conversion(km, miles, seed)` that learns $c$ with `nnlib`: a network
    `nnlib.Sequential([nnlib.Dense(1, 1, bias=False, init="zeros")])` (one weight, $A = c$, no
    bias), trained on the $\tfrac12$-MSE (`"mse"`) with `nnlib.fit`, and return the learned
    weight as a Python `float` (`model.layers[0].A.item()`). Remember that `nnlib.fit` wants
    `X` of shape `(N, 1)`: `km[:, None]`.

    The tests check that `fit_conversion` calls `nnlib.fit` (directly or through your own
    helper functions): the closed form of chapter 2 is not the exercise.

    You choose the learning rate, the number of epochs and the batch size; pass `seed` on to
    `nnlib.fit`. It must recover the conversion factor 0.621371 within **1 %** for *every*
    training set of this kind, with distances up to 10 km or up to 1000 km and any seed:
    the hidden tests try several. A learning rate that works for one range of distances
    diverges or crawls for another, so compute it from the data (book chapter 2, *The
    learning rate*).
    """),
    answer("fit_conversion", """
    def fit_conversion(km, miles, seed=0):
        \"\"\"Learn c of miles = c * km with nnlib.fit; returns c as a float.\"\"\"
        ### BEGIN SOLUTION
        km = np.asarray(km, dtype=float)
        model = nnlib.Sequential([nnlib.Dense(1, 1, bias=False, init="zeros")])
        eta = 1.0 / np.mean(km ** 2)  # half the stability limit 2 / <km^2>
        nnlib.fit(model, "mse", km[:, None], miles, epochs=20, batch_size=km.size, eta=eta, seed=seed)
        return model.layers[0].A.item()
        ### END SOLUTION
    """),
    test("test_fit_conversion_book_data", 1, f"""
    \"\"\"fit_conversion: recovers 0.621371 within 1 % on the book's training set.\"\"\"
    READ = "{UPDATES}"
    c_fit = fit_conversion(km, miles, seed=0)
    check_true(isinstance(c_fit, float), f"fit_conversion should return a Python float, got {{type(c_fit).__name__}}", read=READ)
    check_calls(fit_conversion, nnlib.fit, what="fit_conversion", name="nnlib.fit", read=READ)
    check_true(abs(c_fit / KM_TO_MILES - 1) < 0.01,
               f"fit_conversion learned c = {{c_fit:.5f}}, more than 1 % away from 0.621371", read=READ)
    """),
    test("test_fit_conversion_hidden", 2, f"""
    \"\"\"Hidden tests: fit_conversion on other training sets (short and long distances, other seeds).\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{ETA}"
    import warnings
    check_calls(fit_conversion, nnlib.fit, what="fit_conversion", name="nnlib.fit", read="{UPDATES}")
    for n, km_max, data_seed, fit_seed in [(40, 10.0, 11, 3), (25, 1000.0, 12, 7), (60, 100.0, 13, 123)]:
        x, y = km_to_miles(n=n, noise=0.02 * km_max / 10, km_max=km_max, seed=data_seed)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                c_fit = float(fit_conversion(x, y, seed=fit_seed))
        except FloatingPointError:
            raise AssertionError(f"fit_conversion diverged on {{n}} pairs with distances up to {{km_max:g}} km: "
                                 f"the learning rate is too large for this data. Read: {{READ}}.") from None
        check_true(abs(c_fit / KM_TO_MILES - 1) < 0.01,
                   f"fit_conversion learned c = {{c_fit:.5f}} on {{n}} pairs with distances up to {{km_max:g}} km, "
                   "more than 1 % away from 0.621371 (too few epochs, or a learning rate that does not fit the data?)",
                   read=READ)
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------------ written
    markdown("written_md", r"""
    ## Part D: outliers (2 points, graded by hand)

    Add one pair with a gross measurement error to the training set (an odometer that
    skipped: a true 80 km recorded as 10 miles). In a few sentences (and a formula if you
    like): why does the learned $c$ move much less with the Huber error of part B than with
    the squared error of part A? Compare how one residual $r_n$ enters the two derivatives
    $\mathrm{d}L/\mathrm{d}c$, and say what the scale $\delta$ controls.
    """),
    written("written_outliers", 2, r"""
    In the squared error each pair contributes $r_n\,\text{km}_n / N$ to
    $\mathrm{d}L/\mathrm{d}c$: the pull of a pair grows in proportion to its residual, so one
    pair with a residual of 40 miles pulls as hard as forty ordinary pairs with residuals of
    about one mile, and the minimum moves towards it. In the Huber error the contribution is
    $\operatorname{clip}(r_n, -\delta, \delta)\,\text{km}_n / N$: beyond $\delta$ the pull no
    longer grows with the residual, so the outlier counts like a pair that is "$\delta$ wrong"
    and the fit stays close to the bulk of the data. $\delta$ sets the residual beyond which a
    pair is treated as an outlier: a large $\delta$ gives back the squared error, a small one
    approaches the mean absolute error.
    """),
]

if __name__ == "__main__":
    print(write_notebook(cells, OUT))
