"""The console entry point: ``--version`` is answered before argparse or the CLI is imported.

Everything else goes to :func:`keynet_train.cli.main.run` (docs/development.md, "Start-up").
"""

from __future__ import annotations

import sys

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def run() -> NoReturn:
    """``keynet-train``: a fast path for exactly ``--version``, else the full CLI."""
    if sys.argv[1:] == ["--version"]:
        from keynet_train import __version__

        sys.stdout.write(f"keynet-train {__version__}\n")
        sys.stdout.flush()
        sys.exit(0)
    from keynet_train.cli.main import run as run_cli

    run_cli()
