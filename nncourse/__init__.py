"""Instructor tooling for the course: every course step over nbgrader, at class scale.

Run it from the repository root as ``python -m nncourse <step>`` (the ``make`` targets of
the course steps call it); ``python -m nncourse --help`` lists the steps. It is not part of
``nnlib`` and not in its wheel: students never import it.

Modules:

* :mod:`nncourse.course`    the course root, its nbgrader configuration and gradebook;
* :mod:`nncourse.autograde` parallel autograding that loses no submission;
* :mod:`nncourse.sandbox`   :func:`~nncourse.sandbox.run_grader`, the one place where
  grading processes (which run student code) are started;
* :mod:`nncourse.report`    the grade report (histograms, item analysis, late and missing);
* :mod:`nncourse.cli`       the command line.
"""
