"""python-fire, modelled: ``fire.Fire(fn | class | dict)`` read from the signature.

fire turns each parameter of the function (of ``__init__`` for a class) into a
flag: ``--name=value`` or ``--name value``, ``-`` and ``_`` interchangeable,
bools also as ``--name``/``--noname``. fire itself converts values with
``ast.literal_eval`` and ignores annotations; the platform's form uses the
annotation when there is one, else the default's type. Help comes from the
docstring's ``Args:``/``Parameters`` section. For a dict of commands, the one
to train with is the only one, else ``train``.
"""

from __future__ import annotations

import ast

from keynet_train.extraction.dataclass_fields import eval_annotation
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
from keynet_train.extraction.values import UNKNOWN, ClassValue, FunctionValue

_MISSING = object()


class FireTarget(FamilyTarget):
    """The component ``fire.Fire`` was given: a function, a class, or a dict of commands.

    fire's commands are sub-commands (docs/extraction-rules.md): the keys of a dict, or the
    public methods of a class (whose constructor's flags fire accepts before
    or after the method name; they are reported with scope ``global``).
    """

    parser_type = "fire"

    def __init__(self, line: int, component: object) -> None:
        super().__init__(line)
        self.component = component

    def _commands(self) -> dict[str, object]:
        component = self.component
        if isinstance(component, dict):
            return {k: v for k, v in component.items() if isinstance(k, str)}
        if isinstance(component, ClassValue):
            return {
                n: v
                for n, v in component.namespace.items()
                if isinstance(v, FunctionValue) and not n.startswith("_")
            }
        return {}

    def subcommand_names(self) -> list[str]:
        return list(self._commands())

    def arguments(self, interp: Interpreter) -> list[Argument]:
        component = self.component
        if isinstance(component, FunctionValue):
            return _function_arguments(interp, component, _doc(component.node), skip_self=False)
        if isinstance(component, ClassValue):
            return _constructor_arguments(interp, component)
        return []

    def command_arguments(self, interp: Interpreter, command: str) -> list[Argument]:
        chosen = self._commands().get(command)
        interp.note(self.line, f"training with fire command {command!r}")
        if isinstance(self.component, ClassValue) and isinstance(chosen, FunctionValue):
            parent = _constructor_arguments(interp, self.component)
            own = _function_arguments(interp, chosen, _doc(chosen.node), skip_self=True)
            return [a._replace(scope="global") for a in parent] + own
        if isinstance(chosen, ClassValue) and FireTarget(self.line, chosen).subcommand_names():
            interp.note(self.line, f"the methods of fire command {command!r} are not extracted")
        if isinstance(chosen, (FunctionValue, ClassValue)):
            return FireTarget(self.line, chosen).arguments(interp)
        interp.note(
            self.line, f"fire command {command!r} was not resolved statically; no hyperparameters"
        )
        return []


def _constructor_arguments(interp: Interpreter, cls: ClassValue) -> list[Argument]:
    init = cls.namespace.get("__init__")
    if not isinstance(init, FunctionValue):
        return []
    helps = _doc(cls.node) if cls.node is not None else {}
    helps = {**_doc(init.node), **helps}
    return _function_arguments(interp, init, helps, skip_self=True)


def _doc(node: object) -> dict[str, str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return parameter_help(ast.get_docstring(node, clean=False))
    return {}


def _function_arguments(
    interp: Interpreter, fn: FunctionValue, helps: dict[str, str], *, skip_self: bool
) -> list[Argument]:
    with interp.in_file(fn.path):
        return _parameters_arguments(interp, fn, helps, skip_self=skip_self)


def _parameters_arguments(
    interp: Interpreter, fn: FunctionValue, helps: dict[str, str], *, skip_self: bool
) -> list[Argument]:
    node = fn.node
    positional, keyword_only, defaults = fn.parameters()
    params = [*positional, *keyword_only]
    if skip_self and positional:
        params = params[1:]
    if node.args.vararg is not None or node.args.kwarg is not None:
        interp.note(
            node.lineno,
            f"{fn.name}() also takes *args/**kwargs; fire accepts more flags than are listed",
        )
    return [
        _argument(interp, fn, p, defaults.get(p.arg, _MISSING), helps.get(p.arg)) for p in params
    ]


def _argument(
    interp: Interpreter, fn: FunctionValue, param: ast.arg, default: object, help_text: str | None
) -> Argument:
    name = param.arg
    required = default is _MISSING
    value = None if required else default
    type_name: str | None = None
    is_list = isinstance(value, (list, tuple))
    if param.annotation is not None:
        annotation = eval_annotation(interp, param.annotation, fn.closure)
        type_name = annotation_type(annotation)
        is_list = is_list or plain_annotation(annotation)[1]
        if type_name is None:
            interp.note(
                param.lineno,
                f"annotation of '{name}' is not int/float/str/bool; typed from its default",
            )
    if type_name is None:
        type_name = type_of_value(value) or "str"
    flags = (f"--{name}", f"--{name.replace('_', '-')}") if "_" in name else (f"--{name}",)
    desc = Descriptor("value", flags)
    if is_list:
        # fire reads one Python literal: --sizes=[1,2,3]
        desc = Descriptor("list", flags, list_style="literal")
    elif type_name == "bool":
        desc = Descriptor("negatable", flags, negative_flags=tuple(f"--no{f[2:]}" for f in flags))
    default = json_default(interp, value, name, param.lineno)
    return described(Fields(name, type_name, default, required, help_text, None), desc)


def _fire(interp: Interpreter, call: CallArgs) -> object:
    component = call.args[0] if call.args else call.kwargs.get("component", None)
    if component is None:
        interp.note(
            call.line,
            "fire.Fire() without a component exposes every global of the module; "
            "pass the training function (fire.Fire(train)) to get its hyperparameters",
            "warning",
            partial=True,
        )
        raise Invoked(FireTarget(call.line, UNKNOWN), call.line)
    if not isinstance(component, (FunctionValue, ClassValue, dict)):
        interp.note(
            call.line,
            "the component given to fire.Fire was not resolved statically; no hyperparameters",
            "warning",
            partial=True,
        )
    raise Invoked(FireTarget(call.line, component), call.line)


HANDLERS: dict[str, RefHandler] = {
    "fire.Fire": _fire,
    "fire.core.Fire": _fire,
}


def _accepts(option: str, argument: Argument) -> bool:
    # fire strips any number of leading dashes and reads '-' as '_'. The
    # command check gives a "no" spelling only for a bool (its negation).
    key = option.lstrip("-").replace("-", "_")
    return key in (argument.name, f"no{argument.name}")


_SPELLING = "fire accepts {first}=VALUE or {first} VALUE for that parameter; use that spelling"
# fire reads True/False after a bool's flag: not bare flags.
HINTS = CommandHints(_SPELLING, _SPELLING, literal_values=True, accepts=_accepts)

FAMILY = target_family("fire", HANDLERS, FireTarget, HINTS, never_read=frozenset({"fire"}))
