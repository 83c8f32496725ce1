"""click, modelled: option/argument decorators, commands and groups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from keynet_train.extraction.families.contract import (
    CommandHints,
    Family,
    Site,
    another_spelling,
    on_off_pair,
)
from keynet_train.extraction.families.conversions import (
    NO_BOUNDS,
    Bounds,
    Descriptor,
    Fields,
    described,
    json_choices,
    json_default,
    json_flag_value,
    note_envvar,
    number,
)
from keynet_train.extraction.interpreter import CallArgs, Interpreter, Invoked, Modelled, RefHandler
from keynet_train.extraction.model import Argument
from keynet_train.extraction.normalize import (
    builtin_type_name,
    convert_string_default,
    function_return_type,
    type_of_value,
)
from keynet_train.extraction.subcommands import as_global, with_parent
from keynet_train.extraction.values import UNKNOWN, FunctionValue, Ref

_MISSING = object()
_CLICK_TYPES = {
    "click.INT": "int",
    "click.FLOAT": "float",
    "click.BOOL": "bool",
    "click.STRING": "str",
    "click.IntRange": "int",
    "click.FloatRange": "float",
}


class ParamSpec:
    """One ``@click.option``/``@click.argument`` as written."""

    def __init__(
        self, kind: str, decls: list[object], kwargs: dict[str, object], line: int
    ) -> None:
        self.kind = kind
        self.decls = decls
        self.kwargs = kwargs
        self.line = line
        #: The file of the decorator (its diagnostics name it); "": the entrypoint.
        self.path = ""


def _spec(
    interp: Interpreter, kind: str, decls: list[object], kwargs: dict[str, object], line: int
) -> ParamSpec:
    """A parameter as written at ``line`` of the file being read."""
    spec = ParamSpec(kind, decls, kwargs, line)
    spec.path = interp.path
    return spec


class ChoiceType:
    """``click.Choice([...])``."""

    def __init__(self, choices: object) -> None:
        self.choices = choices


class ParamDecorator(Modelled):
    """What ``click.option(...)`` returns: applied to a function, it records the parameter."""

    def __init__(self, spec: ParamSpec) -> None:
        self.spec = spec

    def call_self(self, interp: Interpreter, call: CallArgs) -> object:
        target = call.args[0] if call.args else UNKNOWN
        if isinstance(target, FunctionValue):
            target.click_params.append(self.spec)
        elif isinstance(target, ClickCommand):
            target.params.append(self.spec)
        return target


class ClickCommand(Modelled):
    """A ``click.Command`` or ``click.Group``."""

    def __init__(
        self, name: str, params: list[ParamSpec], line: int, is_group: bool = False
    ) -> None:
        self.name = name
        self.params = params
        self.line = line
        self.is_group = is_group
        self.subcommands: list[str] = list()
        #: Sub-command name → command (a group's commands, in registration order).
        self.commands: dict[str, ClickCommand] = dict()

    parser_type = "click"

    def call_self(self, interp: Interpreter, call: CallArgs) -> object:
        raise Invoked(self, call.line)

    def call_method(self, interp: Interpreter, name: str, call: CallArgs) -> object:
        if name == "main":
            raise Invoked(self, call.line)
        if name in ("command", "group"):
            if len(call.args) == 1 and isinstance(call.args[0], FunctionValue) and not call.kwargs:
                return _make_command(interp, call.args[0], name == "group", self, call.line)
            return CommandDecorator(name == "group", self, call.args, call.kwargs)
        if name == "add_command":
            cmd = call.args[0] if call.args else None
            sub = call.args[1] if len(call.args) > 1 else call.kwargs.get("name")
            if not isinstance(sub, str):
                sub = cmd.name if isinstance(cmd, ClickCommand) else "?"
            self.subcommands.append(sub)
            if isinstance(cmd, ClickCommand) and sub != "?":
                self.commands[sub] = cmd
            else:
                interp.note(
                    call.line,
                    "a sub-command added here is unknown statically",
                    "warning",
                    partial=True,
                )
            return None
        return UNKNOWN


class CommandDecorator(Modelled):
    """``click.command(...)``/``group.command(...)`` before it is applied."""

    def __init__(
        self,
        is_group: bool,
        parent: ClickCommand | None,
        args: list[object],
        kwargs: dict[str, object],
    ) -> None:
        self.is_group = is_group
        self.parent = parent
        self.args = args
        self.kwargs = kwargs

    def call_self(self, interp: Interpreter, call: CallArgs) -> object:
        target = call.args[0] if call.args else UNKNOWN
        if not isinstance(target, FunctionValue):
            return UNKNOWN
        name: object = self.args[0] if self.args else None
        name = self.kwargs.get("name", name)
        return _make_command(
            interp,
            target,
            self.is_group,
            self.parent,
            call.line,
            name if isinstance(name, str) else None,
        )


def _command_name(fn: FunctionValue) -> str:
    name = fn.name.lower().replace("_", "-")
    for suffix in ("-command", "-cmd", "-group", "-grp"):
        if name.endswith(suffix) and name != suffix:
            return name[: -len(suffix)]
    return name


def _make_command(
    interp: Interpreter,
    fn: FunctionValue,
    is_group: bool,
    parent: ClickCommand | None,
    line: int,
    name: str | None = None,
) -> ClickCommand:
    # Decorators run bottom-up, so click reverses the recorded list to source order.
    params = [p for p in reversed(fn.click_params) if isinstance(p, ParamSpec)]
    cmd = ClickCommand(name or _command_name(fn), params, fn.node.lineno, is_group)
    cmd.defined_in = fn.path
    if parent is not None:
        parent.subcommands.append(cmd.name)
        parent.commands[cmd.name] = cmd
    else:
        interp.candidates.append(cmd)
    return cmd


def _command(is_group: bool) -> RefHandler:
    def handler(interp: Interpreter, call: CallArgs) -> object:
        if len(call.args) == 1 and isinstance(call.args[0], FunctionValue) and not call.kwargs:
            return _make_command(interp, call.args[0], is_group, None, call.line)
        return CommandDecorator(is_group, None, call.args, call.kwargs)

    return handler


def _param(kind: str) -> RefHandler:
    def handler(interp: Interpreter, call: CallArgs) -> object:
        if call.incomplete:
            interp.note(
                call.line,
                f"click {kind} with arguments not known statically",
                "warning",
                partial=True,
            )
        return ParamDecorator(_spec(interp, kind, list(call.args), dict(call.kwargs), call.line))

    return handler


def _password_option(interp: Interpreter, call: CallArgs) -> object:
    decls = list(call.args) or ["--password"]
    return ParamDecorator(_spec(interp, "option", decls, dict(call.kwargs), call.line))


def _skip_option(interp: Interpreter, call: CallArgs) -> object:
    # version/help/confirmation options do not reach the function: not hyperparameters.
    return ParamDecorator(_spec(interp, "skip", [], {}, call.line))


def _choice(interp: Interpreter, call: CallArgs) -> object:
    return ChoiceType(call.args[0] if call.args else call.kwargs.get("choices", UNKNOWN))


class RangeType(Ref):
    """``click.IntRange(...)``/``click.FloatRange(...)`` with the bounds it enforces."""

    def __init__(self, name: str, args: list[object], kwargs: dict[str, object]) -> None:
        super().__init__(name)
        kw = dict(zip(("min", "max", "min_open", "max_open", "clamp"), args, strict=False))
        kw.update(kwargs)
        self.min = number(kw.get("min"))
        self.max = number(kw.get("max"))
        self.min_open = kw.get("min_open") is True
        self.max_open = kw.get("max_open") is True
        # A clamping range (clamp=True) keeps its bounds and open flags as written:
        # the platform keeps values inside them, where clamping changes nothing.


def _range(name: str) -> RefHandler:
    def handler(interp: Interpreter, call: CallArgs) -> object:
        return RangeType(name, call.args, call.kwargs)

    return handler


def _str_type(interp: Interpreter, call: CallArgs) -> object:
    return Ref("click.STRING")


def _split_opt(opt: str) -> tuple[str, str]:
    first = opt[:1]
    if first.isalnum():
        return "", opt
    if opt[1:2] == first:
        return opt[:2], opt[2:]
    return first, opt[1:]


def param_name(spec: ParamSpec) -> tuple[str | None, bool]:
    """click's name for the parameter, and whether secondary (``/--no-x``) options exist."""
    decls = [d for d in spec.decls if isinstance(d, str)]
    if spec.kind == "argument":
        if not decls:
            return None, False
        return decls[0].replace("-", "_").lower(), False
    name: str | None = None
    possible: list[tuple[str, str]] = []
    secondary = False
    for decl in decls:
        if decl.isidentifier():
            name = decl
            continue
        first, second = split_decl(decl)
        if first:
            possible.append(_split_opt(first))
        if second:
            secondary = True
    if name is None and possible:
        possible.sort(key=lambda x: -len(x[0]))
        name = possible[0][1].replace("-", "_").lower()
        if not name.isidentifier():
            name = None
    return name, secondary


