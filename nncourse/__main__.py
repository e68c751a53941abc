"""``python -m nncourse <step>``: see :mod:`nncourse.cli`."""

import gc

from .cli import main

code = main()
# nbgrader's imports leave a large object graph whose final garbage collection takes
# seconds at exit; nothing in it needs finalizing
gc.freeze()
raise SystemExit(code)
