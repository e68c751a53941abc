"""Every catalogued submission gets the score it deserves from the real nbgrader.

For each module ``tests/grading/cases/a*.py`` the solution, the untouched release, each
mutant (a realistic mistake) and each honest variant (correct, written differently) is
turned into a student submission and autograded in one ``nbgrader autograde`` run per
assignment (two assignments at a time); the points are read from the gradebook.
"""

from __future__ import annotations

import pytest

from grading import harness

MODULES = harness.case_modules()
ASSIGNMENTS = [m.ASSIGNMENT for m in MODULES]
MUTANTS = [pytest.param(m, c, id=f"{m.ASSIGNMENT}:{c.name}")
           for m in MODULES for c in harness.cases_of(m) if c.kind == "mutant"]
HONEST = [pytest.param(m, c, id=f"{m.ASSIGNMENT}:{c.name}")
          for m in MODULES for c in harness.cases_of(m) if c.kind == "honest"]


def _graded(mod) -> harness.GradedCourse:
    result = harness.graded_catalogue()[mod.ASSIGNMENT]
    if isinstance(result, Exception):
        pytest.fail(f"{mod.ASSIGNMENT} could not be graded: {result}")
    return result


def _report(graded: harness.GradedCourse, student: str) -> str:
    got, full = graded.auto_total(student)
    errors = graded.errors(student)
    lines = [f"{student}: {got:g} of {full:g} autograded points"]
    lines += [f"  {g}: {msg[:300]}" for g, msg in sorted(errors.items())]
    return "\n".join(lines)


def _submitted(graded: harness.GradedCourse, student: str) -> None:
    if student in graded.build_errors:
        pytest.fail(f"the catalogue entry {student} does not fit the notebook: {graded.build_errors[student]}")
    if student not in graded.scores:
        pytest.fail(f"nbgrader did not grade {student}; its log:\n{graded.log[-4000:]}")


@pytest.mark.parametrize("mod", MODULES, ids=ASSIGNMENTS)
def test_catalogue_is_complete(mod):
    """At least three mutants and one honest variant, each with a name, a reason and real changes."""
    assert mod.NOTEBOOK and (harness.SOLUTIONS / mod.ASSIGNMENT / f"{mod.NOTEBOOK}.ipynb").is_file()
    assert len(mod.MUTANTS) >= 3, f"{mod.ASSIGNMENT} has {len(mod.MUTANTS)} mutants; at least 3 are needed"
    assert len(mod.HONEST) >= 1, f"{mod.ASSIGNMENT} has no honest variant"
    names = [c["name"] for c in mod.MUTANTS + mod.HONEST]
    assert len(set(names)) == len(names), f"duplicate case names in {mod.ASSIGNMENT}: {names}"
    auto_ids = {meta["grade_id"] for cell, meta in
                harness.grade_cells(harness.SOLUTIONS / mod.ASSIGNMENT / f"{mod.NOTEBOOK}.ipynb")
                if cell.cell_type == "code" and not meta.get("solution")}
    for case in mod.MUTANTS + mod.HONEST:
        assert case.get("why"), f"{case['name']}: say why (the mistake or the variation)"
        assert case.get("replace"), f"{case['name']}: no replacement, so it is the solution itself"
    for case in mod.MUTANTS:
        assert case.get("fails"), f"{case['name']}: list the test cells that must lose points"
        unknown = set(case["fails"]) - auto_ids
        assert not unknown, f"{case['name']}: no autograded test cells named {sorted(unknown)}"


@pytest.mark.parametrize("mod", MODULES, ids=ASSIGNMENTS)
def test_solution_gets_full_marks(mod):
    graded = _graded(mod)
    _submitted(graded, harness.SOLUTION_STUDENT)
    got, full = graded.auto_total(harness.SOLUTION_STUDENT)
    assert full > 0
    assert got == full, _report(graded, harness.SOLUTION_STUDENT)


@pytest.mark.parametrize("mod", MODULES, ids=ASSIGNMENTS)
def test_untouched_release_gets_zero(mod):
    graded = _graded(mod)
    _submitted(graded, harness.RELEASE_STUDENT)
    got, full = graded.auto_total(harness.RELEASE_STUDENT)
    assert full > 0
    assert got == 0, _report(graded, harness.RELEASE_STUDENT)


@pytest.mark.parametrize("mod, case", MUTANTS)
def test_mutant_loses_exactly_its_points(mod, case):
    """A mutant scores strictly between 0 and full marks, losing points in exactly its `fails` cells."""
    graded = _graded(mod)
    _submitted(graded, case.student)
    got, full = graded.auto_total(case.student)
    report = _report(graded, case.student) + f"\n  ({case.why})"
    assert 0 < got < full, report
    lost = graded.lost(case.student)
    assert lost == case.fails, (f"expected to lose points in {sorted(case.fails)}, lost them in {sorted(lost)}\n"
                                + report)


@pytest.mark.parametrize("mod, case", HONEST)
def test_honest_variant_gets_full_marks(mod, case):
    graded = _graded(mod)
    _submitted(graded, case.student)
    got, full = graded.auto_total(case.student)
    assert got == full, _report(graded, case.student) + f"\n  ({case.why})"