def split_decl(decl: str) -> tuple[str, str]:
    """click's split of one option declaration into its option and its secondary option.

    ``"--amp/--no-amp"`` → ``("--amp", "--no-amp")``; a declaration starting
    with ``/`` splits at ``;`` (``"/debug;/no-debug"``); without a separator
    the secondary part is ``""``.
    """
    split_char = ";" if decl[:1] == "/" else "/"
    if split_char not in decl:
        return decl, ""
    first, second = decl.split(split_char, 1)
    return first.rstrip(), second.lstrip()


def _cleandoc(text: str) -> str:
    """``inspect.cleandoc`` without importing inspect (click cleans option help with it)."""
    lines = text.expandtabs().split("\n")
    margin = min((len(line) - len(line.lstrip()) for line in lines[1:] if line.lstrip()), default=0)
    lines[0] = lines[0].lstrip()
    lines[1:] = [line[margin:] for line in lines[1:]]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def _type_of(interp: Interpreter, t: object, line: int, name: str) -> tuple[str, object, bool]:
    """(type name, choices, builtin-conversion) for an explicit ``type=``."""
    if isinstance(t, ChoiceType):
        return "str", t.choices, False
    if isinstance(t, Ref):
        if t.name in _CLICK_TYPES:
            return _CLICK_TYPES[t.name], None, True
        builtin = builtin_type_name(t)
        if builtin is not None:
            return builtin, None, True
        if not t.name.startswith(("click.", "pathlib.")):
            interp.note(line, f"type of '{name}' ({t.name}) is not known; sent as str")
        return "str", None, False
    if isinstance(t, FunctionValue):
        return function_return_type(t) or "str", None, False
    if isinstance(t, tuple):
        return "str", None, False
    interp.note(line, f"type of '{name}' not resolved statically; sent as str")
    return "str", None, False


