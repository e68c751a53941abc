"""nbgrader preprocessors that grade broken and hostile submissions safely.

``nbgrader_config.py`` puts them into nbgrader's own pipelines, so they apply to every
``nbgrader autograde`` of the course, whoever starts it:

:class:`NormalizeSubmission` (autograde, sanitising step, before nbgrader's ``OverwriteCells``)
    Gives every cell that claims to be a cell of the assignment the assignment's nbgrader
    settings again (points, read-only, test or answer), turns a cell with an unknown id
    into an ordinary cell of the student, puts back missing test cells and read-only code
    cells where they belong, and writes down in plain words what it changed.

:class:`GuardedExecute` (autograde, instead of nbgrader's ``Execute``)
    Runs the notebook in a kernel started by :class:`nncourse.sandbox.SandboxKernelManager`
    and keeps going whatever the student's code does:

    * a cell that runs past the timeout is interrupted; one that ignores the interrupt gets
      its kernel killed; a kernel that dies (``os._exit``, a segfault, a limit) is noted.
      Test cells that could not run get an error output, so they score 0 instead of the full
      points nbgrader gives a test cell without output;
    * a cell's output is cut at ``max_output_chars`` characters (a 100 MB print does not
      reach the autograded notebook, the gradebook or the feedback);
    * the student's code is checked before it runs (:func:`scan_source`,
      :func:`scan_test_variables`), and the kernel is probed before and after every test cell
      (``_kernel_guard.py``): names the tests use that the student rebound
      (``check_close = ...``) are put back before each test, while a test runs every return
      from the student's code puts numpy, nnlib and builtins back as they were, and changes
      to them or to the kernel's own machinery are *tampering*;
    * tampering gives every autograded test cell of the notebook an error output
      (``GraderIntegrityError``): 0 points, with the reason in the feedback.

    A markdown cell at the top of the autograded notebook (and so of the feedback) lists
    what happened ("Notes from the autograder"); ``notebook.metadata["nncourse"]`` holds the
    same as data, for the instructor's report.

:class:`RedactHiddenTests` (feedback, before ``HideHiddenTests``)
    Removes every line of a hidden test from every output of the feedback, so that code that
    captured a hidden test (and printed it, or put it in an error message) cannot hand it
    back to the student.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import os
import re
import secrets
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell, new_output
from nbgrader import utils as nbutils
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Integer

from .sandbox import SandboxKernelManager, describe_exit, sandbox_mode

GUARD_SOURCE = Path(__file__).with_name("_kernel_guard.py").read_text()
MARK = "GraderIntegrityError"
NOTES_TITLE = "Notes from the autograder"

TAMPER = "tamper"
REVIEW = "review"
# names IPython puts into the notebook's namespace
IPYTHON_NAMES = {"get_ipython", "display", "exit", "quit", "In", "Out", "_", "__", "___", "_ih", "_oh", "_dh"}


@dataclass
class Finding:
    """Something the grader saw: ``tamper`` (0 points) or ``review`` (listed for the instructor)."""

    severity: str
    what: str
    where: str = ""

    def text(self) -> str:
        return f"{self.what}" + (f" ({self.where})" if self.where else "")


# ------------------------------------------------------------------ static check
# attribute names that reach into the interpreter, the kernel or other code's internals
TAMPER_ATTRS = {
    "__code__", "__globals__", "__builtins__", "__dict__", "__bases__", "__mro__", "__subclasses__",
    "__closure__", "__defaults__", "__kwdefaults__", "__wrapped__", "__func__", "__getattribute__",
    "__setattr__", "__delattr__", "__loader__", "__spec__", "__import__", "__traceback__",
    "f_globals", "f_locals", "f_back", "f_builtins", "f_code", "gi_frame", "cr_frame", "ag_frame",
    "tb_frame", "tb_next", "co_code", "co_consts", "_getframe", "_current_frames", "settrace",
    "setprofile", "addaudithook", "meta_path", "path_hooks", "displayhook", "excepthook",
    "input_transformers_cleanup", "input_transformers_post", "ast_transformers", "set_custom_exc",
    "user_ns", "shell_handlers",
}
REVIEW_ATTRS = {"__class__", "__self__", "__reduce__", "__reduce_ex__"}
TAMPER_NAMES = {"exec", "eval", "compile", "__import__", "globals", "vars", "setattr", "delattr",
                "__builtins__", "breakpoint", "get_ipython", "In", "Out", "_ih", "_oh", "_dh",
                "_i", "_ii", "_iii", "__IPYTHON__"}
TAMPER_NAME_RE = re.compile(r"^_i\d+$|^_\d+$")
TAMPER_MODULES = {"builtins", "gc", "ctypes", "inspect", "importlib", "marshal", "code", "codeop",
                  "runpy", "IPython", "ipykernel", "jupyter_client", "jupyter_core", "zmq", "nbgrader",
                  "nbformat", "nbclient", "nbconvert", "sqlite3", "sqlalchemy", "unittest", "dis",
                  "traceback", "faulthandler", "_ctypes", "cffi", "nncourse", "pytest", "tracemalloc",
                  "__main__", "pdb", "bdb", "sys"}
REVIEW_MODULES = {"os", "subprocess", "socket", "shutil", "pathlib", "io", "tempfile", "glob",
                  "threading", "multiprocessing", "concurrent", "signal", "resource", "pty", "fcntl",
                  "mmap", "pickle", "shelve", "types", "urllib", "http", "requests", "asyncio", "atexit",
                  "weakref", "copyreg", "select", "selectors", "ssl", "ftplib", "smtplib", "webbrowser"}
# attributes of the sys module that are tampering even when sys itself is imported
SYS_TAMPER_ATTRS = {"modules", "_getframe", "settrace", "setprofile", "meta_path", "path_hooks",
                    "displayhook", "excepthook", "stdout", "stderr", "addaudithook", "setrecursionlimit",
                    "_current_frames", "path", "exit"}
ALLOWED_MAGICS = {"time", "timeit", "matplotlib", "capture"}
# the libraries the tests rely on: assigning to an attribute of what comes from them is tampering
# (matplotlib's rcParams, say, is not)
LIBRARY_ROOTS = {"numpy", "nnlib", "math", "builtins", "sys", "IPython", "ipykernel"}
SHELL_METHODS = {"system", "getoutput"}
DUNDER_STRING_RE = re.compile(r"__(code|globals|builtins|dict|subclasses|closure|defaults|kwdefaults|"
                              r"bases|mro|import|getattribute|setattr|class|loader|spec|traceback)__")
FRAME_STRING_RE = re.compile(r"\b(f_globals|f_locals|f_back|tb_frame|gi_frame|co_code|_getframe)\b")


def _transform(source: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - a cell IPython cannot read fails when it runs
        return source


def _root_name(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _chain_root(node) -> str | None:
    """``np`` for ``np`` or ``np.testing.x`` (names and attributes only: not calls or subscripts)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _magic_call(node: ast.Call) -> tuple[str, str] | None:
    """('run_line_magic', 'timeit') for ``get_ipython().run_line_magic('timeit', ...)``."""
    f = node.func
    if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Call)
            and isinstance(f.value.func, ast.Name) and f.value.func.id == "get_ipython"):
        name = ""
        if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            name = node.args[0].value.lstrip("%")
        return f.attr, name
    return None


