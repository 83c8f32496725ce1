"""The record every family module exports (``FAMILY``): what the rest of extraction may know.

``select`` picks the parser and asks its family for the arguments; the loader
asks which modules are never read; the platform-command check, the reference
rendering (``render.py``) and inspect's spelling column ask how the family's
parser reads a command line. Nothing outside ``families/`` names a
family's classes.

A ``NamedTuple``, not a dataclass: ``inspect`` of an argparse script must not
import ``dataclasses`` (docs/development.md, "Start-up").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from keynet_train.extraction.interpreter import Interpreter, RefHandler
    from keynet_train.extraction.model import Argument, ParserType


class Site(NamedTuple):
    """Where the script parses its command line: a line, and the file (None: the entrypoint)."""

    line: int
    path: str | None


#: ``arguments(interp, target, command, site)``: the arguments of ``target``;
#: with ``command`` (a sub-command's name) the parent's options (scope ``global``)
#: followed by the sub-command's. Raises nothing.
Arguments = Callable[["Interpreter", Any, "str | None", Site], "list[Argument]"]


def listed_only(option: str, argument: Argument) -> bool:
    """A parser that accepts only the option strings it lists (see :attr:`CommandHints.accepts`)."""
    return False


class CommandHints(NamedTuple):
    """How a family's parser reads the platform's command, and how to fix a declaration.

    Used by the training-command check (``extraction/command_check.py``) and
    its fixes (``extraction/platform.py``); docs/platform-command.md. The
    ``*_fix`` texts are ``str.format`` templates: ``{option}`` the spelling the
    platform writes, ``{first}`` the script's first option string, ``{bare}``
    the option without its dashes, ``{command}`` a sub-command's name.
    """

    #: How to make the script accept ``{option}`` for an argument (a sentence).
    spelling_fix: str
    #: The same for a bool argument.
    bool_spelling_fix: str
    #: Flag options take no value (``--amp``, never ``--amp True``).
    bare_flags: bool = False
    #: argparse's reading: unique prefixes of long options are accepted, and a
    #: value starting with '-' after an option is read as another option.
    argparse_rules: bool = False
    #: Only ``--key=VALUE`` is read, never ``--key VALUE`` (the globals configurator).
    equals_only: bool = False
    #: Values are read as Python literals and written joined, ``--name=VALUE`` (a
    #: nanoGPT configurator reads nothing else; fire's documented spelling).
    literal_values: bool = False
    #: Spellings the parser accepts without listing them as option strings.
    accepts: Callable[[str, Argument], bool] = listed_only
    #: How to declare a bool that takes a value (``--amp False``); None: no such fix known.
    value_bool_fix: str | None = None
    #: How to declare ``{option}`` as an option (for a positional argument).
    option_fix: str = "add_argument({option!r}, ...)"
    #: How to train with sub-command ``{command}`` when the platform writes none.
    command_fix: str = "push an entry script that runs {command!r} directly"
    #: The fix of a spelling the platform's command cannot change (None: ``spelling_fix``).
    platform_spelling_fix: str | None = None


def another_spelling(declaration: str) -> str:
    """The fix "add the platform's spelling to the option", shown as ``declaration``."""
    return f"Add {{option}} as another option string of that argument ({declaration})"


def on_off_pair(declaration: str) -> str:
    """The fix "make the bool an on/off pair that accepts the spelling", as ``declaration``."""
    return f"Declare it as an on/off pair that accepts {{option}} ({declaration})"


def no_parts(target: object) -> Sequence[object]:
    """A target made of nothing else (see :attr:`Family.parts`)."""
    return []


def no_size(target: object) -> int:
    """A target whose size is not counted (see :attr:`Family.size`)."""
    return 0


class Family(NamedTuple):
    """One CLI library the extractor models (docs/extraction-rules.md, "Families")."""

    #: The ``parser_type`` of the result (the library's name as ``--json`` spells it).
    parser_type: ParserType
    #: Qualified names of the library's callables → their models (the interpreter's handlers).
    handlers: Mapping[str, RefHandler]
    #: The classes of the objects the models build that the script may parse with.
    target_types: tuple[type, ...]
    #: The arguments of a target (see :data:`Arguments`).
    arguments: Arguments
    #: The sub-commands a target declares, in declaration order (empty: none).
    subcommands: Callable[[Any], list[str]]
    #: How its parser reads the platform's command (see :class:`CommandHints`).
    hints: CommandHints
    #: Every name a sub-command is reachable by, aliases included (None: the
    #: sub-commands' own names); see :meth:`accepted_names`.
    command_names: Callable[[Any], set[str]] | None = None
    #: Other candidates that are parts of a target, not rival parsers
    #: (argparse pre-parsers, a click group's commands).
    parts: Callable[[Any], Sequence[object]] = no_parts
    #: How much a target declares: the largest is used when no parse is seen.
    size: Callable[[Any], int] = no_size
    #: Top-level modules of the library the loader never reads from source:
    #: the model stands for them, even when the library is installed.
    never_read: frozenset[str] = frozenset()
    #: Qualified names the models recognise beyond :attr:`handlers` (field
    #: functions, dataclass decorators): they stay as they are when their
    #: library is read for other names.
    modelled_names: frozenset[str] = frozenset()
    #: How messages name the library (None: its ``parser_type``).
    title: str | None = None

    def accepted_names(self, target: object) -> set[str]:
        """Every name a sub-command of ``target`` is reachable by. Raises nothing."""
        if self.command_names is not None:
            return self.command_names(target)
        return set(self.subcommands(target))


def describe(interp: Interpreter, target: object) -> str:
    """``the argparse parser defined at line 3`` (or ``at lib/cli.py:3``), for notes."""
    kind = getattr(target, "parser_type", "?")
    path = defined_in(target)
    where = f"{path}:" if path and path != interp.entry_path else "line "
    return f"the {kind} parser defined at {where}{defined_at(target)}"


def defined_at(target: object) -> int:
    """The line ``target`` was created at."""
    return int(getattr(target, "line", 1))


def defined_in(target: object) -> str | None:
    """The file ``target`` was created in (None: the one being read)."""
    return str(getattr(target, "defined_in", "")) or None