def command_arguments(interp: Interpreter, cmd: ClickCommand) -> list[Argument]:
    """The arguments of a click command or group (its own parameters)."""
    result: list[Argument] = []
    position = 0
    for spec in cmd.params:
        if spec.kind == "skip" or spec.kwargs.get("expose_value", True) is False:
            continue
        with interp.in_file(spec.path):
            arg = _spec_argument(interp, spec)
        if arg is not None and arg.kind == "positional":
            arg = arg._replace(position=position)
            position += 1
        if arg is not None:
            result.append(arg)
    return result


def _spec_argument(interp: Interpreter, spec: ParamSpec) -> Argument | None:
    kw = spec.kwargs
    name, secondary = param_name(spec)
    if name is None:
        interp.note(
            spec.line,
            f"click {spec.kind} name not resolved statically; skipped",
            "warning",
            partial=True,
        )
        return None
    if spec.kind == "option":
        typed = _option_typing(interp, spec, name, secondary)
    else:
        typed = _argument_typing(interp, spec, name)
    note_envvar(interp, kw.get("envvar"), name, spec.line)
    default = typed.default
    if default is _MISSING:
        default = None
    elif isinstance(default, FunctionValue):
        interp.note(spec.line, f"default of '{name}' is computed at runtime; sent as null")
        default = None
    type_name = typed.type_name
    default = convert_string_default(default, type_name, typed.builtin and type_name != "bool")
    default = json_default(interp, default, name, spec.line)
    choices = json_choices(interp, typed.choices, name, spec.line)
    help_value = kw.get("help") if spec.kind == "option" else None
    help_text = _cleandoc(help_value) if isinstance(help_value, str) and help_value else None
    t = kw.get("type")
    count = kw.get("count", False) is True
    desc = _descriptor(
        spec,
        name,
        typed.is_flag and t is None,
        kw.get("flag_value", _MISSING),
        kw.get("multiple", False) is True,
        count,
    )
    bounds = NO_BOUNDS
    if isinstance(t, RangeType):
        bounds = Bounds(t.min, t.max, t.min_open, t.max_open)
    elif count and t is None:
        bounds = Bounds(0)  # click gives a counting option the type IntRange(min=0)
    return described(
        Fields(name, type_name, default, typed.required, help_text, choices), desc, bounds
    )