def scan_source(source: str, protected: set[str] = frozenset(), where: str = "") -> list[Finding]:
    """Findings about one cell of the student's code (IPython syntax allowed).

    ``protected`` are names the tests rely on (modules and functions the notebook's read-only
    cells import or define): assigning to one of their attributes, or to an attribute of an
    alias of one, is tampering; so is assigning to an attribute of anything imported from
    numpy, nnlib, math, builtins, sys or IPython.
    The check is syntactic: code that hides what it does (``exec``, ``getattr`` with a
    computed name, ...) is itself a finding.
    """
    code = _transform(source)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    out: list[Finding] = []

    def add(sev, what, node=None):
        line = f"line {getattr(node, 'lineno', '?')}" if node is not None else ""
        loc = ", ".join(x for x in (where, line) if x)
        f = Finding(sev, what, loc)
        if all((g.severity, g.what) != (f.severity, f.what) for g in out):
            out.append(f)

    handled_magics: set[int] = set()
    aliases = set(protected)
    imported: set[str] = set()   # names the student imported from the libraries the tests use
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for a in node.names:
                source_module = a.name if isinstance(node, ast.Import) else (node.module or "")
                if source_module.split(".")[0] in LIBRARY_ROOTS:
                    imported.add((a.asname or a.name).split(".")[0])
            for m in mods:
                top = m.split(".")[0]
                if top == "sys":
                    add(REVIEW, "imports sys", node)
                elif top in TAMPER_MODULES:
                    add(TAMPER, f"imports {m}", node)
                elif top in REVIEW_MODULES:
                    add(REVIEW, f"imports {m}", node)
        elif isinstance(node, ast.Call):
            magic = _magic_call(node)
            if magic is not None:
                handled_magics.add(id(node.func.value.func))
                method, name = magic
                if method in ("run_line_magic", "run_cell_magic") and name in ALLOWED_MAGICS:
                    continue
                if method in SHELL_METHODS:
                    add(REVIEW, "runs a shell command (!...)", node)
                else:
                    add(TAMPER, f"uses the IPython shell ({method} {name})".strip(), node)
                continue
            if isinstance(node.func, ast.Name) and node.func.id == "getattr":
                arg = node.args[1] if len(node.args) > 1 else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    if arg.value in TAMPER_ATTRS or DUNDER_STRING_RE.search(arg.value):
                        add(TAMPER, f"reads the attribute {arg.value} with getattr", node)
                else:
                    add(REVIEW, "uses getattr with a computed attribute name", node)
            if isinstance(node.func, ast.Name) and node.func.id == "open":
                add(REVIEW, "opens files", node)
    # names bound to an imported or protected name (m = np), so that m.x = ... counts too
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _chain_root(node.value) in (aliases | imported):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    aliases.add(t.id)
    roots = aliases | imported
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if id(node) in handled_magics:
                continue
            if node.id in TAMPER_NAMES or TAMPER_NAME_RE.match(node.id):
                if isinstance(node.ctx, ast.Load):
                    add(TAMPER, f"uses {node.id}", node)
        elif isinstance(node, ast.Attribute):
            if node.attr in TAMPER_ATTRS:
                add(TAMPER, f"uses .{node.attr}", node)
            elif node.attr in REVIEW_ATTRS:
                add(REVIEW, f"uses .{node.attr}", node)
            if isinstance(node.value, ast.Name) and node.value.id == "sys" and node.attr in SYS_TAMPER_ATTRS:
                add(TAMPER, f"uses sys.{node.attr}", node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if DUNDER_STRING_RE.search(node.value) or FRAME_STRING_RE.search(node.value):
                add(TAMPER, "names interpreter internals in a string", node)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = list(node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target])
            while targets:
                t = targets.pop()
                if isinstance(t, (ast.Tuple, ast.List)):
                    targets += t.elts
                elif isinstance(t, ast.Starred):
                    targets.append(t.value)
                elif isinstance(t, ast.Attribute):
                    root = _chain_root(t.value)
                    if root in roots and root not in ("self", "cls"):
                        add(TAMPER, f"changes {ast.unparse(t)} (an attribute of a module or function the tests use)", node)
                elif isinstance(t, ast.Subscript):
                    root = _chain_root(t.value)
                    if root in roots and isinstance(t.value, ast.Attribute):
                        add(TAMPER, f"changes {ast.unparse(t)} (part of a module or function the tests use)", node)
    return out


