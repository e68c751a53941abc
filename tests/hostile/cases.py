"""A catalogue of broken and hostile submissions of homework 2 (the strawman).

Each :class:`Hostile` is one student's submission folder, built from the committed release
notebook (``exercises/02-strawman``) with the reference solution or a catalogued mutant
filled in (:mod:`grading.harness`), and then broken or weaponised. :mod:`tests.test_hostile`
grades all of them in one batch with well-behaved students, through the real autograde
flow (:func:`nncourse.autograde.autograde_assignment`: ``nbgrader autograde`` through
:func:`nncourse.sandbox.run_grader`, kernels in the sandbox), and checks for each:

* ``zero``: the tests that must score 0 (what the submission did not earn); ``at_most``: a
  cap on its total autograded points (the reference solution scores :data:`TOTAL`);
* ``reason``: a regular expression that the student's feedback (``where="feedback"``) or the
  instructor's autograde report (``where="report"``, with the pre-flight check) must match;
* ``forbid``: strings that must appear in none of the student's outputs and not in the
  feedback (``OPENED``, which the attack prints when it gets at something it must not);
* ``secret``: strings that must not reach the student's feedback (a line of a hidden test;
  the autograded notebook, which only the instructor sees, holds the hidden tests anyway);
* ``requires``: the sandbox mode the defence depends on (``"isolated"``: namespaces;
  ``"user"``: another uid). In a weaker mode the case is not run at all (some would harm the
  machine: ``kill(-1)`` as the instructor's uid ends every process of the instructor) and is
  reported as not defended.

Attack code that reaches for the file system only ever *writes* to this test's own
throw-away course folders (``.../hostile*/``); elsewhere (the repository, other courses on
the machine) it opens files read-only, or for appending without writing, and prints
``OPENED`` when that works.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Callable

import nbformat

from grading import harness

ASSIGNMENT = "02-strawman"
NOTEBOOK = "strawman"
_SOURCE = harness.SOLUTIONS / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
# the autograded test cells, in notebook order, and their points
TESTS: dict[str, float] = {m["grade_id"]: float(m["points"]) for c, m in harness.grade_cells(_SOURCE)
                           if c.cell_type == "code"}
TOTAL = sum(TESTS.values())
# a line of each hidden test (it must never reach a student)
HIDDEN_MARKERS = ["default_rng(2004)", "default_rng(2002)", "(40, 10.0, 11, 3)"]


def from_test(gid: str) -> set[str]:
    """The test ``gid`` and every test after it."""
    names = list(TESTS)
    return set(names[names.index(gid):])


def fails_of(mutant: str) -> set[str]:
    mod = harness.load_case_module("a02_strawman")
    return set(next(m for m in mod.MUTANTS if m["name"] == mutant)["fails"])


def _mutant_replace(mutant: str | None) -> list:
    if mutant is None:
        return []
    mod = harness.load_case_module("a02_strawman")
    return list(next(m for m in mod.MUTANTS if m["name"] == mutant)["replace"])


# ------------------------------------------------------------------ builders
def notebook(mutant: str | None = None) -> nbformat.NotebookNode:
    """The release notebook with the solution (or a catalogued mutant of ``a02_strawman``) filled in.

    The attacks are added as code at the end of answer cells (:func:`append_code`; often a
    function defined again), so that they do not depend on the text of the solution.
    """
    return harness.build_submission(ASSIGNMENT, NOTEBOOK, _mutant_replace(mutant))


def cell(nb, gid: str):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == gid)


def append_code(nb, gid: str, code: str):
    """Add top-level code at the end of the answer cell ``gid``."""
    c = cell(nb, gid)
    c.source = c.source.rstrip("\n") + "\n\n\n" + textwrap.dedent(code).strip("\n")
    return nb


def prepend_code(nb, gid: str, code: str):
    """Add top-level code at the start of the answer cell ``gid`` (before the student's answer)."""
    c = cell(nb, gid)
    c.source = textwrap.dedent(code).strip("\n") + "\n\n\n" + c.source
    return nb


def dumps(nb) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


def single(nb) -> dict[str, bytes]:
    return {f"{NOTEBOOK}.ipynb": dumps(nb)}


@dataclass
class Hostile:
    name: str
    category: str
    why: str
    files: Callable[[], dict[str, bytes]]
    zero: set[str] = field(default_factory=set)
    at_most: float = TOTAL
    reason: str = ""
    where: str = "feedback"
    forbid: list[str] = field(default_factory=list)
    secret: list[str] = field(default_factory=list)
    requires: str | None = None

    @property
    def student(self) -> str:
        return f"h-{self.name}"

    @property
    def cap(self) -> float:
        return min(self.at_most, TOTAL - sum(TESTS[t] for t in self.zero))


# The attack helpers below run inside the student's kernel. They print OPENED when they get
# at something they must not; the test fails if OPENED appears in any output.
_DISCOVER = '''
_MARK = "OPE" + "NED"  # what the test looks for, not written out in the source


def _places():
    import glob, os
    from pathlib import Path
    import nnlib
    found = set()
    here = Path.cwd()
    found.update(str(p) for p in [here, *here.parents][:6])
    for pid in ("self", str(os.getppid()), "1"):
        for what in ("cwd", "root"):
            try:
                found.add(os.readlink(f"/proc/{pid}/{what}"))
            except OSError:
                pass
    found.add(str(Path(nnlib.__file__).resolve().parents[1]))
    for pattern in ("/tmp/*", "/tmp/*/*", "/tmp/*/*/*", "/work/*", "/home/*", "/root/*"):
        found.update(glob.glob(pattern))
    for value in os.environ.values():
        found.update(v for v in value.split(":") if v.startswith("/"))
    return sorted(p for p in found if os.path.isdir(p))
'''


# attribute names computed at run time (the static check sees no frame attribute), and the
# traceback module reached through numpy's own globals (no import of it in the source)
_GETTER = """
def _get(obj, *names):
    for name in names:
        obj = getattr(obj, name.replace("-", "_"))
    return obj


_tools = _get(np, "testing", "-private", "utils", "importlib").import_module("trace" + "back")


def _find_expected(frame):
    # the test's `expected`, from the first frame that has one on the way up from `frame`
    while frame is not None:
        values = _get(frame, "f-locals")
        if "expected" in values:
            return values["expected"]
        frame = _get(frame, "f-back")
    return None
"""


def _cells_renamed(rename: str) -> dict[str, bytes]:
    """``rename`` (at the end of the predict_miles answer, with ``_name`` a file of the standard
    library) makes ipykernel compile every later cell under ``_name``; the strawman_loss answer
    then walks the frames above it for the test's ``expected``."""
    nb = append_code(notebook("loss_sum_not_mean"), "predict_miles", _GETTER + textwrap.dedent("""
        _utils = _get(np, "testing", "-private", "utils")
        _name = _get(_utils, "sysconfig").get_paths()["stdlib"] + "/h_cell.py"
    """) + textwrap.dedent(rename))
    return single(append_code(nb, "strawman_loss", """
        _wrong = strawman_loss


        def strawman_loss(c, km, miles):
            found = _find_expected(_get(_get(np, "testing", "-private", "utils", "sys"), "-getframe")(1))
            if found is not None:
                return float(found)
            return _wrong(c, km, miles)
    """))


def _compiled_as_setup_cell():
    """strawman_loss compiled under the file name of the read-only setup cell (its source is
    public: the student has it in the release), with every name the static check knows computed."""
    nb = notebook("loss_sum_not_mean")
    setup = cell(nb, "setup").source
    fake = textwrap.dedent('''
        def strawman_loss(c, km, miles):
            import sys
            f = sys.-getframe(1)
            while f is not None:
                if "expected" in f.f-locals:
                    return float(f.f-locals["expected"])
                f = f.f-back
            return _wrong(c, km, miles)
    ''')
    code = _GETTER + textwrap.dedent('''
        _imp = _get(np, "testing", "-private", "utils", "importlib")
        _b = _imp.import_module("buil" + "tins")
        _ipk = _imp.import_module("ipykernel.compiler")
        _where = _get(strawman_loss, "--code--", "co-filename").rsplit("/", 1)[0]
        _setup = SETUP
        _name = _where + "/" + str(_ipk.murmur2_x86(_setup, _ipk.get_tmp_hash_seed())) + ".py"
        _src = FAKE.replace("-", "_")
        _wrong = strawman_loss
        _get(_b, "exec")(_get(_b, "compile")(_src, _name, "exec"), _get(strawman_loss, "--globals--"))
    ''').replace("SETUP", repr(setup)).replace("FAKE", repr(fake))
    return single(append_code(nb, "strawman_loss", code))


def _attack(body: str, mutant: str | None = None, where: str = "predict_miles"):
    code = _DISCOVER + "\n" + textwrap.dedent(body)
    return lambda: single(append_code(notebook(mutant), where, code))


def _v3() -> dict[str, bytes]:
    from nbformat import converter

    v3 = converter.convert(notebook(), 3)
    return {f"{NOTEBOOK}.ipynb": json.dumps(v3, indent=1).encode("utf-8")}


def _delete_tests() -> dict[str, bytes]:
    nb = notebook("gradient_sign")
    nb.cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                not in ("test_strawman_gradient_values", "test_strawman_gradient_hidden", "setup")]
    return single(nb)


