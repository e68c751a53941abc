"""``python -m nncourse report``: histograms and an item analysis, from the gradebook.

The report of the small class (see :mod:`nncourse_helpers`), graded in parallel: for each
test cell, how many failed it and the ``AssertionError`` message of the autograded
notebooks; a histogram of the scores as a PNG; the same page as HTML.
"""

from __future__ import annotations

import json

import nbformat
import pytest

import nncourse_helpers as h
from nncourse.report import message_key


@pytest.fixture(scope="module")
def report():
    course, proc = h.parallel_class()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = h.nncourse("report", h.ASSIGNMENT, "--out", "grade-report", course=course)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = course / "grade-report"
    data = {r["assignment"]: r for r in json.loads((out / "report.json").read_text())}[h.ASSIGNMENT]
    return course, out, data


def _autograded_errors(course, student) -> dict[str, str]:
    nb = nbformat.read(course / "autograded" / student / h.ASSIGNMENT / f"{h.NOTEBOOK}.ipynb", as_version=4)
    out = {}
    for cell in nb.cells:
        g = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        for o in cell.get("outputs", []):
            if g and o.get("output_type") == "error":
                evalue = " ".join(o["evalue"].split())
                out[g] = f"{o['ename']}: {evalue}" if evalue else o["ename"]
    return out


def test_item_analysis_counts_the_failures_of_each_test_cell(report):
    course, _, data = report
    scores = h.scores(h.sqlite_url(course))
    items = {i["grade_id"]: i for i in data["items"] if not i["manual"]}
    assert items, "no autograded test cells in the report"
    for grade_id, item in items.items():
        failed = sorted(s for s, per in scores.items() if per[grade_id][0] < per[grade_id][1])
        assert item["failed"] == len(failed), (grade_id, failed)
        assert item["graded"] == len(h.SMALL_CLASS)
        # every failing student's message is counted, once; messages that differ only in
        # their numbers (random inputs, the student's wrong value) are counted together
        expected = {}
        for s in failed:
            msg = _autograded_errors(course, s).get(grade_id, "(no error message: partial credit)")
            expected[message_key(msg)] = expected.get(message_key(msg), 0) + 1
        assert {message_key(m): n for m, n in item["messages"]} == expected, grade_id
        assert sum(n for _, n in item["messages"]) == len(failed)


def test_messages_that_differ_in_numbers_are_grouped():
    a = "AssertionError: strawman_loss(c=0.9216) on 7 random pairs should be 87.776, got 614.432."
    b = "AssertionError: strawman_loss(c=1.5) on 12 random pairs should be -3e-05, got 1e+03."
    c = "AssertionError: strawman_gradient(c=1.5) on 12 random pairs should be 1, got 2."
    assert message_key(a) == message_key(b) != message_key(c)
    assert "strawman_loss" in message_key(a)


def test_item_analysis_shows_the_assertion_messages(report):
    course, out, data = report
    md = (out / "index.md").read_text()
    # the gradient mistake fails test_strawman_gradient_values with an AssertionError whose
    # message is in the table, next to its cell
    err = _autograded_errors(course, "dan")["test_strawman_gradient_values"]
    assert err.startswith("AssertionError: ")
    row = next(line for line in md.splitlines() if "`test_strawman_gradient_values`" in line)
    assert err.replace("|", "\\|")[:60] in row, row
    # the untouched release fails with the stub's NotImplementedError
    assert "NotImplementedError" in md


def test_histogram_and_item_plots_are_pngs(report):
    _, out, _ = report
    for name in (f"{h.ASSIGNMENT}-scores.png", f"{h.ASSIGNMENT}-items.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000, name
        assert f"]({name})" in (out / "index.md").read_text()


def test_scores_and_html_page(report):
    course, out, data = report
    scores = h.scores(h.sqlite_url(course))
    for student, per in scores.items():
        assert data["students"][student]["score"] == pytest.approx(sum(s for s, _ in per.values()))
    assert data["students"]["ben"]["score"] == 0
    page = (out / "index.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page and f'src="{h.ASSIGNMENT}-scores.png"' in page
    assert "<h3>Item analysis</h3>" in page


def test_lateness_is_never_shown_as_zero():
    from nncourse.report import _late

    assert [_late(x) for x in (0.3, 7.5, 59, 61, 1800, 7200, 3 * 86400)] == [
        "1 s", "8 s", "59 s", "1 min", "30 min", "2.0 h", "3.0 days"]
