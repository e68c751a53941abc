"""The grade report: per assignment, the scores' histogram and an item analysis, from the gradebook.

``python -m nncourse report`` (``make report``) writes ``report/index.md`` and
``report/index.html`` with PNG plots beside them. For each assignment:

* the class: students in the gradebook, submissions, autograded ones, students without a
  submission (0 points, listed), late submissions with their lateness and penalty;
* a histogram of the scores (after the late penalty; students without a submission at 0);
* an item analysis: for each autograded test cell, how many graded submissions failed it
  and the failure messages, taken from the ``AssertionError: ...`` (or other error) lines
  of the autograded notebooks' outputs, the most common first;
* the written answers graded by hand: their mean and how many still need grading;
* submissions that need attention: missing or extra notebooks, not yet autograded.

Scores come from :class:`nbgrader.api.Gradebook`; messages from ``autograded/``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .course import Course

TOP_MESSAGES = 3


@dataclass
class StudentRow:
    student: str
    status: str               # "graded", "not autograded", "no submission"
    raw: float = 0.0
    penalty: float = 0.0
    seconds_late: float = 0.0
    timestamp: dt.datetime | None = None
    needs_manual: bool = False
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        """The score after the late penalty (what ``nbgrader export`` calls score)."""
        return max(0.0, self.raw - self.penalty)


@dataclass
class Item:
    """One graded cell of the assignment and how the class did on it."""

    notebook: str
    grade_id: str
    max_score: float
    manual: bool                      # graded by hand (a written answer)
    graded: int = 0                   # submissions with a score for it
    failed: int = 0                   # ... that lost points on it
    still_to_grade: int = 0           # manual cells: submissions still to grade by hand
    total: float = 0.0                # sum of the scores
    messages: Counter = field(default_factory=Counter)   # message_key -> failing submissions
    examples: dict = field(default_factory=dict)         # message_key -> the first such message

    def add_message(self, message: str) -> None:
        key = message_key(message)
        self.messages[key] += 1
        self.examples.setdefault(key, message)

    def top_messages(self, n: int | None = None) -> list[tuple[str, int]]:
        """(an example message, how many submissions failed with a message like it), most common first."""
        return [(self.examples[k], c) for k, c in self.messages.most_common(n)]

    @property
    def share_failed(self) -> float:
        return self.failed / self.graded if self.graded else 0.0

    @property
    def mean(self) -> float:
        return self.total / self.graded if self.graded else 0.0


@dataclass
class AssignmentReport:
    assignment: str
    duedate: dt.datetime | None
    max_score: float
    rows: dict[str, StudentRow]
    items: list[Item]
    notebooks: list[str] = field(default_factory=list)
    not_in_gradebook: list[str] = field(default_factory=list)   # gradable submitted/ folders not autograded yet

    def with_status(self, status: str) -> list[StudentRow]:
        return [r for s, r in sorted(self.rows.items()) if r.status == status]

    @property
    def submitted(self) -> list[StudentRow]:
        return [r for s, r in sorted(self.rows.items()) if r.status != "no submission"]

    @property
    def late(self) -> list[StudentRow]:
        return [r for r in self.submitted if r.seconds_late > 0]

    @property
    def scores(self) -> list[float]:
        return [r.score for _, r in sorted(self.rows.items())]

    def to_dict(self) -> dict:
        return {
            "assignment": self.assignment,
            "duedate": self.duedate.isoformat() if self.duedate else None,
            "max_score": self.max_score,
            "students": {s: {"status": r.status, "raw": r.raw, "penalty": r.penalty, "score": r.score,
                             "seconds_late": r.seconds_late, "needs_manual": r.needs_manual,
                             "missing": r.missing, "extra": r.extra} for s, r in sorted(self.rows.items())},
            "items": [{"notebook": i.notebook, "grade_id": i.grade_id, "max_score": i.max_score,
                       "manual": i.manual, "graded": i.graded, "failed": i.failed,
                       "still_to_grade": i.still_to_grade, "mean": i.mean,
                       "messages": i.top_messages()} for i in self.items],
            "not_in_gradebook": self.not_in_gradebook,
        }


# ------------------------------------------------------------------ collecting
def _error_message(output) -> str:
    """``AssertionError: the message`` of an error output, on one line."""
    ename = output.get("ename") or "Error"
    evalue = " ".join(str(output.get("evalue") or "").split())
    text = f"{ename}: {evalue}" if evalue else ename
    return text if len(text) <= 400 else text[:397] + "..."


_NUMBER = re.compile(r"(?<![\w.])[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def message_key(message: str) -> str:
    """A message with its numbers replaced by ``#``: the same mistake with other values groups together.

    ``strawman_loss(c=0.92) on 7 random pairs should be 87.7, got 614.4`` and the same
    message with other random values are one failure in the item analysis.
    """
    return _NUMBER.sub("#", message)


def failure_messages(notebook_path: Path) -> dict[str, list[str]]:
    """grade_id -> the error messages of that cell in an autograded notebook."""
    import nbformat

    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
    except (OSError, ValueError):
        return {}
    out: dict[str, list[str]] = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if not grade_id:
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.setdefault(grade_id, []).append(_error_message(o))
    return out


def _cell_order(source_notebook: Path) -> dict[str, int]:
    """grade_id -> position of the cell in the assignment's source notebook (empty if it is not there)."""
    import nbformat

    try:
        nb = nbformat.read(str(source_notebook), as_version=4)
    except (OSError, ValueError):
        return {}
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells]
    return {g: i for i, g in enumerate(ids) if g}


