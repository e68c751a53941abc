"""Sphinx extension of the course book: author-year labels in the list of references.

The chapters cite in author-year form ("Rumelhart et al. [1986]", "[Baldi et al., 2014]"),
but pybtex's styles label the list of references with abbreviations ("[RHW86]"), which a
reader cannot match with the citations. This extension registers the pybtex style
``authoryear``: the alpha style (entries sorted by author, year and title) whose labels are
"Cybenko, 1989", "Minsky and Papert, 1969", "Baldi et al., 2014", with a, b, ... after the
year when two works share a label. ``_config.yml`` selects it with ``bibtex_default_style``.
"""

from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    return " ".join(str(part.render_as("text")) for part in (*person.rich_prelast_names, *person.rich_last_names))


def author_year(entry) -> str:
    """The label of one entry: its authors' (or editors') surnames and its year."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(p) for p in people]
    if not names:
        who = entry.fields.get("title", entry.key)
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [author_year(e) for e in entries]
        shared = Counter(labels)
        seen: Counter = Counter()
        for label in labels:
            if shared[label] > 1:
                seen[label] += 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label


class AuthorYearStyle(AlphaStyle):
    default_label_style = "authoryear"


register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabels)
register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
