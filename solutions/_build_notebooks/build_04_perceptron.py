"""Write solutions/04-perceptron/perceptron.ipynb (homework 4, Rosenblatt's perceptron).

Run from the repository root:  .venv/bin/python solutions/_build_notebooks/build_04_perceptron.py
"""

from pathlib import Path

from nbcells import answer, code, markdown, test, write_notebook, written

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "solutions" / "04-perceptron" / "perceptron.ipynb"

RULE = "Chapter 4, 'Rosenblatt's learning rule' (book/04-perceptron.md)"
THEOREM = "Chapter 4, 'The convergence theorem' (book/04-perceptron.md)"
WATCH = "Chapter 4, 'Watching it learn' (book/04-perceptron.md)"
XOR = "Chapter 4, 'Failure on XOR' (book/04-perceptron.md)"

cells = [
    markdown("intro", """
    # Homework 4: Rosenblatt's perceptron

    **Read first:** book chapter 4, *The perceptron* (`book/04-perceptron.md`), sections
    *Rosenblatt's learning rule*, *The convergence theorem*, *Watching it learn* and *Failure
    on XOR*.

    The perceptron predicts $\\hat y = H(\\mathbf A \\cdot \\mathbf x + b)$ with the step
    $H(z) = 1$ for $z \\ge 0$ and $0$ otherwise, and learns with Rosenblatt's rule
    $\\mathbf A \\leftarrow \\mathbf A + \\eta (y - \\hat y) \\mathbf x$,
    $b \\leftarrow b + \\eta (y - \\hat y)$. In this homework you

    * **A** (10 points) write the rule and the training loop yourself;
    * **B** (3 points) extend it to the *pocket* perceptron, which `nnlib` does not have and
      which gives a useful answer on data that are not linearly separable;
    * **C** (3 points) check Novikoff's bound on the number of mistakes with
      `nnlib.neurons.Perceptron`;
    * **D** (2 points, graded by hand) explain what the bound says when the margin shrinks.

    **How to work.** Replace every `# YOUR CODE HERE` / `raise NotImplementedError()` with your
    code; do not change the other cells. In parts A and B **do not call
    `nnlib.neurons.perceptron_update` or `nnlib.neurons.Perceptron`**: use your own functions.
    Your functions must not modify the arrays they are given.

    **How to check.** Each task is followed by test cells. The visible tests run when you run
    the notebook (*Kernel > Restart & Run All*): a passing cell prints nothing
    (or a line of measured values), a failing one
    says what is wrong and which book section to read. Hidden tests, run at grading time,
    compare your functions with `nnlib` on random data sets (while blocking the `nnlib`
    functions you re-implement) and try other seeds in part C. Before you submit, run

        nbgrader validate perceptron.ipynb

    which runs every cell and reports failing tests. The whole notebook runs in a few seconds.

    | part | task | points |
    |---|---|---|
    | A | `perceptron_update` (5), `train_perceptron` (5) | 10 |
    | B | `pocket_perceptron` | 3 |
    | C | `novikoff_check` | 3 |
    | D | written answer | 2 |
    """),
    code("setup", """
    import numpy as np

    import nnlib
    from nnlib.data import linearly_separable
    from nnlib.metrics import accuracy
    from nnlib.neurons import Perceptron, perceptron_update as nnlib_perceptron_update
    from nnlib.testing import check_close, check_shape, check_true, forbid_calls


    def predict(A, b, X):
        \"\"\"Perceptron predictions H(X A + b), 0 or 1, for the rows of X (N, n_features).\"\"\"
        return (np.asarray(X) @ A + b >= 0).astype(int)
    """),
    # ------------------------------------------------------------ the rule
    markdown("update_md", r"""
    ## Part A: the perceptron from scratch

    ### A1. Rosenblatt's rule for one sample (5 points)

    Write `perceptron_update(A, b, x, y, eta=1.0)` with the same contract as
    `nnlib.neurons.perceptron_update`:

    * `A`: weights, shape `(n_features,)`; `b`: the bias (a number); `x`: one sample, shape
      `(n_features,)`; `y`: its label, 0 or 1; `eta`: the learning rate $\eta > 0$;
    * predict $\hat y = H(\mathbf A \cdot \mathbf x + b)$ with $H(0) = 1$;
    * return `(A_new, b_new, mistake)`: the updated weights as a **new** array (do not modify
      `A`), the updated bias as a `float`, and whether $\hat y \ne y$ (a `bool`).
    """),
    answer("perceptron_update", """
    def perceptron_update(A, b, x, y, eta=1.0):
        \"\"\"Rosenblatt's rule for one sample (x, y): returns (A_new, b_new, mistake).\"\"\"
        ### BEGIN SOLUTION
        A = np.asarray(A, dtype=float)
        x = np.asarray(x, dtype=float)
        y_hat = 1 if A @ x + b >= 0 else 0
        error = y - y_hat
        return A + eta * error * x, float(b + eta * error), bool(error != 0)
        ### END SOLUTION
    """),
    test("test_perceptron_update_values", 2, f"""
    \"\"\"perceptron_update: a missed 1, a false 1, a correct prediction, and H(0) = 1.\"\"\"
    READ = "{RULE}"
    # the book's example: A.x + b = 0.5 - 1 = -0.5 < 0 predicts 0, but y = 1
    A_new, b_new, mistake = perceptron_update(np.array([0.5, -1.0]), 0.0, np.array([1.0, 1.0]), 1, eta=1.0)
    check_close(A_new, [1.5, 0.0], what="A after a missed 1 (A=[0.5, -1], b=0, x=[1, 1], y=1, eta=1)", read=READ)
    check_close(b_new, 1.0, what="b after that update", read=READ)
    check_true(mistake is True or mistake is np.True_, f"mistake should be True for a missed 1, got {{mistake!r}}", read=READ)
    # a false 1 with eta = 0.5: A.x + b = 2 + 1 >= 0 predicts 1, but y = 0
    A_new, b_new, mistake = perceptron_update(np.array([1.0, 1.0]), 1.0, np.array([2.0, 0.0]), 0, eta=0.5)
    check_close(A_new, [0.0, 1.0], what="A after a false 1 (A=[1, 1], b=1, x=[2, 0], y=0, eta=0.5)", read=READ)
    check_close(b_new, 0.5, what="b after that update", read=READ)
    # correct: nothing changes
    A_new, b_new, mistake = perceptron_update(np.array([1.0, -2.0]), 0.5, np.array([3.0, 1.0]), 1)
    check_close(A_new, [1.0, -2.0], what="A after a correct prediction", read=READ)
    check_true(not mistake, "mistake should be False when the prediction is right", read=READ)
    # on the boundary A.x + b = 0 the perceptron predicts 1 (H(0) = 1): no mistake for y = 1
    A_new, b_new, mistake = perceptron_update(np.zeros(2), 0.0, np.array([1.0, 2.0]), 1)
    check_true(not mistake, "with A.x + b = 0 the prediction is 1 (H(0) = 1), so y = 1 is no mistake", read=READ)
    """),
    test("test_perceptron_update_pure", 1, f"""
    \"\"\"perceptron_update returns a new array and leaves A and x unchanged.\"\"\"
    READ = "{RULE}"
    A, x = np.array([0.5, -1.0]), np.array([1.0, 1.0])
    A_new, _, _ = perceptron_update(A, 0.0, x, 1)
    check_close(A, [0.5, -1.0], what="A after calling perceptron_update (it must not change)", read=READ)
    check_close(x, [1.0, 1.0], what="x after calling perceptron_update (it must not change)", read=READ)
    check_true(A_new is not A, "perceptron_update should return a new array, not A itself", read=READ)
    """),
    test("test_perceptron_update_hidden", 2, f"""
    \"\"\"Hidden tests: perceptron_update agrees with nnlib on random weights, samples and learning rates.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{RULE}"
    rng = np.random.default_rng(4001)
    for _ in range(40):
        d = int(rng.integers(1, 6))
        A, x = rng.normal(size=d), rng.normal(size=d)
        b, y, eta = float(rng.normal()), int(rng.integers(0, 2)), float(rng.uniform(0.01, 3.0))
        A_exp, b_exp, m_exp = nnlib_perceptron_update(A, b, x, y, eta)
        with forbid_calls(nnlib_perceptron_update, Perceptron.fit, nnlib.neurons._rosenblatt,
                          exercise="perceptron_update", read=READ):
            A_new, b_new, mistake = perceptron_update(A, b, x, y, eta)
        check_close(A_new, A_exp, what=f"A_new for a random sample with y={{y}}, eta={{eta:.3f}}", read=READ)
        check_close(b_new, b_exp, what=f"b_new for a random sample with y={{y}}, eta={{eta:.3f}}", read=READ)
        check_true(bool(mistake) == bool(m_exp), f"mistake should be {{m_exp}} for a random sample, got {{mistake}}", read=READ)
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------------- training
    markdown("train_md", r"""
    ### A2. Training in epochs (5 points)

    Write `train_perceptron(X, y, eta=1.0, max_epochs=100)`:

    * start from $\mathbf A = 0$, $b = 0$;
    * one **epoch** visits the samples in their order, `X[0], X[1], ...`, and applies your
      `perceptron_update` to each;
    * stop after the first epoch without a mistake, or after `max_epochs` epochs, whichever
      comes first (on data that are not linearly separable the loop must still end);
    * return `(A, b, mistakes)`: the final weights (array of shape `(n_features,)`), the bias
      (a `float`) and the list of the number of mistakes in each epoch that ran.
    """),
    answer("train_perceptron", """
    def train_perceptron(X, y, eta=1.0, max_epochs=100):
        \"\"\"Rosenblatt's perceptron from zero weights: returns (A, b, mistakes per epoch).\"\"\"
        ### BEGIN SOLUTION
        X = np.asarray(X, dtype=float)
        A, b = np.zeros(X.shape[1]), 0.0
        mistakes = []
        for epoch in range(max_epochs):
            count = 0
            for x_n, y_n in zip(X, y):
                A, b, mistake = perceptron_update(A, b, x_n, int(y_n), eta)
                count += int(mistake)
            mistakes.append(count)
            if count == 0:
                break
        return A, b, mistakes
        ### END SOLUTION
    """),
    test("test_train_perceptron_values", 2, f"""
    \"\"\"train_perceptron separates linearly separable data and stops after the first clean epoch.\"\"\"
    READ = "{WATCH}"
    X, y = linearly_separable(n=40, margin=0.5, seed=1)
    A, b, mistakes = train_perceptron(X, y)
    check_shape(A, (2,), what="A returned by train_perceptron", read=READ)
    check_true(len(mistakes) >= 1 and mistakes[-1] == 0,
               f"the last epoch should have no mistakes (training stops there), mistakes per epoch: {{mistakes}}", read=READ)
    check_true(all(m > 0 for m in mistakes[:-1]),
               f"training should stop after the FIRST epoch without mistakes, mistakes per epoch: {{mistakes}}", read=READ)
    check_close(accuracy(predict(A, b, X), y), 1.0, what="the training accuracy of the trained perceptron", read=READ)
    """),
    test("test_train_perceptron_max_epochs", 1, f"""
    \"\"\"train_perceptron ends after max_epochs on XOR, which is not linearly separable.\"\"\"
    READ = "{XOR}"
    X, y = nnlib.data.xor(n=40, noise=0.1, seed=2)
    A, b, mistakes = train_perceptron(X, y, max_epochs=7)
    check_true(len(mistakes) == 7, f"with max_epochs=7 on XOR, 7 epochs should run, got {{len(mistakes)}}", read=READ)
    check_true(min(mistakes) > 0, f"no epoch on XOR can be free of mistakes, got {{mistakes}}", read=READ)
    """),
    test("test_train_perceptron_hidden", 2, f"""
    \"\"\"Hidden tests: train_perceptron agrees with nnlib's Perceptron (same order, same eta) on random data.\"\"\"
    ### BEGIN HIDDEN TESTS
    import warnings
    READ = "{WATCH}"
    for seed, n, margin, eta, max_epochs in [(11, 30, 0.4, 1.0, 100), (12, 60, 0.3, 0.1, 100), (13, 25, 1.0, 2.5, 100),
                                             (14, 50, 0.05, 1.0, 3)]:
        X, y = linearly_separable(n=n, margin=margin, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = Perceptron(eta=eta, max_epochs=max_epochs).fit(X, y)
        X_before = X.copy()
        with forbid_calls(nnlib_perceptron_update, Perceptron.fit, nnlib.neurons._rosenblatt,
                          exercise="train_perceptron", read=READ):
            A, b, mistakes = train_perceptron(X, y, eta=eta, max_epochs=max_epochs)
        check_true(list(mistakes) == list(ref.mistakes_),
                   f"mistakes per epoch on {{n}} random points (eta={{eta}}, max_epochs={{max_epochs}}) should be "
                   f"{{list(ref.mistakes_)}}, got {{list(mistakes)}}", read=READ)
        check_close(A, ref.A, what=f"the final A on {{n}} random points", read=READ)
        check_close(b, ref.b, what=f"the final b on {{n}} random points", read=READ)
        check_true(np.array_equal(X, X_before), "train_perceptron modified X", read=READ)
    # XOR is not linearly separable: exactly max_epochs epochs, as in nnlib
    X, y = nnlib.data.xor(n=24, noise=0.2, seed=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Perceptron(eta=0.5, max_epochs=4).fit(X, y)
    A, b, mistakes = train_perceptron(X, y, eta=0.5, max_epochs=4)
    check_true(list(mistakes) == list(ref.mistakes_),
               f"mistakes per epoch on 24 noisy XOR points with max_epochs=4 should be {{list(ref.mistakes_)}}, "
               f"got {{list(mistakes)}}", read="{XOR}")
    ### END HIDDEN TESTS
    """),
    # --------------------------------------------------------------- pocket
    markdown("pocket_md", r"""
    ## Part B: the pocket perceptron (3 points)

    On data that are not linearly separable the perceptron never settles: its weights keep
    jumping, and the last ones can be much worse than some it had on the way. Gallant's
    **pocket algorithm** (1990) runs the ordinary perceptron and keeps "in its pocket" the
    best weights seen so far, those with the highest accuracy on the training set.

    Write `pocket_perceptron(X, y, eta=1.0, epochs=30)`: start from zero weights, run the
    perceptron epochs of A2 (samples in their order, your `perceptron_update`), stop early
    after an epoch without mistakes; measure the training accuracy of the weights at the end
    of every epoch (you may also measure it after every update), and return the weights
    `(A, b)` with the highest training accuracy seen. The tests compare it with the best
    boundary of a plain perceptron run.
    """),
    answer("pocket_perceptron", """
    def pocket_perceptron(X, y, eta=1.0, epochs=30):
        \"\"\"The perceptron weights (A, b) with the best training accuracy seen during training.\"\"\"
        ### BEGIN SOLUTION
        X = np.asarray(X, dtype=float)
        A, b = np.zeros(X.shape[1]), 0.0
        best_A, best_b, best_acc = A.copy(), b, accuracy(predict(A, b, X), y)
        for epoch in range(epochs):
            count = 0
            for x_n, y_n in zip(X, y):
                A, b, mistake = perceptron_update(A, b, x_n, int(y_n), eta)
                count += int(mistake)
            acc = accuracy(predict(A, b, X), y)
            if acc > best_acc:
                best_A, best_b, best_acc = A.copy(), b, acc
            if count == 0:
                break
        return best_A, best_b
        ### END SOLUTION
    """),
    test("test_pocket_separable", 1, f"""
    \"\"\"pocket_perceptron separates linearly separable data.\"\"\"
    READ = "{WATCH}"
    X, y = linearly_separable(n=40, margin=0.5, seed=3)
    A, b = pocket_perceptron(X, y)
    check_close(accuracy(predict(A, b, X), y), 1.0, what="the training accuracy of the pocket weights", read=READ)
    """),
    test("test_pocket_hidden", 2, f"""
    \"\"\"Hidden tests: on data with flipped labels the pocket weights beat every epoch-end boundary of a plain perceptron.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{XOR}"
    import warnings
    rng = np.random.default_rng(4002)
    for seed in (21, 22, 23):
        X, y = linearly_separable(n=60, margin=0.3, seed=seed)
        flip = rng.choice(60, size=8, replace=False)
        y = y.copy()
        y[flip] = 1 - y[flip]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = Perceptron(eta=1.0, max_epochs=30).fit(X, y)
        best = max(accuracy(predict(A_e, b_e, X), y) for A_e, b_e in ref.boundaries_)
        last = accuracy(ref.predict(X), y)
        with forbid_calls(nnlib_perceptron_update, Perceptron.fit, nnlib.neurons._rosenblatt,
                          exercise="pocket_perceptron", read=READ):
            A, b = pocket_perceptron(X, y, eta=1.0, epochs=30)
        got = accuracy(predict(A, b, X), y)
        check_true(got >= best - 1e-12,
                   f"on 60 points with 8 flipped labels the pocket weights reach a training accuracy of {{got:.3f}}, "
                   f"but the plain perceptron had {{best:.3f}} at the end of its best epoch (and {{last:.3f}} at the end): "
                   "keep the best weights, not the last", read=READ)
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------------- Novikoff
    markdown("novikoff_md", r"""
    ## Part C: Novikoff's bound with nnlib (3 points)

    Write `novikoff_check(n, margin, seed)` that

    1. draws a training set and its true boundary with
       `X, y, (w, c) = linearly_separable(n=n, margin=margin, seed=seed, return_boundary=True)`;
    2. trains `nnlib.neurons.Perceptron(eta=1.0, max_epochs=10_000, shuffle=True, seed=seed)` on it;
    3. computes Novikoff's bound $(R/\gamma)^2$, with the augmented inputs
       $\tilde{\mathbf x}_n = (\mathbf x_n, 1)$, $R = \max_n \lVert\tilde{\mathbf x}_n\rVert$,
       the unit vector $\mathbf w^* = (\mathbf w, c)/\lVert(\mathbf w, c)\rVert$ and the margin
       $\gamma = \min_n t_n\, \mathbf w^*\cdot\tilde{\mathbf x}_n$, $t_n = 2y_n - 1$;
    4. returns `(n_mistakes, bound)`: the perceptron's total number of mistakes
       (`n_mistakes_`) and the bound.

    Whatever the seed, the number of mistakes must not exceed the bound; the hidden tests try
    several seeds and margins.
    """),
    answer("novikoff_check", """
    def novikoff_check(n, margin, seed):
        \"\"\"(total mistakes of nnlib's shuffled Perceptron, Novikoff's bound (R/gamma)^2) on a separable data set.\"\"\"
        ### BEGIN SOLUTION
        X, y, (w, c) = linearly_separable(n=n, margin=margin, seed=seed, return_boundary=True)
        perceptron = Perceptron(eta=1.0, max_epochs=10_000, shuffle=True, seed=seed).fit(X, y)
        X_aug = np.column_stack([X, np.ones(len(X))])
        w_star = np.append(w, c)
        w_star = w_star / np.linalg.norm(w_star)
        R = np.max(np.linalg.norm(X_aug, axis=1))
        gamma = np.min((2 * y - 1) * (X_aug @ w_star))
        return perceptron.n_mistakes_, float((R / gamma) ** 2)
        ### END SOLUTION
    """),
    test("test_novikoff_values", 1, f"""
    \"\"\"novikoff_check(50, 0.5, seed=0): the bound, the mistakes, and mistakes <= bound.\"\"\"
    READ = "{THEOREM}"
    n_mistakes, bound = novikoff_check(50, 0.5, seed=0)
    X, y, (w, c) = linearly_separable(n=50, margin=0.5, seed=0, return_boundary=True)
    ref = Perceptron(eta=1.0, max_epochs=10_000, shuffle=True, seed=0).fit(X, y)
    check_true(int(n_mistakes) == ref.n_mistakes_,
               f"the shuffled perceptron (seed 0) makes {{ref.n_mistakes_}} mistakes, novikoff_check says {{n_mistakes}}", read=READ)
    check_true(np.isfinite(bound) and bound > 0, f"the bound should be a positive number, got {{bound}}", read=READ)
    check_true(n_mistakes <= bound, f"{{n_mistakes}} mistakes exceed the bound {{bound:.1f}}: is gamma computed with a unit vector?",
               read=READ)
    # (R/gamma)^2 for this data set, worked out once by hand: R = 4.2689, gamma = 0.26971
    check_close(bound, 250.5097, rtol=1e-4,
                what="the bound for n=50, margin=0.5, seed=0 (augment the inputs with a 1 for R and gamma, "
                     "and normalise w* = (w, c) / |(w, c)|)", read=READ)
    """),
    test("test_novikoff_hidden", 2, f"""
    \"\"\"Hidden tests: the bound and the mistakes for other seeds and margins.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{THEOREM}"
    for n, margin, seed in [(40, 0.8, 1), (60, 0.3, 2), (30, 1.5, 3), (80, 0.4, 4)]:
        X, y, (w, c) = linearly_separable(n=n, margin=margin, seed=seed, return_boundary=True)
        X_aug = np.column_stack([X, np.ones(n)])
        w_star = np.append(w, c) / np.hypot(np.linalg.norm(w), c)
        R = np.sqrt(np.max(np.sum(X_aug ** 2, axis=1)))
        gamma = np.min(np.where(y == 1, 1.0, -1.0) * (X_aug @ w_star))
        expected_bound = (R / gamma) ** 2
        ref = Perceptron(eta=1.0, max_epochs=10_000, shuffle=True, seed=seed).fit(X, y)
        n_mistakes, bound = novikoff_check(n, margin, seed)
        check_close(bound, expected_bound, what=f"the bound for n={{n}}, margin={{margin}}, seed={{seed}}", read=READ)
        check_true(int(n_mistakes) == ref.n_mistakes_,
                   f"for n={{n}}, margin={{margin}}, seed={{seed}} the shuffled perceptron makes {{ref.n_mistakes_}} "
                   f"mistakes, novikoff_check says {{n_mistakes}}", read=READ)
        check_true(n_mistakes <= bound, f"{{n_mistakes}} mistakes exceed the bound {{bound:.1f}}", read=READ)
    ### END HIDDEN TESTS
    """),
    # -------------------------------------------------------------- written
    markdown("written_md", r"""
    ## Part D: when the margin shrinks (2 points, graded by hand)

    In a few sentences: what does Novikoff's bound say about the number of mistakes when the
    margin $\gamma$ of the data shrinks while $R$ stays the same? What happens in the limit of
    data that are not linearly separable, and what does `train_perceptron` do then?
    """),
    written("written_margin", 2, r"""
    The bound $(R/\gamma)^2$ grows like $1/\gamma^2$: halving the margin allows four times as
    many mistakes, so training can take much longer when the two classes come close, even
    though it still ends after finitely many updates. The bound does not depend on $\eta$, on
    the order of the samples or on their number. As $\gamma \to 0$ the bound diverges, and for
    data that are not linearly separable there is no $\mathbf w^*$ with $\gamma > 0$ at all:
    the theorem promises nothing, every epoch has mistakes (a clean epoch would be a separating
    line), and `train_perceptron` only stops because of `max_epochs`, with weights that keep
    jumping (which is why the pocket algorithm keeps the best ones).
    """),
]

if __name__ == "__main__":
    print(write_notebook(cells, OUT))