def assignment_report(course: Course, gb, assignment: str) -> AssignmentReport:
    """Collect the report's numbers for one assignment from an open gradebook ``gb``."""
    a = gb.find_assignment(assignment)
    items: dict[tuple[str, str], Item] = {}
    expected = []
    for nb in a.notebooks:
        expected.append(nb.name)
        solution = {c.name for c in nb.solution_cells}
        order = _cell_order(course.folder("source", ".", assignment) / f"{nb.name}.ipynb")
        for cell in sorted([*nb.grade_cells, *nb.task_cells], key=lambda c: (order.get(c.name, len(order)), c.name)):
            manual = cell.cell_type == "markdown" or cell.name in solution or cell in nb.task_cells
            items[(nb.name, cell.name)] = Item(nb.name, cell.name, float(cell.max_score), manual)

    rows: dict[str, StudentRow] = {s.id: StudentRow(s.id, "no submission") for s in gb.students}
    for sub in a.submissions:
        s = sub.student.id
        autograded_dir = course.folder("autograded", s, assignment)
        nbs = course.submitted_notebooks(assignment, s, expected)
        row = StudentRow(s, "graded", raw=float(sub.score or 0.0),
                         penalty=float(sub.late_submission_penalty or 0.0),
                         seconds_late=float(sub.total_seconds_late or 0.0), timestamp=sub.timestamp,
                         needs_manual=bool(sub.needs_manual_grade), missing=nbs.missing, extra=nbs.extra)
        rows[s] = row
        autograded_any = False
        for snb in sub.notebooks:
            path = autograded_dir / f"{snb.name}.ipynb"
            handed_in = snb.name in nbs.present
            if handed_in and not path.is_file():
                continue  # not (successfully) autograded: its grades are not scores yet
            autograded_any = autograded_any or handed_in
            messages = None
            for grade in snb.grades:
                item = items.get((snb.name, grade.name))
                if item is None:
                    continue
                if item.manual:
                    if handed_in:
                        item.graded += 1
                        item.total += float(grade.score or 0.0)
                        item.still_to_grade += bool(grade.needs_manual_grade)
                    continue
                if grade.auto_score is None:
                    continue
                item.graded += 1
                item.total += float(grade.score or 0.0)
                if float(grade.score or 0.0) < item.max_score:
                    item.failed += 1
                    if not handed_in:
                        item.add_message(f"(notebook {snb.name}.ipynb not handed in)")
                        continue
                    if messages is None:
                        messages = failure_messages(path)
                    for m in dict.fromkeys(messages.get(grade.name) or ["(no error message: partial credit)"]):
                        item.add_message(m)
        if not autograded_any:
            row.status = "not autograded"
    # folders in submitted/ that nbgrader has not autograded (new, or without a notebook to grade)
    not_in_gb = []
    for s in course.submitted_students(assignment):
        if s not in rows or rows[s].status == "no submission":
            nbs = course.submitted_notebooks(assignment, s, expected)
            rows[s] = StudentRow(s, "not autograded", missing=nbs.missing, extra=nbs.extra)
            if nbs.gradable:
                not_in_gb.append(s)
    return AssignmentReport(assignment, a.duedate, float(a.max_score or 0.0), rows,
                            list(items.values()), expected, not_in_gb)


