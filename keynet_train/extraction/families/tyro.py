"""tyro, modelled: ``tyro.cli(Dataclass | fn)`` read from the fields or the signature.

tyro's rules, as its own parser applies them:

- one flag per field, hyphenated: ``exp_name`` → ``--exp-name``; a nested
  dataclass field ``opt: Opt`` prefixes its fields: ``--opt.lr``
  (the argument's name is ``opt.lr``);
- ``bool`` with a default → ``--flag``/``--no-flag``; without a default →
  ``--flag {True,False}``, required;
- ``Literal[...]`` → its values as choices; ``Enum`` → the member *names*
  (``--color RED``), and the default is the member's name too;
- ``list[X]``/``tuple[X, ...]`` → the values after one flag (``--ids 1 2``);
- help: the field's docstring (the string right under it), else
  ``metadata={"help": ...}``; for a function, its docstring's ``Args:``.
"""

from __future__ import annotations

import ast

from keynet_train.extraction.dataclass_fields import (
    DATACLASS_NAMES,
    MISSING,
    Generic,
    dataclass_fields,
    eval_annotation,
    is_dataclass,
    literal_values,
    mro,
    strip_annotated,
    union_parts,
)
from keynet_train.extraction.docstrings import parameter_help
from keynet_train.extraction.families.contract import CommandHints
from keynet_train.extraction.families.conversions import (
    Descriptor,
    Fields,
    annotation_type,
    described,
    json_default,
    plain_annotation,
)
from keynet_train.extraction.families.targets import FamilyTarget, target_family
from keynet_train.extraction.interpreter import CallArgs, Interpreter, Invoked, RefHandler
from keynet_train.extraction.model import Argument
from keynet_train.extraction.normalize import type_of_value
from keynet_train.extraction.values import (
    UNKNOWN,
    ClassValue,
    EnumMember,
    FunctionValue,
    InstanceValue,
    Ref,
)

_MAX_NESTING = 8


class TyroTarget(FamilyTarget):
    """What ``tyro.cli`` was given: a dataclass or a function."""

    parser_type = "tyro"

    def __init__(self, line: int, target: object) -> None:
        super().__init__(line)
        self.target = target

    def arguments(self, interp: Interpreter) -> list[Argument]:
        target = self.target
        if isinstance(target, ClassValue) and is_dataclass(interp, target):
            return _dataclass_arguments(interp, target, "", UNKNOWN, 0)
        if isinstance(target, FunctionValue):
            return _function_arguments(interp, target)
        interp.note(
            self.line,
            "what tyro.cli() was given is not a dataclass or function found statically; "
            "no hyperparameters",
            "warning",
            partial=True,
        )
        return []


class _Spec:
    """One option before it is turned into an Argument."""

    def __init__(
        self,
        name: str,
        annotation: object,
        default: object,
        help_text: object,
        line: int,
    ) -> None:
        self.name = name
        self.annotation = annotation
        self.default = default  # MISSING when required
        self.help = help_text
        self.line = line


def _dataclass_arguments(
    interp: Interpreter, cls: ClassValue, prefix: str, instance: object, depth: int
) -> list[Argument]:
    result: list[Argument] = []
    nested: list[Argument] = []  # tyro lists a nested dataclass's options after the others
    class_docs = [
        parameter_help(ast.get_docstring(k.node)) for k in reversed(mro(cls)) if k.node is not None
    ]
    for f in dataclass_fields(interp, cls, comments=True):
        if not f.init:
            continue
        default = f.default if f.default is not MISSING else f.factory
        if isinstance(instance, InstanceValue) and f.name in instance.attrs:
            default = instance.attrs[f.name]
        base, _ = plain_annotation(f.annotation)
        if isinstance(base, ClassValue) and is_dataclass(interp, base):
            if depth >= _MAX_NESTING:
                interp.note(f.line, f"dataclasses nested too deeply at '{f.name}'; skipped")
                continue
            nested += _dataclass_arguments(interp, base, f"{prefix}{f.name}.", default, depth + 1)
            continue
        # tyro's order: metadata help, the class docstring's Args, the
        # attribute docstring, then a comment.
        help_text = f.metadata.get("help")
        if not isinstance(help_text, str):
            from_class = next((d[f.name] for d in class_docs if f.name in d), None)
            help_text = from_class or f.doc or f.comment
        spec = _Spec(prefix + f.name, f.annotation, default, help_text, f.line)
        with interp.in_file(f.path):
            result.append(_argument(interp, spec))
    return result + nested


