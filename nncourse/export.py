"""``grades.csv``: nbgrader's export, written as a CSV file that every spreadsheet reads back.

nbgrader's own ``CsvExportPlugin`` joins the fields with commas and quotes nothing, so a name
with a comma in it (``"Silva, Jr."``, as a class list from a spreadsheet may hold) shifts that
student's scores into the wrong columns. :class:`GradesCsv` writes the same columns and rows
with Python's :mod:`csv` (quoting such fields), in UTF-8, and rounds the scores to six
decimals (``0.3``, not ``0.30000000000000004``). Due dates and time stamps are in UTC, as the
gradebook stores them.

``nbgrader_config.py`` makes it the exporter of ``nbgrader export`` (``make grades``).
"""

from __future__ import annotations

import csv

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin

COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
           "raw_score", "late_submission_penalty", "score", "max_score"]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6) + 0.0)          # + 0.0: no "-0.0"
    return str(value)


class GradesCsv(ExportPlugin):
    """One row per student and assignment, as nbgrader's ``CsvExportPlugin``: a student without a
    submission scores 0 with an empty time stamp; score = max(0, raw_score - penalty)."""

    def export(self, gradebook) -> None:
        dest = self.to or "grades.csv"
        students = {str(s) for s in self.student}
        assignments = {str(a) for a in self.assignment}
        self.log.info("Exporting grades to %s", dest)
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for assignment in gradebook.assignments:
                if assignments and assignment.name not in assignments:
                    continue
                for student in gradebook.students:
                    if students and student.id not in students:
                        continue
                    try:
                        sub = gradebook.find_submission(assignment.name, student.id)
                    except MissingEntry:
                        timestamp, raw, penalty = None, 0.0, 0.0
                    else:
                        timestamp = sub.timestamp
                        raw, penalty = float(sub.score), float(sub.late_submission_penalty or 0.0)
                    row = {"assignment": assignment.name, "duedate": assignment.duedate,
                           "timestamp": timestamp, "student_id": student.id,
                           "last_name": student.last_name, "first_name": student.first_name,
                           "email": student.email, "raw_score": raw, "late_submission_penalty": penalty,
                           "score": max(0.0, raw - penalty), "max_score": float(assignment.max_score)}
                    writer.writerow([_cell(row[k]) for k in COLUMNS])