def function_globals(source: str) -> dict[str, int]:
    """Global names read inside the functions (and lambdas, comprehensions) of a cell -> a line."""
    import symtable

    try:
        code = _transform(source)
        top = symtable.symtable(code, "<cell>", "exec")
    except SyntaxError:
        return {}
    out: dict[str, int] = {}

    def walk(table):
        for child in table.get_children():
            if child.get_type() == "function":
                for sym in child.get_symbols():
                    if sym.is_referenced() and sym.is_global() and not sym.is_assigned():
                        out.setdefault(sym.get_name(), child.get_lineno())
            walk(child)

    walk(top)
    return out


def scan_test_variables(student_sources: dict[str, str], test_names: set[str], known: set[str]) -> list[Finding]:
    """Functions of the student that read a variable only the test cells define (``expected``...).

    When a test runs, its variables are globals of the notebook, so a function that reads
    ``expected`` gets the test's own answer. ``known`` are the names the student's code, the
    read-only cells that are not tests, IPython and builtins define: those are fine.
    """
    import builtins

    out = []
    for where, src in student_sources.items():
        for name, line in function_globals(src).items():
            if name in test_names and name not in known and not hasattr(builtins, name):
                out.append(Finding(TAMPER, f"a function reads `{name}`, a variable of the tests", f"{where}, line {line}"))
    return out


