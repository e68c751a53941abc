"""Write solutions/05-activations/activations.ipynb (homework 5, activation functions).

Run from the repository root:  .venv/bin/python solutions/_build_notebooks/build_05_activations.py
"""

from pathlib import Path

from nbcells import answer, code, markdown, test, write_notebook, written

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "solutions" / "05-activations" / "activations.ipynb"

SIG = "Chapter 5, 'Sigmoid' (book/05-activations.md)"
SOFTMAX = "Chapter 5, 'Softmax' (book/05-activations.md)"
TANH = "Chapter 5, 'tanh' (book/05-activations.md)"
RELU = "Chapter 5, 'ReLU' (book/05-activations.md)"
VANISH = "Chapter 5, 'Vanishing gradients' (book/05-activations.md)"
CHECKGRAD = "Chapter 7, 'Checking gradients' (book/07-backprop.md)"

cells = [
    markdown("intro", """
    # Homework 5: Activation functions

    **Read first:** book chapter 5, *Activation functions* (`book/05-activations.md`), in
    particular the sections *Sigmoid*, *Softmax*, *tanh*, *ReLU* and *Vanishing gradients*.
    Part B uses the centred-difference check of chapter 7, *Checking gradients*
    (`book/07-backprop.md`).

    In this homework you

    * **A** (14 points) implement the activation functions of the lecture and their derivatives
      with NumPy, numerically stable for inputs as large as $|z| = 1000$;
    * **B** (4 points) extend the library with an activation it does not have, the *softplus*,
      and check its derivative with `nnlib.gradcheck`;
    * **C** (3 points) use `nnlib` to measure how the gradient shrinks on its way back through a
      deep sigmoid network, and compare with ReLU;
    * **D** (3 points, graded by hand) explain in a few sentences why ReLU helps.

    **How to work.** Replace every `# YOUR CODE HERE` / `raise NotImplementedError()` with your
    code; do not change the other cells. Write your own formula with NumPy (`np.exp`, `np.log1p`,
    `np.tanh`, `np.maximum`, `np.where`, ...): in part A **do not call the `nnlib` function you
    are re-implementing** (`nnlib.activations.sigmoid` and friends). Your functions must not
    modify the array they are given.

    **How to check.** Each task is followed by test cells. The visible tests run when you run the
    notebook (*Kernel > Restart & Run All*): a passing cell prints nothing
    (or a line of measured values), a failing one says
    what is wrong and which book section to read. Hidden tests, run at grading time, compare your
    functions with `nnlib` on random inputs (while blocking the `nnlib` function you
    re-implement) and try other random seeds in part C. Before you submit, run

        nbgrader validate activations.ipynb

    which runs every cell and reports failing tests. The whole notebook runs in a few seconds.

    | part | task | points |
    |---|---|---|
    | A | `sigmoid` (3), `sigmoid_derivative` (2), `tanh_derivative` (2), `relu` (2), `relu_derivative` (2), `softmax` (3) | 14 |
    | B | `softplus`, `softplus_derivative` | 4 |
    | C | `layer_gradient_norms` | 3 |
    | D | written answer | 3 |
    """),
    code("setup", """
    import warnings

    import numpy as np

    import nnlib
    from nnlib import activations
    from nnlib.gradcheck import check_gradient
    from nnlib.testing import check_close, check_shape, check_true, forbid_calls


    def call_without_overflow(func, *args, what, read):
        \"\"\"Call ``func(*args)`` with NumPy's overflow, divide and invalid warnings turned into errors.\"\"\"
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with np.errstate(over="raise", divide="raise", invalid="raise"):
                try:
                    return func(*args)
                except (FloatingPointError, RuntimeWarning) as exc:
                    message = (f"{what} is not numerically stable: NumPy reported '{exc}'. "
                               "Rewrite it so that no exponential of a large positive number is "
                               f"taken. Read: {read}.")
        raise AssertionError(message)
    """),
    # ------------------------------------------------------------------ sigmoid
    markdown("sigmoid_md", r"""
    ## Part A: activation functions from scratch

    ### A1. Sigmoid (3 points)

    $$\sigma(z) = \frac{1}{1 + e^{-z}}, \qquad \sigma(-z) = 1 - \sigma(z).$$

    Written this way, $e^{-z}$ overflows for $z = -1000$ (NumPy warns *overflow encountered in
    exp*). Use $e^{-|z|} \in (0, 1]$ instead: for $z \ge 0$, $\sigma(z) = 1/(1 + e^{-|z|})$;
    for $z < 0$, $\sigma(z) = e^{-|z|}/(1 + e^{-|z|})$. `np.where` picks the right branch per
    entry. `z` is an array of any shape (or a number); return an array of the same shape.
    """),
    answer("sigmoid", """
    def sigmoid(z):
        \"\"\"Logistic sigmoid 1 / (1 + exp(-z)), elementwise, stable for any finite z.\"\"\"
        ### BEGIN SOLUTION
        z = np.asarray(z, dtype=float)
        e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        ### END SOLUTION
    """),
    test("test_sigmoid_values", 1, f"""
    \"\"\"sigmoid: hand-worked values, the symmetry sigma(-z) = 1 - sigma(z), and the shape.\"\"\"
    READ = "{SIG}"
    check_close(sigmoid(0.0), 0.5, what="sigmoid(0)", read=READ)
    z = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    # sigma(1) = 1 / (1 + e^-1) = 1 / 1.36788 = 0.731059
    expected = [0.11920292202211755, 0.2689414213699951, 0.5, 0.7310585786300049, 0.8807970779778823]
    check_close(sigmoid(z), expected, what="sigmoid(z)", inputs=z, read=READ)
    check_close(sigmoid(-z), 1 - sigmoid(z), what="sigmoid(-z) compared with 1 - sigmoid(z)", inputs=z, read=READ)
    check_shape(sigmoid(np.zeros((3, 4))), (3, 4), what="sigmoid of a (3, 4) array", read=READ)
    """),
    test("test_sigmoid_hidden", 1, f"""
    \"\"\"Hidden tests: sigmoid agrees with nnlib on random inputs of several shapes, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{SIG}"
    rng = np.random.default_rng(5001)
    for shape in [(7,), (4, 5), (2, 3, 4)]:
        z = rng.normal(0.0, 4.0, size=shape)
        z_before = z.copy()
        expected = activations.sigmoid(z)
        with forbid_calls(activations.sigmoid, exercise="sigmoid", read=READ):
            got = sigmoid(z)
        check_close(got, expected, what=f"sigmoid(z) for z of shape {{shape}}", inputs=z_before, read=READ)
        check_true(np.array_equal(z, z_before), "sigmoid modified its input z; return a new array instead.", read=READ)
    z32 = rng.normal(0.0, 4.0, size=9).astype(np.float32)
    check_close(sigmoid(z32), activations.sigmoid(z32.astype(float)), what="sigmoid(z) for float32 z",
                inputs=z32, read=READ, rtol=1e-5)
    ### END HIDDEN TESTS
    """),
    test("test_sigmoid_stable", 1, f"""
    \"\"\"sigmoid is stable: exact limits at z = -1000 and z = 1000, and no overflow warning.\"\"\"
    READ = "{SIG}"
    z = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    got = call_without_overflow(sigmoid, z, what="sigmoid(z) at z = -1000 or 1000", read=READ)
    check_close(got, [0.0, 4.248354255291589e-18, 0.5, 1.0, 1.0], what="sigmoid(z) for large |z|",
                inputs=z, read=READ, atol=1e-12)
    """),
    # ------------------------------------------------------- sigmoid derivative
    markdown("sigmoid_derivative_md", r"""
    ### A2. Derivative of the sigmoid (2 points)

    $$\sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr) \le \tfrac14 .$$

    You may (and should) call your own `sigmoid`.
    """),
    answer("sigmoid_derivative", """
    def sigmoid_derivative(z):
        \"\"\"Derivative of the sigmoid, elementwise.\"\"\"
        ### BEGIN SOLUTION
        s = sigmoid(z)
        return s * (1 - s)
        ### END SOLUTION
    """),
    test("test_sigmoid_derivative_values", 1, f"""
    \"\"\"sigmoid_derivative: the value 1/4 at 0, hand-worked values, and the maximum 1/4.\"\"\"
    READ = "{SIG}"
    check_close(sigmoid_derivative(0.0), 0.25, what="sigmoid_derivative(0)", read=READ)
    z = np.array([-2.0, 1.0, 3.0])
    # sigma(1) (1 - sigma(1)) = 0.731059 * 0.268941 = 0.196612
    check_close(sigmoid_derivative(z), [0.10499358540350662, 0.19661193324148185, 0.045176659730912],
                what="sigmoid_derivative(z)", inputs=z, read=READ)
    grid = np.linspace(-6, 6, 121)
    check_true(np.max(sigmoid_derivative(grid)) <= 0.25 + 1e-12,
               "sigmoid_derivative exceeds 1/4 somewhere on [-6, 6]; the maximum of s(1 - s) is 1/4.",
               read=READ)
    """),
    test("test_sigmoid_derivative_hidden", 1, f"""
    \"\"\"Hidden tests: sigmoid_derivative agrees with nnlib on random inputs, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{SIG}"
    rng = np.random.default_rng(5002)
    for shape in [(9,), (3, 6)]:
        z = rng.normal(0.0, 3.0, size=shape)
        expected = activations.sigmoid_derivative(z)
        with forbid_calls(activations.sigmoid, activations.sigmoid_derivative, exercise="sigmoid_derivative", read=READ):
            got = sigmoid_derivative(z)
        check_close(got, expected, what=f"sigmoid_derivative(z) for z of shape {{shape}}", inputs=z, read=READ)
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------------------- tanh'
    markdown("tanh_derivative_md", r"""
    ### A3. Derivative of tanh (2 points)

    $$\tanh'(z) = 1 - \tanh^2 z \le 1 .$$

    Use `np.tanh` (not `nnlib.activations.tanh`).
    """),
    answer("tanh_derivative", """
    def tanh_derivative(z):
        \"\"\"Derivative of tanh, elementwise.\"\"\"
        ### BEGIN SOLUTION
        t = np.tanh(z)
        return 1 - t ** 2
        ### END SOLUTION
    """),
    test("test_tanh_derivative_values", 1, f"""
    \"\"\"tanh_derivative: the value 1 at 0 and hand-worked values.\"\"\"
    READ = "{TANH}"
    check_close(tanh_derivative(0.0), 1.0, what="tanh_derivative(0)", read=READ)
    z = np.array([-2.0, -1.0, 1.0, 2.0])
    # 1 - tanh(1)^2 = 1 - 0.761594^2 = 0.419974
    check_close(tanh_derivative(z), [0.07065082485316443, 0.41997434161402614, 0.41997434161402614, 0.07065082485316443],
                what="tanh_derivative(z)", inputs=z, read=READ)
    """),
    test("test_tanh_derivative_hidden", 1, f"""
    \"\"\"Hidden tests: tanh_derivative agrees with nnlib on random inputs, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{TANH}"
    rng = np.random.default_rng(5003)
    for shape in [(8,), (5, 2)]:
        z = rng.normal(0.0, 2.0, size=shape)
        expected = activations.tanh_derivative(z)
        with forbid_calls(activations.tanh, activations.tanh_derivative, exercise="tanh_derivative", read=READ):
            got = tanh_derivative(z)
        check_close(got, expected, what=f"tanh_derivative(z) for z of shape {{shape}}", inputs=z, read=READ)
    ### END HIDDEN TESTS
    """),
    # -------------------------------------------------------------------- ReLU
    markdown("relu_md", r"""
    ### A4. ReLU and its derivative (4 points)

    $$\mathrm{ReLU}(z) = \max(0, z), \qquad
    \mathrm{ReLU}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}$$

    ReLU is not differentiable at $z = 0$; like `nnlib` (and most libraries) use the value **0**
    there. Return new arrays: do not overwrite the entries of `z`.
    """),
    answer("relu", """
    def relu(z):
        \"\"\"Rectified linear unit max(0, z), elementwise.\"\"\"
        ### BEGIN SOLUTION
        return np.maximum(np.asarray(z, dtype=float), 0.0)
        ### END SOLUTION
    """),
    test("test_relu_values", 1, f"""
    \"\"\"relu: hand-worked values, and the input array is left unchanged.\"\"\"
    READ = "{RELU}"
    z = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    z_before = z.copy()
    got = relu(z)
    check_true(np.array_equal(z, z_before), "relu modified its input z; return a new array instead.", read=READ)
    check_close(got, [0.0, 0.0, 0.0, 0.5, 3.0], what="relu(z)", inputs=z_before, read=READ)
    """),
    test("test_relu_hidden", 1, f"""
    \"\"\"Hidden tests: relu agrees with nnlib on random inputs, without calling nnlib or changing z.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{RELU}"
    rng = np.random.default_rng(5004)
    for shape in [(10,), (4, 3)]:
        z = rng.normal(0.0, 2.0, size=shape)
        z_before = z.copy()
        expected = activations.relu(z)
        with forbid_calls(activations.relu, exercise="relu", read=READ):
            got = relu(z)
        check_true(np.array_equal(z, z_before), "relu modified its input z; return a new array instead.", read=READ)
        check_close(got, expected, what=f"relu(z) for z of shape {{shape}}", inputs=z_before, read=READ)
    ### END HIDDEN TESTS
    """),
    answer("relu_derivative", """
    def relu_derivative(z):
        \"\"\"Derivative of ReLU: 1 where z > 0, else 0 (also at z = 0).\"\"\"
        ### BEGIN SOLUTION
        z = np.asarray(z, dtype=float)
        return (z > 0).astype(float)
        ### END SOLUTION
    """),
    test("test_relu_derivative_values", 1, f"""
    \"\"\"relu_derivative: hand-worked values, with the convention ReLU'(0) = 0.\"\"\"
    READ = "{RELU}"
    z = np.array([-2.0, -0.5, 0.5, 3.0])
    check_close(relu_derivative(z), [0.0, 0.0, 1.0, 1.0], what="relu_derivative(z)", inputs=z, read=READ)
    check_close(relu_derivative(np.array([0.0])), [0.0],
                what="relu_derivative(0) (use the value 0 at z = 0, as nnlib does)", read=READ)
    """),
    test("test_relu_derivative_hidden", 1, f"""
    \"\"\"Hidden tests: relu_derivative agrees with nnlib on random inputs with some exact zeros.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{RELU}"
    rng = np.random.default_rng(5005)
    z = np.round(rng.normal(0.0, 1.0, size=(6, 5)), 1)   # rounding leaves a few exact zeros
    z[0, 0] = 0.0
    expected = activations.relu_derivative(z)
    with forbid_calls(activations.relu, activations.relu_derivative, exercise="relu_derivative", read=READ):
        got = relu_derivative(z)
    check_close(got, expected, what="relu_derivative(z)", inputs=z, read=READ)
    ### END HIDDEN TESTS
    """),
    # ----------------------------------------------------------------- softmax
    markdown("softmax_md", r"""
    ### A5. Softmax (3 points)

    For a batch of scores `z` of shape `(N, K)` (one row per sample, one column per class),

    $$\mathrm{softmax}(\mathbf z)_i = \frac{e^{z_i}}{\sum_{k=1}^{K} e^{z_k}}$$

    row by row: every row of the result is a probability vector. Adding the same constant to
    every score of a row does not change its softmax; subtract the row's maximum before taking
    the exponential, so that no $e^{1000}$ is ever computed (`np.max(..., axis=1, keepdims=True)`).
    """),
    answer("softmax", """
    def softmax(z):
        \"\"\"Softmax of every row of z, shape (N, K) -> (N, K).\"\"\"
        ### BEGIN SOLUTION
        z = np.asarray(z, dtype=float)
        shifted = z - np.max(z, axis=1, keepdims=True)
        e = np.exp(shifted)
        return e / np.sum(e, axis=1, keepdims=True)
        ### END SOLUTION
    """),
    test("test_softmax_values", 1, f"""
    \"\"\"softmax: hand-worked rows, rows summing to 1, equal scores giving equal probabilities.\"\"\"
    READ = "{SOFTMAX}"
    z = np.array([[0.0, np.log(2.0), np.log(3.0)],   # e^z = 1, 2, 3 -> 1/6, 2/6, 3/6
                  [5.0, 5.0, 5.0]])
    got = softmax(z)
    check_shape(got, (2, 3), what="softmax of a (2, 3) array", read=READ)
    check_close(got, [[1 / 6, 2 / 6, 3 / 6], [1 / 3, 1 / 3, 1 / 3]], what="softmax(z)", read=READ)
    z = np.array([[1.0, -2.0, 0.5, 3.0], [0.0, 0.1, 0.2, 0.3]])
    check_close(np.sum(softmax(z), axis=1), [1.0, 1.0], what="the row sums of softmax(z)", read=READ)
    """),
    test("test_softmax_hidden", 1, f"""
    \"\"\"Hidden tests: softmax agrees with nnlib on random batches, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{SOFTMAX}"
    rng = np.random.default_rng(5006)
    for shape in [(1, 4), (6, 3), (5, 10)]:
        z = rng.normal(0.0, 3.0, size=shape)
        z_before = z.copy()
        expected = activations.softmax(z, axis=1)
        with forbid_calls(activations.softmax, exercise="softmax", read=READ):
            got = softmax(z)
        check_close(got, expected, what=f"softmax(z) for z of shape {{shape}}", read=READ)
        check_true(np.array_equal(z, z_before), "softmax modified its input z; return a new array instead.", read=READ)
    ### END HIDDEN TESTS
    """),
    test("test_softmax_stable", 1, f"""
    \"\"\"softmax is stable: scores of +-1000 give the right probabilities, without overflow, row by row.\"\"\"
    READ = "{SOFTMAX}"
    # the last row's largest score is -1000: shifting by the maximum of the whole batch, or of
    # a column, instead of each row's own maximum, underflows it to 0 / 0
    z = np.array([[1000.0, 1000.0, 0.0],
                  [-1000.0, 0.0, 1000.0],
                  [1000.0, 999.0, 998.0],
                  [-1000.0, -1001.0, -1002.0]])
    got = call_without_overflow(softmax, z, what="softmax(z) with scores of +-1000 (each row shifted by its own maximum?)",
                                read=READ)
    expected = [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0],
                [0.6652409557748219, 0.24472847105479764, 0.09003057317038046],
                [0.6652409557748219, 0.24472847105479764, 0.09003057317038046]]
    check_close(got, expected, what="softmax(z) with scores of +-1000 (each row shifted by its own maximum?)",
                read=READ)
    """),
    # ---------------------------------------------------------------- softplus
    markdown("softplus_md", r"""
    ## Part B: an activation nnlib does not have

    ### B1. Softplus (4 points)

    The *softplus* is a smooth version of the ReLU,

    $$\mathrm{softplus}(z) = \log\bigl(1 + e^{z}\bigr), \qquad
    \mathrm{softplus}'(z) = \frac{e^{z}}{1 + e^{z}} = \sigma(z).$$

    For large $z$ the naive formula overflows, although $\mathrm{softplus}(z) \approx z$ there.
    Use $\log(1 + e^{z}) = \max(z, 0) + \log\bigl(1 + e^{-|z|}\bigr)$ (check it for $z > 0$
    and for $z < 0$) and `np.log1p`. The derivative is checked against centred differences
    of your softplus with `nnlib.gradcheck.check_gradient`, as in chapter 7, *Checking gradients*:
    the relative error must be below $10^{-6}$.
    """),
    answer("softplus", """
    def softplus(z):
        \"\"\"Softplus log(1 + exp(z)), elementwise, stable for any finite z.\"\"\"
        ### BEGIN SOLUTION
        z = np.asarray(z, dtype=float)
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
        ### END SOLUTION
    """),
    answer("softplus_derivative", """
    def softplus_derivative(z):
        \"\"\"Derivative of softplus, elementwise.\"\"\"
        ### BEGIN SOLUTION
        return sigmoid(z)
        ### END SOLUTION
    """),
    test("test_softplus_values", 1, f"""
    \"\"\"softplus: log(2) at 0, softplus(z) - softplus(-z) = z, and agreement with log(1 + e^z).\"\"\"
    READ = "{RELU}"
    check_close(softplus(0.0), np.log(2.0), what="softplus(0)", read=READ)
    z = np.array([-2.0, -1.0, 1.0, 2.0])
    # log(1 + e^1) = log(3.718282) = 1.313262
    check_close(softplus(z), [0.12692801104297252, 0.31326168751822286, 1.3132616875182228, 2.1269280110429727],
                what="softplus(z)", inputs=z, read=READ)
    z = np.linspace(-8, 8, 17)
    check_close(softplus(z) - softplus(-z), z, what="softplus(z) - softplus(-z)", inputs=z, read=READ)
    ### BEGIN HIDDEN TESTS
    rng = np.random.default_rng(5007)
    z = rng.normal(0.0, 5.0, size=(4, 6))
    check_close(softplus(z), np.logaddexp(0.0, z), what="softplus(z) for random z", inputs=z, read=READ)
    ### END HIDDEN TESTS
    """),
    test("test_softplus_stable", 1, f"""
    \"\"\"softplus and softplus_derivative are stable: no overflow at z = -1000 or 1000.\"\"\"
    READ = "{RELU}"
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    got = call_without_overflow(softplus, z, what="softplus(z) at z = -1000 or 1000", read=READ)
    check_close(got, [0.0, 1.9287498479639178e-22, np.log(2.0), 50.0, 1000.0], what="softplus(z) for large |z|",
                inputs=z, read=READ, atol=1e-12)
    got = call_without_overflow(softplus_derivative, z, what="softplus_derivative(z) at z = -1000 or 1000", read=READ)
    check_close(got, [0.0, 1.9287498479639178e-22, 0.5, 1.0, 1.0], what="softplus_derivative(z) for large |z|",
                inputs=z, read=READ, atol=1e-12)
    """),
    test("test_softplus_gradient", 2, f"""
    \"\"\"softplus_derivative matches centred differences of softplus (nnlib.gradcheck.check_gradient).\"\"\"
    READ = "{CHECKGRAD}"
    z = np.linspace(-5.0, 5.0, 11)
    err = check_gradient(lambda x: np.sum(softplus(x)), softplus_derivative, z)
    check_true(err < 1e-6, f"softplus_derivative does not match the slope of softplus on [-5, 5]: "
               f"relative error {{err:.2e}}, it should be below 1e-6.", read=READ)
    ### BEGIN HIDDEN TESTS
    rng = np.random.default_rng(5008)
    z = rng.normal(0.0, 3.0, size=(3, 5))
    err = check_gradient(lambda x: np.sum(softplus(x)), softplus_derivative, z)
    check_true(err < 1e-6, f"softplus_derivative does not match the slope of softplus at random points: "
               f"relative error {{err:.2e}}, it should be below 1e-6.", read=READ)
    check_close(softplus_derivative(z), activations.sigmoid(z), what="softplus_derivative(z) (the sigmoid)",
                inputs=z, read="{SIG}")
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------ vanishing gradients
    markdown("gradient_norms_md", r"""
    ## Part C: vanishing gradients, measured with nnlib

    ### C1. Gradient norms layer by layer (3 points)

    Back-propagation multiplies the deltas by $f'(z)$ once per layer. With the sigmoid,
    $f'(z) \le 1/4$, so the gradient reaching the first layers of a deep network is tiny.
    Measure it. Write `layer_gradient_norms(activation, depth, width, seed)` that

    1. draws the data `X, y = nnlib.data.two_moons(200, seed=seed)`;
    2. builds `model = nnlib.mlp([2] + [width] * depth + [1], activation, seed=seed)`
       (`depth` hidden layers, one output; `nnlib.mlp` picks the matching initialisation);
    3. runs **one** forward and backward pass,
       `model.loss_and_backward(X, y, "binary_cross_entropy_with_logits")`;
    4. returns a NumPy array with the Frobenius norm $\lVert \partial L / \partial \mathbb A \rVert$
       of every layer's weight gradient (`layer.dA` for `layer in model.layers`, and
       `np.linalg.norm`), **first layer first**: shape `(depth + 1,)`.

    The tests look at the ratio `norms[0] / norms[-1]` (first layer over last layer) for a
    network with 10 hidden layers (11 weight matrices): it must be below $10^{-2}$ with
    `"sigmoid"` and above $10^{-2}$ with `"relu"`, for seed 0 and, in the hidden tests, for
    other seeds. The hidden tests also compare your norms for other activations, depths,
    widths and seeds with those of the recipe above.
    """),
    answer("layer_gradient_norms", """
    def layer_gradient_norms(activation, depth=10, width=16, seed=0):
        \"\"\"Norms of dL/dA for every layer of nnlib.mlp([2] + [width] * depth + [1], activation), first layer first.\"\"\"
        ### BEGIN SOLUTION
        X, y = nnlib.data.two_moons(200, seed=seed)
        model = nnlib.mlp([2] + [width] * depth + [1], activation, seed=seed)
        model.loss_and_backward(X, y, "binary_cross_entropy_with_logits")
        return np.array([np.linalg.norm(layer.dA) for layer in model.layers])
        ### END SOLUTION
    """),
    test("test_gradient_norms_shape", 1, f"""
    \"\"\"layer_gradient_norms returns depth + 1 finite, positive norms.\"\"\"
    READ = "{VANISH}"
    for depth in (3, 10):
        norms = layer_gradient_norms("relu", depth=depth, seed=0)
        check_shape(norms, (depth + 1,), what=f"layer_gradient_norms('relu', depth={{depth}})", read=READ)
        check_true(isinstance(norms, np.ndarray), f"layer_gradient_norms should return a NumPy array of the norms "
                   f"(np.array(...) of your list), got a {{type(norms).__name__}}.", read=READ)
        check_true(np.all(np.isfinite(norms)) and np.all(norms > 0),
                   f"the gradient norms should be finite and positive, got {{norms}}.", read=READ)
    """),
    test("test_vanishing_gradients", 2, f"""
    \"\"\"First-layer over last-layer gradient norm: below 1e-2 for 10 sigmoid layers, above 1e-2 for ReLU.\"\"\"
    READ = "{VANISH}"
    def ratios(seed):
        sig = layer_gradient_norms("sigmoid", depth=10, seed=seed)
        rel = layer_gradient_norms("relu", depth=10, seed=seed)
        return sig[0] / sig[-1], rel[0] / rel[-1]
    r_sig, r_relu = ratios(0)
    print(f"first/last gradient norm, 10 layers: sigmoid {{r_sig:.2e}}, ReLU {{r_relu:.2e}}")
    check_true(r_sig < 1e-2, f"with sigmoid units the first layer's gradient should be at least 100 times "
               f"smaller than the last layer's, but the ratio is {{r_sig:.3g}} (are the norms ordered first "
               "layer first, and are they norms of the gradients layer.dA, not of the weights?).", read=READ)
    check_true(r_relu > 1e-2, f"with ReLU units the gradient should not vanish: the ratio first/last is "
               f"{{r_relu:.3g}}, expected above 1e-2.", read=READ)
    ### BEGIN HIDDEN TESTS
    for activation, depth, width, seed in [("tanh", 4, 8, 3), ("sigmoid", 2, 5, 11)]:
        X, y = nnlib.data.two_moons(200, seed=seed)
        model = nnlib.mlp([2] + [width] * depth + [1], activation, seed=seed)
        model.loss_and_backward(X, y, "binary_cross_entropy_with_logits")
        expected = np.array([np.linalg.norm(layer.dA) for layer in model.layers])
        check_close(layer_gradient_norms(activation, depth=depth, width=width, seed=seed), expected,
                    what=f"layer_gradient_norms({{activation!r}}, depth={{depth}}, width={{width}}, seed={{seed}}) "
                         "(use the data and the network of the given seed, depth and width)", read=READ)
    for seed in (1, 7, 2024):
        r_sig, r_relu = ratios(seed)
        check_true(r_sig < 1e-2 < r_relu, f"with seed {{seed}} the ratios first/last are {{r_sig:.3g}} (sigmoid) and "
                   f"{{r_relu:.3g}} (ReLU); expected sigmoid < 1e-2 < ReLU.", read=READ)
    ### END HIDDEN TESTS
    """),
    # ---------------------------------------------------------------- written
    markdown("written_md", r"""
    ## Part D: written answer (3 points, graded by hand)

    In the cell below, explain in 4 to 8 sentences **why a deep network of ReLU units does not
    suffer from vanishing gradients the way a sigmoid network does.** Use the chain rule for the
    deltas of back-propagation, the bound $\sigma'(z) \le 1/4$, and the ratios you measured in
    part C. Name one weakness of the ReLU in this respect and a variant that addresses it.
    """),
    written("written_vanishing", 3, r"""
    Back-propagation computes the deltas of layer $l$ from those of layer $l + 1$ as
    $\delta^{(l)} = f'(z^{(l)}) \odot (\mathbb A^{(l+1)\top} \delta^{(l+1)})$, so the gradient
    that reaches the first layer contains a product of one factor $f'(z)$ per layer. For the
    sigmoid every such factor is at most $1/4$ (and much smaller for saturated units with large
    $|z|$), while Xavier-initialised weights do not amplify the signal by more than a factor of
    order one; after ten layers the gradient is suppressed by roughly $4^{-10} \approx 10^{-6}$.
    I measured a first-to-last ratio of about $4\times10^{-6}$ for the sigmoid (seed 0). For an active ReLU unit
    $f'(z) = 1$ exactly, so the deltas pass through unchanged in size, and He initialisation keeps
    their variance constant from layer to layer: the ratio I measured is of order 1 (1.6 at
    seed 0).
    The weakness is that $f'(z) = 0$ for $z < 0$: a unit whose input is negative for every sample
    passes no gradient at all ("dead ReLU"). The leaky ReLU (slope $\alpha$ for $z < 0$) or the
    ELU keep a small gradient there.

    === BEGIN MARK SCHEME ===
    1 point: the gradient at the first layer is a product of one derivative per layer (chain rule
    for the deltas), and $\sigma' \le 1/4$ makes this product shrink geometrically with depth.
    1 point: ReLU' = 1 for active units, so the product does not shrink; the measured ratios are
    quoted (sigmoid far below $10^{-2}$: $10^{-7}$ to $10^{-4}$ depending on the seed; ReLU
    between about $0.1$ and a few).
    1 point: dead ReLU units (zero gradient for $z < 0$) and leaky ReLU or ELU as a remedy.
    === END MARK SCHEME ===
    """),
]

if __name__ == "__main__":
    print(write_notebook(cells, OUT))