class _Typing(NamedTuple):
    """What a parameter's declaration says about its value, before conversion."""

    type_name: str
    default: object  # _MISSING when there is none
    choices: object = None
    builtin: bool = False  # click converts a string default with the builtin type
    required: bool = False
    is_flag: bool = False


def _option_typing(interp: Interpreter, spec: ParamSpec, name: str, secondary: bool) -> _Typing:
    """click's rules for an option: counting, flags (bool or ``flag_value``), then ``type=``."""
    kw = spec.kwargs
    default = kw.get("default", _MISSING)
    flag_value = kw.get("flag_value", _MISSING)
    required = kw.get("required") is True
    t = kw.get("type")
    declared = kw.get("is_flag")
    if declared is None:
        declared = flag_value is not _MISSING or secondary
    is_flag = declared is True
    if kw.get("count", False) is True:
        type_name = "int" if t is None else _type_of(interp, t, spec.line, name)[0]
        default = 0 if default is _MISSING else default
        return _Typing(type_name, default, None, False, required, is_flag)
    if declared and t is None:
        if flag_value is _MISSING or isinstance(flag_value, bool):
            if default is _MISSING and not required:
                default = False
            return _Typing("bool", default, None, False, required, is_flag)
        return _Typing(type_of_value(flag_value) or "str", default, None, False, required, is_flag)
    if t is not None:
        type_name, choices, builtin = _type_of(interp, t, spec.line, name)
        return _Typing(type_name, default, choices, builtin, required, is_flag)
    return _Typing(type_of_value(default) or "str", default, None, True, required, is_flag)


def _argument_typing(interp: Interpreter, spec: ParamSpec, name: str) -> _Typing:
    """click's rules for an argument: ``type=``, and required unless it has a default."""
    kw = spec.kwargs
    default = kw.get("default", _MISSING)
    required = kw.get("required")
    if required is None:
        nargs = kw.get("nargs", 1)
        required = default is _MISSING and (not isinstance(nargs, int) or nargs > 0)
    t = kw.get("type")
    if t is not None:
        type_name, choices, builtin = _type_of(interp, t, spec.line, name)
        return _Typing(type_name, default, choices, builtin, required is True)
    return _Typing(type_of_value(default) or "str", default, None, True, required is True)


def declared_flags(decls: Iterable[object]) -> tuple[list[str], list[str]]:
    """The option strings of declarations (names skipped): ``--x`` ones, and ``--no-x`` ones."""
    positive: list[str] = []
    negative: list[str] = []
    for decl in decls:
        if isinstance(decl, str) and not decl.isidentifier():
            first, second = split_decl(decl)
            positive += [first] if first else []
            negative += [second] if second else []
    return positive, negative


def long_first(flags: Iterable[str]) -> tuple[str, ...]:
    """Option strings, ``--long`` ones first, otherwise in declaration order."""
    return tuple(sorted(flags, key=lambda f: not f.startswith("--")))


