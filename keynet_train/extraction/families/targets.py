"""The base of fire/tyro/globals targets, their family record, and the conversions they share."""

from __future__ import annotations

from collections.abc import Mapping

from keynet_train.extraction.dataclass_fields import (
    MISSING,
    list_element,
    literal_values,
    strip_annotated,
    union_parts,
)
from keynet_train.extraction.families.contract import Family, Site
from keynet_train.extraction.interpreter import Interpreter, Modelled, RefHandler
from keynet_train.extraction.model import Argument
from keynet_train.extraction.normalize import (
    Unresolved,
    builtin_type_name,
    to_json_value,
    type_of_value,
    unknown,
)
from keynet_train.extraction.values import UNKNOWN, ClassValue, Ref


def target_family(
    parser_type: str, handlers: Mapping[str, RefHandler], target_type: type[FamilyTarget]
) -> Family:
    """The record of a family whose targets are :class:`FamilyTarget` objects."""
    return Family(
        parser_type=parser_type,
        handlers=handlers,
        target_types=(target_type,),
        arguments=_target_arguments,
        subcommands=_subcommand_names,
        command_names=lambda target: set(_subcommand_names(target)),
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


def json_default(interp: Interpreter, value: object, name: str, line: int) -> object:
    """``value`` as JSON, or None with a warning when it is not known statically."""
    try:
        if unknown(value):
            raise Unresolved("unknown")
        return to_json_value(value)
    except Unresolved:
        interp.note(
            line, f"default of '{name}' could not be resolved statically; sent as null", "warning"
        )
        return None


def plain_annotation(annotation: object) -> tuple[object, bool]:
    """``annotation`` without Annotated, Optional and a list wrapper; and whether it had one."""
    is_list = False
    for _ in range(10):
        annotation, _meta = strip_annotated(annotation)
        parts = union_parts(annotation)
        if parts is not None:
            rest = [p for p in parts if p is not None]
            annotation = rest[0] if len(rest) == 1 else UNKNOWN
            continue
        element = list_element(annotation)
        if element is not MISSING and not is_list:
            is_list = True
            annotation = element
            continue
        break
    return annotation, is_list


def annotation_type(annotation: object) -> str | None:
    """The type an annotation names (int/float/str/bool), None when it names none."""
    base, _ = plain_annotation(annotation)
    name = builtin_type_name(base)
    if name is not None:
        return name
    values = literal_values(base)
    if values:
        kinds = {type_of_value(v) for v in values}
        return kinds.pop() if len(kinds) == 1 and None not in kinds else "str"
    if isinstance(base, ClassValue) and base.is_enum:
        return "str"
    if isinstance(base, Ref) and base.name in ("pathlib.Path", "pathlib.PurePath", "os.PathLike"):
        return "str"
    return None