def _bound_names(source: str, definitions_only: bool = False) -> list[str]:
    """Names a (trusted) cell binds in the notebook's namespace: imports, assignments, defs, loops.

    Statements nested in loops, conditions, ``with`` and ``try`` count; the bodies of
    functions, classes, lambdas and comprehensions do not (their names are local). With
    ``definitions_only``, only imports, ``def`` and ``class``.
    """
    try:
        tree = ast.parse(_transform(source))
    except SyntaxError:
        return []
    names: list[str] = []

    def target(t):
        if isinstance(t, ast.Name):
            names.append(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                target(e)
        elif isinstance(t, ast.Starred):
            target(t.value)

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                if a.name != "*":
                    names.append((a.asname or a.name).split(".")[0])
        elif definitions_only:
            pass
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                target(t)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
            target(node.target)
        elif isinstance(node, ast.NamedExpr):
            target(node.target)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            target(node.optional_vars)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.append(node.name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return list(dict.fromkeys(n for n in names if not n.startswith("__")))


# ------------------------------------------------------------- cell helpers
def _nb(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _gid(cell) -> str | None:
    return _nb(cell).get("grade_id")


def is_trusted(cell) -> bool:
    """A cell of the assignment that the student cannot change (its source is restored by nbgrader)."""
    m = _nb(cell)
    return bool(m.get("grade_id")) and bool(m.get("locked")) and not m.get("solution")


def is_test(cell) -> bool:
    return cell.cell_type == "code" and bool(_nb(cell).get("grade")) and not _nb(cell).get("solution")


def _error(ename: str, evalue: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


# ------------------------------------------------------------ sanitising step
class NormalizeSubmission(NbGraderPreprocessor):
    """Make a submitted notebook gradable, and say in words what was changed (see the module doc)."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook, MissingEntry

        notebook_id = resources["nbgrader"]["notebook"]
        assignment_id = resources["nbgrader"]["assignment"]
        notes: list[str] = []
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            try:
                source_nb = gb.find_notebook(notebook_id, assignment_id)
            except MissingEntry:
                return nb, resources
            sources = {c.name: c for c in source_nb.source_cells}
            grades = {c.name: c for c in source_nb.grade_cells}
            solutions = {c.name for c in source_nb.solution_cells}
            tasks = {c.name for c in source_nb.task_cells}
            order = [g for g, _ in self._notebook_cells("source", assignment_id, notebook_id)] \
                or [c.name for c in source_nb.source_cells]
            # what the student was given: a read-only cell that differs from it was edited
            released = dict(self._notebook_cells("release", assignment_id, notebook_id))
            order = [g for g in order if g in sources] + [g for g in sources if g not in order]

            counts: dict[str, int] = {}
            for cell in nb.cells:
                meta = cell.get("metadata", {}).get("nbgrader")
                if meta is None:
                    continue
                if not isinstance(meta, dict) or not meta.get("grade_id") or meta.get("grade_id") not in sources:
                    gid = meta.get("grade_id") if isinstance(meta, dict) else None
                    if isinstance(meta, dict) and not any(meta.get(k) for k in ("grade", "solution", "locked", "task")) and not gid:
                        cell.metadata.pop("nbgrader", None)
                        continue
                    cell.metadata.pop("nbgrader", None)
                    notes.append(f"A cell claimed to be the assignment's cell {gid!r}, which does not exist; "
                                 "it was run as your own code and not graded.")
                    continue
                gid = meta["grade_id"]
                counts[gid] = counts.get(gid, 0) + 1
                src = sources[gid]
                expected = {"grade": gid in grades, "solution": gid in solutions, "locked": bool(src.locked),
                            "task": gid in tasks, "grade_id": gid, "schema_version": 3}
                if gid in grades:
                    expected["points"] = float(grades[gid].max_score)
                changed = [k for k in ("grade", "solution", "locked", "task", "points")
                           if k in expected and k in meta and _differs(meta.get(k), expected[k])]
                changed += [k for k in ("grade", "solution", "locked") if k not in meta and expected[k]]
                if changed:
                    notes.append(f"The nbgrader settings ({', '.join(sorted(set(changed)))}) of cell {gid!r} "
                                 "were changed; the assignment's settings were used.")
                for k in list(meta):
                    if k not in ("checksum", "cell_type"):
                        meta.pop(k)
                meta.update(expected)
                if cell.cell_type != src.cell_type:
                    notes.append(f"Cell {gid!r} was changed from a {src.cell_type} cell to a {cell.cell_type} "
                                 f"cell; it was turned back into a {src.cell_type} cell.")
                elif src.locked and gid in released and cell.get("source", "") != released[gid]:
                    kind = "test" if gid in grades else "read-only"
                    notes.append(f"The {kind} cell {gid!r} was edited; the original was restored and used.")
            for gid, n in counts.items():
                if n > 1:
                    notes.append(f"Cell {gid!r} appears {n} times; only the last copy counts as the "
                                 "assignment's cell, the others ran as your own code.")
                    # nbgrader's DeduplicateIds would leave an empty nbgrader dict that fails its
                    # metadata check (the whole notebook would not be graded): drop it here
                    copies = [c for c in nb.cells if _gid(c) == gid]
                    for c in copies[:-1]:
                        c.metadata.pop("nbgrader", None)
            # put back missing test cells and read-only code cells, in the source notebook's order
            present = set(counts)
            for gid in order:
                if gid in present:
                    continue
                src = sources[gid]
                wanted = gid in grades or (src.locked and src.cell_type == "code" and gid not in solutions)
                if not wanted:
                    continue
                cell = self._cell_from_source(src, grades.get(gid), gid in solutions)
                before = order[: order.index(gid)]
                pos = 0
                for i, c in enumerate(nb.cells):
                    if _gid(c) in before:
                        pos = i + 1
                nb.cells.insert(pos, cell)
                present.add(gid)
                what = "test cell" if gid in grades else "read-only cell"
                notes.append(f"The {what} {gid!r} was missing; the grader put it back.")
        if notes:
            nb.metadata.setdefault("nncourse", {})["sanitize_notes"] = notes
            for n in notes:
                self.log.warning("%s: %s", resources["nbgrader"].get("student"), n)
        return nb, resources

    def _notebook_cells(self, kind: str, assignment_id: str, notebook_id: str) -> list[tuple[str, str]]:
        """(grade_id, source) of the cells of the assignment's ``source`` or ``release`` notebook."""
        try:
            import nbformat
            from nbgrader.coursedir import CourseDirectory

            cd = CourseDirectory(config=self.config)
            folder = getattr(cd, f"{kind}_directory")
            path = Path(cd.format_path(folder, ".", assignment_id)) / f"{notebook_id}.ipynb"
            nb = nbformat.read(path, as_version=4)
        except Exception:  # noqa: BLE001 - fall back to the gradebook alone
            return []
        return [(_gid(c), c.source) for c in nb.cells if _gid(c)]

    @staticmethod
    def _cell_from_source(src, grade_cell, is_solution: bool):
        meta = {"grade": grade_cell is not None, "grade_id": src.name, "locked": bool(src.locked),
                "schema_version": 3, "solution": is_solution, "task": False, "checksum": src.checksum}
        if grade_cell is not None:
            meta["points"] = float(grade_cell.max_score)
        if src.cell_type == "code":
            from nbformat.v4 import new_code_cell

            cell = new_code_cell(src.source, metadata={"nbgrader": meta})
        else:
            cell = new_markdown_cell(src.source, metadata={"nbgrader": meta})
        cell.id = f"{src.name}-restored"[:64]
        return cell


def _differs(a, b) -> bool:
    if isinstance(b, float):
        try:
            return float(a) != b
        except (TypeError, ValueError):
            return True
    return bool(a) != bool(b)


# ----------------------------------------------------------------- execution
def scoped_test_source(source: str) -> str:
    """A test cell's code, run in a function of its own.

    Its variables (``expected``, the random inputs, ...) are then the function's locals while
    the test runs, not globals of the notebook: the student's functions share the notebook's
    globals (``__globals__``, ``globals()``), but reach a function's locals only through its
    frame, which the kernel's audit hook refuses them while a test runs. When the cell has run,
    its variables become globals as before, so later cells see what they always saw."""
    body = textwrap.indent(source.rstrip() or "pass", " " * 8)
    return ("def __nncourse_test__(__nncourse_out__):\n"
            "    try:\n"
            f"{body}\n"
            "    finally:\n"
            "        __nncourse_out__.update(locals())\n"
            "__nncourse_out__ = {}\n"
            "try:\n"
            "    __nncourse_test__(__nncourse_out__)\n"
            "finally:\n"
            "    __nncourse_out__.pop('__nncourse_out__', None)\n"
            "    globals().update(__nncourse_out__)\n"
            "    del __nncourse_out__, __nncourse_test__\n")


class _ProbeFailed(Exception):
    pass


class GuardedExecute(Execute):
    """nbgrader's Execute, hardened against broken and hostile submissions (see the module doc)."""

    max_output_chars = Integer(1_000_000, help="Characters of output kept per cell (a plot is ~50 000)").tag(config=True)
    max_notebook_output_chars = Integer(5_000_000, help="Characters of output kept per notebook").tag(config=True)
    probe_timeout = Integer(30, help="Seconds the kernel has to answer a probe of the grader").tag(config=True)
    static_check = Bool(True, help="Check the student's code before running it").tag(config=True)
    runtime_guard = Bool(True, help="Probe the kernel before and after every test cell").tag(config=True)
    iopub_timeout = Integer(10, help="Seconds to wait for a cell's last output after its reply").tag(config=True)

    def __init__(self, **kw):
        kw.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(**kw)

    # -- kernel manager: the course's private folders are hidden from the kernel
    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        if hasattr(km, "private_paths"):
            private = []
            try:
                from nbgrader.coursedir import CourseDirectory

                private.append(CourseDirectory(config=self.config).root)
            except Exception:  # noqa: BLE001
                pass
            private.append(os.getcwd())
            db = (self.resources or {}).get("nbgrader", {}).get("db_url", "")
            if db.startswith("sqlite:///"):
                private.append(os.path.dirname(db[len("sqlite:///"):].split("?")[0]))
            try:
                exchange = self.config.Exchange.root
                if isinstance(exchange, str) and exchange:
                    private.append(exchange)
            except Exception:  # noqa: BLE001
                pass
            km.private_paths = [p for p in private if p]
        return km

    # -- outputs: at most max_output_chars per cell
    def output(self, outs, msg, display_id, cell_index):
        used = self._out_used.get(cell_index, 0)
        size = _msg_size(msg)
        total = sum(self._out_used.values())
        limit = min(self.max_output_chars, used + max(0, self.max_notebook_output_chars - total))
        if used + size > limit:
            if cell_index not in self._out_cut:
                self._out_cut.add(cell_index)
                room = max(0, limit - used)
                content = msg.get("content", {})
                if msg.get("msg_type") == "stream" and room > 0:
                    outs.append(new_output("stream", name=content.get("name", "stdout"),
                                           text=content.get("text", "")[:room]))
                elif msg.get("msg_type") == "error":
                    ename = str(content.get("ename", "Error"))[:200]
                    evalue = str(content.get("evalue", ""))[:max(200, room)]
                    outs.append(_error(ename, evalue))
                outs.append(new_output("stream", name="stdout",
                                       text=f"\n[output cut by the autograder: more than {limit} characters "
                                            "in this cell]\n"))
            self._out_used[cell_index] = used + size
            return None
        self._out_used[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)

    def on_cell_executed(self, **kwargs):
        # nbgrader copies the error of the execute reply into the outputs when the outputs do
        # not hold it (a timeout); that copy bypasses output(): clip every error here
        super().on_cell_executed(**kwargs)
        for out in kwargs["cell"].get("outputs", []):
            if out.get("output_type") == "error":
                out["evalue"] = str(out.get("evalue", ""))[:10_000]
                tb, kept, size = out.get("traceback", []) or [], [], 0
                for line in tb:
                    size += len(line)
                    if size > 50_000:
                        kept.append("[traceback cut by the autograder]")
                        break
                    kept.append(line)
                out["traceback"] = kept

    def _update_display_id(self, display_id, msg):
        if _msg_size(msg) > self.max_output_chars:
            return
        return super()._update_display_id(display_id, msg)

    # -- probes
    def _probe(self, kind: str, arg=None) -> dict:
        # a one-time key: the secret the previous probe announced (by its SHA-256), and the
        # announcement of the next one (see _kernel_guard's documentation)
        secret, self._next_secret = getattr(self, "_next_secret", None), secrets.token_hex(16)
        key = {"t": secret, "next": hashlib.sha256(self._next_secret.encode()).hexdigest()}
        if not self._guard_installed:
            key["sign"] = self._sign_secret  # the HMAC secret of every answer, kept by the hook
        if not self._guard_installed:
            # the first probe, before any of the notebook's code: install the checks
            expr = ("(lambda __nn_ns: (__nn_ns.__setitem__('__name__', '_nncourse_guard'), "
                    f"exec(compile({GUARD_SOURCE!r}, '<nncourse-guard>', 'exec'), __nn_ns), "
                    f"__nn_ns['probe']({kind!r}, {arg!r}, {key!r}))[2])({{}})")
        else:
            # later probes only knock at the installed hook, with the key
            expr = ("(lambda __nn_box: (__import__('sys').audit('nncourse.guard', "
                    f"{kind!r}, {arg!r}, {key!r}, __nn_box), __nn_box.get('result') or "
                    "__import__('json').dumps({'error': __nn_box.get('refused', "
                    "'the checks are not installed in this kernel')}))[1])({})")
        msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"r": expr},
                                 allow_stdin=False, stop_on_error=False)
        deadline = time.monotonic() + self.probe_timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if not run_sync(self.km.is_alive)():
                    raise DeadKernelError("Kernel died")
                raise _ProbeFailed("the kernel did not answer the grader's check")
            try:
                reply = run_sync(self.kc.shell_channel.get_msg)(timeout=min(1.0, left))
            except Exception:  # noqa: BLE001 - queue.Empty
                if not run_sync(self.km.is_alive)():
                    raise DeadKernelError("Kernel died") from None
                continue
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            content = reply.get("content", {})
            r = content.get("user_expressions", {}).get("r")
            if content.get("status") != "ok" or not r:
                raise _ProbeFailed(f"the grader's check could not run ({content.get('ename', 'error')})")
            if r.get("status") != "ok":
                raise _ProbeFailed(f"the grader's check failed: {r.get('ename')}: {str(r.get('evalue'))[:200]}")
            text = r.get("data", {}).get("text/plain", "")
            try:
                result = json.loads(ast.literal_eval(text))
            except (ValueError, SyntaxError) as exc:
                raise _ProbeFailed(f"the grader's check returned something unreadable ({exc})") from None
            if isinstance(result, dict) and set(result) == {"error"}:
                raise _ProbeFailed(f"the grader's check was refused in the kernel: {result['error']}")
            if not (isinstance(result, dict) and isinstance(result.get("r"), str)
                    and hmac.compare_digest(str(result.get("mac", "")),
                                            hmac.new(self._sign_secret.encode(), result["r"].encode(),
                                                     hashlib.sha256).hexdigest())):
                raise _ProbeFailed("the answer of the grader's check was not the grader's own (no valid HMAC)")
            self._guard_installed = True
            return json.loads(result["r"])

    # -- the run
    def preprocess(self, nb, resources, km=None):
        from nbclient.client import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._next_secret = None  # a new kernel: its first probe installs the checks
        self._guard_installed = False
        self._sign_secret = secrets.token_hex(16)
        self._check_assign_resources(resources)
        self._out_used: dict[int, int] = {}
        self._out_cut: set[int] = set()
        self.findings: list[Finding] = []
        self.notes: list[str] = list(nb.metadata.get("nncourse", {}).get("sanitize_notes", []))
        student = (resources or {}).get("nbgrader", {}).get("student", "?")

        cells = nb.cells
        protected = self._protected_names(cells)
        if self.static_check:
            student = {}
            for i, cell in enumerate(cells):
                if cell.cell_type == "code" and not is_trusted(cell):
                    where = f"cell {_gid(cell) or i + 1}"
                    student[where] = cell.source
                    self.findings += scan_source(cell.source, protected, where)
            test_names, known = set(), set(IPYTHON_NAMES)
            for cell in cells:
                if cell.cell_type == "code" and is_trusted(cell):
                    (test_names if is_test(cell) else known).update(_bound_names(cell.source))
            for src in student.values():
                known.update(_bound_names(src))
            self.findings += scan_test_variables(student, test_names, known)

        stopped: str | None = None     # why the remaining cells were not run
        if issubclass(self.kernel_manager_class, SandboxKernelManager):
            self._sandbox_mode = sandbox_mode()  # raises SandboxError rather than run code unconfined
        with self.setup_kernel():
            assert self.kc is not None
            info = self.wait_for_reply(self.kc.kernel_info())
            if info:
                self.nb.metadata["language_info"] = info["content"].get("language_info", {})
            if hasattr(self.km, "seal"):
                self.km.seal()
            guard = _Guard(self) if self.runtime_guard else None
            try:
                if guard:
                    guard.begin()
            except (_ProbeFailed, DeadKernelError) as exc:
                guard = None
                self.notes.append(f"The autograder could not set up its checks ({exc}).")
            untrusted_ran = False
            for index, cell in enumerate(cells):
                if cell.cell_type != "code":
                    continue
                if stopped is not None:
                    cell.outputs = []
                    if is_test(cell):
                        cell.outputs = [_error("NotRun", f"This test did not run: {stopped}")]
                    continue
                trusted, test = is_trusted(cell), is_test(cell)
                try:
                    if guard and test:
                        guard.before_test(index)
                        guard.arm()
                    original = cell.source
                    if guard and test:
                        cell.source = scoped_test_source(original)
                    try:
                        self.execute_cell(cell, index, store_history=True)
                    finally:
                        cell.source = original
                    if guard and test:
                        guard.disarm()
                    if self._timed_out(cell):
                        self.notes.append(f"Cell {_gid(cell) or index + 1} ran longer than the time limit "
                                          f"of {self.timeout} s and was interrupted.")
                    if guard and trusted:
                        guard.after_trusted(index, cell, baseline=not untrusted_ran)
                    if not trusted and cell.source.strip():
                        untrusted_ran = True
                except DeadKernelError:
                    status = self.km.exit_status() if hasattr(self.km, "exit_status") else None
                    why = describe_exit(status)
                    stopped = (f"the Python kernel died in cell {_gid(cell) or index + 1} ({why}), "
                               "so this cell and the ones after it were not run.")
                    self._mark_stopped(cell, test, "KernelDied", f"The kernel died while running this cell: {why}.")
                    self.notes.append("The kernel " + stopped[len("the Python kernel "):].replace(
                        "so this cell and the ones after it were not run", "so the cells after it were not run"))
                    self._log_kernel(student)
                except CellTimeoutError:
                    stopped = (f"cell {_gid(cell) or index + 1} ran past the time limit of {self.timeout} s and "
                               "did not stop when interrupted, so the grader stopped the kernel.")
                    self._mark_stopped(cell, test, "CellTimeoutError",
                                       f"This cell ran longer than {self.timeout} s and ignored the interrupt; "
                                       "the kernel was stopped.")
                    self.notes.append(f"Cell {_gid(cell) or index + 1} ran past the time limit of {self.timeout} s "
                                      "and ignored the interrupt: the kernel was stopped and the cells after "
                                      "it were not run.")
                    self._kill_kernel()
                except _ProbeFailed as exc:
                    self.findings.append(Finding(TAMPER, str(exc), f"before or after cell {_gid(cell) or index + 1}"))
                    guard = None
            if guard and stopped is None:
                try:
                    guard.final()
                except (_ProbeFailed, DeadKernelError) as exc:
                    self.findings.append(Finding(TAMPER, str(exc), "at the end"))
            if guard:
                self.findings += guard.findings
                self.notes += guard.notes
        self.set_widgets_metadata()
        self._conclude(nb, student)
        return self.nb, self.resources

    def _protected_names(self, cells) -> set[str]:
        """Modules, functions and classes the read-only cells import or define (not their data)."""
        names: set[str] = set()
        for cell in cells:
            if cell.cell_type == "code" and is_trusted(cell):
                names.update(_bound_names(cell.source, definitions_only=True))
        return names | {"np", "numpy", "nnlib", "math", "builtins"}

    def _timed_out(self, cell) -> bool:
        return any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
                   for o in cell.get("outputs", []))

    def _mark_stopped(self, cell, test: bool, ename: str, evalue: str) -> None:
        cell.setdefault("outputs", [])
        cell.outputs.append(_error(ename, evalue))

    def _kill_kernel(self) -> None:
        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - already gone
            pass

    def _log_kernel(self, student: str) -> None:
        tail = self.km.kernel_log_tail() if hasattr(self.km, "kernel_log_tail") else ""
        if tail.strip():
            self.log.warning("%s: the kernel's last words:\n%s", student, tail[-1500:])

    def _conclude(self, nb, student: str) -> None:
        tamper = [f for f in self.findings if f.severity == TAMPER]
        review = [f for f in self.findings if f.severity == REVIEW]
        if tamper:
            reasons = "; ".join(f.what for f in tamper[:5]) + ("; ..." if len(tamper) > 5 else "")
            message = ("The autograder found code that interferes with grading (" + reasons + "). "
                       "Every autograded test of this notebook scores 0; the instructor has been told "
                       "and will review it.")
            for cell in nb.cells:
                if is_test(cell):
                    cell.setdefault("outputs", [])
                    cell.outputs.append(_error(MARK, message))
        lines = []
        if tamper:
            lines.append("**Every autograded test of this notebook scores 0**: the autograder found code "
                         "that interferes with grading. The instructor has been told and will review it.")
            lines += [f"- {f.text()}" for f in tamper]
        if self.notes:
            if lines:
                lines.append("")
            lines += [f"- {n}" for n in dict.fromkeys(self.notes)]
        if review:
            if lines:
                lines.append("")
            lines.append("The instructor may look at these parts of your code:")
            lines += [f"- {f.text()}" for f in review]
        if lines:
            cell = new_markdown_cell(f"### {NOTES_TITLE}\n\n" + "\n".join(lines),
                                     metadata={"nncourse": "notes", "deletable": False, "editable": False})
            cell.id = "nncourse-notes"
            nb.cells.insert(0, cell)
        nb.metadata["nncourse"] = {
            "verdict": "tampered" if tamper else "ok",
            "sandbox": getattr(self, "_sandbox_mode", ""),
            "findings": [{"severity": f.severity, "what": f.what, "where": f.where} for f in self.findings],
            "notes": list(dict.fromkeys(self.notes)),
        }
        for f in tamper:
            self.log.warning("%s: TAMPERING: %s", student, f.text())
        for n in self.notes:
            self.log.warning("%s: %s", student, n)


def _msg_size(msg) -> int:
    content = msg.get("content", {})
    t = msg.get("msg_type")
    if t == "stream":
        return len(content.get("text", ""))
    if t == "error":
        return len(str(content.get("evalue", ""))) + sum(len(x) for x in content.get("traceback", []) or [])
    data = content.get("data", {}) or {}
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())