def click_nargs(nargs: object, required: bool) -> int | str | None:
    """click's ``nargs`` as the descriptor spells it: ``-1`` is ``*`` (``+`` when required)."""
    if not isinstance(nargs, int) or isinstance(nargs, bool) or nargs == 1:
        return None
    if nargs < 0:
        return "+" if required else "*"
    return nargs


def _descriptor(
    spec: ParamSpec,
    name: str,
    bool_flag: bool,
    flag_value: object,
    multiple: bool,
    count: bool,
) -> Descriptor:
    kw = spec.kwargs
    if spec.kind != "option":
        return Descriptor(
            "positional", nargs=click_nargs(kw.get("nargs", 1), kw.get("required") is True)
        )
    positive, negative = declared_flags(spec.decls)
    flags = long_first(dict.fromkeys(positive))
    if count:
        return Descriptor("count", flags)
    if bool_flag or flag_value is not _MISSING or kw.get("is_flag") is True:
        if negative:
            return Descriptor("negatable", flags, None, long_first(dict.fromkeys(negative)))
        # click 8.2+: a flag without flag_value stores True when present.
        value = True if flag_value is _MISSING else flag_value
        return Descriptor("flag", flags, json_flag_value(value))
    if multiple:
        return Descriptor("list", flags, list_style="repeat")
    nargs = click_nargs(kw.get("nargs", 1), False)
    if nargs is not None:
        return Descriptor("list", flags, list_style="space", nargs=nargs)
    return Descriptor("value", flags)


def subcommand_names(target: ClickCommand) -> list[str]:
    """A group's commands, in registration order (a plain command has none)."""
    return list(dict.fromkeys(target.subcommands)) if target.is_group else []


def arguments(
    interp: Interpreter, target: ClickCommand, command: str | None, site: Site
) -> list[Argument]:
    """The command's parameters (with ``command``: the group's, then the command's)."""
    parent = command_arguments(interp, target)
    if command is None:
        return parent
    cmd = target.commands.get(command)
    if cmd is None:
        interp.note(
            target.line,
            f"sub-command {command!r} is not known statically",
            "warning",
            partial=True,
        )
        return as_global(parent)
    own = command_arguments(interp, cmd)
    return with_parent(
        interp, parent, own, command, cmd.line, nested=cmd.is_group and bool(cmd.subcommands)
    )


def _parts(target: ClickCommand) -> list[ClickCommand]:
    return list(target.commands.values())


def _size(target: ClickCommand) -> int:
    return len(target.params) + len(target.subcommands)


HANDLERS: dict[str, RefHandler] = {
    "click.command": _command(False),
    "click.group": _command(True),
    "click.option": _param("option"),
    "click.argument": _param("argument"),
    "click.password_option": _password_option,
    "click.version_option": _skip_option,
    "click.help_option": _skip_option,
    "click.confirmation_option": _skip_option,
    "click.Choice": _choice,
    "click.IntRange": _range("click.IntRange"),
    "click.FloatRange": _range("click.FloatRange"),
    "click.Path": _str_type,
    "click.File": _str_type,
    "click.DateTime": _str_type,
    "click.Tuple": _str_type,
}

HINTS = CommandHints(
    spelling_fix=another_spelling("@click.option({first!r}, {option!r}, ...)"),
    bool_spelling_fix=on_off_pair("@click.option('{option}/--no-{bare}')"),
    bare_flags=True,
    value_bool_fix="@click.option('{option}', type=bool, default=...) (click reads True/False)",
    option_fix="@click.option({option!r}, ...)",
    command_fix="call the {command!r} command itself where the script starts "
    "(`{command}()` instead of the group under `if __name__ == '__main__'`), or push "
    "an entry script that imports it and calls it",
)

FAMILY = Family(
    parser_type="click",
    handlers=HANDLERS,
    target_types=(ClickCommand,),
    arguments=arguments,
    subcommands=subcommand_names,
    hints=HINTS,
    parts=_parts,
    size=_size,
    never_read=frozenset({"click"}),
)
