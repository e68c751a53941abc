"""nbgrader configuration of the course *Neural Networks: Part I* (course id ``nn-part1``).

nbgrader reads this file when it runs in the directory that holds it (the course root).
The folders, relative to the course root:

=================  ===========================================================  =========
folder             what                                                         in git
=================  ===========================================================  =========
``solutions/``     source notebooks: solutions, public and hidden tests         yes
``exercises/``     what ``nbgrader generate_assignment`` makes from solutions/  yes
``submitted/``     collected student submissions                                no
``autograded/``    executed and graded submissions (they contain hidden tests)  no
``feedback/``      HTML feedback for the students (hidden tests removed)        no
``gradebook.db``   the SQLite gradebook                                         no
``.exchange/``     the default exchange folder (see below)                      no
=================  ===========================================================  =========

Every option can also be set on the command line, for instance
``nbgrader autograde 02-strawman --CourseDirectory.root=/tmp/course``.
"""

import os
import re

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor, Preprocessor
from nbgrader.preprocessors import GetGrades
from traitlets import Bool

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

ROOT = os.path.dirname(os.path.abspath(__file__))

# ------------------------------------------------------------------ the course
c.CourseDirectory.course_id = "nn-part1"
c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# left at nbgrader's defaults: submitted_directory = "submitted",
# autograded_directory = "autograded", feedback_directory = "feedback"
# The gradebook: SQLite in the course root, or the database that NBGRADER_DB_URL names, for
# instance postgresql+psycopg2://grader@db.example.org/nn_part1, which several graders share
# (README, "Several graders").
c.CourseDirectory.db_url = (os.environ.get("NBGRADER_DB_URL")
                            or "sqlite:///" + os.path.join(ROOT, "gradebook.db"))

# ------------------------------------------------------- generating assignments
# what a student sees in place of the solution code
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# ------------------------------------------------------------------ autograding
# Per-cell timeout in seconds: an infinite loop in a student's function costs the points
# of the test cell that called it, and the kernel is interrupted so that the next cells
# (and the next students) still run.
c.ExecutePreprocessor.timeout = 30
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True
# keep a student's runaway print loop from bloating the gradebook and the feedback
c.LimitOutput.max_lines = 200

# Untrusted code (README, "Autograding untrusted code"): nncourse.guard replaces nbgrader's
# Execute with GuardedExecute, whose kernels run in nncourse.sandbox (another uid, no network,
# resource limits) and whose probes catch tampering with numpy, nnlib, builtins or the kernel;
# NormalizeSubmission repairs the nbgrader cells of a submission and says what it changed.
# nncourse sits next to nnlib in the repository (a course root made elsewhere, such as the
# test harness's, finds it through the installed nnlib).
_NNCOURSE_ERROR = None
try:
    import importlib.util
    import sys

    _spec = importlib.util.find_spec("nnlib")
    for _folder in (ROOT, os.path.dirname(os.path.dirname(_spec.origin)) if _spec and _spec.origin else None):
        if _folder and os.path.isfile(os.path.join(_folder, "nncourse", "guard.py")) and _folder not in sys.path:
            sys.path.append(_folder)
            break
    from nbgrader.preprocessors import Execute, OverwriteCells
    from nncourse.guard import GuardedExecute, NormalizeSubmission, RedactHiddenTests
except ImportError as exc:  # the stock pipeline, loudly
    _NNCOURSE_ERROR = exc
    print(f"nbgrader_config.py: WARNING: nncourse.guard is not importable ({exc}); autograding runs "
          "student code WITHOUT the sandbox and the tampering checks", file=sys.stderr)
else:
    from nbgrader.converters.autograde import Autograde as _Autograde

    _defaults = _Autograde.class_traits()
    _sanitize = list(_defaults["sanitize_preprocessors"].default())
    _sanitize.insert(_sanitize.index(OverwriteCells) - 2, NormalizeSubmission)  # before DeduplicateIds
    c.Autograde.sanitize_preprocessors = _sanitize
    c.Autograde.autograde_preprocessors = [GuardedExecute if p is Execute else p
                                           for p in _defaults["autograde_preprocessors"].default()]
    # grades.csv quoted as CSV (a name with a comma in it), scores rounded: nncourse/export.py
    c.ExportApp.plugin_class = "nncourse.export.GradesCsv"


