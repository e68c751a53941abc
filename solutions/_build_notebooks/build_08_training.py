"""Write solutions/08-training/training.ipynb (homework 8, training and validation).

Run from the repository root:  .venv/bin/python solutions/_build_notebooks/build_08_training.py
"""

from pathlib import Path

from nbcells import answer, code, markdown, test, write_notebook, written

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "solutions" / "08-training" / "training.ipynb"

EPOCHS = "Chapter 8, 'Epochs and minibatches' (book/08-training.md)"
SETS = "Chapter 8, 'Training and validation sets' (book/08-training.md)"
OVERFIT = "Chapter 8, 'Overfitting' (book/08-training.md)"
EARLY = "Chapter 8, 'Early stopping' (book/08-training.md)"
SIGNAL = "Chapter 8, 'Signal against background' (book/08-training.md)"
CHECKGRAD = "Chapter 7, 'Checking gradients' (book/07-backprop.md)"

cells = [
    markdown("intro", """
    # Homework 8: Training and validation

    **Read first:** book chapter 8, *Training and validation* (`book/08-training.md`): the
    sections *Epochs and minibatches*, *Training and validation sets*, *Overfitting*, *Early
    stopping* and *Signal against background*.

    "Training proceeds multiple times (epochs), reshuffling the data." "Early stopping: stop at
    the epoch where the validation error starts to increase." In this homework you

    * **A** (9 points) write the training loop yourself: minibatches drawn from a reshuffled
      training set, the validation loss after every epoch, early stopping with a `patience`, and
      the best weights put back at the end; with the same seed your loop reproduces
      `nnlib.fit` **bit for bit**;
    * **B** (3 points) add what `nnlib` does not have, an L2 penalty on the weights (*weight
      decay*), and check its gradient with `nnlib.gradcheck`;
    * **C** (3 points) train a signal-against-background classifier with `nnlib` and reach an
      area under the ROC curve of at least 0.93 on new events;
    * **D** (3 points, graded by hand) explain why early stopping regularises.

    **How to work.** Replace every `# YOUR CODE HERE` / `raise NotImplementedError()` with your
    code; do not change the other cells. In part A **do not call `nnlib.fit` or
    `nnlib.training.minibatches`** (every test of part A blocks them while your code runs); the
    network's own methods (`loss_and_backward`, `parameters`, `gradients`, `get_weights`,
    `set_weights`, `predict`) and `nnlib.training.evaluate` are yours to use.

    **How to check.** Each task is followed by test cells. The visible tests run when you run the
    notebook (*Kernel > Restart & Run All*): a passing cell prints nothing
    (or a line of measured values), a failing one says
    what is wrong and which book section to read. A visible test trains the same network with
    `nnlib.fit` and with your loop and compares the two. Hidden tests, run at grading time,
    do the same on other data and seeds and train part C on other data sets. Before you
    submit, run

        nbgrader validate training.ipynb

    which runs every cell and reports failing tests. The whole notebook runs in about ten seconds.

    | part | task | points |
    |---|---|---|
    | A | `minibatch_indices` (2), `train` (7) | 9 |
    | B | `l2_penalty`, `l2_penalty_gradient` | 3 |
    | C | `train_signal_background` | 3 |
    | D | written answer | 3 |
    """),
    code("setup", """
    import numpy as np

    import nnlib
    from nnlib import training
    from nnlib.gradcheck import numerical_gradient, relative_error
    from nnlib.testing import check_calls, check_close, check_shape, check_true, forbid_calls
    """),
    # -------------------------------------------------------------- minibatches
    markdown("minibatch_md", r"""
    ## Part A: the training loop

    ### A1. Minibatches (2 points)

    An epoch is one pass over the $n$ training samples in a fresh random order, cut into
    minibatches of `batch_size` samples; the last one is smaller when `batch_size` does not
    divide $n$. Write `minibatch_indices(n, batch_size, rng)` that draws the order with
    **exactly one** call `rng.permutation(n)` (`rng` is a `numpy.random.Generator`) and returns a
    list of index arrays: `order[0:batch_size]`, `order[batch_size:2 * batch_size]`, ...

    Calling it again with the same generator gives a new order, because the generator moves on:
    that is the reshuffling at every epoch.
    """),
    answer("minibatch_indices", """
    def minibatch_indices(n, batch_size, rng):
        \"\"\"A random permutation of range(n), drawn with rng.permutation(n), cut into a list of batches.\"\"\"
        ### BEGIN SOLUTION
        order = rng.permutation(n)
        return [order[start:start + batch_size] for start in range(0, n, batch_size)]
        ### END SOLUTION
    """),
    test("test_minibatch_indices_values", 1, f"""
    \"\"\"minibatch_indices: batch sizes 4, 4, 2 for n = 10; every index once; a new order on the next call.\"\"\"
    READ = "{EPOCHS}"
    rng = np.random.default_rng(0)
    with forbid_calls(training.minibatches, exercise="minibatch_indices", read=READ):
        batches = minibatch_indices(10, 4, rng)
    check_true(isinstance(batches, list), f"minibatch_indices should return a list of arrays, got {{type(batches).__name__}}.",
               read=READ)
    sizes = [len(b) for b in batches]
    check_true(sizes == [4, 4, 2], f"for n = 10 and batch_size = 4 the batch sizes should be [4, 4, 2], got {{sizes}}.",
               read=READ)
    check_true(sorted(np.concatenate(batches).tolist()) == list(range(10)),
               "the batches together should contain every index 0..9 exactly once.", read=READ)
    with forbid_calls(training.minibatches, exercise="minibatch_indices", read=READ):
        again = np.concatenate(minibatch_indices(10, 4, rng))
    check_true(not np.array_equal(again, np.concatenate(batches)),
               "a second call with the same generator should give a new order (draw it with rng.permutation(n)).",
               read=READ)
    """),
    test("test_minibatch_indices_hidden", 1, f"""
    \"\"\"Hidden tests: the same batches as nnlib.training.minibatches for the same generator, one draw per call.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{EPOCHS}"
    for n, batch_size, seed in [(23, 5, 1), (8, 8, 2), (7, 10, 3), (12, 1, 4), (30, 6, 5)]:
        expected = list(training.minibatches(n, batch_size, np.random.default_rng(seed)))
        rng_ref = np.random.default_rng(seed)
        rng_ref.permutation(n)
        rng = np.random.default_rng(seed)
        with forbid_calls(training.minibatches, exercise="minibatch_indices", read=READ):
            got = minibatch_indices(n, batch_size, rng)
        check_true(len(got) == len(expected), f"for n = {{n}}, batch_size = {{batch_size}} expected {{len(expected)}} "
                   f"batches, got {{len(got)}}.", read=READ)
        for k, (g, e) in enumerate(zip(got, expected)):
            check_true(np.array_equal(g, e), f"batch {{k}} for n = {{n}}, batch_size = {{batch_size}} differs from "
                       "order[k * batch_size:(k + 1) * batch_size] with order = rng.permutation(n).", read=READ)
        check_true(rng.random() == rng_ref.random(), "minibatch_indices should draw from rng exactly once, "
                   "with rng.permutation(n).", read=READ)
    ### END HIDDEN TESTS
    """),
    # -------------------------------------------------------------------- train
    markdown("train_md", r"""
    ### A2. Training with validation and early stopping (7 points)

    Write `train(model, loss, X, y, X_val, y_val, epochs, batch_size, eta, patience, seed)` for
    an `nnlib` network `model` (for example `nnlib.mlp(...)`) and a loss name such as `"mse"`.
    Follow these steps exactly; then your loop reproduces `nnlib.fit(model, loss, X, y,
    epochs=epochs, batch_size=batch_size, eta=eta, validation_data=(X_val, y_val),
    patience=patience, seed=seed)` to the last bit. (On layers of 16,384 weights or more, far
    larger than the ones here, `nnlib.fit` adds the update $-\eta\,\boldsymbol\delta^\top\mathbf X$
    to the weights inside the matrix product itself, one BLAS call, and the last bit can round
    differently.)

    1. Create the generator **once**, before the first epoch: `rng = np.random.default_rng(seed)`.
    2. For each epoch $1, 2, \dots,$ `epochs`:
       * for each `idx` in `minibatch_indices(n, batch_size, rng)`: compute the batch loss and the
         gradients with `model.loss_and_backward(X[idx], y[idx], loss)`, then update every
         parameter in place, `p -= eta * g` for `p, g` in
         `zip(model.parameters(), model.gradients())` (the arrays belong to the model);
       * the epoch's training loss is the mean over all $n$ samples: the sum of
         (batch loss $\times$ batch size) over the batches, divided by $n$;
       * the validation loss is `nnlib.training.evaluate(model, loss, X_val, y_val)`;
       * if it is **strictly lower** than the best so far, remember it, the epoch number
         (counting from 1) and a copy of the weights, `model.get_weights()`, and reset the count
         of epochs without improvement; otherwise add one to that count;
       * stop when that count reaches `patience`.
    3. At the end put the best weights back, `model.set_weights(best_weights)`, and return the
       tuple `(train_losses, val_losses, best_epoch)`: two lists of floats, one entry per epoch
       that ran, and the epoch (from 1) of the lowest validation loss.
    """),
    answer("train", """
    def train(model, loss, X, y, X_val, y_val, epochs=100, batch_size=32, eta=0.1, patience=10, seed=0):
        \"\"\"Minibatch SGD with reshuffling, validation after every epoch and early stopping.

        Returns (train_losses, val_losses, best_epoch); the model ends with the weights of best_epoch.
        \"\"\"
        ### BEGIN SOLUTION
        rng = np.random.default_rng(seed)
        n = X.shape[0]
        train_losses, val_losses = [], []
        best_val, best_epoch, best_weights, waited = np.inf, None, None, 0
        for epoch in range(1, epochs + 1):
            total = 0.0
            for idx in minibatch_indices(n, batch_size, rng):
                total += model.loss_and_backward(X[idx], y[idx], loss) * len(idx)
                for p, g in zip(model.parameters(), model.gradients()):
                    p -= eta * g
            train_losses.append(total / n)
            v = training.evaluate(model, loss, X_val, y_val)
            val_losses.append(v)
            if v < best_val:
                best_val, best_epoch, waited = v, epoch, 0
                best_weights = model.get_weights()
            else:
                waited += 1
            if waited >= patience:
                break
        model.set_weights(best_weights)
        return train_losses, val_losses, best_epoch
        ### END SOLUTION
    """),
    code("train_helpers", """
    def regression_data(seed, n=30):
        \"\"\"A small noisy 1-D regression problem: n training and 30 validation points.\"\"\"
        X, y = nnlib.data.nonlinear_1d(n, noise=0.3, seed=seed)
        X_val, y_val = nnlib.data.nonlinear_1d(30, noise=0.3, seed=seed + 100)
        return X, y, X_val, y_val


    def compare_with_fit(seed, n=30, epochs=60, batch_size=7, eta=0.1, patience=5):
        \"\"\"Train one network with nnlib.fit and an identical one with your train; compare everything.\"\"\"
        READ = "Chapter 8, 'Early stopping' (book/08-training.md)"
        X, y, X_val, y_val = regression_data(seed, n)
        reference, mine = (nnlib.mlp([1, 32, 32, 1], "tanh", seed=seed) for _ in range(2))
        history = nnlib.fit(reference, "mse", X, y, epochs=epochs, batch_size=batch_size, eta=eta,
                            validation_data=(X_val, y_val), patience=patience, seed=seed)
        with forbid_calls(nnlib.fit, training.minibatches, exercise="train", read=READ):
            result = train(mine, "mse", X, y, X_val, y_val, epochs=epochs, batch_size=batch_size, eta=eta,
                           patience=patience, seed=seed)
        setting = f"(seed {seed}, n = {n}, batch_size = {batch_size}, patience = {patience})"
        check_true(isinstance(result, tuple) and len(result) == 3,
                   "train should return the tuple (train_losses, val_losses, best_epoch).", read=READ)
        train_losses, val_losses, best_epoch = result
        k = min(len(train_losses), len(val_losses), history.stopped_epoch)
        check_close(np.asarray(train_losses[:k]), history.train_loss[:k], rtol=1e-9, atol=1e-12,
                    what=f"the training loss of each epoch (index 0 is epoch 1) {setting}",
                    read="Chapter 8, 'Epochs and minibatches' (book/08-training.md)")
        check_close(np.asarray(val_losses[:k]), history.val_loss[:k], rtol=1e-9, atol=1e-12,
                    what=f"the validation loss of each epoch (index 0 is epoch 1) {setting}",
                    read="Chapter 8, 'Training and validation sets' (book/08-training.md)")
        check_true(len(val_losses) == history.stopped_epoch,
                   f"nnlib.fit ran {history.stopped_epoch} epochs {setting}, your train ran {len(val_losses)} with "
                   "the same losses up to there: stop as soon as the number of epochs without improvement "
                   "reaches patience.", read=READ)
        check_true(best_epoch == history.best_epoch,
                   f"the best epoch should be {history.best_epoch} {setting}, got {best_epoch}.", read=READ)
        for k, (p, q) in enumerate(zip(mine.parameters(), reference.parameters())):
            check_close(p, q, rtol=1e-9, atol=1e-12, what=f"parameter {k} of the network after training {setting}",
                        read=READ)
        return history


    class BatchRecorder:
        \"\"\"Wraps a network and records the sample numbers in every minibatch it is trained on.

        The first input column of the training data holds sample number / n.
        \"\"\"

        def __init__(self, model, n):
            self.model, self.n, self.batches = model, n, []

        def loss_and_backward(self, X, y, loss):
            self.batches.append(np.rint(np.asarray(X)[:, 0] * self.n).astype(int))
            return self.model.loss_and_backward(X, y, loss)

        def __getattr__(self, name):     # predict, parameters, gradients, get_weights, set_weights
            return getattr(self.model, name)
    """),
    test("test_train_runs", 1, f"""
    \"\"\"train: one loss per epoch, the training loss goes down, best_epoch is the epoch of the lowest validation loss.\"\"\"
    READ = "{SETS}"
    X, y, X_val, y_val = regression_data(seed=4, n=40)
    model = nnlib.mlp([1, 16, 1], "tanh", seed=4)
    with forbid_calls(nnlib.fit, training.minibatches, exercise="train", read=READ):
        result = train(model, "mse", X, y, X_val, y_val, epochs=25, batch_size=8, eta=0.05, patience=1000, seed=4)
    check_true(isinstance(result, tuple) and len(result) == 3,
               f"train should return (train_losses, val_losses, best_epoch), got {{type(result).__name__}}.", read=READ)
    train_losses, val_losses, best_epoch = result
    check_true(len(train_losses) == 25 and len(val_losses) == 25,
               f"with patience = 1000 all 25 epochs should run and give 25 losses each, got {{len(train_losses)}} "
               f"and {{len(val_losses)}}.", read=READ)
    check_true(train_losses[-1] < 0.8 * train_losses[0],
               f"the training loss should go down: epoch 1 {{train_losses[0]:.4f}}, epoch 25 {{train_losses[-1]:.4f}}.",
               read=READ)
    check_true(best_epoch == int(np.argmin(val_losses)) + 1,
               f"best_epoch is {{best_epoch}} but the lowest validation loss is at epoch {{int(np.argmin(val_losses)) + 1}} "
               "(epochs count from 1).", read=READ)
    # all 25 epochs ran, none stopped early: the best weights must still be put back at the end
    check_close(training.evaluate(model, "mse", X_val, y_val), min(val_losses), rtol=1e-9,
                what=f"the validation loss of the model after train (it should end with the weights of epoch "
                     f"{{best_epoch}}, put back at the end also when no early stop happened)", read="{EARLY}")
    """),
    test("test_train_matches_fit", 2, f"""
    \"\"\"train reproduces nnlib.fit on the same seed: losses, best epoch, stopping epoch and final weights.\"\"\"
    history = compare_with_fit(seed=0)
    print(f"nnlib.fit: best epoch {{history.best_epoch}}, stopped after epoch {{history.stopped_epoch}}")
    """),
    test("test_train_matches_fit_hidden", 1, f"""
    \"\"\"Hidden tests: train reproduces nnlib.fit for other data, seeds and batch sizes, without calling nnlib.fit.\"\"\"
    ### BEGIN HIDDEN TESTS
    for seed, n, batch_size, patience in [(1, 30, 4, 4), (3, 25, 10, 3), (5, 40, 6, 6)]:
        compare_with_fit(seed, n=n, batch_size=batch_size, patience=patience)
    ### END HIDDEN TESTS
    """),
    test("test_train_early_stopping", 2, f"""
    \"\"\"Early stopping: training ends exactly patience epochs after the best one, with the best weights restored.\"\"\"
    READ = "{EARLY}"
    for seed, patience in [(2, 3), (5, 5)]:
        X, y, X_val, y_val = regression_data(seed)
        model = nnlib.mlp([1, 32, 32, 1], "tanh", seed=seed)
        with forbid_calls(nnlib.fit, training.minibatches, exercise="train", read=READ):
            result = train(model, "mse", X, y, X_val, y_val, epochs=200, batch_size=5, eta=0.1, patience=patience,
                           seed=seed)
        check_true(isinstance(result, tuple) and len(result) == 3,
                   f"train should return (train_losses, val_losses, best_epoch), got {{type(result).__name__}}.",
                   read=READ)
        train_losses, val_losses, best_epoch = result
        check_true(len(val_losses) < 200, f"with patience = {{patience}} training should stop early on this noisy "
                   f"problem (seed {{seed}}), but it ran all 200 epochs.", read=READ)
        check_true(len(val_losses) == best_epoch + patience,
                   f"the best epoch is {{best_epoch}} and patience is {{patience}}, so training should stop after epoch "
                   f"{{best_epoch + patience}}; it stopped after epoch {{len(val_losses)}}.", read=READ)
        check_true(val_losses[best_epoch - 1] == min(val_losses),
                   "best_epoch should be the epoch of the lowest validation loss.", read=READ)
        final = training.evaluate(model, "mse", X_val, y_val)
        check_close(final, min(val_losses), rtol=1e-9, what="the validation loss of the model after train "
                    "(the best weights should be put back)", read=READ)
    """),
    test("test_train_reshuffles", 1, f"""
    \"\"\"Every epoch sees every training sample once, in batches of batch_size, in a new order each epoch.\"\"\"
    READ = "{EPOCHS}"
    n, batch_size, epochs = 22, 5, 4
    rng = np.random.default_rng(6)
    X = np.column_stack([np.arange(n) / n, rng.normal(size=n)])
    y = rng.normal(size=(n, 1))
    X_val = np.column_stack([np.full(10, -1.0), rng.normal(size=10)])
    y_val = rng.normal(size=(10, 1))
    recorder = BatchRecorder(nnlib.mlp([2, 4, 1], "tanh", seed=6), n)
    with forbid_calls(nnlib.fit, training.minibatches, exercise="train", read=READ):
        train(recorder, "mse", X, y, X_val, y_val, epochs=epochs, batch_size=batch_size, eta=0.01, patience=1000,
              seed=6)
    sizes = [len(b) for b in recorder.batches]
    check_true(sizes == [5, 5, 5, 5, 2] * epochs, f"with n = 22 and batch_size = 5 every epoch should train on "
               f"batches of sizes [5, 5, 5, 5, 2] (and never on validation data); the batch sizes were {{sizes}}.",
               read=READ)
    orders = [np.concatenate(recorder.batches[5 * e:5 * e + 5]) for e in range(epochs)]
    for e, order in enumerate(orders, start=1):
        check_true(sorted(order.tolist()) == list(range(n)), f"epoch {{e}} did not use every training sample exactly "
                   "once.", read=READ)
    check_true(all(not np.array_equal(a, b) for a, b in zip(orders, orders[1:])),
               "two consecutive epochs used the same order: reshuffle at every epoch (create the generator once, "
               "before the first epoch, and draw a new permutation from it every epoch).", read=READ)
    """),
    # -------------------------------------------------------------------- L2
    markdown("l2_md", r"""
    ## Part B: weight decay, which nnlib does not have

    ### B1. An L2 penalty and its gradient (3 points)

    Adding to the loss a penalty on large weights,

    $$L_\text{total} = L + \frac{\lambda}{2} \sum_{\text{layers}} \sum_{ij} A_{ij}^2,$$

    pulls every weight towards zero by $\eta\lambda A_{ij}$ at each step ("weight decay"), which
    limits how sharply the network can bend to fit the noise of the training set. As is usual,
    the **biases are not penalised**.

    `params` is a list like `model.parameters()`: weight matrices (2-D arrays) and bias vectors
    (1-D arrays). Write `l2_penalty(params, lam)`, the penalty as a float, and
    `l2_penalty_gradient(params, lam)`, a list with one array per parameter, of the same shapes:
    $\lambda \mathbb A$ for a weight matrix and zeros for a bias. The tests compare the gradient
    with centred differences of your penalty (`nnlib.gradcheck.numerical_gradient`).
    """),
    answer("l2_penalty", """
    def l2_penalty(params, lam):
        \"\"\"lam / 2 times the sum of the squares of all weight-matrix entries (2-D arrays); biases are not penalised.\"\"\"
        ### BEGIN SOLUTION
        return float(0.5 * lam * sum(np.sum(p ** 2) for p in params if np.ndim(p) == 2))
        ### END SOLUTION
    """),
    answer("l2_penalty_gradient", """
    def l2_penalty_gradient(params, lam):
        \"\"\"Gradient of l2_penalty: lam * A for each weight matrix, zeros for each bias; a list like params.\"\"\"
        ### BEGIN SOLUTION
        return [lam * p if np.ndim(p) == 2 else np.zeros_like(p) for p in params]
        ### END SOLUTION
    """),
    test("test_l2_penalty_values", 1, f"""
    \"\"\"l2_penalty: a hand-worked value, with the bias left out.\"\"\"
    READ = "{OVERFIT}"
    params = [np.array([[1.0, -2.0], [0.0, 2.0]]), np.array([5.0, 5.0]), np.array([[3.0, 0.0]]), np.array([1.0])]
    # lam / 2 * (1 + 4 + 0 + 4 + 9) = 0.1 / 2 * 18 = 0.9; the biases (5, 5, 1) do not count
    got = l2_penalty(params, 0.1)
    check_true(np.ndim(got) == 0, "l2_penalty should return a single number.", read=READ)
    check_close(got, 0.9, what="l2_penalty(params, lam=0.1) (biases are not penalised)", read=READ)
    """),
    test("test_l2_penalty_gradient", 2, f"""
    \"\"\"l2_penalty_gradient: lam * A for the weights, zeros for the biases, and centred differences of l2_penalty.\"\"\"
    READ = "{CHECKGRAD}"
    def check_params(params, lam, what):
        grads = l2_penalty_gradient(params, lam)
        check_true(len(grads) == len(params), f"expected one gradient per parameter ({{len(params)}}), got "
                   f"{{len(grads)}}.", read=READ)
        for k, (p, g) in enumerate(zip(params, grads)):
            check_shape(g, p.shape, what=f"the gradient of parameter {{k}}", read=READ)
            def penalty_of(x, k=k):
                changed = list(params)
                changed[k] = x
                return l2_penalty(changed, lam)
            err = relative_error(g, numerical_gradient(penalty_of, p))
            check_true(err < 1e-6, f"the gradient of parameter {{k}} ({{'weights' if p.ndim == 2 else 'bias'}}) of "
                       f"{{what}} does not match centred differences of l2_penalty: relative error {{err:.2e}}.",
                       read=READ)
            if p.ndim == 1:
                check_close(g, np.zeros_like(p), what=f"the gradient of bias {{k}} (biases are not penalised)",
                            read="{OVERFIT}")
    check_params([np.array([[1.0, -2.0], [0.0, 2.0]]), np.array([5.0, 5.0]), np.array([[3.0, 0.0]]), np.array([1.0])],
                 0.1, "the hand-worked example")
    ### BEGIN HIDDEN TESTS
    for seed, sizes, lam in [(1, [3, 5, 2], 0.01), (2, [2, 4, 4, 1], 1.5)]:
        params = nnlib.mlp(sizes, "tanh", seed=seed).parameters()
        for p in params:
            if p.ndim == 1:
                p += np.random.default_rng(seed).normal(size=p.shape)   # non-zero biases
        check_params(params, lam, f"an nnlib.mlp({{sizes}}) with lam = {{lam}}")
    ### END HIDDEN TESTS
    """),
    # ------------------------------------------------------ signal / background
    markdown("signal_md", r"""
    ## Part C: signal against background with nnlib

    ### C1. A classifier for a resonance (3 points)

    `nnlib.data.signal_background(n, seed=seed)` simulates collider events with four features
    (`nnlib.data.SIGNAL_BACKGROUND_FEATURES`: a di-jet mass $m_{jj}$ in GeV with a signal peak at
    125 GeV, the leading-jet $p_T$ in GeV, the pseudorapidity separation $|\Delta\eta_{jj}|$ of
    the two jets and the missing transverse energy in GeV) and labels 1 (signal) or 0
    (background). The populations overlap,
    and the signal sits in a *window* of $m_{jj}$, which a linear cut cannot select.

    Write `train_signal_background(X, y, seed)` that trains an `nnlib` network on the training
    events `(X, y)` with `nnlib.fit` (loss `"binary_cross_entropy_with_logits"`, `seed=seed`) and
    returns a **function** `score(X_new)` giving one number per event, larger for more
    signal-like events (the network's logit will do). The features have very different scales
    (hundreds of GeV and numbers of order one): standardise them with the mean and standard
    deviation **of the training events**, and apply the same transformation inside `score`.

    The test trains on 2000 events and computes the ROC curve and its area (`nnlib.metrics.roc_curve`,
    `nnlib.metrics.auc`) on 4000 new events: the area must be at least **0.93**, for data sets
    drawn with any seed, and `train_signal_background` must call `nnlib.fit`. (A linear
    classifier reaches about 0.85, and the score
    $-|m_{jj} - 125\ \text{GeV}|$, a cut on the mass window alone, about 0.92.) Keep one
    training under a second.
    """),
    answer("train_signal_background", """
    def train_signal_background(X, y, seed=0):
        \"\"\"Train an nnlib classifier on (X, y); return a function score(X_new) -> one score per event.\"\"\"
        ### BEGIN SOLUTION
        mean, std = X.mean(axis=0), X.std(axis=0)
        model = nnlib.mlp([4, 16, 16, 1], "relu", seed=seed)
        nnlib.fit(model, "binary_cross_entropy_with_logits", (X - mean) / std, y, epochs=30, batch_size=64, eta=0.1,
                  seed=seed)

        def score(X_new):
            return model.predict((np.asarray(X_new, dtype=float) - mean) / std)[:, 0]

        return score
        ### END SOLUTION
    """),
    code("signal_helper", """
    def signal_background_auc(seed):
        \"\"\"Train on signal_background(2000, seed) and return the area under the ROC curve on 4000 new events.\"\"\"
        READ = "Chapter 8, 'Signal against background' (book/08-training.md)"
        X, y = nnlib.data.signal_background(2000, seed=seed)
        X_val, y_val = nnlib.data.signal_background(4000, seed=seed + 10_000)
        try:
            score = train_signal_background(X, y, seed=seed)
            scores = np.asarray(score(X_val), dtype=float).ravel()
        except (ValueError, TypeError, FloatingPointError) as exc:
            raise AssertionError(f"train_signal_background or its score function raised {type(exc).__name__}: {exc}. "
                                 f"Read: {READ}.") from None
        check_calls(train_signal_background, nnlib.fit, what="train_signal_background", name="nnlib.fit", read=READ)
        check_shape(scores, (len(y_val),), what="score(X_val), one number per event", read=READ)
        check_true(np.all(np.isfinite(scores)), "score(X_val) contains NaN or infinite values (did the training "
                   "diverge? standardise the features, or lower eta).", read=READ)
        fpr, tpr, _ = nnlib.metrics.roc_curve(scores, y_val)
        return nnlib.metrics.auc(fpr, tpr)
    """),
    test("test_signal_background_auc", 1, f"""
    \"\"\"The classifier reaches an area under the ROC curve of at least 0.93 on new events (seed 0).\"\"\"
    READ = "{SIGNAL}"
    area = signal_background_auc(seed=0)
    print(f"area under the ROC curve: {{area:.4f}}")
    check_true(area >= 0.93, f"the area under the ROC curve is {{area:.4f}}, below 0.93: the signal is a window in "
               "m_jj, so the network needs hidden layers, and standardised inputs.", read=READ)
    """),
    test("test_signal_background_other_seeds", 2, f"""
    \"\"\"Hidden tests: an area under the ROC curve of at least 0.93 for data sets drawn with other seeds.\"\"\"
    ### BEGIN HIDDEN TESTS
    READ = "{SIGNAL}"
    for seed in (1, 2024):
        area = signal_background_auc(seed=seed)
        check_true(area >= 0.93, f"trained on the data set with seed {{seed}}, the area under the ROC curve is "
                   f"{{area:.4f}}, below 0.93.", read=READ)
    ### END HIDDEN TESTS
    """),
    # ----------------------------------------------------------------- written
    markdown("written_md", r"""
    ## Part D: written answer (3 points, graded by hand)

    In the cell below, explain in 4 to 8 sentences **why stopping at the minimum of the validation
    loss acts as a regulariser**, like the weight decay of part B. Say what the training and
    validation losses do as the epochs go on and why, why the validation set must not be used
    for the weight updates, and why the validation loss of the chosen epoch is an optimistic
    estimate of the error on new data (what would you do about it?).
    """),
    written("written_early_stopping", 3, r"""
    The training loss keeps decreasing because every update is made to reduce it; the validation
    loss first decreases as the network learns the structure shared by all samples, then rises
    once it starts to fit the noise of the particular training sample (overfitting). Gradient
    descent started from small random weights explores gradually more complex functions: the
    weights grow, and the function becomes sharper, with the number of steps. Stopping early
    therefore limits the effective size of the weights, much like an L2 penalty (for a linear
    model with squared error, $t$ steps of size $\eta$ act roughly like weight decay with
    $\lambda \approx 1/(\eta t)$); the number of epochs becomes a hyper-parameter chosen on data
    the weights never saw. The validation set must not be used for the updates, otherwise its
    loss would decrease along with the training loss and no longer measure generalisation.
    Because the stopping epoch (and any other hyper-parameter) is selected as the minimum of the
    validation loss, that minimum is biased low: a third, independent *test* set, used only once
    at the very end, gives an unbiased estimate (or cross-validation when data are scarce).

    === BEGIN MARK SCHEME ===
    1 point: training loss decreases (overall: minibatch noise makes it jitter), validation loss
    has a minimum and then rises (overfitting to the noise of the training sample).
    1 point: early stopping limits how far the weights move from their small initial values
    (effective complexity), comparable to an L2 penalty / weight decay; the validation data are
    not used in the updates.
    1 point: the minimum of the validation loss is an optimistic (biased) estimate because it was
    used for a choice; a separate test set (or cross-validation) is needed.
    === END MARK SCHEME ===
    """),
]

if __name__ == "__main__":
    print(write_notebook(cells, OUT))
