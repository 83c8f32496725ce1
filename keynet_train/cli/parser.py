"""argparse pieces shared by the command modules.

Conventions every command gets from here (docs/platform-contract.md): no abbreviated options
(``allow_abbrev=False``: a new flag must never change what an old script
meant), the global flags accepted after the sub-command too, "did you mean"
for a mistyped command or option, and help text wrapped to the terminal while
example blocks keep their layout. Only public argparse API is used; why the
imports here are few is in docs/development.md, "Start-up".
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
from collections.abc import Iterable

from keynet_train.errors import UsageError

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, NoReturn, Protocol

    class Subparsers(Protocol):
        """What ``add_subparsers`` returns, as the command modules use it."""

        def add_parser(
            self,
            name: str,
            *,
            help: str,
            description: str,
            epilog: str,
            formatter_class: type[HelpFormatter],
        ) -> argparse.ArgumentParser: ...


# Compiled on a usage error only.
_INVALID_CHOICE = r"invalid choice: '?([^'\s]+)'?"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter at the terminal's width; descriptions and epilogs as given.

    Descriptions and epilogs arrive already wrapped by :func:`prose`, which
    re-flows paragraphs with :mod:`textwrap` and keeps example blocks as
    written; argparse wraps each option's help itself.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, width or help_width())


def prose(text: str, width: int | None = None) -> str:
    """``text`` with each prose paragraph wrapped to ``width`` (default: the terminal's).

    A paragraph (text between blank lines) whose lines are indented, or that
    ends with ``:``, is an example block or a list heading and is kept as
    written. Option names are never broken at their hyphens.
    """
    width = width or help_width()
    out = []
    for paragraph in text.strip("\n").split("\n\n"):
        lines = paragraph.splitlines()
        if any(line[:1].isspace() for line in lines) or paragraph.rstrip().endswith(":"):
            out.append(paragraph)
        else:
            out.append(textwrap.fill(paragraph, width, break_on_hyphens=False))
    return "\n\n".join(out)


def help_width() -> int:
    """The width help is wrapped to: ``COLUMNS``, else the terminal's width, else 80, minus 2.

    argparse's own default, looked up with :func:`os.get_terminal_size`.
    """
    try:
        columns = int(os.environ.get("COLUMNS", "") or "0")
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(columns - 2, 20)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of exiting, so tests stay in-process.

    It also remembers what was added to it (``arguments``, ``subcommands``,
    ``summary``), so the "did you mean" hints and the completion scripts read
    the tree through these public records rather than argparse's internals.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", HelpFormatter)
        #: Every action added with add_argument, in order (including -h).
        self.arguments: list[argparse.Action] = []
        #: The sub-command action, if add_subparsers was called; its ``choices``
        #: maps each name to its parser.
        self.subcommands: argparse.Action | None = None
        #: The one-line summary this parser was added with as a sub-command.
        self.summary = ""
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """argparse's add_argument; the action is also recorded in ``arguments``."""
        action = super().add_argument(*args, **kwargs)
        self.arguments.append(action)
        return action

    def add_subparsers(self, **kwargs: Any) -> Any:
        """argparse's add_subparsers; the action is also recorded as ``subcommands``."""
        action = super().add_subparsers(**kwargs)
        self.subcommands = action
        return action

    def long_options(self) -> list[str]:
        """Every ``--option`` this parser accepts."""
        return [s for a in self.arguments for s in a.option_strings if s.startswith("--")]

    def command_names(self) -> list[str]:
        """The names of this parser's sub-commands (none: an empty list)."""
        return list(self.subcommands.choices or ()) if self.subcommands is not None else []

    def error(self, message: str) -> NoReturn:
        """Raise a usage error (exit status 2) instead of printing and exiting.

        A mistyped sub-command gets the closest valid one as its hint.

        Raises:
            UsageError: always.
        """
        hint = f"Run '{self.prog} --help' for usage."
        match = re.search(_INVALID_CHOICE, message)
        if match:
            guess = closest(match.group(1), self.command_names())
            if guess:
                # The choice list argparse appends is noise next to a suggestion.
                message = message.split(" (choose from", 1)[0]
                hint = f"Did you mean '{self.prog} {guess}'? " + hint
        raise UsageError(f"{self.prog}: {message}", hint)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``word`` (difflib, cutoff 0.6), or None."""
    import difflib  # only on a usage error: not needed to start up

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def path_arg(text: str) -> Path:
    """argparse ``type=`` for paths; pathlib is imported only when a path is given."""
    from pathlib import Path

    return Path(text)


def add_global_flags(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """``--debug`` and ``--no-color``, on the top parser and again on every sub-command.

    On sub-commands the default is SUPPRESS, so a flag given before the
    sub-command is not reset by the sub-parser's default.
    """
    default: object = False if top_level else argparse.SUPPRESS
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="log HTTP requests/responses (secrets redacted) and show tracebacks",
    )
    parser.add_argument(
        "--no-color",
        action="store_true",
        default=default,
        help="no colours or spinners (also: NO_COLOR=1)",
    )


def add_command(
    sub: Subparsers,
    name: str,
    *,
    help: str | None = None,
    description: str,
    epilog: str,
) -> ArgumentParser:
    """Add a sub-command that accepts the global flags and wraps its help text.

    ``help`` defaults to the command's summary in the command table
    (:data:`keynet_train.cli.commands.COMMANDS`); a nested action (``config
    show``) passes its own.
    """
    if help is None:
        from keynet_train.cli.commands import summary

        help = summary(name)
    parser = sub.add_parser(
        name,
        help=help,
        description=prose(description),
        epilog=prose(epilog),
        formatter_class=HelpFormatter,
    )
    assert isinstance(parser, ArgumentParser), "add_subparsers(parser_class=ArgumentParser)"
    parser.summary = help
    add_global_flags(parser, top_level=False)
    # main() reports leftover arguments with this parser's own usage and options.
    parser.set_defaults(_parser=parser)
    return parser


def unrecognized_arguments_error(parser: argparse.ArgumentParser, extras: list[str]) -> UsageError:
    """The usage error for arguments ``parser`` (the innermost sub-command) did not take.

    Names the sub-command's ``--help`` and, for a mistyped option such as
    ``--dryrun``, the closest real one.
    """
    hint = f"Run '{parser.prog} --help' for its options."
    first = next((e for e in extras if e.startswith("-")), None)
    if first is not None and isinstance(parser, ArgumentParser):
        guess = closest(first.split("=", 1)[0], parser.long_options())
        if guess:
            hint = f"Did you mean {guess}? " + hint
    return UsageError(f"{parser.prog}: unrecognized arguments: {' '.join(extras)}", hint)


def add_python_option(parser: argparse.ArgumentParser) -> None:
    """``--python PATH``: whose installed libraries extraction reads (docs/extraction-rules.md)."""
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="interpreter or virtualenv whose installed libraries are read (never imported) "
        "to resolve imports; default: KEYNET_PYTHON, the project file's python, "
        "VIRTUAL_ENV, then this interpreter",
    )