# ------------------------------------------------------- the students' self-check
# `nbgrader validate` (README, "For students") cuts every line it prints at Validator.width
# characters, and with it the end of a failing test's message, where it says which section
# of the book to read. Long lines are wrapped instead (nbgrader has no option for that).
def _wrapped(self, val: str) -> str:
    import textwrap

    from nbconvert.filters import strip_ansi

    lines = []
    for line in val.split("\n"):
        line = self.indent + strip_ansi(line)
        if len(line) <= self.width:
            lines.append(line)
        else:
            lines += textwrap.wrap(line, self.width, subsequent_indent=self.indent + "    ",
                                   replace_whitespace=False, break_on_hyphens=False)
    return "\n".join(lines)


try:
    from nbgrader.validator import Validator as _Validator
except ImportError:  # pragma: no cover - nbgrader moved it; validate keeps its own cut
    pass
else:
    if hasattr(_Validator, "_indent"):
        _Validator._indent = _wrapped


# --------------------------------------------------------------------- feedback
class HideHiddenTests(Preprocessor):
    """Remove the hidden tests, and the traceback lines that would quote them, from feedback.

    The autograded notebooks hold the full test cells, hidden tests included. The
    feedback a student receives keeps each test's message (``AssertionError: ...``),
    which says what is wrong and which book section to read, but neither the code of
    the hidden tests nor a traceback that quotes it.
    """

    enabled = Bool(True, help="Whether to remove hidden tests from the feedback").tag(config=True)

    begin = re.compile(r"^\s*### BEGIN HIDDEN TESTS")
    end = re.compile(r"^\s*### END HIDDEN TESTS")

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or "BEGIN HIDDEN TESTS" not in cell.source:
            return cell, resources
        kept, hidden = [], False
        for line in cell.source.splitlines():
            if self.begin.match(line):
                hidden = True
                kept.append(line[: len(line) - len(line.lstrip())] + "# (hidden tests, run by the grader)")
            elif self.end.match(line):
                hidden = False
            elif not hidden:
                kept.append(line)
        cell.source = "\n".join(kept)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
if _NNCOURSE_ERROR is None:
    # hidden tests that student code captured and printed are cut out of every output
    c.GenerateFeedback.preprocessors = [GetGrades, RedactHiddenTests, HideHiddenTests, CSSHTMLHeaderPreprocessor]

# --------------------------------------------------------------------- exchange
# The exchange is the folder through which `nbgrader release_assignment`, `fetch_assignment`,
# `submit`, `collect`, `release_feedback` and `fetch_feedback` pass files. nbgrader's
# default, /usr/local/share/nbgrader/exchange, needs root to create; here it is the folder
# named by the environment variable NBGRADER_EXCHANGE, or .exchange/ in the course root.
# On a shared JupyterHub, point NBGRADER_EXCHANGE at a folder every user can write.
# Left at nbgrader's defaults: Exchange.cache (the student's record of submissions,
# $JUPYTER_DATA_DIR/nbgrader_cache), Exchange.path_includes_course = False (fetched
# assignments land in ./<assignment>), ExchangeSubmit.add_random_string = True.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE") or os.path.join(ROOT, ".exchange")
try:
    os.makedirs(c.Exchange.root, exist_ok=True)  # nbgrader requires it to exist already
except OSError:
    pass  # nbgrader's exchange commands then say that the folder is not writable

# ---------------------------------------------------------------- LMS downloads
# `make zip-collect ZIP_DIR=...`: files downloaded from a learning-management system,
# in ZIP_DIR/<assignment>/archive/, loose or in zip files, named
# <student_id>_<notebook>.ipynb (for instance alice_strawman.ipynb); the student id has
# no underscore.
c.ZipCollectApp.archive_directory = "archive"
c.ZipCollectApp.extracted_directory = "extracted"
c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^/_]+)_(?P<file_id>[^/]+\.ipynb)$"
