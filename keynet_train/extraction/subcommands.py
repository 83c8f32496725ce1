"""Sub-commands: which one to train with, and its options plus the parent's.

The rule is in docs/extraction-rules.md, "Which arguments belong to the parser".

argparse ``add_subparsers``, click groups and multi-command typer apps all
build a parent whose own options come before the sub-command name, and one
set of options per sub-command. The command chosen is ``--command NAME``,
else ``command`` in the project file, else the only one, else one named
``train``; anything else is an error that lists them.
"""

from __future__ import annotations

from keynet_train.errors import ExtractionError
from keynet_train.extraction.argparse_ext import ParserValue, parser_arguments
from keynet_train.extraction.click_ext import ClickCommand, command_arguments
from keynet_train.extraction.interpreter import Interpreter
from keynet_train.extraction.model import Argument
from keynet_train.extraction.targets import FamilyTarget
from keynet_train.extraction.typer_ext import (
    TyperApp,
    app_arguments,
    function_arguments,
    is_single_command,
)
from keynet_train.extraction.values import FunctionValue

#: The sub-command chosen when there are several and none is asked for.
DEFAULT_COMMAND = "train"

_HOW_TO_CHOOSE = (
    'Choose one with --command NAME (inspect and push), or set command = "NAME" in the '
    "project file ([tool.keynet-train] in pyproject.toml, or keynet.toml)."
)


def subcommand_names(target: object) -> list[str]:
    """The sub-commands ``target`` declares, in declaration order (empty: it has none)."""
    if isinstance(target, ParserValue):
        return list(dict.fromkeys(target.subcommands))
    if isinstance(target, ClickCommand):
        return list(dict.fromkeys(target.subcommands)) if target.is_group else []
    if isinstance(target, TyperApp):
        if is_single_command(target):
            return []
        names = [name for name, _ in target.commands] + target.opaque_commands + target.groups
        return list(dict.fromkeys(names))
    if isinstance(target, FamilyTarget):
        return target.subcommand_names()
    return []


def accepted_names(target: object) -> set[str]:
    """Every name a sub-command is reachable by (argparse ``aliases=`` included)."""
    if isinstance(target, ParserValue):
        return set(target.subparsers)
    return set(subcommand_names(target))


def choose_command(
    names: list[str], requested: str | None, path: str, aliases: set[str] | None = None
) -> str | None:
    """The sub-command to train with (None when the script has none).

    ``names`` are the sub-commands in declaration order; ``aliases`` every
    other name one of them is accepted by.

    Raises:
        ExtractionError: ``requested`` is not one of ``names``, the script has
            no sub-commands but one was requested, or there are several and
            none is named ``train``.
    """
    known = [n for n in names if n != "?"]
    listed = ", ".join(known) or "none known statically"
    if not names:
        if requested is None:
            return None
        raise ExtractionError(
            f"The command {requested!r} was asked for (--command or the project file's "
            f"'command'), but {path} has no sub-commands.",
            "Remove --command (and 'command' from the project file) for this script.",
        )
    if requested is not None:
        if requested in known or requested in (aliases or set()):
            return requested
        raise ExtractionError(
            f"{path} has no sub-command {requested!r}; its sub-commands are: {listed}.",
            _HOW_TO_CHOOSE,
        )
    if len(known) == 1 and len(names) == 1:
        return known[0]
    if DEFAULT_COMMAND in known:
        return DEFAULT_COMMAND
    raise ExtractionError(
        f"{path} has several sub-commands ({listed}) and none is named "
        f"{DEFAULT_COMMAND!r}, so the one to train with is not known.",
        _HOW_TO_CHOOSE,
    )


def command_arguments_of(interp: Interpreter, target: object, command: str) -> list[Argument]:
    """The parent's options (scope ``global``) then those of ``command`` (scope ``command``)."""
    parent: list[Argument]
    own: list[Argument]
    nested = False
    if isinstance(target, ParserValue):
        parent = parser_arguments(interp, target)
        sub = target.subparsers[command]
        own = parser_arguments(interp, sub)
        nested = bool(sub.subcommands)
        line = sub.line
    elif isinstance(target, ClickCommand):
        parent = command_arguments(interp, target)
        cmd = target.commands.get(command)
        if cmd is None:
            interp.note(
                target.line,
                f"sub-command {command!r} is not known statically",
                "warning",
                partial=True,
            )
            return [a._replace(scope="global") for a in parent]
        own = command_arguments(interp, cmd)
        nested = cmd.is_group and bool(cmd.subcommands)
        line = cmd.line
    elif isinstance(target, TyperApp):
        parent = app_arguments(interp, target)
        fn = next((f for n, f in target.commands if n == command), None)
        line = target.line
        if not isinstance(fn, FunctionValue):
            if command not in target.opaque_commands:  # those were warned about already
                interp.note(
                    target.line,
                    f"sub-command {command!r} is a nested typer app, not extracted",
                    "warning",
                    partial=True,
                )
            return [a._replace(scope="global") for a in parent]
        own = function_arguments(interp, fn)
        line = fn.node.lineno
    elif isinstance(target, FamilyTarget):
        return target.command_arguments(interp, command)
    else:
        return []
    if nested:
        interp.note(
            line, f"nested sub-commands of {command!r} are not extracted", "warning", partial=True
        )
    interp.note(line, f"training with sub-command {command!r}")
    return [a._replace(scope="global") for a in parent] + own
