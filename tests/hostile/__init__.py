"""Broken and hostile submissions, graded by tests/test_hostile.py (see cases.py)."""