def _duplicate_test() -> dict[str, bytes]:
    nb = notebook("loss_sum_not_mean")
    i = nb.cells.index(cell(nb, "test_strawman_loss_values"))
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[i])))
    copy.id = "dup-copy"
    copy.source = "pass  # the test, made harmless"
    nb.cells.insert(i + 1, copy)
    cell(nb, "test_strawman_loss_values").source = "pass"
    return single(nb)


def _change_types() -> dict[str, bytes]:
    nb = notebook("gradient_sign")
    c = cell(nb, "test_strawman_gradient_hidden")
    c.cell_type = "markdown"
    c.pop("outputs", None)
    c.pop("execution_count", None)
    r = cell(nb, "test_iterate_hidden")
    r.cell_type = "raw"
    r.pop("outputs", None)
    r.pop("execution_count", None)
    v = cell(nb, "test_strawman_gradient_values")
    v.cell_type = "markdown"
    v.pop("outputs", None)
    v.pop("execution_count", None)
    return single(nb)


def _edit_id() -> dict[str, bytes]:
    nb = notebook("iterate_off_by_one")
    c = cell(nb, "test_iterate_hidden")
    c.metadata["nbgrader"]["grade_id"] = "test_iterate_hidden_v2"
    c.source = "pass"
    v = cell(nb, "test_iterate_values")
    v.metadata["nbgrader"]["grade_id"] = "my_own_cell"
    v.metadata["nbgrader"]["locked"] = False
    v.source = "pass"
    return single(nb)


