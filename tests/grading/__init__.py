"""Helpers that grade homework submissions with the real nbgrader (see ``harness.py``)."""
