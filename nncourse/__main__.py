"""``python -m nncourse <step>``: see :mod:`nncourse.cli`."""

from .cli import main

raise SystemExit(main())
