"""Unit checks of the grading kernel's profile function (nncourse/_kernel_guard.py).

While a test cell runs, the profile function is called at every call and return of every
function. It forwards to the audit hook only what the hook acts on: returns of the
notebook's code (checkpoints), starts of generators and coroutines from outside the
installation (a generator carried over from an earlier cell), and calls of signal.signal.
Everything else stays out of the hook: forwarding it made a failing test's first traceback
take 1.5-3 s, enough to run into a short cell time limit. The hostile catalogue
(tests/test_hostile.py) checks the whole guard end to end; this file pins the filter.
"""

from __future__ import annotations

import pytest

from nncourse import _kernel_guard as kg

CELLS = "/tmp/ipykernel_4242/"
INSTALLATION = ("/usr/lib/python3.11/", "/opt/venv/lib/python3.11/site-packages/")


def _frame(filename: str, generator: bool = False):
    """A frame of code compiled under ``filename`` (of a generator, if asked)."""
    src = ("def f():\n    import sys\n    yield sys._getframe()\n" if generator
           else "def f():\n    import sys\n    return sys._getframe()\n")
    ns: dict = {}
    exec(compile(src, filename, "exec"), ns)
    return next(ns["f"]()) if generator else ns["f"]()


@pytest.fixture
def profile():
    """The guard's profile function, forwarding to a recorder instead of sys.audit."""
    forwarded: list = []
    setter = object()

    def audit(event, frame, what, arg):
        assert event == "nncourse.guard.profile"
        forwarded.append((frame.f_code.co_filename, what, arg))

    make = kg._compile_apart(kg._PROFILE_SOURCE, "make")
    return make(audit, kg._SUSPENDABLE, setter, CELLS, INSTALLATION), forwarded, setter


@pytest.mark.parametrize("filename, forwarded", [
    (CELLS + "123456.py", True),                       # the notebook's code: checkpoint
    (INSTALLATION[0] + "inspect.py", False),           # the standard library
    (INSTALLATION[1] + "IPython/core/ultratb.py", False),
    ("/somewhere/else/module.py", False),              # not a cell: the hook does not checkpoint it
])
def test_returns_are_forwarded_only_from_the_notebooks_cells(profile, filename, forwarded):
    prof, seen, _ = profile
    prof(_frame(filename), "return", None)
    assert seen == ([(filename, "return", None)] if forwarded else [])


@pytest.mark.parametrize("filename, forwarded", [
    (CELLS + "123456.py", True),
    ("<string>", True),                                # exec'd by the submission
    ("/tmp/student_module.py", True),                  # a module the submission wrote
    (INSTALLATION[0] + "../../../tmp/x.py", True),    # starts in the installation, climbs out
    (INSTALLATION[0] + "ast.py", False),
    (INSTALLATION[1] + "stack_data/core.py", False),
])
def test_generator_starts_are_forwarded_from_outside_the_installation(profile, filename, forwarded):
    prof, seen, _ = profile
    prof(_frame(filename, generator=True), "call", None)
    assert seen == ([(filename, "call", None)] if forwarded else [])


def test_a_name_that_climbs_out_of_the_installation_is_not_installed():
    st = kg._new_state()
    st.trusted_dirs = INSTALLATION
    assert kg._installed(st, INSTALLATION[0] + "inspect.py")
    assert not kg._installed(st, INSTALLATION[0] + "../../../tmp/x.py")
    assert not kg._installed(st, INSTALLATION[1] + "./../x.py")
    assert not kg._installed(st, "/tmp/x.py")


def test_calls_of_plain_functions_are_not_forwarded(profile):
    prof, seen, _ = profile
    prof(_frame(CELLS + "123456.py"), "call", None)
    assert seen == []


def test_only_the_signal_setter_is_forwarded_among_c_calls(profile):
    prof, seen, setter = profile
    frame = _frame(INSTALLATION[0] + "signal.py")
    prof(frame, "c_call", len)
    prof(frame, "c_return", setter)
    assert seen == []
    prof(frame, "c_call", setter)
    assert seen == [(INSTALLATION[0] + "signal.py", "c_call", setter)]
