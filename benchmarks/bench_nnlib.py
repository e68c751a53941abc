"""MLP training throughput: nnlib against scikit-learn and PyTorch, and the GEMM ceiling.

Every framework trains the same architecture on the same data with plain
minibatch SGD (no momentum, no weight decay, reshuffling every epoch), the same
batch size and learning rate, in float64 and in float32. Throughput is
training samples per second, best of ``--repeat`` runs after a warm-up. Each
framework runs in a process of its own, the runs interleaved (:class:`Workers`), and
the rounds rotate over all configurations, so that the five runs of one configuration are
spread over about two minutes (:func:`measure`).

Models:
    small: 2-16-16-1, ReLU, logistic output (binary cross-entropy), two moons
    large: 784-256-256-10, ReLU, softmax output (cross-entropy), 10 Gaussian classes

Run through ``make bench`` (``benchmarks/run.py``), or alone:
``python benchmarks/bench_nnlib.py --quick``.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from typing import NamedTuple

import numpy as np

import nnlib
from nnlib import data
from nnlib._blas import add_product

ETA = 0.01
MODELS = {
    "small": dict(sizes=[2, 16, 16, 1], n=16384, loss="binary_cross_entropy_with_logits"),
    "large": dict(sizes=[784, 256, 256, 10], n=8192, loss="softmax_cross_entropy"),
}


def make_data(model: str, dtype):
    """The training set of a model: ``X`` (N, n_in) in ``dtype`` and integer labels ``y`` (N,)."""
    spec = MODELS[model]
    rng = np.random.default_rng(0)
    if model == "small":
        X, y = data.two_moons(spec["n"], noise=0.15, seed=rng)
    else:
        means = rng.standard_normal((10, 784))
        y = rng.integers(0, 10, spec["n"])
        X = means[y] + 2.0 * rng.standard_normal((spec["n"], 784))
    return X.astype(dtype), y.astype(np.int64)


def epochs_for(model: str, batch_size: int) -> int:
    """Enough epochs for a measurable run (about 0.5-2 s per framework)."""
    if model == "small":
        return 6 if batch_size == 32 else 20
    return 1 if batch_size == 32 else 2


# ----------------------------------------------------------------------- runners
def run_nnlib(model, X, y, batch_size, epochs):
    spec = MODELS[model]
    net = nnlib.mlp(spec["sizes"], "relu", "identity", seed=0, dtype=X.dtype)
    t = time.perf_counter()
    nnlib.fit(net, spec["loss"], X, y, epochs=epochs, batch_size=batch_size, eta=ETA, seed=0)
    return time.perf_counter() - t


def run_sklearn(model, X, y, batch_size, epochs):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    spec = MODELS[model]
    clf = MLPClassifier(hidden_layer_sizes=tuple(spec["sizes"][1:-1]), activation="relu",
                        solver="sgd", learning_rate_init=ETA, momentum=0.0,
                        nesterovs_momentum=False, batch_size=batch_size, max_iter=epochs,
                        shuffle=True, alpha=0.0, tol=0.0, n_iter_no_change=10 ** 9,
                        early_stopping=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t = time.perf_counter()
        clf.fit(X, y)
        elapsed = time.perf_counter() - t
    if clf.coefs_[0].dtype != X.dtype:  # pragma: no cover - depends on the sklearn version
        raise RuntimeError(f"scikit-learn trained in {clf.coefs_[0].dtype}, not {X.dtype}")
    return elapsed


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def run_torch(model, X, y, batch_size, epochs):
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    spec = MODELS[model]
    dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    sizes = spec["sizes"]
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers).to(dtype)
    opt = torch.optim.SGD(net.parameters(), lr=ETA)
    Xt = torch.from_numpy(X)
    if model == "small":
        yt = torch.from_numpy(y.astype(X.dtype)).reshape(-1, 1)
        loss_fn = torch.nn.BCEWithLogitsLoss()
    else:
        yt = torch.from_numpy(y)
        loss_fn = torch.nn.CrossEntropyLoss()
    n = X.shape[0]
    gen = torch.Generator().manual_seed(0)
    t = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    return time.perf_counter() - t


RUNNERS = {"nnlib": run_nnlib, "scikit-learn": run_sklearn, "pytorch": run_torch}
# not a peer: the products of the step alone (the floor that no NumPy step can beat)
PRODUCTS = "products alone"


# seconds between two runs: after a run, the BLAS and OpenMP threads of its process keep
# spinning for a while (OpenBLAS about 0.1 s, Intel's OpenMP 0.2 s) and would take a core from
# the next framework's process (runs without a pause were up to 28 % slower)
PAUSE = 0.5


class Workers:
    """One process per framework, each with its own copy of the data, run in turn.

    A framework changes the state of the process it runs in, and with it the speed of
    whatever runs there later. The one that matters here is glibc's allocator: after a
    PyTorch run, large NumPy temporaries come from memory the process keeps instead of fresh
    pages from the kernel (scikit-learn's large-model run at batch 256 in float64 went from
    39,880 page faults to 1,179, and 25 % faster; nnlib's from 9,356 to 360, 5-8 % faster,
    measured in one process, before nnlib's fit kept its memory itself).
    A user trains with one framework in a process, so each runs in a process of its own,
    started fresh for the benchmark; the rounds still interleave them (nnlib, scikit-learn,
    PyTorch, nnlib, ...), so that a slow spell of a shared machine slows every framework
    rather than one of them, with a pause (:data:`PAUSE`) before each run.
    """

    def __init__(self, names):
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self.procs = {}
        for name in names:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child, name), daemon=True, name=f"bench {name}")
            proc.start()
            child.close()
            self.procs[name] = (proc, parent)

    def ask(self, name, *message):
        proc, conn = self.procs[name]
        conn.send(message)
        answer = conn.recv()
        if isinstance(answer, WorkerError):
            raise RuntimeError(f"the {name} worker failed:\n{answer.text}")
        return answer

    def close(self):
        for proc, conn in self.procs.values():
            try:
                conn.send(("stop",))
            except (BrokenPipeError, OSError):
                pass
        for proc, conn in self.procs.values():
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class WorkerError(NamedTuple):
    """A worker's exception, as its formatted traceback."""

    text: str


def _serve(conn, name):
    """A worker (see :class:`Workers`): ``("setup", model, dtype, batch_size, epochs)`` makes the
    data and warms up, ``("run",)`` answers the seconds of one run, ``("stop",)`` ends."""
    runner = RUNNERS[name] if name in RUNNERS else run_products
    job = None
    while True:
        message = conn.recv()
        try:
            if message[0] == "stop":
                return
            if message[0] == "setup":
                model, dtype, batch_size, epochs = message[1:]
                # the data are made afresh at every setup, never kept between configurations:
                # freeing the last configuration's data changes glibc's thresholds and with
                # them the page faults of the next runs (scikit-learn's large model at batch
                # 256 in float32: 2,200 page faults per run with all data kept, 1 after a free)
                job = None
                X, y = make_data(model, np.dtype(dtype))
                runner(model, X[: 4 * batch_size], y[: 4 * batch_size], batch_size, 1)  # warm-up
                job = (model, X, y, batch_size, epochs)
                conn.send(X.shape[0] * epochs)
            else:
                if job is None:
                    raise RuntimeError("run before a successful setup")
                conn.send(runner(*job))
        except Exception:  # noqa: BLE001 - reported by the parent, as text (it may not pickle)
            import traceback

            conn.send(WorkerError(traceback.format_exc()))


def _paused(f, *args):
    """``f(*args)`` after :data:`PAUSE`: the threads of the last run have stopped spinning."""
    time.sleep(PAUSE)
    return f(*args)


def one_round(workers, names, model, dtype, batch_size, epochs) -> dict[str, float]:
    """Samples per second of one run of each framework in ``names``, back to back, each after
    a short warm-up in its own process (:class:`Workers`)."""
    rates = {}
    for name in names:
        samples = workers.ask(name, "setup", model, np.dtype(dtype).name, batch_size, epochs)
        rates[name] = samples / _paused(workers.ask, name, "run")
    return rates


def round_ratios(rounds, name, peer) -> list[float]:
    """``[lowest, median, highest]`` of the ratio ``name / peer`` within each round."""
    ratios = sorted(r[name] / r[peer] for r in rounds)
    return [ratios[0], float(np.median(ratios)), ratios[-1]]


# ------------------------------------------------------------------ GEMM ceiling
def matmul_peak(dtype, n: int = 1024, repeat: int = 5) -> float:
    """The machine's NumPy matmul rate in FLOP/s: best of ``repeat`` n x n products."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeat))
    return 2.0 * n ** 3 / best


def _timed(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def step_products(sizes, batch_size: int):
    """The matrix products of one SGD step of an MLP, as ``(m, k, n)``: ``(m, k) @ (k, n)``.

    Per layer ``n_in -> n_out``: the forward product ``H @ A.T`` (B, n_in) x (n_in, n_out),
    the weight gradient ``delta.T @ H`` (n_out, B) x (B, n_in), and, for every layer but
    the first, the input gradient ``delta @ A`` (B, n_out) x (n_out, n_in). nnlib,
    scikit-learn and PyTorch all compute exactly these.
    """
    products = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        products += [(batch_size, a, b), (b, batch_size, a)]
        if i > 0:
            products.append((batch_size, b, a))
    return products


def run_products(model, X, y, batch_size, epochs):
    """A training loop that does nothing but the matrix products of each step.

    The same products as nnlib's step, on operands of the same shapes and memory layout
    (weights ``A`` of shape (n_out, n_in), rows as samples), computed the same way, for as
    many steps as ``epochs`` over ``X`` take: no data gathering, no activations, no loss.
    As in nnlib's plain-SGD step, each weight gradient is added to its weights through
    ``nnlib._blas.add_product`` (here with a step of 1e-12 so that the weights stay put):
    inside the product for weight matrices of 16,384 entries or more, as ``@`` followed by a
    scale and an add for the smaller ones (the large model's 10 x 256 output layer);
    everything else is ``@``. Its throughput bounds that of any NumPy implementation
    of the step, so its ratio to a peer bounds the ratio any of them can reach against that
    peer.
    """
    sizes = MODELS[model]["sizes"]
    rng = np.random.default_rng(0)
    dtype = X.dtype
    A = [rng.standard_normal((b, a)).astype(dtype) for a, b in zip(sizes, sizes[1:])]
    H = [X[:batch_size].copy()] + [rng.standard_normal((batch_size, b)).astype(dtype)
                                   for b in sizes[1:-1]]
    delta = [rng.standard_normal((batch_size, b)).astype(dtype) for b in sizes[1:]]
    # (a, b, weights the product is added to, or None for a plain a @ b)
    pairs = [(H[i], A[i].T, None) for i in range(len(A))]  # forward, first layer first
    for i in reversed(range(len(A))):                        # backward, last layer first
        pairs.append((delta[i].T, H[i], A[i]))               # dL/dA, added to A
        if i > 0:
            pairs.append((delta[i], A[i], None))             # dL/dX, not for the first layer
    # exactly the products that step_products (and the FLOP count) describe
    shapes = [(a.shape[0], a.shape[1], b.shape[1]) for a, b, _ in pairs]
    assert sorted(shapes) == sorted(step_products(sizes, batch_size))
    steps = epochs * -(-X.shape[0] // batch_size)
    t = time.perf_counter()
    for _ in range(steps):
        for a, b, into in pairs:
            if into is None:
                a @ b
            else:
                add_product(into, a, b, -1e-12)
    return time.perf_counter() - t


def training_flops_per_sample(sizes) -> float:
    """Matrix-product FLOPs per sample of one SGD step of an MLP: ``2 m k n`` summed over
    :func:`step_products` (forward and weight gradient in every layer, input gradient in
    every layer but the first)."""
    return float(sum(2 * m * k * n for m, k, n in step_products(sizes, 1)))


# --------------------------------------------------------------------------- main
def measure(quick: bool = False, repeat: int = 5, peers=("scikit-learn", "pytorch")):
    """All throughput and ceiling measurements as result records (dicts).

    Every configuration (dtype, model, batch size) gets ``repeat`` rounds, and the rounds
    rotate over the configurations: round 1 of each, then round 2 of each, and so on. The
    runs of one configuration are thus a round (about 25 s) apart, spread over about two
    minutes. This machine has slow spells (the same work at three quarters of its speed for
    10-60 s, about a third of the time); with the rounds of a configuration back to back, one
    spell could cover all of them. A throughput is the best of its configuration's runs.
    """
    peers = [p for p in peers if p != "pytorch" or torch_available()]
    if "pytorch" not in peers:
        print("  PyTorch is not installed (pip install torch==2.13.0): skipping that peer")
    models = ["small"] if quick else ["small", "large"]
    batches = [256] if quick else [32, 256]
    dtypes = (np.float64, np.float32)
    configs = [(dtype, model, bs) for dtype in dtypes for model in models for bs in batches]

    def names_of(model):
        return ["nnlib", *peers] + ([PRODUCTS] if model == "large" else [])

    rounds = {config: [] for config in configs}
    with Workers(["nnlib", *peers] + ([] if quick else [PRODUCTS])) as workers:
        peaks = {dtype: _paused(matmul_peak, dtype) for dtype in dtypes} if not quick else {}
        for r in range(repeat):
            t = time.perf_counter()
            for dtype, model, bs in configs:
                rounds[dtype, model, bs].append(
                    one_round(workers, names_of(model), model, dtype, bs, epochs_for(model, bs)))
            print(f"  round {r + 1}/{repeat} of every configuration: {time.perf_counter() - t:.0f} s")
        for dtype in peaks:   # the peak before and after the rounds, the best of both
            peaks[dtype] = max(peaks[dtype], _paused(matmul_peak, dtype))

    records = []
    for dtype, model, bs in configs:
        dname = np.dtype(dtype).name
        done = rounds[dtype, model, bs]
        rates = {name: max(r[name] for r in done) for name in names_of(model)}
        floor = rates.pop(PRODUCTS, None)
        for name, rate in rates.items():
            record = dict(what="training throughput", peer=name, model=model,
                          batch_size=bs, dtype=dname, value=rate, unit="samples/s",
                          ratio=None if name == "nnlib" else rates["nnlib"] / rate)
            if name != "nnlib":
                # the spread of the ratio over the rounds: how far the machine's drift moves it
                record["ratio_in_rounds"] = round_ratios(done, "nnlib", name)
            records.append(record)
        line = "  ".join(f"{k} {v:12,.0f}/s" for k, v in rates.items())
        if floor is not None:
            records.append(dict(what="matrix products alone", peer="numpy", model=model,
                                batch_size=bs, dtype=dname, value=floor, unit="samples/s",
                                ratio=rates["nnlib"] / floor))
            for name, rate in rates.items():
                if name != "nnlib":
                    records.append(dict(what="best ratio possible", peer=name,
                                        model=model, batch_size=bs, dtype=dname,
                                        value=floor / rate, unit="x", ratio=None))
            line += f"  ({PRODUCTS} {floor:,.0f}/s)"
        print(f"  {model:5s} batch {bs:3d} {dname:7s}  {line}")
        if dtype in peaks and model == "large" and bs == 256:
            achieved = rates["nnlib"] * training_flops_per_sample(MODELS["large"]["sizes"])
            peak = peaks[dtype]
            records.append(dict(what="matmul peak", peer="numpy", model="1024x1024", batch_size=None,
                                dtype=dname, value=peak / 1e9, unit="GFLOP/s", ratio=None))
            records.append(dict(what="share of GEMM ceiling", peer="nnlib", model="large",
                                batch_size=256, dtype=dname, value=achieved / 1e9, unit="GFLOP/s",
                                ratio=achieved / peak))
            print(f"  GEMM ceiling {dname}: numpy {peak / 1e9:.1f} GFLOP/s, nnlib training "
                  f"{achieved / 1e9:.1f} GFLOP/s = {100 * achieved / peak:.0f} %")
    return records


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small model, batch 256 only")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for r in measure(args.quick, args.repeat):
        print(r)