def collect(course: Course, assignments: list[str] | None = None) -> list[AssignmentReport]:
    """One :class:`AssignmentReport` per assignment in the gradebook (or the given ones)."""
    from nbgrader.api import MissingEntry

    out = []
    with course.gradebook() as gb:
        names = assignments or [a.name for a in sorted(gb.assignments, key=lambda a: a.name)]
        for name in names:
            try:
                out.append(assignment_report(course, gb, name))
            except MissingEntry:
                print(f"   report: {name} is not in the gradebook (not released?); skipped")
    return out


# ------------------------------------------------------------------- plotting
def plot_scores(rep: AssignmentReport, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.6), dpi=100)
    ax = fig.add_subplot()
    top = rep.max_score or max(rep.scores or [1.0]) or 1.0
    bins = min(25, max(5, int(round(top))))
    edges = [top * i / bins for i in range(bins + 1)]
    handed = [r.score for r in rep.submitted]
    absent = [0.0 for r in rep.with_status("no submission")]
    ax.hist([handed, absent], bins=edges, stacked=True, color=["#3b6ea8", "#b0b0b0"],
            label=[f"submitted ({len(handed)})", f"no submission ({len(absent)})"], edgecolor="white")
    ax.set_xlim(0, top)
    ax.set_xlabel(f"score (of {top:g} points, after late penalties)")
    ax.set_ylabel("students")
    ax.set_title(f"{rep.assignment}: scores")
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    fig.savefig(path)


def plot_items(rep: AssignmentReport, path: Path) -> bool:
    from matplotlib.figure import Figure

    tests = [i for i in rep.items if not i.manual]
    if not tests:
        return False
    fig = Figure(figsize=(6.4, 0.9 + 0.32 * len(tests)), dpi=100)
    ax = fig.add_subplot()
    labels = [i.grade_id for i in tests][::-1]
    shares = [100 * i.share_failed for i in tests][::-1]
    ax.barh(labels, shares, color="#c8553d")
    ax.set_xlim(0, 100)
    ax.set_xlabel("graded submissions that failed the test (%)")
    ax.set_title(f"{rep.assignment}: item analysis")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return True


