"""The console entry point: ``--version`` is answered before argparse or the CLI is imported.

Everything else goes to :func:`keynet_train.cli.main.run`.
"""

from __future__ import annotations

import sys

# Annotations only (typing costs ~5 ms of every start); mypy reads this as True.
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
    _import_argparse_without_gettext()
    from keynet_train.cli.main import run as run_cli

    run_cli()


def _import_argparse_without_gettext() -> None:
    """Import argparse with an identity ``gettext``, so gettext and locale are not loaded.

    argparse passes every label through ``gettext.gettext`` in the
    ``messages`` domain, which no distribution ships a translation for: the
    answer is always the English text. Importing gettext (which loads
    ``locale`` and compiles two regexes on first use) cost ~1.5 ms of every
    ``--help``. The stand-in is visible to argparse alone: it is removed
    from ``sys.modules`` straight after, so any later ``import gettext``
    gets the real module.
    """
    if "argparse" in sys.modules or "gettext" in sys.modules:
        return
    stand_in = type(sys)("gettext")
    stand_in.gettext = lambda message: message  # type: ignore[attr-defined]
    stand_in.ngettext = lambda one, many, n: one if n == 1 else many  # type: ignore[attr-defined]
    sys.modules["gettext"] = stand_in
    try:
        import argparse  # noqa: F401 - imported for its side effect on sys.modules
    finally:
        del sys.modules["gettext"]
