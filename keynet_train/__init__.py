"""keynet-train: ship training code to the KeyNet training platform."""

import sys as _sys

__version__ = "0.1.0"

# httpx's package __init__ imports its optional command-line tool, which pulls
# in click, rich and pygments whenever they are installed: ~120 ms on every
# command that talks HTTP, for a feature we never use. A None entry makes that
# one import fail, and httpx then falls back to a stub `httpx.main` (its own,
# documented behaviour when the CLI extra is missing). Skipped if httpx is
# already imported, so nothing changes for a host application that uses it.
if "httpx" not in _sys.modules:
    _sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
