"""``make bench``: every performance figure of the course in one run on one machine.

Prints, side by side:

* MLP training throughput of nnlib, scikit-learn and PyTorch (CPU), small and
  large model, batch 32 and 256, float64 and float32, with the ratio nnlib/peer;
* for the large model, the throughput of a loop that runs only the step's matrix
  products (the floor no NumPy implementation can beat), the share of it nnlib
  reaches, and the best ratio to each peer that floor allows;
* the share of the machine's NumPy matmul rate that nnlib's training step reaches;
* the book's cold build time and warm rebuild time;
* the grading's seconds per autograded notebook (and the parallel speed-up, when
  the parallel autograder is present).

and appends a run (machine, date, commit, one record per measurement) to
``benchmarks/results.json``, comparing each figure with the previous run's. A ratio
nnlib/peer is that of the best runs; ``ratio_in_rounds`` holds the lowest, median and
highest ratio within one round of back-to-back runs (printed as ``[rounds: median m,
low-high]``).

Options: ``--only nnlib,book,grading`` to run a part, ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results.json"
sys.path.insert(0, str(HERE))

TARGETS = {
    # (what, peer): minimum ratio nnlib / peer, or minimum share of the ceiling
    ("training throughput", "pytorch"): 1.0,
    ("training throughput", "scikit-learn"): 1.5,
    ("share of GEMM ceiling", "nnlib"): 0.60,
    ("warm/cold book build", "jupyter-book"): 0.10,   # at most
    ("autograde parallel", "nncourse"): 1.8,          # speed-up over one nbgrader autograde
}


def machine() -> dict:
    import numpy as np

    info = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = sorted({f"{i['internal_api']} {i.get('version')}" for i in threadpool_info()})
    except ImportError:  # pragma: no cover
        pass
    for mod in ("sklearn", "torch"):
        try:
            info[mod] = __import__(mod).__version__
        except ImportError:
            info[mod] = None
    return info


def code_version() -> dict:
    """The commit the benchmark ran on, and whether the working tree differed from it (changes
    to ``results.json`` itself do not count)."""
    import subprocess

    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        changed = [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]
    except (OSError, subprocess.CalledProcessError):   # not a git checkout
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": any(path != "benchmarks/results.json" for path in changed)}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover
        pass
    return platform.processor()


def key(r: dict) -> tuple:
    return (r["what"], r["peer"], r["model"], r["batch_size"], r["dtype"])


def verdict(r: dict) -> str:
    target = TARGETS.get((r["what"], r["peer"]))
    if target is None or r.get("ratio") is None:
        return ""
    if r["what"] == "warm/cold book build":
        return "ok" if r["ratio"] <= target else f"MISSES target <= {target:.0%}"
    ok = r["ratio"] >= target
    shown = f"{target:.0%}" if r["what"].startswith("share") else f"{target}x"
    return "ok" if ok else f"MISSES target >= {shown}"


def report(records: list[dict], previous: dict[tuple, dict]) -> None:
    # for a missed throughput target: the best ratio the matrix products alone allow
    possible = {(r["peer"], r["model"], r["batch_size"], r["dtype"]): r["value"]
                for r in records if r["what"] == "best ratio possible"}
    print("\n" + "=" * 100)
    print(f"{'what':24s} {'peer':13s} {'model':9s} {'batch':>5s} {'dtype':7s} "
          f"{'value':>14s} {'unit':10s} {'ratio':>7s}  {'prev':>12s}  target")
    for r in records:
        prev = previous.get(key(r))
        prev_s = f"{prev['value']:,.4g}" if prev else "-"
        ratio = f"{r['ratio']:.2f}" if r.get("ratio") is not None else ""
        verdict_s = verdict(r)
        best = possible.get((r["peer"], r["model"], r["batch_size"], r["dtype"]))
        bound = (f" (the products alone allow {best:.2f}x)"
                 if best is not None and r["what"] == "training throughput" and verdict_s != "ok" else "")
        if r.get("ratio_in_rounds"):
            low, median, high = r["ratio_in_rounds"]
            bound += f" [rounds: median {median:.2f}, {low:.2f}-{high:.2f}]"
        print(f"{r['what'][:24]:24s} {r['peer'][:13]:13s} {str(r['model'])[:9]:9s} "
              f"{str(r['batch_size'] or ''):>5s} {str(r['dtype'] or ''):7s} {r['value']:14,.4g} "
              f"{r['unit'][:10]:10s} {ratio:>7s}  {prev_s:>12s}  {verdict_s}{bound}")
    print("=" * 100)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Course benchmarks (make bench)")
    parser.add_argument("--only", default="nnlib,book,grading",
                        help="comma-separated parts: nnlib, book, grading")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--no-save", action="store_true", help="do not write results.json")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    unknown = parts - {"nnlib", "book", "grading"}
    if unknown:
        parser.error(f"unknown part(s) {sorted(unknown)}; choose from nnlib, book, grading")

    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    records: list[dict] = []
    if "nnlib" in parts:
        import bench_nnlib

        print("nnlib against its peers (samples per second, higher is better)")
        records += bench_nnlib.measure(quick=args.quick, repeat=1 if args.quick else 5)
    if "book" in parts:
        import bench_book

        print("the book")
        records += bench_book.measure(quick=args.quick)
    if "grading" in parts:
        import bench_grading

        print("the grading")
        records += bench_grading.measure(quick=args.quick)

    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
    previous = {key(r): r for run in history["runs"] for r in run["records"]}
    report(records, previous)
    if not args.no_save:
        history["runs"].append({
            "started": started,
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),   # the end
            "machine": machine(),
            "code": code_version(),
            "quick": args.quick,
            "records": records,
        })
        RESULTS.write_text(json.dumps(history, indent=1) + "\n")
        print(f"results appended to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
