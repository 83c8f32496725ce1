"""transformers' ``HfArgumentParser``, modelled: an argparse parser filled from dataclasses.

``HfArgumentParser`` is an ``ArgumentParser`` subclass, so it is modelled as
one (``add_argument`` after it is built works, and the arguments are reported
like argparse's); its constructor adds one argument per dataclass field with
the rules of ``HfArgumentParser._parse_dataclass_field``:

- ``Union[X, None]`` → X; a Union without ``None`` must contain ``str`` and
  takes the other member;
- ``Literal[...]``/``Enum`` → ``choices`` (the Enum's values); required
  without a default;
- ``bool`` → ``--x`` taking an optional value (``--x``, ``--x false``), default
  False unless given, plus ``--no_x``/``--no-x`` for fields defaulting to True;
- ``list[X]`` → ``nargs="+"`` of X, default from ``default_factory``;
- anything else → ``type=X``; required without ``default``/``default_factory``;
- ``metadata`` is passed on to ``add_argument`` (``help``, ``choices``,
  ``aliases`` as more option strings); each ``snake_case`` field also accepts
  ``--snake-case``.
"""

from __future__ import annotations

from typing import NamedTuple

from keynet_train.extraction.dataclass_fields import (
    DATACLASS_NAMES,
    MISSING,
    DataField,
    dataclass_fields,
    is_builtin,
    is_dataclass,
    list_element,
    literal_values,
    union_parts,
)
from keynet_train.extraction.families import argparse as argparse_family
from keynet_train.extraction.families.argparse import (
    Action,
    ParserValue,
    _add_action,
    _apply_constructor_kwargs,
)
from keynet_train.extraction.families.argparse_arguments import parser_arguments
from keynet_train.extraction.families.contract import CommandHints, Family, Site
from keynet_train.extraction.interpreter import CallArgs, Interpreter, Invoked, RefHandler
from keynet_train.extraction.library_dataclasses import library_dataclass
from keynet_train.extraction.model import Argument
from keynet_train.extraction.normalize import type_of_value
from keynet_train.extraction.values import UNKNOWN, ClassValue, EnumMember, Ref

#: The methods that parse the command line (or a config file standing in for it).
_PARSE_METHODS = frozenset(
    (
        "parse_args_into_dataclasses",
        "parse_json_file",
        "parse_yaml_file",
        "parse_dict",
        "parse_args",
        "parse_known_args",
    )
)
_TRUE = ("yes", "true", "t", "y", "1")
_FALSE = ("no", "false", "f", "n", "0")


class HfParserValue(ParserValue):
    """An ``HfArgumentParser``: argparse plus the dataclasses it fills."""

    parser_type = "hfargparser"

    def __init__(self, line: int) -> None:
        super().__init__(line)
        #: bool field → (its --x options, its --no_x options, whether --x alone sets True)
        self.bool_fields: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {}
        #: field → (file, line) for fields of a library's dataclass (for diagnostics)
        self.library_fields: dict[str, tuple[str, int]] = {}

    def call_method(self, interp: Interpreter, name: str, call: CallArgs) -> object:
        if name in _PARSE_METHODS:
            if name != "parse_args_into_dataclasses":
                interp.note(
                    call.line,
                    f"the script can also read its arguments with {name}(); "
                    "the command-line options are reported",
                )
            raise Invoked(self, call.line)
        return super().call_method(interp, name, call)


def new_hf_parser(interp: Interpreter, call: CallArgs) -> object:
    """``HfArgumentParser(dataclass_types, **kwargs)``: a parser with one argument per field."""
    parser = HfParserValue(call.line)
    parser.defined_in = interp.path
    kwargs = dict(call.kwargs)
    types = call.args[0] if call.args else kwargs.pop("dataclass_types", None)
    kwargs.pop("dataclass_types", None)
    _apply_constructor_kwargs(interp, parser, kwargs, call.line)
    items = [types] if isinstance(types, (ClassValue, Ref)) else interp.iterate(types)
    if types is None:
        items = []
    if items is None:
        interp.note(
            call.line,
            "the dataclasses given to HfArgumentParser were not resolved statically; "
            "their fields are missing",
            "warning",
            partial=True,
        )
        items = []
    # A list holding the tuple of dataclasses (both branches of an unknown
    # ``if not isinstance(types, Iterable): types = [types]`` were read).
    flat: list[object] = []
    for item in items:
        nested = interp.iterate(item) if isinstance(item, (list, tuple)) else None
        flat.extend(nested if nested is not None else [item])
    for item in flat:
        dtype = library_dataclass(interp, item, call.line)
        if is_dataclass(interp, dtype):
            assert isinstance(dtype, ClassValue)
            for f in dataclass_fields(interp, dtype):
                if f.init:
                    _add_field(interp, parser, f)
        else:
            what = dtype.name if isinstance(dtype, (Ref, ClassValue)) else "a value"
            interp.note(
                call.line,
                f"dataclass {what} given to HfArgumentParser was not found in the project "
                "or an installed library's source; its fields are missing",
                "warning",
                partial=True,
            )
    interp.candidates.append(parser)
    return parser


