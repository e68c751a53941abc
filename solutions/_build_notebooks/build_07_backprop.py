"""Write solutions/07-backprop/backprop.ipynb (homework 7, back-propagation).

Run from the repository root:  .venv/bin/python solutions/_build_notebooks/build_07_backprop.py
"""

from pathlib import Path

from nbcells import answer, code, markdown, test, write_notebook, written

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "solutions" / "07-backprop" / "backprop.ipynb"

GD = "Chapter 7, 'Gradient descent' (book/07-backprop.md)"
PHASES = "Chapter 7, 'The two phases of back-propagation' (book/07-backprop.md)"
BYHAND = "Chapter 7, 'A worked example by hand' (book/07-backprop.md)"
INNNLIB = "Chapter 7, 'Back-propagation in nnlib' (book/07-backprop.md)"
CHECKGRAD = "Chapter 7, 'Checking gradients' (book/07-backprop.md)"
ETA = "Chapter 7, 'The learning rate' (book/07-backprop.md)"
VANISH = "Chapter 5, 'Vanishing gradients' (book/05-activations.md)"

cells = [
    markdown("intro", """
    # Homework 7: Back-propagation

    **Read first:** book chapter 7, *Gradient descent and back-propagation*
    (`book/07-backprop.md`): the sections *Gradient descent*, *The two phases of
    back-propagation*, *A worked example by hand*, *Back-propagation in nnlib* and *Checking
    gradients*.

    Conventions, the same as in `nnlib.layers`: a batch `X` has shape `(N, n_in)`, one sample per
    row; a dense layer has weights `A` of shape `(n_out, n_in)` (the lecture's
    $\\mathbb A$, $A_{ij}$ connects input $j$ to output $i$) and biases `b` of shape `(n_out,)`,
    and computes $\\mathbf Z = \\mathbf X \\mathbb A^\\top + \\mathbf b$, $\\mathbf H = f(\\mathbf Z)$.

    In this homework you

    * **A** (12 points) write the forward and backward pass of a dense `tanh` layer, back-propagate
      through a two-layer network, and write the update step of gradient descent;
    * **B** (3 points) build a layer `nnlib` does not have, a *residual block*, and check its
      backward pass with `nnlib.gradcheck.check_layer`;
    * **C** (3 points) train an `nnlib` network on the two moons to at least 95 % validation
      accuracy, whatever the data set's seed;
    * **D** (3 points, graded by hand) explain the deltas of back-propagation.

    **How to work.** Replace every `# YOUR CODE HERE` / `raise NotImplementedError()` with your
    code; do not change the other cells. In part A write the computations yourself with NumPy:
    **do not call `nnlib.layers.dense_forward`, `nnlib.layers.dense_backward`, `nnlib.Dense`,
    `nnlib.Sequential` or `nnlib.SGD`, nor the activations of `nnlib.activations` or the losses
    of `nnlib.losses`** (use `np.tanh`, and write the loss and its gradient yourself). Every test
    of part A blocks them while your code runs. Your functions must not modify the arrays they
    are given.

    **How to check.** Each task is followed by test cells. The visible tests run when you run the
    notebook (*Kernel > Restart & Run All*): a passing cell prints nothing
    (or a line of measured values), a failing one says
    what is wrong and which book section to read. The gradients are checked against centred
    differences (`nnlib.gradcheck`), so the tests tell you whether your backward pass is right
    before you submit. Hidden tests, run at grading time, compare with `nnlib` on random
    layers and networks (while blocking the `nnlib` functions) and train on other data sets in
    part C. Before you submit, run

        nbgrader validate backprop.ipynb

    which runs every cell and reports failing tests. The whole notebook runs in a few seconds.

    | part | task | points |
    |---|---|---|
    | A | `dense_forward` (2), `dense_backward` (4), `two_layer_loss_and_gradients` (3), `sgd_step` (3) | 12 |
    | B | `residual_forward`, `residual_backward` | 3 |
    | C | `train_two_moons` | 3 |
    | D | written answer | 3 |
    """),
    code("setup", """
    import numpy as np

    import nnlib
    from nnlib import activations, layers, losses, optim
    from nnlib.gradcheck import check_layer, numerical_gradient, relative_error
    from nnlib.network import Sequential
    from nnlib.testing import check_calls, check_close, check_shape, check_true, forbid_calls

    # the nnlib code that part A re-implements: every test of part A blocks it while your code runs
    PART_A_REFERENCES = (layers.dense_forward, layers.dense_backward, nnlib.Dense.forward, nnlib.Dense.backward,
                         Sequential.forward, Sequential.backward, Sequential.loss_and_backward,
                         activations.tanh, activations.tanh_derivative, losses.mse, losses.mse_gradient,
                         losses._mse_both, optim.SGD.step)
    """),
    # ------------------------------------------------------------ dense layer
    markdown("dense_forward_md", r"""
    ## Part A: back-propagation from scratch

    ### A1. Forward pass of a dense tanh layer (2 points)

    $$\mathbf Z = \mathbf X \mathbb A^\top + \mathbf b, \qquad \mathbf H = \tanh(\mathbf Z).$$

    `dense_forward(X, A, b)` returns the output `H`, shape `(N, n_out)`, and a `cache`: whatever
    your `dense_backward` will need (for example the tuple `(X, A, H)`; note that
    $\tanh' = 1 - \tanh^2$ can be computed from `H`). This is phase 1 of the lecture:
    "propagation forward through the network to generate the output value(s)".
    """),
    answer("dense_forward", """
    def dense_forward(X, A, b):
        \"\"\"Forward pass H = tanh(X A^T + b) of a dense layer; returns (H, cache).\"\"\"
        ### BEGIN SOLUTION
        X = np.asarray(X, dtype=float)
        Z = X @ A.T + b
        H = np.tanh(Z)
        return H, (X, A, H)
        ### END SOLUTION
    """),
    test("test_dense_forward_values", 1, f"""
    \"\"\"dense_forward: a hand-worked sample and the output shape (N, n_out).\"\"\"
    READ = "{PHASES}"
    with forbid_calls(*PART_A_REFERENCES, exercise="dense_forward", read=READ):
        X = np.array([[1.0, 2.0]])
        A = np.array([[1.0, 0.0], [0.5, -1.0]])
        b = np.array([0.0, 1.0])
        # Z = [1*1 + 0*2 + 0, 0.5*1 - 1*2 + 1] = [1, -0.5];  H = tanh(Z) = [0.761594, -0.462117]
        H, cache = dense_forward(X, A, b)
        check_close(H, [[0.7615941559557649, -0.46211715726000974]], what="dense_forward(X, A, b)[0]", read=READ)
        H, cache = dense_forward(np.ones((5, 3)), np.ones((2, 3)), np.zeros(2))
        check_shape(H, (5, 2), what="H for X of shape (5, 3) and A of shape (2, 3)", read=READ)
    """),
    test("test_dense_forward_hidden", 1, f"""
    \"\"\"Hidden tests: dense_forward agrees with nnlib on random layers, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{PHASES}"
    rng = np.random.default_rng(7001)
    for n, n_in, n_out in [(6, 3, 4), (1, 5, 2), (9, 2, 2)]:
        X, A, b = rng.normal(size=(n, n_in)), rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
        expected, _ = layers.dense_forward(X, A, b, "tanh")
        before = [X.copy(), A.copy(), b.copy()]
        with forbid_calls(layers.dense_forward, nnlib.Dense.forward, activations.tanh, exercise="dense_forward", read=READ):
            H, cache = dense_forward(X, A, b)
        check_close(H, expected, what=f"dense_forward for N={{n}}, n_in={{n_in}}, n_out={{n_out}}", read=READ)
        check_true(all(np.array_equal(u, v) for u, v in zip((X, A, b), before)),
                   "dense_forward modified one of its arguments X, A, b.", read=READ)
    ### END HIDDEN TESTS
    """),
    markdown("dense_backward_md", r"""
    ### A2. Backward pass of the dense tanh layer (4 points)

    Given the upstream gradient `grad_out` $= \partial L / \partial \mathbf H$ (shape `(N, n_out)`),
    first form the **deltas** $\boldsymbol\delta = \partial L/\partial \mathbf Z
    = \partial L/\partial \mathbf H \odot \tanh'(\mathbf Z)$, then

    $$\frac{\partial L}{\partial \mathbb A} = \boldsymbol\delta^\top \mathbf X \;(n_\text{out}, n_\text{in}),
    \qquad \frac{\partial L}{\partial \mathbf b} = \sum_{n} \boldsymbol\delta_n \;(n_\text{out},),
    \qquad \frac{\partial L}{\partial \mathbf X} = \boldsymbol\delta\, \mathbb A \;(N, n_\text{in}).$$

    "The weight's output delta and input activation are multiplied to find the gradient of the
    weight." `dense_backward(grad_out, cache)` returns `(dX, dA, db)` with exactly these shapes,
    as `nnlib.layers.dense_backward` does.
    """),
    answer("dense_backward", """
    def dense_backward(grad_out, cache):
        \"\"\"Backward pass of the dense tanh layer: returns (dX, dA, db).\"\"\"
        ### BEGIN SOLUTION
        X, A, H = cache
        delta = grad_out * (1 - H ** 2)     # dL/dZ: the deltas, (N, n_out)
        dA = delta.T @ X                    # (n_out, n_in)
        db = delta.sum(axis=0)              # (n_out,)
        dX = delta @ A                      # (N, n_in)
        return dX, dA, db
        ### END SOLUTION
    """),
    code("dense_backward_helper", """
    def layer_gradient_errors(X, A, b, G):
        \"\"\"Relative errors of your dX, dA, db against centred differences of L = sum(G * H).\"\"\"
        H, cache = dense_forward(X, A, b)
        G_before, H_before = G.copy(), np.array(H, dtype=float)
        dX, dA, db = dense_backward(G, cache)
        read = "Chapter 7, 'The two phases of back-propagation' (book/07-backprop.md)"
        check_true(np.array_equal(G, G_before), "dense_backward modified its argument grad_out (grad_out *= ... works "
                   "in place), and the centred differences below use it: compute the deltas as a new array, "
                   "delta = grad_out * (1 - H**2).", read=read)
        check_true(np.array_equal(H, H_before), "dense_backward modified the layer's output H in its cache: compute "
                   "1 - H**2 as a new array.", read=read)
        for name, got, shape in [("dX", dX, X.shape), ("dA", dA, A.shape), ("db", db, b.shape)]:
            check_shape(got, shape, what=f"{name} from dense_backward (the shape of {name[1:]})",
                        read="Chapter 7, 'The two phases of back-propagation' (book/07-backprop.md)")
        return {
            "dX": relative_error(dX, numerical_gradient(lambda x: np.sum(G * dense_forward(x, A, b)[0]), X)),
            "dA": relative_error(dA, numerical_gradient(lambda a: np.sum(G * dense_forward(X, a, b)[0]), A)),
            "db": relative_error(db, numerical_gradient(lambda c: np.sum(G * dense_forward(X, A, c)[0]), b)),
        }
    """),
    test("test_dense_backward_shapes", 1, f"""
    \"\"\"dense_backward returns dX (N, n_in), dA (n_out, n_in) and db (n_out,).\"\"\"
    READ = "{PHASES}"
    with forbid_calls(*PART_A_REFERENCES, exercise="dense_backward (or the dense_forward before it)", read=READ):
        rng = np.random.default_rng(0)
        X, A, b = rng.normal(size=(5, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
        H, cache = dense_forward(X, A, b)
        result = dense_backward(np.ones((5, 2)), cache)
        check_true(isinstance(result, tuple) and len(result) == 3,
                   "dense_backward should return the tuple (dX, dA, db).", read=READ)
        dX, dA, db = result
        check_shape(dX, (5, 3), what="dX (the shape of X, (N, n_in))", read=READ)
        check_shape(dA, (2, 3), what="dA (the shape of A, (n_out, n_in))", read=READ)
        check_shape(db, (2,), what="db (the shape of b, (n_out,): sum the deltas over the batch)", read=READ)
    """),
    test("test_dense_backward_gradcheck", 2, f"""
    \"\"\"dX, dA and db agree with centred differences (nnlib.gradcheck) of L = sum(G * H).\"\"\"
    READ = "{CHECKGRAD}"
    with forbid_calls(*PART_A_REFERENCES, exercise="dense_backward (or the dense_forward before it)", read=READ):
        rng = np.random.default_rng(1)
        X, A, b, G = rng.normal(size=(4, 3)), rng.normal(size=(2, 3)), rng.normal(size=2), rng.normal(size=(4, 2))
        errors = layer_gradient_errors(X, A, b, G)
        print("relative errors:", {{k: f"{{v:.1e}}" for k, v in errors.items()}})
        hints = {{"dX": "dX = delta @ A, with the deltas delta = grad_out * tanh'(Z) = grad_out * (1 - H**2)",
                 "dA": "dA = delta.T @ X, with the deltas delta = grad_out * (1 - H**2)",
                 "db": "db sums the deltas delta = grad_out * (1 - H**2) over the batch (axis 0)"}}
        for name, err in errors.items():
            check_true(err < 1e-6, f"{{name}} does not match centred differences: relative error {{err:.2e}}, it should be "
                       f"below 1e-6 ({{hints[name]}}).", read=READ)
    """),
    test("test_dense_backward_hidden", 1, f"""
    \"\"\"Hidden tests: dense_backward agrees with nnlib on random layers, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{INNNLIB}"
    rng = np.random.default_rng(7002)
    for n, n_in, n_out in [(7, 4, 3), (1, 2, 5), (3, 3, 3)]:
        X, A, b = rng.normal(size=(n, n_in)), rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
        G = rng.normal(size=(n, n_out))
        _, ref_cache = layers.dense_forward(X, A, b, "tanh")
        expected = layers.dense_backward(G, ref_cache)
        G_before = G.copy()
        with forbid_calls(*PART_A_REFERENCES, exercise="dense_forward or dense_backward", read=READ):
            H, cache = dense_forward(X, A, b)
            got = dense_backward(G, cache)
        for name, g, e in zip(("dX", "dA", "db"), got, expected):
            check_close(g, e, what=f"{{name}} for N={{n}}, n_in={{n_in}}, n_out={{n_out}}", read=READ)
        check_true(np.array_equal(G, G_before), "dense_backward modified grad_out; compute the deltas in a new array.",
                   read=READ)
    ### END HIDDEN TESTS
    """),
    # -------------------------------------------------------- two-layer network
    markdown("two_layer_md", r"""
    ### A3. A two-layer network, forward and backward (3 points)

    A network with one hidden `tanh` layer and a linear output,

    $$\mathbf H_1 = \tanh(\mathbf X \mathbb A_1^\top + \mathbf b_1), \qquad
      \hat{\mathbf Y} = \mathbf H_1 \mathbb A_2^\top + \mathbf b_2, \qquad
      L = \frac1N \sum_n \frac12 \lVert \hat{\mathbf y}_n - \mathbf y_n \rVert^2 .$$

    `two_layer_loss_and_gradients(X, y, params)` takes `params = [A1, b1, A2, b2]` and targets
    `y` of shape `(N, n_out)`, and returns `(loss, [dA1, db1, dA2, db2])`: the loss as a float
    and the gradients in the order of `params`. Use your `dense_forward` and `dense_backward` for
    the hidden layer. The output layer is linear: its deltas are
    $\boldsymbol\delta_2 = \partial L / \partial \hat{\mathbf Y} = (\hat{\mathbf Y} - \mathbf Y)/N$,
    from which $\partial L / \partial \mathbb A_2$, $\partial L/\partial \mathbf b_2$ and the
    gradient $\partial L / \partial \mathbf H_1$ passed back to the hidden layer follow as in A2.
    """),
    answer("two_layer_loss_and_gradients", """
    def two_layer_loss_and_gradients(X, y, params):
        \"\"\"Loss and [dA1, db1, dA2, db2] of the network tanh hidden layer -> linear output, squared error.\"\"\"
        ### BEGIN SOLUTION
        A1, b1, A2, b2 = params
        H1, cache1 = dense_forward(X, A1, b1)       # hidden layer (tanh)
        y_hat = H1 @ A2.T + b2                      # output layer (identity)
        n = y_hat.shape[0]
        loss = 0.5 * np.sum((y_hat - y) ** 2) / n
        delta2 = (y_hat - y) / n                    # output deltas dL/dZ2
        dA2 = delta2.T @ H1
        db2 = delta2.sum(axis=0)
        dH1 = delta2 @ A2                           # back to the hidden layer
        _, dA1, db1 = dense_backward(dH1, cache1)
        return float(loss), [dA1, db1, dA2, db2]
        ### END SOLUTION
    """),
    code("two_layer_helper", """
    def random_network(rng, n=6, n_in=3, n_hidden=4, n_out=2):
        \"\"\"Random inputs, targets and parameters [A1, b1, A2, b2] of a small two-layer network.\"\"\"
        X, y = rng.normal(size=(n, n_in)), rng.normal(size=(n, n_out))
        params = [rng.normal(0, 0.8, size=(n_hidden, n_in)), rng.normal(0, 0.2, size=n_hidden),
                  rng.normal(0, 0.8, size=(n_out, n_hidden)), rng.normal(0, 0.2, size=n_out)]
        return X, y, params
    """),
    test("test_two_layer_gradcheck", 2, f"""
    \"\"\"The four gradients of the two-layer network agree with centred differences of its loss.\"\"\"
    READ = "{BYHAND}"
    with forbid_calls(*PART_A_REFERENCES, exercise="two_layer_loss_and_gradients", read=READ):
        # by hand: with every weight 0 the predictions are 0, the loss is the mean over the N = 2
        # samples of (1/2)|y_n|^2 = (5/2 + 25/2) / 2, and db2 sums the deltas (0 - y_n)/N over the samples
        zeros = [np.zeros((4, 3)), np.zeros(4), np.zeros((2, 4)), np.zeros(2)]
        loss, grads = two_layer_loss_and_gradients(np.zeros((2, 3)), np.array([[1.0, 2.0], [3.0, 4.0]]), zeros)
        check_close(loss, 7.5, what="the loss for predictions 0 and targets [[1, 2], [3, 4]] (a mean over the N "
                    "samples, not over the N n_out numbers, of 1/2 |y_hat - y|^2)", read="{PHASES}")
        check_close(grads[3], [-2.0, -3.0], what="db2 for predictions 0 and targets [[1, 2], [3, 4]] (the deltas "
                    "(y_hat - y)/N summed over the samples)", read="{PHASES}")
        X, y, params = random_network(np.random.default_rng(2))
        loss, grads = two_layer_loss_and_gradients(X, y, params)
        check_true(np.ndim(loss) == 0, "the loss should be a single number.", read=READ)
        check_true(len(grads) == 4, f"expected the 4 gradients [dA1, db1, dA2, db2], got {{len(grads)}}.", read=READ)
        for i, name in enumerate(["dA1", "db1", "dA2", "db2"]):
            check_shape(grads[i], params[i].shape, what=f"{{name}} (the shape of {{name[1:]}})", read=READ)
            def loss_of(p, i=i):
                changed = list(params)
                changed[i] = p
                return two_layer_loss_and_gradients(X, y, changed)[0]
            err = relative_error(grads[i], numerical_gradient(loss_of, params[i]))
            check_true(err < 1e-6, f"{{name}} does not match centred differences of the loss: relative error {{err:.2e}}, "
                       "it should be below 1e-6.", read=READ)
    """),
    test("test_two_layer_hidden", 1, f"""
    \"\"\"Hidden tests: loss and gradients agree with an nnlib Sequential network, without calling nnlib.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{PHASES}"
    rng = np.random.default_rng(7003)
    for sizes in [(10, 2, 5, 1), (4, 3, 3, 3)]:
        n, n_in, n_hidden, n_out = sizes
        X, y, params = random_network(rng, *sizes)
        net = Sequential([nnlib.Dense(n_in, n_hidden, "tanh"), nnlib.Dense(n_hidden, n_out)])
        net.set_weights(params)
        expected_loss = net.loss_and_backward(X, y, "mse")
        expected = [g.copy() for g in net.gradients()]
        before = [p.copy() for p in params]
        with forbid_calls(*PART_A_REFERENCES, exercise="two_layer_loss_and_gradients", read=READ):
            loss, grads = two_layer_loss_and_gradients(X, y, params)
        check_close(loss, expected_loss, what=f"the loss of a random {{n_in}}-{{n_hidden}}-{{n_out}} network", read=READ)
        for name, g, e in zip(["dA1", "db1", "dA2", "db2"], grads, expected):
            check_close(g, e, what=f"{{name}} of a random {{n_in}}-{{n_hidden}}-{{n_out}} network", read=READ)
        check_true(all(np.array_equal(p, q) for p, q in zip(params, before)),
                   "two_layer_loss_and_gradients modified the parameters it was given.", read=READ)
    ### END HIDDEN TESTS
    """),
    # --------------------------------------------------------------- SGD step
    markdown("sgd_md", r"""
    ### A4. The update step (3 points)

    Phase 2 of the lecture, the weight update:
    $A_{ij} \mapsto A_{ij} - \eta\, \partial L / \partial A_{ij}$ for every parameter array.
    `sgd_step(params, grads, eta)` returns a **new** list of **new** arrays and leaves `params`
    and `grads` unchanged (`nnlib.SGD` updates in place because it owns the network's weights;
    here we keep the function pure, so that the old weights are still there to compare).
    """),
    answer("sgd_step", """
    def sgd_step(params, grads, eta):
        \"\"\"One gradient-descent step: a new list [p - eta * g for each parameter p and gradient g].\"\"\"
        ### BEGIN SOLUTION
        return [p - eta * g for p, g in zip(params, grads)]
        ### END SOLUTION
    """),
    test("test_sgd_step_values", 2, f"""
    \"\"\"sgd_step: a hand-worked step on a weight matrix and a bias.\"\"\"
    READ = "{GD}"
    params = [np.array([[1.0, 2.0]]), np.array([0.5])]
    grads = [np.array([[10.0, -10.0]]), np.array([1.0])]
    with forbid_calls(*PART_A_REFERENCES, exercise="sgd_step", read=READ):
        new = sgd_step(params, grads, 0.1)
    check_true(len(new) == 2, f"sgd_step should return one array per parameter (2), got {{len(new)}}.", read=READ)
    # 1 - 0.1*10 = 0, 2 + 0.1*10 = 3, 0.5 - 0.1*1 = 0.4
    check_close(new[0], [[0.0, 3.0]], what="the new weights A - eta dA", read=READ)
    check_close(new[1], [0.4], what="the new bias b - eta db", read=READ)
    ### BEGIN HIDDEN TESTS
    rng = np.random.default_rng(7004)
    params = [rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(1, 4)), rng.normal(size=1)]
    grads = [rng.normal(size=p.shape) for p in params]
    expected = [p.copy() for p in params]
    optim.SGD(eta=0.05).step(expected, grads)
    with forbid_calls(optim.SGD.step, exercise="sgd_step", read=READ):
        new = sgd_step(params, grads, 0.05)
    for i, (g, e) in enumerate(zip(new, expected)):
        check_close(g, e, what=f"parameter {{i}} after one step with eta = 0.05", read=READ)
    ### END HIDDEN TESTS
    """),
    test("test_sgd_step_no_in_place", 1, f"""
    \"\"\"sgd_step leaves params and grads unchanged and returns new arrays.\"\"\"
    READ = "{GD}"
    with forbid_calls(*PART_A_REFERENCES, exercise="sgd_step", read=READ):
        params = [np.array([[1.0, 2.0]]), np.array([0.5])]
        grads = [np.array([[10.0, -10.0]]), np.array([1.0])]
        params_before = [p.copy() for p in params]
        grads_before = [g.copy() for g in grads]
        new = sgd_step(params, grads, 0.1)
        check_true(all(np.array_equal(p, q) for p, q in zip(params, params_before)),
                   "sgd_step changed the arrays in params (p -= eta * g updates in place); "
                   "return new arrays p - eta * g instead.", read=READ)
        check_true(all(np.array_equal(g, q) for g, q in zip(grads, grads_before)), "sgd_step changed the gradients.",
                   read=READ)
        check_true(all(n is not p for n, p in zip(new, params)),
                   "sgd_step returned the very arrays it was given; return new arrays.", read=READ)
    """),
    # ----------------------------------------------------------------- residual
    markdown("residual_md", r"""
    ## Part B: a layer nnlib does not have

    ### B1. A residual block (3 points)

    A *residual block* adds its input to the output of a dense layer (He et al. 2016),

    $$\mathbf H = \mathbf X + \tanh(\mathbf X \mathbb A^\top + \mathbf b),$$

    with a square $\mathbb A$ (`n_in = n_out`). The skip connection gives the gradient a path
    around the $\tanh$: $\partial L/\partial \mathbf X$ gets an extra term, while
    $\partial L/\partial \mathbb A$ and $\partial L/\partial \mathbf b$ are those of the dense
    layer. This is why very deep residual networks still train (compare part C of homework 5).

    Write `residual_forward(X, A, b)` returning `(H, cache)` and `residual_backward(grad_out,
    cache)` returning `(dX, dA, db)`; reuse your `dense_forward` and `dense_backward`. The class
    `Residual` below wraps them into a layer with `forward`, `backward`, `parameters` and
    `gradients`, the interface of `nnlib.Dense`, so that `nnlib.gradcheck.check_layer` can test
    it (and `nnlib.Sequential` could use it).
    """),
    answer("residual_forward", """
    def residual_forward(X, A, b):
        \"\"\"H = X + tanh(X A^T + b) for a square A; returns (H, cache).\"\"\"
        ### BEGIN SOLUTION
        H, cache = dense_forward(X, A, b)
        return np.asarray(X, dtype=float) + H, cache
        ### END SOLUTION
    """),
    answer("residual_backward", """
    def residual_backward(grad_out, cache):
        \"\"\"Backward pass of the residual block: returns (dX, dA, db).\"\"\"
        ### BEGIN SOLUTION
        dX, dA, db = dense_backward(grad_out, cache)
        return dX + grad_out, dA, db        # the skip path passes grad_out straight through
        ### END SOLUTION
    """),
    code("residual_class", """
    class Residual:
        \"\"\"A residual block x -> x + tanh(A x + b), a layer with nnlib's interface.\"\"\"

        def __init__(self, n, seed=0):
            rng = np.random.default_rng(seed)
            self.n_in = self.n_out = n
            self.A = rng.normal(0.0, 1.0 / np.sqrt(n), size=(n, n))
            self.b = rng.normal(0.0, 0.1, size=n)
            self.dA = self.db = None
            self._cache = None

        def forward(self, X):
            H, self._cache = residual_forward(X, self.A, self.b)
            return H

        def backward(self, grad_out):
            dX, self.dA, self.db = residual_backward(grad_out, self._cache)
            return dX

        def parameters(self):
            return [self.A, self.b]

        def gradients(self):
            return [self.dA, self.db]
    """),
    test("test_residual_forward", 1, f"""
    \"\"\"residual_forward: a hand-worked sample (the input plus the tanh layer) and the shape.\"\"\"
    READ = "{INNNLIB}"
    X = np.array([[1.0, 2.0]])
    A = np.array([[1.0, 0.0], [0.5, -1.0]])
    b = np.array([0.0, 1.0])
    # X + tanh([1, -0.5]) = [1 + 0.761594, 2 - 0.462117]
    H, cache = residual_forward(X, A, b)
    check_close(H, [[1.7615941559557649, 1.5378828427399903]], what="residual_forward(X, A, b)[0]", read=READ)
    H = Residual(4, seed=0).forward(np.ones((6, 4)))
    check_shape(H, (6, 4), what="the output of Residual(4) for X of shape (6, 4)", read=READ)
    """),
    test("test_residual_gradcheck", 2, f"""
    \"\"\"The residual block's gradients pass nnlib.gradcheck.check_layer (relative errors below 1e-6).\"\"\"
    READ = "{CHECKGRAD}"
    names = {{"X": "dX", "param0": "dA", "param1": "db"}}
    X = np.random.default_rng(3).normal(size=(5, 4))
    errors = check_layer(Residual(4, seed=1), X)
    print("relative errors:", {{names[k]: f"{{v:.1e}}" for k, v in errors.items()}})
    for key, err in errors.items():
        hint = ("the skip path adds grad_out itself to the dense layer's dX" if key == "X" else
                "dA and db are the dense layer's alone, from dense_backward with the cache of dense_forward; did "
                "residual_forward add X to the dense layer's output in place (H += X)? The cache holds that array")
        check_true(err < 1e-6, f"{{names[key]}} of the residual block does not match centred differences: relative "
                   f"error {{err:.2e}}, it should be below 1e-6 ({{hint}}).", read=READ)
    ### BEGIN HIDDEN TESTS
    for seed, n, width in [(11, 3, 2), (12, 8, 6)]:
        X = np.random.default_rng(seed).normal(size=(n, width))
        errors = check_layer(Residual(width, seed=seed), X, seed=seed)
        for key, err in errors.items():
            check_true(err < 1e-6, f"{{names[key]}} of a residual block of width {{width}} does not match centred "
                       f"differences: relative error {{err:.2e}}.", read=READ)
    ### END HIDDEN TESTS
    """),
    # --------------------------------------------------------------- two moons
    markdown("moons_md", r"""
    ## Part C: training an nnlib network

    ### C1. The two moons (3 points)

    `nnlib.data.two_moons(n, seed=seed)` draws two interleaved half circles, which no straight
    line separates. Write `train_two_moons(X, y, seed)` that builds a network with
    `nnlib.mlp` (two inputs, hidden layers of your choice, one output logit), trains it with
    `nnlib.fit(model, "binary_cross_entropy_with_logits", X, y, ...)` and `seed=seed`, and returns
    the trained model. Choose the architecture, `epochs`, `batch_size` and `eta` so that the
    predicted class `model.predict(X_val)[:, 0] > 0` is right for **at least 95 %** of new points
    from the same distribution, for training sets drawn with **any** seed: the hidden tests
    retrain your function on other data sets. Keep one training under a second (300 points and
    a hundred epochs are enough); if the loss explodes, lower `eta`. The tests also check that
    `train_two_moons` calls `nnlib.fit`.
    """),
    answer("train_two_moons", """
    def train_two_moons(X, y, seed=0):
        \"\"\"An nnlib network trained on the two moons (X, y); returns the model (one output logit).\"\"\"
        ### BEGIN SOLUTION
        model = nnlib.mlp([2, 32, 32, 1], "relu", seed=seed)
        nnlib.fit(model, "binary_cross_entropy_with_logits", X, y, epochs=80, batch_size=16, eta=0.1, seed=seed)
        return model
        ### END SOLUTION
    """),
    code("moons_helper", """
    def moons_accuracy(seed):
        \"\"\"Train on two_moons(300, seed) and return the accuracy on 1000 new points.\"\"\"
        X, y = nnlib.data.two_moons(300, seed=seed)
        X_val, y_val = nnlib.data.two_moons(1000, seed=seed + 10_000)
        try:
            model = train_two_moons(X, y, seed=seed)
        except (ValueError, TypeError, FloatingPointError) as exc:
            raise AssertionError(f"train_two_moons raised {type(exc).__name__}: {exc}. Read: "
                                 "Chapter 7, 'The learning rate' (book/07-backprop.md).") from None
        check_calls(train_two_moons, nnlib.fit, what="train_two_moons", name="nnlib.fit",
                    read="Chapter 7, 'Back-propagation in nnlib' (book/07-backprop.md)")
        return nnlib.metrics.accuracy((model.predict(X_val)[:, 0] > 0).astype(int), y_val)
    """),
    test("test_two_moons_accuracy", 1, f"""
    \"\"\"The trained network classifies at least 95 % of new two-moons points correctly (seed 0).\"\"\"
    READ = "{ETA}"
    accuracy = moons_accuracy(seed=0)
    print(f"validation accuracy: {{accuracy:.3f}}")
    check_true(accuracy >= 0.95, f"the validation accuracy is {{accuracy:.3f}}, below 0.95: a straight line cannot "
               "separate the moons (use hidden layers), or train longer / with another eta.", read=READ)
    """),
    test("test_two_moons_other_seeds", 2, f"""
    \"\"\"Hidden tests: at least 95 % validation accuracy on data sets drawn with other seeds.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{ETA}"
    for seed in (1, 17, 2024):
        accuracy = moons_accuracy(seed=seed)
        check_true(accuracy >= 0.95, f"trained on the data set with seed {{seed}}, the validation accuracy is "
                   f"{{accuracy:.3f}}, below 0.95.", read=READ)
    ### END HIDDEN TESTS
    """),
    # ----------------------------------------------------------------- written
    markdown("written_md", r"""
    ## Part D: written answer (3 points, graded by hand)

    The lecture describes phase 1 of back-propagation as generating "the deltas ... of all output
    and hidden neurons", and phase 2 as "the weight's output delta and input activation are
    multiplied to find the gradient of the weight". In the cell below, explain in your own words,
    with the formulas of your two-layer network (part A3):

    1. what a delta is, and what the delta of the output layer is for the squared error;
    2. how the deltas of the hidden layer follow from those of the output layer (which factors
       appear, and why back-propagation can reuse, "recycle", work instead of differentiating
       every weight separately);
    3. which line of your `dense_backward` is the quoted sentence of phase 2.
    """),
    written("written_deltas", 3, r"""
    A delta is the derivative of the loss with respect to a neuron's pre-activation,
    $\delta_i = \partial L/\partial z_i$: how much the loss changes when the summed input of
    neuron $i$ changes. For the linear output layer with the squared error,
    $\boldsymbol\delta_2 = \partial L / \partial \hat{\mathbf y} = (\hat{\mathbf y} - \mathbf y)/N$,
    the error at the output (for a sigmoid output with the cross-entropy it is the same
    expression). The hidden deltas follow by the chain rule,
    $\boldsymbol\delta_1 = (\boldsymbol\delta_2 \mathbb A_2) \odot \tanh'(\mathbf Z_1)
    = (\boldsymbol\delta_2 \mathbb A_2) \odot (1 - \mathbf H_1^2)$: the output deltas are sent
    backwards through the same weights that carried the signal forwards, and multiplied by the
    derivative of the activation. Each layer's deltas are computed once from the next layer's,
    so all gradients cost about as much as one forward pass, instead of one pass per weight as
    with finite differences. In `dense_backward`, `dA = delta.T @ X` is phase 2's sentence:
    $\partial L/\partial A_{ij} = \sum_n \delta_{ni} x_{nj}$, the output delta of weight $A_{ij}$
    times its input activation, summed over the batch; then $A_{ij} \mapsto A_{ij} - \eta\,
    \partial L/\partial A_{ij}$.

    === BEGIN MARK SCHEME ===
    1 point: delta = derivative of the loss with respect to the pre-activation; output delta
    $(\hat y - y)/N$ for the squared error with a linear output.
    1 point: hidden delta = (output delta times the weights A2) times the derivative
    $1 - H_1^2$ of tanh; computed once per layer and reused (cost of one backward pass).
    1 point: `dA = delta.T @ X` (delta times input activation, summed over the samples) identified
    as the gradient of the weights.
    === END MARK SCHEME ===
    """),
]

if __name__ == "__main__":
    print(write_notebook(cells, OUT))
