"""The base of fire/tyro/globals targets, and the record of a family built on it."""

from __future__ import annotations

from collections.abc import Mapping

from keynet_train.extraction.families.contract import CommandHints, Family, Site
from keynet_train.extraction.interpreter import Interpreter, Modelled, RefHandler
from keynet_train.extraction.model import Argument, ParserType


def target_family(
    parser_type: ParserType,
    handlers: Mapping[str, RefHandler],
    target_type: type[FamilyTarget],
    hints: CommandHints,
    *,
    never_read: frozenset[str] = frozenset(),
    modelled_names: frozenset[str] = frozenset(),
    title: str | None = None,
) -> Family:
    """The record of a family whose targets are :class:`FamilyTarget` objects."""
    return Family(
        parser_type=parser_type,
        handlers=handlers,
        target_types=(target_type,),
        arguments=_target_arguments,
        subcommands=_subcommand_names,
        hints=hints,
        never_read=never_read,
        modelled_names=modelled_names,
        title=title,
    )


def _target_arguments(
    interp: Interpreter, target: FamilyTarget, command: str | None, site: Site
) -> list[Argument]:
    if command is None:
        return target.arguments(interp)
    return target.command_arguments(interp, command)


def _subcommand_names(target: FamilyTarget) -> list[str]:
    return target.subcommand_names()


class FamilyTarget(Modelled):
    """What the script hands its CLI library (a function, a class, a dataclass, its globals)."""

    parser_type = "?"

    def __init__(self, line: int) -> None:
        self.line = line

    def arguments(self, interp: Interpreter) -> list[Argument]:
        """The arguments the library would accept; raises nothing."""
        raise NotImplementedError

    def subcommand_names(self) -> list[str]:
        """The library's sub-commands (fire's commands), in declaration order."""
        return []

    def command_arguments(self, interp: Interpreter, command: str) -> list[Argument]:
        """The arguments when training with sub-command ``command``; raises nothing."""
        return self.arguments(interp)
