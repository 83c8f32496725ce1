"""argparse pieces shared by the command modules.

Conventions every command gets from here (docs/platform-contract.md): no abbreviated options
(``allow_abbrev=False``: a new flag must never change what an old script
meant), the global flags accepted after the sub-command too, "did you mean"
for a mistyped command or option, and help text wrapped to the terminal while
example blocks keep their layout.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
from collections.abc import Iterable

from keynet_train.errors import UsageError

# Annotations only (typing costs ~5 ms of every start); mypy reads this as True.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, NoReturn, TypeVar

    ParserT = TypeVar("ParserT", bound=argparse.ArgumentParser)

# Compiled on a usage error only: every start-up pays for a module-level compile.
_INVALID_CHOICE = r"invalid choice: '?([^'\s]+)'?"


class HelpFormatter(argparse.HelpFormatter):
    """Wraps prose paragraphs to the terminal; keeps indented example blocks verbatim.

    A paragraph (text between blank lines) whose continuation lines are
    indented is an example or a list: it is printed as written. Every other
    paragraph is re-flowed, so long descriptions do not run off a narrow
    terminal.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        # argparse would import shutil for the terminal width (with bz2, lzma
        # and fnmatch: ~8 ms), and it builds a formatter for every add_argument.
        super().__init__(prog, indent_increment, max_help_position, width or _help_width())

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = text.strip("\n").split("\n\n")
        out = []
        for paragraph in paragraphs:
            lines = paragraph.splitlines()
            if any(line[:1].isspace() for line in lines) or paragraph.rstrip().endswith(":"):
                out.append("\n".join(indent + line for line in lines))
            else:
                wrapped = wrap(paragraph, width - len(indent))
                out.append("\n".join(indent + line for line in wrapped))
        return "\n\n".join(out) + "\n"

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(text, width)


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap of ``text`` (whitespace collapsed) into lines of at most ``width``.

    What ``textwrap.wrap`` does for help text, minus breaking at hyphens (an
    option name such as ``--no-cache`` stays on one line). textwrap is not
    used because importing it compiles its word-splitting regexes, ~1 ms of
    every ``--help``. A word longer than ``width`` is cut into pieces, as
    textwrap does, so no line is ever longer than the terminal.
    """
    width = max(width, 1)
    lines: list[str] = []
    line = ""
    for whole in text.split():
        word = whole
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if not word:
            continue
        if not line:
            line = word
        elif len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _help_width() -> int:
    """What argparse uses (``shutil.get_terminal_size().columns - 2``), without shutil."""
    return _width_for(os.environ.get("COLUMNS", ""))


@functools.lru_cache(maxsize=4)
def _width_for(columns_variable: str) -> int:
    # Asked for every add_argument (argparse builds a formatter each time);
    # the terminal's width is looked up once per process and COLUMNS value.
    import sys

    try:
        columns = int(columns_variable or "0")
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(columns - 2, 20)


# argparse translates every label of every parser it builds ("options",
# "show this help message and exit", ...) through gettext, which searches the
# locale directories on each call: ~40% of building our parser tree. The
# answers cannot change within a process, so they are memoised. The console
# entry (keynet_train.cli.entry) gives argparse an identity gettext instead,
# which needs no memo: only the real gettext.gettext is wrapped.
_translate = argparse._  # type: ignore[attr-defined]
if getattr(_translate, "__module__", None) == "gettext" and not hasattr(_translate, "cache_info"):
    argparse._ = functools.lru_cache(maxsize=256)(_translate)  # type: ignore[attr-defined]


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of exiting, so tests stay in-process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", HelpFormatter)
        # add_argument calls held back until this parser is used (see defer_arguments).
        self._deferred: list[tuple[tuple[Any, ...], dict[str, Any]]] | None = None
        super().__init__(*args, **kwargs)

    def defer_arguments(self) -> None:
        """Hold back ``add_argument`` calls until the parser parses or prints help.

        A sub-command's options are needed only when that sub-command runs:
        ``keynet-train --help`` or ``push train.py`` then builds one
        sub-parser's arguments, not all of them (start-up time).
        """
        if self._deferred is None:
            self._deferred = []

    def ensure_arguments(self) -> None:
        """Add the held-back arguments now (idempotent)."""
        deferred, self._deferred = self._deferred, None
        for args, kwargs in deferred or ():
            super().add_argument(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> Any:
        """``argparse``'s add_argument, held back after :meth:`defer_arguments`."""
        if self._deferred is not None:
            self._deferred.append((args, kwargs))
            return None
        return super().add_argument(*args, **kwargs)

    def add_subparsers(self, **kwargs: Any) -> Any:
        """Sub-parsers are added at once; held-back arguments go first, in order."""
        self.ensure_arguments()
        return super().add_subparsers(**kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        """Parse, after adding any held-back arguments."""
        self.ensure_arguments()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        """Help, after adding any held-back arguments."""
        self.ensure_arguments()
        return super().format_help()

    def format_usage(self) -> str:
        """Usage, after adding any held-back arguments."""
        self.ensure_arguments()
        return super().format_usage()

    def error(self, message: str) -> NoReturn:
        """Raise a usage error (exit status 2) instead of printing and exiting.

        A mistyped sub-command gets the closest valid one as its hint.

        Raises:
            UsageError: always.
        """
        hint = f"Run '{self.prog} --help' for usage."
        match = re.search(_INVALID_CHOICE, message)
        if match:
            guess = closest(match.group(1), _command_names(self))
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


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    names: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            names.extend(action.choices)
    return names


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
    sub: argparse._SubParsersAction[ParserT],
    name: str,
    *,
    help: str,
    description: str,
    epilog: str,
) -> ParserT:
    """Add a sub-command that accepts the global flags and wraps its help text."""
    parser = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=HelpFormatter,
    )
    add_global_flags(parser, top_level=False)
    # main() reports leftover arguments with this parser's own usage and options.
    parser.set_defaults(_parser=parser)
    if isinstance(parser, ArgumentParser):
        parser.defer_arguments()
    return parser


def unrecognized_arguments_error(parser: argparse.ArgumentParser, extras: list[str]) -> UsageError:
    """The usage error for arguments ``parser`` (the innermost sub-command) did not take.

    Names the sub-command's ``--help`` and, for a mistyped option such as
    ``--dryrun``, the closest real one.
    """
    hint = f"Run '{parser.prog} --help' for its options."
    if isinstance(parser, ArgumentParser):
        parser.ensure_arguments()
    first = next((e for e in extras if e.startswith("-")), None)
    if first is not None:
        options = [s for a in parser._actions for s in a.option_strings if s.startswith("--")]
        guess = closest(first.split("=", 1)[0], options)
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
