"""Catalogue of wrong (MUTANTS) and correct-but-different (HONEST) submissions, one module per assignment.

Each ``a<NN>_<topic>.py`` module defines ``ASSIGNMENT``, ``NOTEBOOK``, ``MUTANTS`` and
``HONEST``; ``tests/test_grading_scores.py`` autogrades every entry with nbgrader and
checks its score (see ``tests/grading/harness.py``).
"""