def _function_arguments(interp: Interpreter, fn: FunctionValue) -> list[Argument]:
    node = fn.node
    positional, keyword_only, defaults = fn.parameters()
    doc = (
        ast.get_docstring(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        else None
    )
    helps = parameter_help(doc)
    result = []
    for param in [*positional, *keyword_only]:
        annotation = eval_annotation(interp, param.annotation, fn.closure)
        spec = _Spec(
            param.arg,
            annotation,
            defaults.get(param.arg, MISSING),
            helps.get(param.arg),
            param.lineno,
        )
        with interp.in_file(fn.path):
            result.append(_argument(interp, spec))
    return result


def _flag_conversion_off(annotation: object) -> bool:
    """``Annotated[bool, tyro.conf.FlagConversionOff]``: a bool that takes a value."""
    return any(
        isinstance(meta, Ref) and meta.name.endswith("FlagConversionOff")
        for meta in strip_annotated(annotation)[1]
    )


def _argument(interp: Interpreter, spec: _Spec) -> Argument:
    base, is_list = plain_annotation(spec.annotation)
    required = spec.default is MISSING
    default = None if required else spec.default
    type_name = annotation_type(spec.annotation)
    if type_name is None:
        type_name = type_of_value(default) or "str"
        interp.note(
            spec.line, f"type of '{spec.name}' not resolved statically; sent as {type_name}"
        )
    choices: list[str] | None = None
    values = literal_values(base)
    option = "--" + spec.name.replace("_", "-")
    flags: tuple[str, ...] = (option,)
    negative: tuple[str, ...] = ()
    if values is not None:
        choices = [str(v) for v in values]
    elif isinstance(base, ClassValue) and base.is_enum:
        choices = list(base.members)
        if isinstance(default, EnumMember):
            default = default.name
    elif type_name == "bool" and not is_list:
        if required or default is None or _flag_conversion_off(spec.annotation):
            # FlagConversionOff: the field takes True/False like a required one.
            # tyro asks for a value: --flag {True,False} (and None for Optional[bool]).
            optional = default is None and not required
            choices = ["True", "None", "False"] if optional else ["True", "False"]
        else:
            # Nested fields negate the last part: --optim.no-use-nesterov.
            head, dot, leaf = option[2:].rpartition(".")
            negative = (f"--{head}{dot}no-{leaf}",)
    help_text = spec.help if isinstance(spec.help, str) and spec.help.strip() else None
    desc = Descriptor("value", flags)
    if negative:
        desc = Descriptor("negatable", flags, negative_flags=negative)
    elif is_list:
        desc = Descriptor("list", flags, list_style="space", nargs=_list_nargs(spec, required))
    default = json_default(interp, default, spec.name, spec.line)
    return described(Fields(spec.name, type_name, default, required, help_text, choices), desc)


def _list_nargs(spec: _Spec, required: bool) -> int | str:
    """tyro's count: fixed for ``tuple[int, int]``, else ``+`` when required, ``*`` otherwise."""
    base, _ = strip_annotated(spec.annotation)
    parts = union_parts(base)
    if parts is not None:
        rest = [p for p in parts if p is not None]
        base = rest[0] if len(rest) == 1 else base
    if (
        isinstance(base, Generic)
        and base.base in ("builtins.tuple", "typing.Tuple")
        and base.args
        and Ellipsis not in base.args
    ):
        return len(base.args)
    return "+" if required else "*"


def _cli(interp: Interpreter, call: CallArgs) -> object:
    target = call.args[0] if call.args else call.kwargs.get("f", UNKNOWN)
    raise Invoked(TyroTarget(call.line, target), call.line)


HANDLERS: dict[str, RefHandler] = {
    "tyro.cli": _cli,
}


def _accepts(option: str, argument: Argument) -> bool:
    # tyro 1.0 reads --exp_name as --exp-name.
    key = option.lstrip("-").replace("-", "_")
    return option.startswith("--") and any(
        key == flag[2:].replace("-", "_") for flag in argument.accepted_flags()
    )


_SPELLING = "tyro accepts {first} VALUE for that field; use that spelling"
# Its bool fields with a default are --x/--no-x flags (described as negatable).
HINTS = CommandHints(
    _SPELLING,
    _SPELLING,
    bare_flags=True,
    accepts=_accepts,
    value_bool_fix="Annotated[bool, tyro.conf.FlagConversionOff] (tyro then reads True/False)",
)

FAMILY = target_family(
    "tyro",
    HANDLERS,
    TyroTarget,
    HINTS,
    never_read=frozenset({"tyro"}),
    modelled_names=DATACLASS_NAMES,
)