def accepts_dashes(interp: Interpreter) -> bool:
    """Whether the installed transformers' HfArgumentParser also accepts ``--snake-case``.

    Older versions accept only the underscore form (``--no_x`` too): their
    source never spells the dashed alias. The environment's ``transformers/hf_argparser.py``
    is read as text, never imported, once per run; without one, the current
    rule (both forms) applies. Raises nothing.
    """
    cache: dict[str, bool] = interp.__dict__.setdefault("_hf_dashes", {})
    if "dashes" not in cache:
        cache["dashes"] = _source_has_dashes(interp)
    return cache["dashes"]


def _source_has_dashes(interp: Interpreter) -> bool:
    loader = interp.loader
    spec = loader.finder.find_top("transformers") if loader is not None else None
    if spec is None or not spec.search:
        return True
    from keynet_train.files import UnreadableFile, read_regular_file

    source = spec.search[0] / "hf_argparser.py"
    if not loader.finder.contains(source):  # type: ignore[union-attr]
        return True
    try:
        text = read_regular_file(source, 1024 * 1024).decode("utf-8", "replace")
    except UnreadableFile:
        return True
    return "replace('_', '-')" in text or 'replace("_", "-")' in text


def _resolve_union(interp: Interpreter, f: DataField) -> object:
    """HfArgumentParser's own narrowing of ``Union`` types (see the module docstring)."""
    field_type = f.annotation
    parts = union_parts(field_type)
    if parts is None:
        return field_type
    has_none = any(p is None for p in parts)
    if not any(is_builtin(p, "str") for p in parts) and not (len(parts) == 2 and has_none):
        interp.note(
            f.line,
            f"HfArgumentParser rejects the Union type of '{f.name}' at runtime "
            "(only Optional[X] or a Union with str is allowed); sent as str",
            "warning",
        )
        return UNKNOWN
    if not has_none:
        return parts[0] if is_builtin(parts[1], "str") else parts[1]
    if not any(is_builtin(p, "bool") for p in parts):
        return parts[0] if parts[1] is None else parts[1]
    return field_type  # Optional[bool] is kept, and handled as bool


def _is_bool(field_type: object) -> bool:
    if is_builtin(field_type, "bool"):
        return True
    parts = union_parts(field_type)
    return (
        parts is not None
        and len(parts) == 2
        and any(is_builtin(p, "bool") for p in parts)
        and any(p is None for p in parts)
    )


def _string_to_bool(value: object) -> object:
    """transformers' ``string_to_bool`` on a string default (argparse converts those)."""
    if isinstance(value, str):
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
    return value


def _add_field(interp: Interpreter, parser: HfParserValue, f: DataField) -> None:
    if f.path is None:
        _add_field_here(interp, parser, f)
        return
    # A library dataclass's field: diagnostics name the library's file.
    parser.library_fields[f.name] = (f.path, f.line)
    script_path = interp.path
    interp.path = f.path
    try:
        _add_field_here(interp, parser, f)
    finally:
        interp.path = script_path