# ------------------------------------------------------------------- writing
def _md(text) -> str:
    """Text for a Markdown table cell."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def _late(seconds: float) -> str:
    """How late, in the unit that keeps the figure readable (never "0 min" for a late one)."""
    if seconds < 59.5:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _stats(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.mean(values):.1f} / {statistics.median(values):.1f}"


def render_markdown(course: Course, reports: list[AssignmentReport], plots: dict[str, dict[str, str]]) -> str:
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"# Grade report: {course.course_id}", "",
             f"Made {now} from the gradebook and the autograded notebooks of `{course.root}`.", ""]
    if not reports:
        lines += ["No assignment is in the gradebook yet.", ""]
        return "\n".join(lines)
    lines += ["| assignment | due | points | students | submitted | autograded | no submission | late "
              "| mean / median score |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for rep in reports:
        due = rep.duedate.strftime("%Y-%m-%d %H:%M") if rep.duedate else "-"
        lines.append(f"| [{rep.assignment}](#{rep.assignment}) | {due} | {rep.max_score:g} | {len(rep.rows)} "
                     f"| {len(rep.submitted)} | {len(rep.with_status('graded'))} "
                     f"| {len(rep.with_status('no submission'))} | {len(rep.late)} | {_stats(rep.scores)} |")
    lines.append("")
    for rep in reports:
        lines += [f"## {rep.assignment}", ""]
        due = f"due {rep.duedate:%Y-%m-%d %H:%M} (UTC)" if rep.duedate else "no due date"
        lines += [f"{rep.max_score:g} points, {due}. {len(rep.rows)} students in the gradebook, "
                  f"{len(rep.submitted)} submitted, {len(rep.with_status('graded'))} autograded; "
                  f"mean / median score {_stats(rep.scores)} (students without a submission count as 0).", ""]
        if "scores" in plots.get(rep.assignment, {}):
            lines += [f"![Histogram of the scores of {rep.assignment}]({plots[rep.assignment]['scores']})", ""]

        tests = [i for i in rep.items if not i.manual]
        lines += ["### Item analysis", ""]
        if tests:
            lines += ["Each autograded test cell: how many graded submissions lost its points, and why "
                      "(the error messages of the autograded notebooks, the most common first; messages "
                      "that differ only in their numbers count as one, shown by an example).", "",
                      "| notebook | test cell | points | failed | of | share | failure messages (count) |",
                      "|---|---|---:|---:|---:|---:|---|"]
            for i in tests:
                msgs = "<br>".join(f"{_md(m)} ({n})" for m, n in i.top_messages(TOP_MESSAGES))
                others = len(i.messages) - TOP_MESSAGES
                if others > 0:
                    msgs += f"<br>and {others} other message(s)"
                lines.append(f"| {_md(i.notebook)} | `{_md(i.grade_id)}` | {i.max_score:g} | {i.failed} "
                             f"| {i.graded} | {100 * i.share_failed:.0f} % | {msgs or '-'} |")
            lines.append("")
            if "items" in plots.get(rep.assignment, {}):
                lines += [f"![Share of failed submissions per test cell of {rep.assignment}]"
                          f"({plots[rep.assignment]['items']})", ""]
        else:
            lines += ["No autograded test cells.", ""]

        manual = [i for i in rep.items if i.manual]
        if manual:
            lines += ["### Graded by hand", "",
                      "| notebook | cell | points | mean | still to grade |", "|---|---|---:|---:|---:|"]
            for i in manual:
                lines.append(f"| {_md(i.notebook)} | `{_md(i.grade_id)}` | {i.max_score:g} | {i.mean:.2f} "
                             f"| {i.still_to_grade} |")
            lines.append("")

        lines += ["### Late submissions", ""]
        if rep.late:
            lines += ["| student | submitted | late by | raw score | penalty | score |",
                      "|---|---|---:|---:|---:|---:|"]
            for r in rep.late:
                ts = f"{r.timestamp:%Y-%m-%d %H:%M}" if r.timestamp else "-"
                lines.append(f"| {_md(r.student)} | {ts} | {_late(r.seconds_late)} | {r.raw:g} | {r.penalty:g} "
                             f"| {r.score:g} |")
        else:
            lines.append("None." if rep.duedate else "None (the assignment has no due date: "
                         "`python -m nncourse due ASSIGNMENT DATE`).")
        lines.append("")

        absent = rep.with_status("no submission")
        lines += ["### No submission (0 points)", "",
                  (", ".join(_md(r.student) for r in absent) if absent else "None.") + "", ""]

        attention = []
        for r in rep.submitted:
            if r.status == "not autograded" and r.student not in rep.not_in_gradebook:
                why = ("no notebook of the assignment was handed in" if set(r.missing) >= set(rep.notebooks)
                       else "autograding failed")
                attention.append(f"{_md(r.student)}: not autograded ({why}); 0 points")
            if r.missing and r.status != "not autograded":
                attention.append(f"{_md(r.student)}: missing notebook(s) "
                                 f"{', '.join(_md(n) + '.ipynb' for n in r.missing)} (0 points for them)")
            if r.extra:
                attention.append(f"{_md(r.student)}: extra notebook(s) "
                                 f"{', '.join(_md(n) + '.ipynb' for n in r.extra)} (not graded)")
        for s in rep.not_in_gradebook:
            attention.append(f"{_md(s)}: submitted, but not autograded yet (`python -m nncourse autograde "
                             f"{rep.assignment}`)")
        still = [r.student for r in rep.submitted if r.needs_manual and r.status == "graded"]
        if still:
            attention.append(f"{len(still)} submission(s) still need grading by hand (nbgrader formgrader)")
        lines += ["### Needs attention", ""]
        lines += [f"- {a}" for a in attention] if attention else ["Nothing."]
        lines.append("")
    return "\n".join(lines)


CSS = """body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.25em .6em;vertical-align:top}
th{background:#f2f2f2}code{font-size:90%}img{max-width:100%}"""


def markdown_to_html(text: str, title: str) -> str:
    try:
        import mistune

        body = mistune.create_markdown(plugins=["table"], escape=False)(text)
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - mistune missing or too old
        body = f"<pre>{html.escape(text)}</pre>"
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def write_report(course: Course, out: Path, assignments: list[str] | None = None) -> Path:
    """Write ``out/index.md``, ``out/index.html``, ``out/report.json`` and the PNGs; returns the HTML path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reports = collect(course, assignments)
    plots: dict[str, dict[str, str]] = {}
    for rep in reports:
        plots[rep.assignment] = {}
        name = f"{rep.assignment}-scores.png"
        plot_scores(rep, out / name)
        plots[rep.assignment]["scores"] = name
        name = f"{rep.assignment}-items.png"
        if plot_items(rep, out / name):
            plots[rep.assignment]["items"] = name
    text = render_markdown(course, reports, plots)
    (out / "index.md").write_text(text, encoding="utf-8")
    (out / "index.html").write_text(markdown_to_html(text, f"Grade report: {course.course_id}"), encoding="utf-8")
    (out / "report.json").write_text(json.dumps([r.to_dict() for r in reports], indent=1) + "\n", encoding="utf-8")
    return out / "index.html"