class _Guard:
    """The grader's side of the kernel probes: baselines, comparisons, findings."""

    def __init__(self, ex: GuardedExecute):
        self.ex = ex
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self.fp: dict = {}
        self.digest: dict = {}
        self.shell: dict = {}
        self.threads: set[str] = set()
        self.reported: set[str] = set()
        self.setup_names: set[str] = set()   # names bound by read-only cells that are not tests
        # the file names IPython compiles the read-only cells under (a hash of the source):
        # code from these files may change library objects (forbid_calls in a hidden test)
        from ipykernel.compiler import get_tmp_hash_seed, murmur2_x86

        self.trusted = sorted({f"{murmur2_x86(src, get_tmp_hash_seed())}.py"
                               for c in ex.nb.cells if c.cell_type == "code" and is_trusted(c)
                               for src in ((scoped_test_source(c.source),) if is_test(c) else (c.source,))})

    def _events(self, result: dict) -> None:
        for e in result.get("events", []):
            sev = TAMPER if e.get("severity") == TAMPER else REVIEW
            self._add(sev, e.get("what", "?"))

    def _add(self, sev: str, what: str, where: str = "") -> None:
        key = f"{sev}:{what}"
        if key not in self.reported:
            self.reported.add(key)
            self.findings.append(Finding(sev, what, where))

    def begin(self) -> None:
        r = self.ex._probe("begin", {"trusted": self.trusted})
        self.fp, self.digest, self.shell = r["fp"], r["digest"], r["shell"]
        self.threads = set(r.get("threads", []))
        self._events(r)

    def after_trusted(self, index: int, cell, baseline: bool) -> None:
        names = _bound_names(cell.source)
        if not is_test(cell):
            self.setup_names.update(names)
        if names:
            r = self.ex._probe("stash", names)
            self._events(r)
        if baseline:  # instructor code that ran before any student code may change the baseline
            r = self.ex._probe("begin", {"trusted": self.trusted})
            self.fp, self.digest, self.shell = r["fp"], r["digest"], r["shell"]
            self.threads = set(r.get("threads", []))
            self._events(r)
        elif is_test(cell):
            self.check(f"during test cell {_gid(cell)}")

    def before_test(self, index: int) -> None:
        r = self.ex._probe("restore")
        self._events(r)
        for name, how in r.get("restored", []):
            if name in self.setup_names:
                self.notes.append(f"Your code {how if how != 'rebound' else 'replaced'} `{name}`, which the "
                                  "tests use; the tests ran with the original.")
        self.check(f"before test cell {_gid(self.ex.nb.cells[index])}")

    def arm(self) -> None:
        self._events(self.ex._probe("arm"))

    def disarm(self) -> None:
        self._events(self.ex._probe("disarm"))

    def final(self) -> None:
        self.check("at the end")

    def check(self, where: str) -> None:
        r = self.ex._probe("digest")
        self._events(r)
        changed = [m for m, d in r["digest"].items() if d != self.digest.get(m)]
        if changed:
            detail = self.ex._probe("detail", changed)
            self._events(detail)
            for m in changed:
                new, old = detail["fp"].get(m) or {}, self.fp.get(m) or {}
                names = [k for k in old if new.get(k) != old[k]]
                if not names and new != old and m in old:
                    names = ["(the module)"]
                for k in names[:10]:
                    self._add(TAMPER, f"changed {m}.{k}" if k != "__module__" else f"replaced the module {m}", where)
            for m in changed:
                self.digest[m] = r["digest"][m]
                if detail["fp"].get(m) is not None:
                    self.fp[m] = detail["fp"][m]
        shell = r.get("shell", {})
        for key, value in shell.items():
            old = self.shell.get(key)
            if value == old:
                continue
            if key == "meta_path" or key == "path_hooks":
                self._add(REVIEW, f"changed the import system ({key})", where)
            elif key == "sys_hooks":
                for k, v in value.items():
                    if (old or {}).get(k) != v:
                        self._add(TAMPER, f"replaced sys.{k if k not in ('trace', 'profile', 'import') else k}"
                                  .replace("sys.trace", "the trace hook (sys.settrace)")
                                  .replace("sys.profile", "the profile hook (sys.setprofile)")
                                  .replace("sys.import", "builtins.__import__"), where)
            else:
                self._add(TAMPER, f"changed the kernel's machinery ({key.replace('_', ' ')})", where)
        self.shell = shell or self.shell
        for t in r.get("threads", []):
            if t not in self.threads:
                self._add(REVIEW, f"left a thread running: {t}", where)