def _add_field_here(interp: Interpreter, parser: HfParserValue, f: DataField) -> None:
    field_type = _resolve_union(interp, f)
    kwargs = dict(f.metadata)
    aliases = kwargs.pop("aliases", [])
    if isinstance(aliases, str):
        aliases = [aliases]
    dashes = accepts_dashes(interp)
    options = [f"--{f.name}"]
    if "_" in f.name and dashes:
        options.append(f"--{f.name.replace('_', '-')}")
    options += [
        a for a in (aliases if isinstance(aliases, (list, tuple)) else []) if isinstance(a, str)
    ]
    value = _field_value(interp, parser, f, field_type, kwargs)
    action = Action(
        option_strings=options,
        dest=f.name,
        kind="store",
        line=f.line,
        default=value.default,
        type=_value_type(interp, f, value.type),
        const=value.const,
        nargs=value.nargs,
        choices=kwargs.get("choices"),
        required=value.required,
        help=kwargs.get("help"),
        path=interp.path,
    )
    _add_action(parser, action)
    if not value.is_bool:
        return
    negative: tuple[str, ...] = ()
    if f.default is True:
        negative = (f"--no_{f.name}",)
        if dashes:
            negative += (f"--no-{f.name.replace('_', '-')}",)
        _add_action(
            parser,
            Action(
                option_strings=list(negative),
                dest=f.name,
                kind="store_false",
                line=f.line,
                default=False,
                help=kwargs.get("help"),
                path=interp.path,
            ),
        )
    parser.bool_fields[f.name] = (tuple(options), negative, value.nargs == "?")


class _FieldValue(NamedTuple):
    """What HfArgumentParser passes to ``add_argument`` for a field's value."""

    type: object
    default: object = None
    required: bool = False
    nargs: object = None
    const: object = None
    is_bool: bool = False


def _field_value(
    interp: Interpreter,
    parser: HfParserValue,
    f: DataField,
    field_type: object,
    kwargs: dict[str, object],
) -> _FieldValue:
    """The type, default and nargs of a field (``kwargs`` gets the choices of a Literal/Enum)."""
    nargs = kwargs.get("nargs")
    values = literal_values(field_type)
    enum = field_type if isinstance(field_type, ClassValue) and field_type.is_enum else None
    element = list_element(field_type)
    if values is not None or enum is not None:
        if values is not None:
            choices = list(values)
        else:
            assert enum is not None
            choices = [_enum_value(enum, m) for m in enum.members]
        kwargs["choices"] = choices
        if f.default is MISSING:
            return _FieldValue(_choice_type(choices), required=True, nargs=nargs)
        return _FieldValue(_choice_type(choices), _choice_default(f.default, choices), nargs=nargs)
    if _is_bool(field_type):
        return _bool_value(interp, parser, f, field_type, nargs)
    if element is not MISSING:
        if f.factory is not MISSING:
            return _FieldValue(element, f.factory, nargs="+")
        return _FieldValue(element, required=f.default is MISSING, nargs="+")
    if f.default is not MISSING:
        return _FieldValue(field_type, f.default, nargs=nargs)
    if f.factory is not MISSING:
        return _FieldValue(field_type, f.factory, nargs=nargs)
    return _FieldValue(field_type, required=True, nargs=nargs)


def _bool_value(
    interp: Interpreter, parser: HfParserValue, f: DataField, field_type: object, nargs: object
) -> _FieldValue:
    # HfArgumentParser passes type=string_to_bool: "--bf16 False" is False.
    value_type = Ref("transformers.hf_argparser.string_to_bool")
    if not (is_builtin(field_type, "bool") or (f.default is not None and f.default is not MISSING)):
        return _FieldValue(value_type, nargs=nargs, is_bool=True)
    default = False if f.default is MISSING else _string_to_bool(f.default)
    if isinstance(f.default, str) and isinstance(default, bool):
        # Said where the dataclass is handed over when it is a library's (an
        # info note inside a library file is not the user's to read).
        line, path = (f.line, None) if f.path is None else (parser.line, parser.defined_in)
        interp.note(
            line,
            f"default of '{f.name}' is the string {f.default!r}, which "
            f"HfArgumentParser's string_to_bool reads as {default}; sent as {default}",
            # Information, not a warning: the value sent means what the
            # script's default means ("no" reads as False); a plain
            # TrainingArguments script has no warning (docs/platform-command.md).
            "info",
            path or None,
        )
    return _FieldValue(value_type, default, nargs="?", const=True, is_bool=True)


