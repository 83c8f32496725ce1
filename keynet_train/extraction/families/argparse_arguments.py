"""argparse's actions as arguments (docs/cli-descriptor.md): one per destination."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keynet_train.extraction.families.conversions import (
    NO_BOUNDS,
    Bounds,
    Descriptor,
    Fields,
    described,
    json_choices,
    json_default,
    json_flag_value,
    known_help,
)
from keynet_train.extraction.interpreter import Interpreter
from keynet_train.extraction.model import Argument
from keynet_train.extraction.normalize import (
    builtin_type_name,
    convert_string_default,
    function_return_type,
    type_of_value,
)
from keynet_train.extraction.values import UNKNOWN, ClassValue, FunctionValue, Ref

if TYPE_CHECKING:
    # Types only: argparse.py imports this module for parser_arguments.
    from keynet_train.extraction.families.argparse import Action, ParserValue

#: What ``help=``/``default=``/``dest=`` argparse.SUPPRESS is.
SUPPRESS = "==SUPPRESS=="


#: transformers' ``string_to_bool``, the ``type=`` HfArgumentParser gives bool fields.
STRING_TO_BOOL = frozenset(("transformers.hf_argparser.string_to_bool",))


def _action_type(interp: Interpreter, action: Action, default: object) -> tuple[str, bool]:
    """(type name, whether ``type=`` is a builtin argparse would call on string defaults)."""
    kind = action.kind
    if kind in ("store_true", "store_false", "boolopt"):
        return "bool", False
    if kind == "count":
        return "int", False
    if kind in ("store_const", "append_const"):
        return type_of_value(action.const) or "str", False
    t = action.type
    if t is None:
        return type_of_value(default) or "str", False
    if isinstance(t, Ref) and t.name in STRING_TO_BOOL:
        # transformers' string_to_bool reads "False"/"no"/"0" as False: a bool
        # that takes a value, so none of the type=bool warning below applies.
        return "bool", False
    name = builtin_type_name(t)
    if name == "bool":
        # bool('False') is True: every non-empty word the platform writes turns the
        # option on, so a form value of false cannot reach the script.
        interp.note(
            action.line,
            f"'{action.dest}' uses type=bool, which reads every non-empty value as True "
            "(bool('False') is True); use type=str2bool, nargs='?', const=True with a "
            "function reading 'False' as False (docs/platform-command.md)",
            "warning",
        )
    if name is not None:
        return name, True
    if isinstance(t, FunctionValue):
        return function_return_type(t) or "str", False
    if isinstance(t, Ref) and t.name.split(".")[0] not in ("builtins", "argparse", "pathlib"):
        interp.note(action.line, f"type of '{action.dest}' ({t.name}) is not known; sent as str")
    elif t is UNKNOWN or not isinstance(t, (Ref, ClassValue)):
        interp.note(action.line, f"type of '{action.dest}' not resolved statically; sent as str")
    return "str", False


def _long_first(options: list[str], chars: str) -> tuple[str, ...]:
    """Option strings without duplicates, long ones (``--x``, ``++x``) first, else as declared."""
    unique = list(dict.fromkeys(options))
    return tuple(sorted(unique, key=lambda o: not (len(o) > 2 and o[1] in chars)))


def _nargs(value: object) -> int | str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value in ("?", "*", "+", "..."):
        return str(value)
    return None


def _sets_bool(action: Action) -> bool | None:
    """The bool an option-only action stores when present (None: it stores something else)."""
    if action.kind == "store_true":
        return True
    if action.kind == "store_false":
        return False
    if action.kind == "store_const" and isinstance(action.const, bool):
        return action.const
    return None


def _descriptor(acts: list[Action], owner: Action, chars: str) -> Descriptor:
    """Kind and spellings (docs/cli-descriptor.md) of one destination (actions in order)."""
    options = [o for a in acts for o in a.option_strings if isinstance(o, str)]
    if not options:
        return Descriptor("positional", (), nargs=_nargs(owner.nargs))
    if all(a.kind == "boolopt" for a in acts):
        positive = [o for o in options]
        negative = ["--no-" + o[2:] for o in options if o.startswith("--")]
        return Descriptor("negatable", _long_first(positive, chars), None, tuple(negative))
    bools = [_sets_bool(a) for a in acts]
    if len(acts) > 1 and None not in bools and len(set(bools)) == 2:
        # --fp16 / --no-fp16 on one dest: an on/off pair, like BooleanOptionalAction.
        on = [o for a, b in zip(acts, bools, strict=True) if b for o in a.option_strings]
        off = [o for a, b in zip(acts, bools, strict=True) if not b for o in a.option_strings]
        return Descriptor("negatable", _long_first(on, chars), None, _long_first(off, chars))
    flags = _long_first(options, chars)
    kind = owner.kind
    if kind in ("store_true", "store_false", "store_const"):
        value = {"store_true": True, "store_false": False}.get(kind, owner.const)
        return Descriptor("flag", flags, value)
    if kind in ("count", "append_const"):
        return Descriptor("count", flags, owner.const if kind == "append_const" else None)
    nargs = _nargs(owner.nargs)
    if kind == "append":
        return Descriptor("list", flags, list_style="repeat", nargs=nargs)
    if kind == "extend" or (nargs is not None and nargs != "?"):
        return Descriptor("list", flags, list_style="space", nargs=nargs)
    return Descriptor("value", flags, nargs=nargs)


def _bounds(choices: object) -> Bounds:
    """``choices=range(a, b)`` (step 1) is the integer range a..b-1."""
    if isinstance(choices, range) and choices.step == 1 and len(choices):
        return Bounds(choices.start, choices.stop - 1)
    return NO_BOUNDS


def parser_arguments(interp: Interpreter, parser: ParserValue) -> list[Argument]:
    """The arguments of ``parser``: one per destination, in declaration order."""
    groups: dict[str, list[Action]] = {}
    for action in parser.actions:
        if action.kind in ("help", "version") or action.dest == SUPPRESS:
            continue
        groups.setdefault(action.dest, []).append(action)
    result: list[Argument] = []
    positions: dict[str, int] = {}
    group_ids: dict[int, int] = {}
    for dest, acts in groups.items():
        first = acts[0]
        with interp.in_file(first.path):
            result.append(_argument(interp, parser, dest, acts, positions, group_ids))
    return result


def _argument(
    interp: Interpreter,
    parser: ParserValue,
    dest: str,
    acts: list[Action],
    positions: dict[str, int],
    group_ids: dict[int, int],
) -> Argument:
    """The argument of one destination (its actions in declaration order); raises nothing."""
    first = acts[0]
    # The value the namespace gets when the option is absent (argparse's order).
    owner = next((a for a in acts if a.default != SUPPRESS), None)
    if owner is not None:
        default = owner.default
    else:
        default = parser.defaults.get(dest)
        owner = first
    type_name, builtin = _action_type(interp, owner, default)
    default = convert_string_default(default, type_name, builtin)
    if default == SUPPRESS:
        default = None
    default = json_default(interp, default, dest, first.line)
    choices = json_choices(interp, first.choices, dest, first.line)
    help_text = known_help(interp, first.help, dest, first.line)
    required = any(a.required is True for a in acts)
    fields = Fields(
        dest, type_name, default, required, None if help_text == SUPPRESS else help_text, choices
    )
    desc = _descriptor(acts, owner, parser.prefix_chars)
    if desc.kind in ("flag", "count") and desc.flag_value is not None:
        desc = desc._replace(flag_value=json_flag_value(desc.flag_value))
    if desc.kind == "positional":
        desc = desc._replace(position=positions.setdefault(dest, len(positions)))
    group = next((a.group for a in acts if a.group is not None), None)
    group_id = None if group is None else group_ids.setdefault(id(group), len(group_ids) + 1)
    return described(
        fields,
        desc,
        _bounds(first.choices),
        exclusive_group=None if group_id is None else f"group-{group_id}",
    )
