"""Our own configurator in the nanoGPT style, run with exec() by globals_* fixtures.

Each ``--key=value`` replaces the global ``key`` with ``literal_eval(value)``
(a bare string when that fails), after checking that the global exists and
keeps its type. A word without ``--`` names a Python file that is run to set
several globals at once.
"""

import sys
from ast import literal_eval

for arg in sys.argv[1:]:
    if not arg.startswith("--"):
        with open(arg, encoding="utf-8") as handle:
            exec(handle.read())
        continue
    key, sep, text = arg[2:].partition("=")
    if not sep:
        raise SystemExit(f"configurator: write --{key}=VALUE")
    if key not in globals():
        raise SystemExit(f"configurator: unknown option --{key}")
    try:
        value = literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if type(value) is not type(globals()[key]):
        raise SystemExit(f"configurator: --{key} expects {type(globals()[key]).__name__}")
    globals()[key] = value