def _value_type(interp: Interpreter, f: DataField, value_type: object) -> object:
    """A class that is not an Enum (or a type not known) is read as a string."""
    if isinstance(value_type, ClassValue) and not value_type.is_enum:
        if any(
            not isinstance(b, ClassValue) and b != Ref("builtins.object") for b in value_type.bases
        ):
            interp.note(
                f.line,
                f"type of '{f.name}' is the class {value_type.name}, whose base classes were "
                "not resolved (an Enum?); sent as str without choices",
            )
        return Ref("builtins.str")
    if value_type is UNKNOWN:
        return Ref("builtins.str")
    return value_type


def hf_arguments(interp: Interpreter, parser: HfParserValue) -> list[Argument]:
    """argparse's arguments of the parser, with the bool fields described as HF spells them.

    ``--x`` takes an optional value, so argparse alone would call it a value
    option; for the platform it is a switch: ``--x`` sets True, and ``--no_x``
    (fields defaulting to True) sets False.
    """
    result = []
    first_new = len(interp.diagnostics)
    arguments = parser_arguments(interp, parser)
    _name_library_files(interp, parser, first_new)
    for argument in arguments:
        info = parser.bool_fields.get(argument.name)
        described = argument
        if info is not None:
            positive, negative, alone = info
            flags = tuple(f for f in argument.accepted_flags() if f in positive)
            if negative:
                described = argument._replace(
                    kind="negatable", flags=flags, negative_flags=negative, nargs=None
                )
            elif alone:
                described = argument._replace(kind="flag", flag_value=True, flags=flags, nargs=None)
        result.append(described)
    return result


def _name_library_files(interp: Interpreter, parser: HfParserValue, start: int) -> None:
    """Diagnostics about a library dataclass's fields point into the library's file."""
    for index in range(start, len(interp.diagnostics)):
        diag = interp.diagnostics[index]
        for name, (path, line) in parser.library_fields.items():
            if diag.line == line and f"'{name}'" in diag.message:
                interp.diagnostics[index] = diag._replace(path=path)
                break


def _enum_value(enum: ClassValue, member: str) -> object:
    value = enum.namespace.get(member)
    return value.value if isinstance(value, EnumMember) else UNKNOWN


def _choice_type(choices: list[object]) -> object:
    """The builtin the choices are made of (``Literal[1, 2]`` → int); str when mixed."""
    kinds = {type_of_value(c) for c in choices}
    kind = kinds.pop() if len(kinds) == 1 else None
    return Ref(f"builtins.{kind or 'str'}")


def _choice_default(default: object, choices: list[object]) -> object:
    """argparse passes a string default through the choice mapping: "1" → 1 for Literal[1, 2]."""
    if isinstance(default, str):
        for choice in choices:
            if not isinstance(choice, EnumMember) and str(choice) == default:
                return choice
    return default


HANDLERS: dict[str, RefHandler] = {
    "transformers.HfArgumentParser": new_hf_parser,
    "transformers.hf_argparser.HfArgumentParser": new_hf_parser,
}


def arguments(
    interp: Interpreter, target: HfParserValue, command: str | None, site: Site
) -> list[Argument]:
    """The fields' arguments (:func:`hf_arguments`); with ``command``, argparse's rules."""
    if command is not None:
        return argparse_family.arguments(interp, target, command, site)
    found = hf_arguments(interp, target)
    return argparse_family.with_pre_parsers(interp, target, site, found, False)


_SPELLING = (
    "HfArgumentParser spells a field --name and --name-with-dashes, and adds --no_name "
    "only for a bool field that defaults to True; add {option} to the field's "
    'metadata={{"aliases": [...]}} or pass the value as {first} VALUE'
)
# Its bools take an optional value (--x, --x False): not bare flags.
HINTS = CommandHints(_SPELLING, _SPELLING, argparse_rules=True)

FAMILY = Family(
    parser_type="hfargparser",
    handlers=HANDLERS,
    target_types=(HfParserValue,),
    arguments=arguments,
    subcommands=argparse_family.FAMILY.subcommands,
    command_names=argparse_family.FAMILY.command_names,
    hints=HINTS,
    parts=argparse_family.FAMILY.parts,
    size=argparse_family.FAMILY.size,
    # transformers itself is read (TrainingArguments is a dataclass in its source).
    modelled_names=DATACLASS_NAMES,
    title="HfArgumentParser",
)
