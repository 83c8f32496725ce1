"""What every family does the same way: values to JSON, choices, help, and the Argument.

A family reads its library's declarations; turning what it read into an
:class:`~keynet_train.extraction.model.Argument` — a default the backend can
store, choices as strings, help, the descriptor (docs/cli-descriptor.md) —
and saying so when a value is not known statically, happens here once.
"""

from __future__ import annotations

from typing import NamedTuple

from keynet_train.extraction.dataclass_fields import (
    MISSING,
    list_element,
    literal_values,
    strip_annotated,
    union_parts,
)
from keynet_train.extraction.interpreter import Interpreter
from keynet_train.extraction.model import Argument, Kind, ListStyle
from keynet_train.extraction.normalize import (
    Unresolved,
    builtin_type_name,
    choices_list,
    to_json_value,
    type_of_value,
    unknown,
)
from keynet_train.extraction.values import UNKNOWN, ClassValue, Ref


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


def json_choices(interp: Interpreter, choices: object, name: str, line: int) -> list[str] | None:
    """``choices`` as the backend's strings (None: none), with a warning when not known."""
    try:
        if unknown(choices):
            raise Unresolved("unknown")
        return choices_list(choices)
    except Unresolved:
        interp.note(line, f"choices of '{name}' could not be resolved statically", "warning")
        return None


def known_help(interp: Interpreter, value: object, name: str, line: int) -> str | None:
    """``help=`` when it is a string (None otherwise), noting a help not known statically."""
    if value is UNKNOWN:
        interp.note(line, f"help of '{name}' could not be resolved statically")
    return value if isinstance(value, str) else None


def json_flag_value(value: object) -> object:
    """What a flag stores when present, as JSON; None when it is not known. Raises nothing."""
    try:
        return None if unknown(value) else to_json_value(value)
    except Unresolved:
        return None


def note_envvar(interp: Interpreter, envvar: object, name: str, line: int) -> None:
    """click/typer ``envvar=``: the environment may override the default the platform sees."""
    if envvar is not None:
        interp.note(
            line,
            f"'{name}' can also be set from environment variable {envvar!r}; "
            "the static default ignores it",
        )


def number(value: object) -> int | float | None:
    """``value`` when it is an int or a float (not a bool), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


class Descriptor(NamedTuple):
    """How the command line spells one argument (docs/cli-descriptor.md)."""

    kind: Kind
    flags: tuple[str, ...] = ()
    flag_value: object = None
    negative_flags: tuple[str, ...] = ()
    list_style: ListStyle | None = None
    nargs: int | str | None = None
    position: int | None = None


class Bounds(NamedTuple):
    """The range a value must lie in (click ``IntRange``, typer ``min=``, ``range(a, b)``)."""

    min: int | float | None = None
    max: int | float | None = None
    min_open: bool = False
    max_open: bool = False


NO_BOUNDS = Bounds()


class Fields(NamedTuple):
    """The six fields the backend stores (docs/extraction-rules.md), already converted."""

    name: str
    type: str
    default: object
    required: bool
    help: str | None
    choices: list[str] | None


def described(
    fields: Fields,
    desc: Descriptor,
    bounds: Bounds = NO_BOUNDS,
    exclusive_group: str | None = None,
) -> Argument:
    """The argument with its six fields, its spelling and its range. Raises nothing."""
    return Argument(
        *fields,
        flags=desc.flags,
        kind=desc.kind,
        flag_value=desc.flag_value,
        negative_flags=desc.negative_flags,
        list_style=desc.list_style,
        nargs=desc.nargs,
        position=desc.position,
        min=bounds.min,
        max=bounds.max,
        min_open=bounds.min_open,
        max_open=bounds.max_open,
        exclusive_group=exclusive_group,
    )


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
