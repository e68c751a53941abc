"""The book's build times: a cold build (no execution cache) and a warm rebuild.

Both build into a temporary output folder with the same command and flags as ``make book``
(``python -m nncourse.book build . -W -n --keep-going --path-output DIR``), so the
developer's ``_build`` is neither used nor disturbed. The cold build executes
every chapter; the warm rebuild, with nothing changed, must take the cached
outputs (target: at most 10 % of the cold time).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["-W", "-n", "--keep-going"]


def build(out: Path) -> float:
    """Build the book into ``out``; return wall-clock seconds. Raises on a failed build."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nncourse.book", "build", str(ROOT), *FLAGS,
                           "--path-output", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"the book build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed


def measure(quick: bool = False) -> list[dict]:
    out = Path(tempfile.mkdtemp(prefix="nnlib-book-bench-"))
    try:
        cold = build(out)
        warm = build(out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"  cold build {cold:.1f} s, warm rebuild {warm:.1f} s ({100 * warm / cold:.0f} % of cold)")
    rec = dict(peer="jupyter-book", model="book", batch_size=None, dtype=None, unit="s")
    return [
        dict(rec, what="cold book build", value=cold, ratio=None),
        dict(rec, what="warm book rebuild", value=warm, ratio=None),
        dict(rec, what="warm/cold book build", value=warm / cold, unit="fraction", ratio=warm / cold),
    ]


if __name__ == "__main__":
    for r in measure():
        print(r)
