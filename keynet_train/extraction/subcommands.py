"""Sub-commands: which one to train with, and its options plus the parent's.

The rule is in docs/extraction-rules.md, "Which arguments belong to the parser".

argparse ``add_subparsers``, click groups and multi-command typer apps all
build a parent whose own options come before the sub-command name, and one
set of options per sub-command. The command chosen is ``--command NAME``,
else ``command`` in the project file, else the only one, else one named
``train``; anything else is an error that lists them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keynet_train.errors import ExtractionError

if TYPE_CHECKING:
    from keynet_train.extraction.interpreter import Interpreter
    from keynet_train.extraction.model import Argument

#: The sub-command chosen when there are several and none is asked for.
DEFAULT_COMMAND = "train"

_HOW_TO_CHOOSE = (
    'Choose one with --command NAME (inspect and push), or set command = "NAME" in the '
    "project file ([tool.keynet-train] in pyproject.toml, or keynet.toml)."
)


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


def with_parent(
    interp: Interpreter,
    parent: list[Argument],
    own: list[Argument],
    command: str,
    line: int,
    nested: bool = False,
) -> list[Argument]:
    """The parent's options (scope ``global``) then those of ``command`` (scope ``command``).

    ``line`` is where the sub-command is defined (the notes name it);
    ``nested``: the sub-command has sub-commands of its own, which are not
    extracted. Raises nothing.
    """
    if nested:
        interp.note(
            line, f"nested sub-commands of {command!r} are not extracted", "warning", partial=True
        )
    interp.note(line, f"training with sub-command {command!r}")
    return as_global(parent) + own


def as_global(arguments: list[Argument]) -> list[Argument]:
    """``arguments`` as options of the parent, given before the sub-command."""
    return [a._replace(scope="global") for a in arguments]
