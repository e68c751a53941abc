"""The feedback a student receives teaches without giving the hidden tests away.

For the first mutant of every catalogued assignment, ``nbgrader generate_feedback`` must
write HTML that shows the message of every failing test (what is wrong, where to read),
and must not contain the code of the hidden tests: neither in the cells nor in a
traceback. The instructor's autograded notebook, by contrast, does contain that code,
so the check is not vacuous.
"""

from __future__ import annotations

import concurrent.futures
import html
import re

import nbformat
import pytest

from grading import harness

MODULES = [m for m in harness.case_modules() if m.MUTANTS]


def _text(page: str) -> str:
    """The visible text of an HTML page: tags removed, entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _squash(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


@pytest.fixture(scope="module")
def feedback():
    """assignment -> (graded course, mutant student id, feedback HTML text)."""
    graded_all = harness.graded_catalogue()

    def one(mod):
        graded = graded_all[mod.ASSIGNMENT]
        if isinstance(graded, Exception):
            return mod.ASSIGNMENT, graded
        student = harness.cases_of(mod)[2].student  # the first mutant
        try:
            folder = harness.generate_feedback(graded.course, mod.ASSIGNMENT, [student])
        except harness.GradingError as exc:
            return mod.ASSIGNMENT, exc
        page = (folder / student / mod.ASSIGNMENT / f"{mod.NOTEBOOK}.html").read_text(encoding="utf-8")
        return mod.ASSIGNMENT, (graded, student, page)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, MODULES))


@pytest.mark.parametrize("mod", MODULES, ids=[m.ASSIGNMENT for m in MODULES])
def test_feedback_shows_messages_and_hides_hidden_tests(mod, feedback):
    result = feedback[mod.ASSIGNMENT]
    if isinstance(result, Exception):
        pytest.fail(f"no feedback for {mod.ASSIGNMENT}: {result}")
    graded, student, page = result
    text = _squash(_text(page))

    errors = graded.errors(student)
    assert graded.lost(student), f"{student} lost no points, so there is no failure to show"
    for grade_id in sorted(graded.lost(student)):
        assert grade_id in errors, f"{grade_id} lost points but shows no error in the autograded notebook"
        message = _squash(errors[grade_id])
        assert message in text, f"the feedback does not show the failure of {grade_id}: {message!r}"
        assert "Read:" in message or "book/" in message, (
            f"the failure of {grade_id} does not say where to read: {message!r}")

    source = harness.SOLUTIONS / mod.ASSIGNMENT / f"{mod.NOTEBOOK}.ipynb"
    # what a student may legitimately see: the released notebook and the solution code
    released = "\n".join(c.source for c in nbformat.read(
        harness.EXERCISES / mod.ASSIGNMENT / f"{mod.NOTEBOOK}.ipynb", as_version=4).cells)
    released += "\n".join(r for regions in harness.solution_regions(source).values() for r in regions)
    autograded = graded.autograded_notebook(student)
    autograded_text = "\n".join(c.source for c in autograded.cells)
    messages = " ".join(errors.values())
    secret = []
    for grade_id, lines in harness.hidden_test_lines(source).items():
        for line in lines:
            s = line.strip()
            if len(s) >= 16 and s not in released and _squash(s) not in _squash(messages) and not s.startswith("#"):
                secret.append(s)
    assert secret, "no distinctive hidden-test lines to look for"
    assert all(s in autograded_text for s in secret), "the autograded notebook should hold the hidden tests"
    leaked = [s for s in secret if _squash(s) in text]
    assert not leaked, f"the feedback shows hidden test code: {leaked[:5]}"
