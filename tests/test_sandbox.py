"""What a grading kernel sees in the ``isolated`` sandbox (nncourse.sandbox, README
"Autograding untrusted code"): the operating system, Python and nnlib, and nothing else.

A course, a gradebook or a repository anywhere else on the machine (another checkout in
/work, a course in /srv or /var/lib, ...) must be as invisible as the one being graded.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from nncourse import sandbox as S

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the isolated sandbox needs root")

# run as the kernel would be: what can it read, write, import?
PROBE = r"""
import json, os, sys
out = {"uid": os.getuid()}
for name, path in json.loads(sys.argv[1]).items():
    try:
        with open(path, "rb") as fh:
            out[name] = "read " + fh.read(40).decode(errors="replace")
    except OSError as exc:
        out[name] = "refused " + type(exc).__name__
try:
    import numpy, nnlib
    out["nnlib"] = "imported"
except Exception as exc:
    out["nnlib"] = f"{type(exc).__name__}: {exc}"
with open("written.txt", "w") as fh:
    fh.write("ok")
out["cwd"] = os.getcwd()
print(json.dumps(out))
"""


def _run_isolated(paths: dict[str, str], private: list[str]) -> dict:
    gid = S.sandbox_gid()
    slot = S._acquire_slot(gid)
    work = Path(tempfile.mkdtemp(prefix="sandbox-test-", dir=S._secure_dirs()[0]))
    try:
        spec = S._launcher_spec("isolated", uid=slot.uid, gid=gid, limits=S.Limits(), workdir=work,
                                masks=S._default_masks(private), keeps=S._default_keeps([]))
        cmd = S._wrap("isolated", spec, [sys.executable, "-c", PROBE, json.dumps(paths)])
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=S._base_env(Path("/tmp")))
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        S.kill_uid(slot.uid, gid)
        slot.release()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def isolated():
    if not shutil.which("unshare") or S.sandbox_mode() != "isolated":
        pytest.skip(f"this machine gives the {S.sandbox_mode()!r} sandbox, not 'isolated'")


@pytest.fixture
def canaries():
    """World-readable files where courses and copies of repositories may lie: a top-level
    folder, one under /var, and the repository's own solutions and gradebook location."""
    tag = secrets.token_hex(4)
    made = []
    files = {}
    for parent in ("/", "/var", "/opt", "/srv"):
        if not os.path.isdir(parent):
            continue
        d = Path(parent) / f"nncourse-canary-{tag}"
        d.mkdir(mode=0o755)
        made.append(d)
        (d / "gradebook.db").write_text("SECRET gradebook\n")
        os.chmod(d / "gradebook.db", 0o644)
        files[f"canary in {parent}"] = str(d / "gradebook.db")
    yield files
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


def test_the_kernel_sees_no_course_outside_the_operating_system(isolated, canaries, tmp_path):
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    (course / "source" / "hidden.txt").write_text("SECRET hidden test\n")
    os.chmod(tmp_path, 0o755)
    os.chmod(course, 0o755)
    paths = {
        **canaries,
        "solutions of the repository": str(next(S.REPO_ROOT.glob("solutions/*/*.ipynb"))),
        "the course being graded": str(course / "source" / "hidden.txt"),
        "the kernels' locks": str(S._secure_dirs()[1]),
        "the operating system": "/etc/passwd",
    }
    seen = _run_isolated(paths, private=[str(course)])
    assert seen["uid"] != 0
    for name in [*canaries, "solutions of the repository", "the course being graded", "the kernels' locks"]:
        assert seen[name].startswith("refused"), f"the kernel could read {name}: {seen[name]}"
    assert seen["the operating system"].startswith("read root:"), seen["the operating system"]
    assert seen["nnlib"] == "imported"
    assert seen["cwd"] == "/tmp/work"


def test_masks_cover_every_folder_outside_the_system(isolated, canaries):
    masks = S._default_masks([])
    for path in canaries.values():
        folder = os.path.dirname(path)
        assert any(folder == m or folder.startswith(m.rstrip("/") + "/") for m in masks), (folder, masks)
    for system in ("/usr", "/etc", "/proc", "/dev", "/tmp"):
        assert system not in masks
