"""argparse pieces shared by the command modules."""

from __future__ import annotations

import argparse
from typing import NoReturn, TypeVar

from keynet_train.errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of exiting, so tests stay in-process."""

    def error(self, message: str) -> NoReturn:
        """Raise a usage error (exit status 2) instead of printing and exiting.

        Raises:
            UsageError: always.
        """
        raise UsageError(f"{self.prog}: {message}", f"Run '{self.prog} --help' for usage.")


ParserT = TypeVar("ParserT", bound=argparse.ArgumentParser)


def add_command(
    sub: argparse._SubParsersAction[ParserT],
    name: str,
    *,
    help: str,
    description: str,
    epilog: str,
) -> ParserT:
    """Add a sub-command whose help keeps the example layout of ``epilog``."""
    return sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