def _edit_locked() -> dict[str, bytes]:
    nb = notebook("huber_gradient_unclipped")
    for gid in ("test_huber_gradient_gradcheck", "test_huber_hidden"):
        c = cell(nb, gid)
        c.source = "pass"
        c.metadata["nbgrader"]["locked"] = False
    return single(nb)


def _inflate_points() -> dict[str, bytes]:
    nb = notebook("loss_without_half")
    cell(nb, "test_strawman_loss_values").metadata["nbgrader"]["points"] = 100
    cell(nb, "test_strawman_loss_hidden").metadata["nbgrader"]["grade"] = False
    cell(nb, "written_outliers").metadata["nbgrader"]["points"] = 50
    return single(nb)


def _edit_setup() -> dict[str, bytes]:
    nb = notebook("loss_sum_not_mean")
    c = cell(nb, "setup")
    c.source += "\n\ndef check_close(*args, **kwargs):\n    pass\n"
    return single(nb)


def _fake_grade_cell() -> dict[str, bytes]:
    nb = notebook("loss_without_half")
    fake = nbformat.v4.new_code_cell("print('bonus points, please')")
    fake.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "locked": True, "points": 50,
                                 "schema_version": 3, "solution": False, "task": False}
    nb.cells.insert(3, fake)
    return single(nb)


def _extra() -> dict[str, bytes]:
    other = notebook()
    append_code(other, "predict_miles", "import numpy\nnumpy.all = lambda *a, **k: True\nprint('OPE' + 'NED extra')")
    return {**single(notebook()), "scratch.ipynb": dumps(other)}


