"""Autograding a class: sequential ``nbgrader autograde`` against ``python -m nncourse autograde``.

A synthetic class of 60 submissions of homework 2 (``--quick``: 8), made from the
catalogue in ``tests/grading/cases`` (the solution, the untouched release, every
catalogued mistake and honest variant, in turn), is put into a throw-away course root, and
each run grades a fresh copy of it: ``nbgrader autograde 02-strawman`` (one process, one
notebook at a time) or ``python -m nncourse autograde 02-strawman`` (every core; see
:mod:`nncourse.autograde`). Runs are timed from the command's start to its end, start-up
included, and must all give the same scores.

Each is run twice, in the order sequential, parallel, parallel, sequential, each time on a
fresh copy of the class: this machine has slow spells (the same work at three quarters of its
speed for 10-60 s), and one run of each (2 and 1 minutes) let a spell decide the speed-up
(1.65x to 2.28x in three runs of the same code). With the two orders, a slow stretch of the
session weighs on both alike.

Records: "autograde sequential" and "autograde parallel", in seconds per notebook (the mean
of the two runs); the parallel record's ratio is the speed-up, total sequential time over
total parallel time (target: at least 1.8 on two cores).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from grading import harness  # noqa: E402
from nncourse import autograde  # noqa: E402

ASSIGNMENT = "02-strawman"
CATALOGUE = "a02_strawman"


def make_class(dest: Path, n: int) -> Path:
    """A course root at ``dest`` with ``n`` submissions of :data:`ASSIGNMENT`."""
    mod = harness.load_case_module(CATALOGUE)
    course = harness.make_course(dest, [ASSIGNMENT])
    harness.generate_assignment(course, ASSIGNMENT)
    notebooks = []
    for case in harness.cases_of(mod):
        try:
            notebooks.append(harness.build_submission(ASSIGNMENT, mod.NOTEBOOK, case.replace,
                                                      untouched=case.kind == "release"))
        except harness.GradingError:  # a catalogue entry that no longer fits: leave it out
            continue
    for i in range(n):
        harness.submit(course, ASSIGNMENT, f"s{i:03d}", notebooks[i % len(notebooks)], mod.NOTEBOOK)
    return course


def _timed(cmd: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=harness.nbgrader_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def _totals(course: Path) -> dict[str, float]:
    return {s: sum(v.score for v in per.values()) for s, per in harness.scores(course, ASSIGNMENT).items()}


def measure(quick: bool = False, students: int | None = None) -> list[dict]:
    n = students or (8 if quick else 60)
    base = Path(tempfile.mkdtemp(prefix="nncourse-bench-"))
    python = str(harness.VENV_BIN / "python") if (harness.VENV_BIN / "python").exists() else sys.executable
    commands = {
        "sequential": lambda root: _timed([harness.nbgrader_executable(), "autograde", ASSIGNMENT], root),
        "parallel": lambda root: _timed([python, "-m", "nncourse", "autograde", ASSIGNMENT,
                                         "--course", str(root)], ROOT),
    }
    times = {"sequential": [], "parallel": []}
    try:
        template = make_class(base / "class", n)
        reference = None
        for i, kind in enumerate(["sequential", "parallel", "parallel", "sequential"]):
            root = base / f"{i}-{kind}"
            shutil.copytree(template, root)
            times[kind].append(commands[kind](root))
            totals = _totals(root)
            if reference is None:
                reference = totals
            elif totals != reference:
                raise RuntimeError(f"the {kind} autograder gave other scores than the first run")
            shutil.rmtree(root, ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    t_seq, t_par = sum(times["sequential"]) / 2, sum(times["parallel"]) / 2
    speedup = t_seq / t_par
    seq_s, par_s = (" and ".join(f"{t:.1f}" for t in times[kind]) for kind in ("sequential", "parallel"))
    print(f"  {n} notebooks of {ASSIGNMENT}: sequential {seq_s} s ({t_seq / n:.2f} s per notebook), "
          f"parallel on {autograde.cores()} cores with {autograde.default_jobs()} workers {par_s} s "
          f"({t_par / n:.2f} s per notebook): speed-up {speedup:.2f}x")
    rec = dict(model=ASSIGNMENT, batch_size=n, dtype=None, unit="s/notebook")
    return [
        dict(rec, what="autograde sequential", peer="nbgrader", value=t_seq / n, ratio=None),
        dict(rec, what="autograde parallel", peer="nncourse", value=t_par / n, ratio=speedup),
    ]


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--students", type=int, default=None)
    a = p.parse_args()
    for r in measure(quick=a.quick, students=a.students):
        print(r)
