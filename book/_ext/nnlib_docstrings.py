"""Sphinx extension of the course book: the "Book:" line of nnlib's docstrings.

Most nnlib docstrings end with a line such as ``Book: chapter 5, *Softmax*.`` that names
the section of the book where the object is explained. In NumPy-style docstrings napoleon
would read that line as one more entry of the preceding Returns or Raises section. This
hook runs before napoleon and turns it into a section of its own, "In the book", which
napoleon renders as a rubric (the section is registered in ``napoleon_custom_sections``).
"""

from __future__ import annotations

import re

_BOOK_LINE = re.compile(r"^(\s*)Book:\s*(\S.*)$")
SECTION = "In the book"


def _book_section(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _BOOK_LINE.match(line)
        if match and (i == 0 or not lines[i - 1].strip()):
            indent, text = match.groups()
            lines[i:i + 1] = [indent + SECTION, indent + "-" * len(SECTION), indent + text]
            return


def setup(app):
    # napoleon handles autodoc-process-docstring at the default priority 500
    app.connect("autodoc-process-docstring", _book_section, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