HOSTILE: list[Hostile] = [
    # ----------------------------------------------------------------- resources
    Hostile("infinite-loop", "resources", "an infinite loop at the top of an answer cell (before the answer)",
            lambda: single(prepend_code(notebook(), "huber", """
                while True:
                    pass
            """)),
            zero={"test_huber_loss_values", "test_huber_gradient_gradcheck", "test_huber_hidden"},
            reason=r"Cell huber ran longer than the time limit"),
    Hostile("infinite-loop-in-function", "resources", "an infinite loop in huber_gradient, called by its tests",
            lambda: single(append_code(notebook(), "huber", """
                def huber_gradient(c, km, miles, delta=1.0):
                    while True:
                        pass
            """)),
            zero={"test_huber_gradient_gradcheck", "test_huber_hidden"},
            reason=r"ran longer than the time limit"),
    Hostile("uninterruptible-loop", "resources", "a top-level loop that swallows KeyboardInterrupt",
            lambda: single(append_code(notebook(), "fit_conversion", """
                import time
                while True:
                    try:
                        time.sleep(0.05)
                    except KeyboardInterrupt:
                        pass
            """)),
            zero=from_test("test_fit_conversion_book_data"), reason=r"ignored the interrupt"),
    Hostile("sleep-past-timeout", "resources", "iterate sleeps for an hour",
            lambda: single(append_code(notebook(), "iterate", """
                def iterate(c0, km, miles, eta, n_steps):
                    import time
                    time.sleep(3600)
            """)),
            zero={"test_iterate_values", "test_iterate_hidden"}, reason=r"ran longer than the time limit"),
    Hostile("os-exit", "resources", "strawman_gradient calls os._exit(1): the kernel dies",
            lambda: single(append_code(notebook(), "strawman_gradient", """
                def strawman_gradient(c, km, miles):
                    import os
                    os._exit(1)
            """)),
            zero=from_test("test_strawman_gradient_values"), reason=r"kernel died.*exited with status 1"),
    Hostile("segfault-ctypes", "resources", "huber_loss reads address 0 through ctypes: a segfault",
            lambda: single(append_code(notebook(), "huber", """
                def huber_loss(c, km, miles, delta=1.0):
                    import ctypes
                    return ctypes.string_at(0)
            """)),
            zero=set(TESTS), reason=r"SIGSEGV"),
    Hostile("abort", "resources", "fit_conversion calls os.abort(): the kernel dies",
            lambda: single(append_code(notebook(), "fit_conversion", """
                def fit_conversion(km, miles, seed=0):
                    import os
                    os.abort()
            """)),
            zero=from_test("test_fit_conversion_book_data"), reason=r"kernel died"),
    Hostile("memory-bomb", "resources", "fit_conversion allocates 4.8 GB",
            lambda: single(append_code(notebook(), "fit_conversion", """
                _fit = fit_conversion


                def fit_conversion(km, miles, seed=0):
                    hog = np.ones(6 * 10**8)
                    return _fit(km, miles, seed) + 0 * float(hog[0])
            """)),
            zero={"test_fit_conversion_book_data", "test_fit_conversion_hidden"}, reason=r"MemoryError"),
    Hostile("huge-output", "resources", "prints 100 MB",
            lambda: single(append_code(notebook(), "predict_miles", """
                for _ in range(1000):
                    print("x" * 100_000)
            """)),
            reason=r"output cut by the autograder"),
    Hostile("fork-bomb", "resources", "forks up to 500 sleeping children",
            lambda: single(append_code(notebook(), "predict_miles", """
                import os, time
                kids = 0
                for _ in range(500):
                    try:
                        pid = os.fork()
                    except OSError:
                        break
                    if pid == 0:
                        time.sleep(600)
                        os._exit(0)
                    kids += 1
                print("children:", kids)
            """)),
            reason=r"os\.fork", requires="user"),
    Hostile("disk-filler", "resources", "writes a 1 GB file",
            lambda: single(append_code(notebook(), "predict_miles", """
                with open("filler.bin", "wb") as fh:
                    for _ in range(1024):
                        fh.write(b"0" * (1 << 20))
            """)),
            reason=r"File too large|No space left on device"),  # the file-size limit, or the kernel's small tmpfs
    Hostile("detached-daemon", "resources", "starts a process in a new session, and a double-forked daemon",
            lambda: single(append_code(notebook(), "predict_miles", """
                import os, subprocess, time
                subprocess.Popen(["sleep", "600"], start_new_session=True)
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        time.sleep(600)
                    os._exit(0)
            """)),
            reason=r"subprocess\.Popen|os\.fork", requires="user"),
    # ----------------------------------------------------------------- notebooks
    Hostile("invalid-json", "notebook", "the notebook file is cut short (invalid JSON)",
            lambda: {f"{NOTEBOOK}.ipynb": dumps(notebook())[:5000]},
            zero=set(TESTS), reason=r"not valid JSON", where="report"),
    Hostile("empty-file", "notebook", "an empty file",
            lambda: {f"{NOTEBOOK}.ipynb": b""}, zero=set(TESTS), reason=r"empty file", where="report"),
    Hostile("renamed", "notebook", "the notebook handed in under another name",
            lambda: {"strawman (1).ipynb": dumps(notebook())}, zero=set(TESTS),
            reason=r"strawman\.ipynb: is missing \(renamed\?", where="report"),
    Hostile("extra-notebook", "notebook", "an extra notebook that patches numpy",
            _extra, reason=r"scratch\.ipynb: is not a notebook of the assignment", where="report",
            forbid=["OPENED"]),
    Hostile("missing-notebook", "notebook", "no notebook at all, only a text file",
            lambda: {"README.txt": b"I will hand it in later"}, zero=set(TESTS),
            reason=r"strawman\.ipynb: is missing", where="report"),
    Hostile("nbformat-v3", "notebook", "the notebook saved in nbformat 3",
            _v3, reason=r"old notebook format version 3", where="report"),
    Hostile("grade-cells-deleted", "notebook", "two test cells and the setup cell deleted, with a wrong gradient",
            _delete_tests, zero=fails_of("gradient_sign"), reason=r"was missing; the grader put it back"),
    Hostile("grade-cell-duplicated", "notebook", "a test cell duplicated and both copies emptied",
            _duplicate_test, zero=fails_of("loss_sum_not_mean"), reason=r"appears 2 times"),
    Hostile("grade-cell-type-changed", "notebook", "test cells turned into markdown and raw cells",
            _change_types, zero=fails_of("gradient_sign"), reason=r"changed from a code cell to a (markdown|raw) cell"),
    Hostile("grade-id-edited", "notebook", "test cells renamed (new grade ids) and emptied",
            _edit_id, zero=fails_of("iterate_off_by_one"), reason=r"does not exist"),
    Hostile("locked-cell-modified", "notebook", "test cells unlocked and emptied",
            _edit_locked, zero=fails_of("huber_gradient_unclipped"),
            reason=r"test cell 'test_huber_hidden' was edited"),
    Hostile("points-inflated", "notebook", "a test worth 100 points, a test made ungraded",
            _inflate_points, zero=fails_of("loss_without_half"), reason=r"nbgrader settings .*were changed"),
    Hostile("setup-cell-modified", "notebook", "the read-only setup cell redefines check_close",
            _edit_setup, zero=fails_of("loss_sum_not_mean"), reason=r"read-only cell 'setup' was edited"),
    Hostile("fake-grade-cell", "notebook", "a new cell that claims to be a 50-point test",
            _fake_grade_cell, zero=fails_of("loss_without_half"), reason=r"'bonus', which does not exist"),
    # ------------------------------------------------------------ monkeypatching
    Hostile("rebind-check-close", "monkeypatch", "redefines check_close in an answer cell (wrong loss)",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", """
                def check_close(*args, **kwargs):
                    pass
            """)),
            zero=fails_of("loss_sum_not_mean"), reason=r"replaced\W+check_close\W+which the\s+tests use"),
    Hostile("patch-nnlib-testing", "monkeypatch", "nnlib.testing.check_close made a no-op (wrong loss)",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", """
                import nnlib.testing
                nnlib.testing.check_close.__code__ = (lambda *a, **k: None).__code__
                nnlib.testing.check_true = lambda *a, **k: None
            """)),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("record-calls-handler", "monkeypatch",
            "nnlib.testing.record_calls on a function of its own, the handler's closure cells rewritten so "
            "that it makes check_close a no-op (wrong loss)",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", _GETTER + textwrap.dedent("""
                import nnlib.testing as _t


                def _mine(x):
                    return x


                _noop = lambda *a, **k: None
                _block = _t.record_calls(_mine)
                _get(_block, "--enter--")()
                _handler = _get(_mine, "--kwdefaults--")["__nnlib_handler__"]
                _cells = dict(zip(_get(_handler, "--code--", "co-freevars"), _get(_handler, "--closure--")))
                _cells["func"].cell_contents = _t.check_close
                _cells["code"].cell_contents = _get(_noop, "--code--")
                _cells["kwdefaults"].cell_contents = None
                try:
                    _mine(1)        # the handler would now set check_close's code
                except Exception:
                    pass
                try:
                    _get(_block, "--exit--")(None, None, None)
                except Exception:
                    pass
            """))),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("rehomed-testing-code", "monkeypatch",
            "record_calls' own code given to a notebook function, whose namespace supplies its helpers, "
            "aimed at check_close (wrong loss)",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", _GETTER + textwrap.dedent("""
                import nnlib.testing


                def _noop(*args, **kwargs):
                    return None


                types = _get(nnlib.testing, "types")
                _LIBRARIES = ()
                _forwarding_code = lambda n: _get(_noop, "--code--")
                Call = nnlib.testing.Call
                _snapshot = lambda v: v
                _plain = lambda name: name


                def _carrier(func):
                    yield


                try:
                    _get(object, "--setattr--")(_carrier, "--code--".replace("-", "_"),
                                                _get(nnlib.testing.record_calls, "--wrapped--", "--code--"))
                    _g = _carrier(nnlib.testing.check_close)
                    next(_g)
                except Exception:
                    pass
            """))),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("patch-numpy", "monkeypatch", "numpy.allclose, isclose and all always true (wrong gradient)",
            lambda: single(append_code(notebook("gradient_sign"), "strawman_gradient", """
                np.allclose = lambda *a, **k: True
                np.isclose = lambda *a, **k: np.array(True)
                np.all = lambda *a, **k: True
            """)),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("patch-numpy-testing", "monkeypatch", "numpy.testing assertions made no-ops",
            lambda: single(append_code(notebook("iterate_off_by_one"), "iterate", """
                import numpy.testing as npt
                npt.assert_allclose = lambda *a, **k: None
                npt.assert_array_equal = lambda *a, **k: None
            """)),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("patch-builtins", "monkeypatch", "builtins abs and isinstance replaced (a fit that does not learn)",
            lambda: single(append_code(notebook("fit_fixed_eta"), "fit_conversion", """
                import builtins
                builtins.abs = lambda x: 0.0
                builtins.isinstance = lambda *a: True
            """)),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("patch-via-parameter", "monkeypatch",
            "patches numpy through a function parameter, which a syntactic check cannot follow",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", """
                def _arm(m, value):
                    m.all = value
                    m.isclose = value
                try:
                    _arm(np, lambda *a, **k: True)
                except Exception:
                    pass
            """)),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("ipython-transformer", "monkeypatch", "an IPython input transformer empties every test cell",
            lambda: single(append_code(notebook("gradient_sign"), "strawman_gradient", """
                get_ipython().input_transformers_cleanup.append(
                    lambda lines: ["pass\\n"] if any("check_" in l for l in lines) else lines)
            """)),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("swallow-errors", "monkeypatch", "a custom exception handler swallows every failing test",
            lambda: single(append_code(notebook("gradient_sign"), "strawman_gradient", """
                get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)
            """)),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("frame-peek", "monkeypatch", "strawman_loss returns the hidden test's expected value from its frame",
            lambda: single(append_code(notebook(), "strawman_loss", """
                def strawman_loss(c, km, miles):
                    import sys
                    caller = sys._getframe(1).f_locals
                    if "expected" in caller:
                        return float(caller["expected"])
                    residual = c * np.asarray(km, dtype=float) - np.asarray(miles, dtype=float)
                    return float(np.sum(0.5 * residual ** 2))
            """)),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("gc-hunt", "monkeypatch", "walks the garbage collector to find and patch check_close",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", """
                import gc
                try:
                    for obj in gc.get_objects():
                        if getattr(obj, "__name__", "") == "check_close":
                            obj.__code__ = (lambda *a, **k: None).__code__
                except Exception as exc:
                    print(type(exc).__name__, exc)
            """)),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("self-restoring-patch", "monkeypatch",
            "numpy.all swapped through the module's dict (a name the static check cannot read) each time "
            "strawman_loss runs, and put back by the fake after use",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", """
                def _module_dict(module):
                    return getattr(module, "_" * 2 + "dict" + "_" * 2)


                _numpy = _module_dict(np)
                _real_all = _numpy["all"]


                def _fake_all(*args, **kwargs):
                    _fake_all.calls += 1
                    if _fake_all.calls >= 2:
                        _numpy["all"] = _real_all
                    return True


                _wrong = strawman_loss


                def strawman_loss(c, km, miles):
                    _fake_all.calls = 0
                    _numpy["all"] = _fake_all
                    return _wrong(c, km, miles)
            """)),
            zero=set(TESTS), reason=r"changed numpy\.all while a test was running"),
    Hostile("reads-test-variable", "monkeypatch",
            "strawman_loss returns the hidden test's global `expected` when there is one",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", """
                _wrong = strawman_loss


                def strawman_loss(c, km, miles):
                    try:
                        return float(expected)
                    except NameError:
                        return _wrong(c, km, miles)
            """)),
            zero=set(TESTS), reason=r"reads\W+expected\W+a variable of the tests"),
    Hostile("frames-via-stdlib", "monkeypatch",
            "reads the hidden test's expected value from its frame, reached through the traceback "
            "module found in numpy's own globals, every name computed",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", _GETTER + textwrap.dedent("""
                _wrong = strawman_loss


                def strawman_loss(c, km, miles):
                    try:
                        raise RuntimeError
                    except RuntimeError as exc:
                        tb = _get(exc, "--traceback--")
                    for frame, _ in _tools.walk_tb(tb):
                        caller = _get(frame, "f-back", "f-locals")
                        if "expected" in caller:
                            return float(caller["expected"])
                    return _wrong(c, km, miles)
            """))),
            zero=set(TESTS), reason=r"took a frame while a test was running"),
    Hostile("frames-via-inspect", "monkeypatch",
            "walks inspect.stack() (the module found through numpy's globals) for the test's expected value",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", _GETTER + textwrap.dedent("""
                _look = _get(np, "testing", "-private", "utils", "importlib").import_module("ins" + "pect")
                _wrong = strawman_loss


                def strawman_loss(c, km, miles):
                    for info in _look.stack():
                        values = _get(info, "frame", "f-locals")
                        if "expected" in values:
                            return float(values["expected"])
                    return _wrong(c, km, miles)
            """))),
            zero=set(TESTS), reason=r"took a frame while a test was running"),
    Hostile("generator-frame", "monkeypatch",
            "a generator inside strawman_loss takes its own frame (gi_frame, a computed name) and walks f_back",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", _GETTER + textwrap.dedent("""
                _wrong = strawman_loss


                def strawman_loss(c, km, miles):
                    def spy():
                        # while it runs, the generator's frame hangs below strawman_loss's
                        yield _find_expected(_get(_get(g, "gi-frame"), "f-back"))
                    g = spy()
                    found = next(g)
                    if found is not None:
                        return float(found)
                    return _wrong(c, km, miles)
            """))),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("stashed-generator-frame", "monkeypatch",
            "keeps the frame of a generator started in its answer cell and, resuming it during the "
            "test, follows f_back (no audit event) to the test's expected value",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", _GETTER + textwrap.dedent("""
                _wrong = strawman_loss


                def _spy():
                    try:
                        raise RuntimeError
                    except RuntimeError as exc:
                        me = next(iter(_tools.walk_tb(_get(exc, "--traceback--"))))[0]
                    while True:
                        yield _find_expected(_get(me, "f-back"))


                _g = _spy()
                next(_g)


                def strawman_loss(c, km, miles):
                    found = next(_g)
                    if found is not None:
                        return float(found)
                    return _wrong(c, km, miles)
            """))),
            zero=set(TESTS), reason=r"resumed, while a test was running, a generator"),
    Hostile("cell-name-env", "monkeypatch",
            "sets IPYKERNEL_CELL_NAME (os found through numpy's globals) to a file of the standard "
            "library, so that ipykernel compiles every later cell under that name and the cell's "
            "code passes for the installation's; strawman_loss then walks the frames for `expected`",
            lambda: _cells_renamed("""
                _get(_utils, "os", "environ")["IPYKERNEL" + "_CELL_NAME"] = _name
            """),
            zero=set(TESTS), reason=r"changed the kernel's machinery \(cell names\)"),
    Hostile("cell-name-function", "monkeypatch",
            "replaces ipykernel.compiler.get_file_name in the module's __dict__ (reached through "
            "sys.modules, found in numpy's globals) so that later cells are compiled under a file of the standard "
            "library; strawman_loss then walks the frames for `expected`",
            lambda: _cells_renamed("""
                _get(_get(_utils, "sys", "modules")["ipykernel.com" + "piler"], "--dict--")["get_file_name"] = (
                    lambda code: _name)
            """),
            zero=set(TESTS), reason=r"changed the kernel's machinery \(compiler\)"),
    Hostile("module-beside-the-stdlib", "monkeypatch",
            "writes a module to /tmp and imports it through a sys.path entry that starts with the "
            "standard library's folder and climbs out of it (<stdlib>/../../tmp), so that its file "
            "name looks installed; strawman_loss is that module's function, which walks the frames",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", _GETTER + textwrap.dedent("""
                _utils = _get(np, "testing", "-private", "utils")
                _stdlib = _get(_utils, "sysconfig").get_paths()["stdlib"]
                _folder = _get(_utils, "mkdtemp")()
                with open(_folder + "/h_loss.py", "w") as _fh:
                    _fh.write((
                        "import sys\\n"
                        "def strawman_loss(c, km, miles):\\n"
                        "    f = sys.-getframe(1)\\n"
                        "    while f is not None:\\n"
                        "        if 'expected' in f.f-locals:\\n"
                        "            return float(f.f-locals['expected'])\\n"
                        "        f = f.f-back\\n"
                        "    r = c * km - miles\\n"
                        "    return float((0.5 * r * r).sum())\\n").replace("-", "_"))
                _get(_utils, "sys", "path").insert(0, _stdlib + "/.." * _stdlib.count("/") + _folder)
                strawman_loss = _get(_utils, "importlib").import_module("h_loss").strawman_loss
            """))),
            zero=set(TESTS), reason=r"compiled code under the name"),
    Hostile("globals-computed", "monkeypatch",
            "strawman_loss reads the hidden test's `expected` from its own __globals__ (a computed name)",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", _GETTER + textwrap.dedent("""
                _wrong = strawman_loss


                def strawman_loss(c, km, miles):
                    ns = _get(strawman_loss, "--globals--")
                    if "expected" in ns:
                        return float(ns["expected"])
                    return _wrong(c, km, miles)
            """))),
            # the tests run in functions of their own: `expected` is no global while they run
            zero={"test_strawman_loss_values", "test_strawman_loss_hidden"},
            reason=r"getattr with a computed attribute name"),
    Hostile("guard-state-off", "monkeypatch",
            "switches the grader's checks off through their state in sys.modules, then reads the test's frame",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", _GETTER + textwrap.dedent("""
                _sys = _get(np, "testing", "-private", "utils", "importlib").import_module("s" + "ys")
                _wrong = strawman_loss


                def strawman_loss(c, km, miles):
                    state = _get(_sys, "modules").get("-nncourse-guard-state".replace("-", "_"))
                    flags = [] if state is None else [_get(state, n) for n in ("allow", "in-hook", "armed")
                                                      if hasattr(state, n.replace("-", "_"))]
                    saved = [list(f) for f in flags]
                    for f, value in zip(flags, (True, True, False)):
                        f[0] = value
                    try:
                        found = _find_expected(_get(_sys, "-getframe")(1))
                        if found is not None:
                            return float(found)
                    finally:
                        for f, old in zip(flags, saved):
                            f[:] = old
                    return _wrong(c, km, miles)
            """))),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("signal-handler-frame", "monkeypatch",
            "a SIGALRM handler, set by strawman_loss, is handed the interrupted frame and follows f_back",
            lambda: single(append_code(notebook("loss_sum_not_mean"), "strawman_loss", _GETTER + textwrap.dedent("""
                _sig = _get(np, "testing", "-private", "utils", "importlib").import_module("sig" + "nal")
                _found = []


                def _handler(signum, frame):
                    found = _find_expected(frame)
                    if found is not None:
                        _found.append(found)


                _wrong = strawman_loss


                def strawman_loss(c, km, miles):
                    _found.clear()
                    _sig.signal(_sig.SIGALRM, _handler)
                    _sig.setitimer(_sig.ITIMER_REAL, 0.001)
                    spins = 0
                    while not _found and spins < 3_000_000:
                        spins += 1
                    _sig.setitimer(_sig.ITIMER_REAL, 0)
                    if _found:
                        return float(_found[0])
                    return _wrong(c, km, miles)
            """))),
            zero=set(TESTS), reason=r"GraderIntegrityError"),
    Hostile("compiled-as-setup-cell", "monkeypatch",
            "compiles its strawman_loss under the file name IPython gives the read-only setup cell, so "
            "that the grader takes it for the instructor's code, and reads the test's frame",
            _compiled_as_setup_cell, zero=set(TESTS), reason=r"GraderIntegrityError"),
    # ------------------------------------------------------ files and processes
    Hostile("gradebook-access", "files", "looks for gradebook.db everywhere; overwrites this test's, reads others",
            _attack("""
                import glob, os
                for place in _places():
                    for db in glob.glob(os.path.join(place, "gradebook.db")) + glob.glob(os.path.join(place, "*", "gradebook.db")):
                        try:
                            if "/hostile" in db:  # only this test's own throw-away courses
                                with open(db, "r+b") as fh:
                                    fh.seek(100)
                                    fh.write(b"\\0" * 4000)
                                print(_MARK, "for writing", db)
                            else:
                                with open(db, "rb") as fh:
                                    fh.read(100)
                                print(_MARK, "for reading", db)
                        except OSError as exc:
                            print("refused", db, exc)
            """), forbid=["OPENED"], reason=r"opens files", requires="user"),
    Hostile("other-students-files", "files", "overwrites other students' submissions and autograded notebooks",
            _attack("""
                import glob, os
                for place in _places():
                    for kind in ("submitted", "autograded", "feedback"):
                        for nb in glob.glob(os.path.join(place, kind, "*", "02-strawman", "*.ipynb")):
                            try:
                                if "/hostile" in nb:  # only this test's own throw-away courses
                                    with open(nb, "w") as fh:
                                        fh.write("{}")
                                    print(_MARK, "for writing", nb)
                                else:
                                    open(nb).close()
                                    print(_MARK, "for reading", nb)
                            except OSError as exc:
                                print("refused", nb, exc)
                for path in ("../../../submitted", "../../good-solution", "/work/main/nnlib/testing.py"):
                    try:
                        with open(path if path.endswith(".py") else path + "/x", "a"):
                            print(_MARK, path)
                    except OSError as exc:
                        print("refused", path, exc)
            """), forbid=["OPENED"], reason=r"opens files", requires="user"),
    Hostile("read-hidden-tests", "files", "reads the source notebook (solutions/) and the git history",
            _attack("""
                import glob, os
                for place in _places():
                    for nb in glob.glob(os.path.join(place, "solutions", "02-strawman", "*.ipynb")) + \\
                              glob.glob(os.path.join(place, "source", "02-strawman", "*.ipynb")) + \\
                              glob.glob(os.path.join(place, "autograded", "*", "02-strawman", "*.ipynb")):
                        try:
                            print(_MARK, nb, open(nb).read())
                        except OSError as exc:
                            print("refused", nb, exc)
                    if os.path.isdir(os.path.join(place, ".git")):
                        try:
                            print(_MARK, ".git", os.listdir(os.path.join(place, ".git", "objects"))[:5])
                        except OSError as exc:
                            print("refused .git", exc)
            """), forbid=["OPENED"], secret=HIDDEN_MARKERS, reason=r"opens files", requires="isolated"),
    Hostile("inspect-parent", "files", "reads the grader's command line, environment and files through /proc",
            _attack("""
                import os
                for pid in os.listdir("/proc"):
                    if not pid.isdigit() or int(pid) == os.getpid():
                        continue
                    for what in ("cmdline", "environ"):
                        try:
                            with open(f"/proc/{pid}/{what}", "rb") as fh:
                                text = fh.read().replace(b"\\0", b" ").decode(errors="replace")
                            if "autograde" in text or "pytest-of" in text or "nn-grading" in text:
                                print(_MARK, pid, what, text[:300])
                        except OSError:
                            pass
                    try:
                        for fd in os.listdir(f"/proc/{pid}/fd"):
                            target = os.readlink(f"/proc/{pid}/fd/{fd}")
                            if "gradebook" in target or "nn-grading" in target:
                                print(_MARK, "fd", pid, target)
                    except OSError:
                        pass
                ppid = os.getppid()
                try:
                    print(_MARK, "parent cwd", os.listdir(f"/proc/{ppid}/cwd"))
                except OSError as exc:
                    print("refused parent", ppid, exc)
            """), forbid=["OPENED"], reason=r"opens files", requires="isolated"),
    Hostile("history-leak", "files", "raises an error that quotes the hidden test (from IPython's history)",
            lambda: single(append_code(notebook(), "iterate", """
                def iterate(c0, km, miles, eta, n_steps):
                    raise ValueError("\\n".join(In[-3:]))
            """)),
            zero=set(TESTS), secret=HIDDEN_MARKERS, reason=r"GraderIntegrityError"),
    Hostile("network", "files", "connects to the internet and to the grader's machine",
            _attack("""
                import socket
                for host, port in (("pypi.org", 443), ("1.1.1.1", 53), ("127.0.0.1", 22), ("127.0.0.1", 5432)):
                    try:
                        socket.create_connection((host, port), timeout=3).close()
                        print(_MARK, "network", host, port)
                    except OSError as exc:
                        print("no network", host, port, exc)
            """), forbid=["OPENED network"], reason=r"socket\.connect",
            requires="isolated"),
    Hostile("persist-for-later", "files", "plants an IPython startup file and a sitecustomize for the next students",
            _attack("""
                import os, site, sys
                payload = "import numpy\\nnumpy.all = lambda *a, **k: True\\n"
                targets = [os.path.expanduser("~/.ipython/profile_default/startup/00-patch.py"), "/tmp/00-patch.py"]
                targets += [os.path.join(p, "sitecustomize.py") for p in site.getsitepackages()]
                for t in targets:
                    try:
                        os.makedirs(os.path.dirname(t), exist_ok=True)
                        with open(t, "a") as fh:
                            if "site-packages" in t:
                                print(_MARK, t)
                            else:
                                fh.write(payload)
                    except OSError as exc:
                        print("refused", t, exc)
            """), forbid=["OPENED"], reason=r"opens files", requires="user"),
    Hostile("kill-grader", "files", "signals its parent, its process group and every process it may",
            _attack("""
                import os, signal
                for target in (os.getppid(), 0, -1):
                    try:
                        if target > 0:
                            os.kill(target, signal.SIGKILL)
                        elif target == 0:
                            os.killpg(os.getpgrp(), signal.SIGTERM)
                        else:
                            os.kill(-1, signal.SIGKILL)
                    except OSError as exc:
                        print("refused", target, exc)
            """), reason=r"os\.kill", requires="user"),
]

# the well-behaved class, graded alone and in the batch: their grades must not change
GOOD = {
    "good-solution": lambda: single(notebook()),
    "good-release": lambda: single(harness.build_submission(ASSIGNMENT, NOTEBOOK, untouched=True)),
    "good-gradient-sign": lambda: single(notebook("gradient_sign")),
    "good-closed-form": lambda: single(harness.build_submission(
        ASSIGNMENT, NOTEBOOK, next(h for h in harness.load_case_module("a02_strawman").HONEST
                                   if h["name"] == "closed_form_gradient")["replace"])),
}