# ------------------------------------------------------------------ feedback
class RedactHiddenTests(Preprocessor):
    """Remove the text of every hidden test from every output of a feedback notebook."""

    enabled = Bool(True).tag(config=True)
    min_length = Integer(12, help="Shorter hidden lines are not redacted (they are too common)").tag(config=True)

    def preprocess(self, nb, resources):
        lines = set()
        for cell in nb.cells:
            if cell.cell_type != "code" or "BEGIN HIDDEN TESTS" not in cell.source:
                continue
            hidden = False
            for line in cell.source.splitlines():
                s = line.strip()
                if s.startswith("### BEGIN HIDDEN TESTS"):
                    hidden = True
                elif s.startswith("### END HIDDEN TESTS"):
                    hidden = False
                elif hidden and len(s) >= self.min_length:
                    lines.add(s)
        if not lines:
            return nb, resources
        ordered = sorted(lines, key=len, reverse=True)

        def clean(text):
            if not isinstance(text, str):
                return text
            for s in ordered:
                if s in text:
                    text = text.replace(s, "[hidden test]")
            return text

        for cell in nb.cells:
            for out in cell.get("outputs", []) or []:
                if "text" in out:
                    out["text"] = clean(out["text"])
                if "evalue" in out:
                    out["evalue"] = clean(out["evalue"])
                if "traceback" in out:
                    out["traceback"] = [clean(t) for t in out["traceback"]]
                for k, v in list((out.get("data") or {}).items()):
                    if isinstance(v, str):
                        out["data"][k] = clean(v)
            if cell.cell_type == "markdown" and _gid(cell) is None and cell.get("metadata", {}).get("nncourse"):
                cell.source = clean(cell.source)
        return nb, resources


def notebook_verdict(nb) -> dict:
    """``notebook.metadata["nncourse"]`` of an autograded notebook (verdict, findings, notes)."""
    return dict(nb.get("metadata", {}).get("nncourse", {}) or {})


__all__ = ["GuardedExecute", "NormalizeSubmission", "RedactHiddenTests", "scan_source", "Finding",
           "notebook_verdict", "is_trusted", "is_test", "MARK", "NOTES_TITLE"]

