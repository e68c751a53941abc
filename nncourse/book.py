"""``python -m nncourse.book build . -W -n --keep-going``: Jupyter Book's own command line
(what the ``jupyter-book`` script runs), a second and a half faster per build.

jsonschema, which Jupyter Book imports to check its configuration, imports the optional
package ``rfc3987_syntax`` when it is installed (jupyter-events asks for it), and that
package compiles 38 Lark grammars when it is imported: about 1.5 s of every build, half of a
warm rebuild with nothing to do. Jupyter Book never validates an IRI, and without the module
jsonschema simply skips that format. ``make book`` and ``benchmarks/bench_book.py`` build
through this module.
"""

import sys


def main() -> int:
    # an entry of None makes `import rfc3987_syntax` raise ImportError, which jsonschema expects
    sys.modules.setdefault("rfc3987_syntax", None)
    from jupyter_book.cli.main import main as jupyter_book

    sys.argv[0] = "jupyter-book"
    return jupyter_book()


if __name__ == "__main__":
    sys.exit(main())
