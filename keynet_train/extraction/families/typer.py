"""typer, modelled: apps, commands, callbacks and parameters read from function signatures."""

from __future__ import annotations

import ast

from keynet_train.extraction.dataclass_fields import LIST_TYPES
from keynet_train.extraction.families.click import declared_flags, long_first
from keynet_train.extraction.families.contract import (
    CommandHints,
    Family,
    Site,
    another_spelling,
    on_off_pair,
)
from keynet_train.extraction.families.conversions import (
    Bounds,
    Descriptor,
    Fields,
    described,
    json_default,
    known_help,
    note_envvar,
    number,
)
from keynet_train.extraction.interpreter import CallArgs, Interpreter, Invoked, Modelled, RefHandler
from keynet_train.extraction.model import Argument
from keynet_train.extraction.normalize import (
    Unresolved,
    builtin_type_name,
    choices_list,
    convert_string_default,
    type_of_value,
)
from keynet_train.extraction.subcommands import as_global, with_parent
from keynet_train.extraction.values import UNKNOWN, ClassValue, FunctionValue, Ref, Scope

_MISSING = object()


class ParamInfo:
    """``typer.Option(...)``/``typer.Argument(...)``."""

    def __init__(
        self,
        kind: str,
        default: object,
        kwargs: dict[str, object],
        decls: tuple[object, ...] = (),
    ) -> None:
        self.kind = kind
        self.default = default
        self.kwargs = kwargs
        self.decls = decls  # the positionals after the default: "--lr", "-l"


class TyperApp(Modelled):
    """A ``typer.Typer()`` app (or the one ``typer.run`` makes)."""

    def __init__(self, line: int, callback: FunctionValue | None = None) -> None:
        self.line = line
        self.commands: list[tuple[str, FunctionValue]] = list()
        self.callback = callback
        self.groups: list[str] = list()
        #: Commands whose function cannot be read statically (names only).
        self.opaque_commands: list[str] = list()

    parser_type = "typer"

    def call_self(self, interp: Interpreter, call: CallArgs) -> object:
        raise Invoked(self, call.line)

    def call_method(self, interp: Interpreter, name: str, call: CallArgs) -> object:
        if name in ("command", "callback"):
            cmd_name = call.args[0] if call.args else call.kwargs.get("name")
            return _AppDecorator(self, name, cmd_name if isinstance(cmd_name, str) else None)
        if name == "add_typer":
            sub = call.kwargs.get("name")
            self.groups.append(sub if isinstance(sub, str) else "?")
            return None
        return UNKNOWN


class _AppDecorator(Modelled):
    def __init__(self, app: TyperApp, kind: str, name: str | None) -> None:
        self.app = app
        self.kind = kind
        self.name = name

    def call_self(self, interp: Interpreter, call: CallArgs) -> object:
        fn = call.args[0] if call.args else UNKNOWN
        if isinstance(fn, FunctionValue):
            if self.kind == "callback":
                self.app.callback = fn
            else:
                # typer's default command name: the function's, lower-cased, "_" → "-".
                self.app.commands.append((self.name or fn.name.lower().replace("_", "-"), fn))
        elif self.kind == "command":
            # A command defined where the interpreter cannot read it (an
            # unresolved import): it exists, so its options are missing, loudly.
            tail = fn.name.rsplit(".", 1)[-1] if isinstance(fn, Ref) else "?"
            name = self.name or tail.lower().replace("_", "-")
            self.app.opaque_commands.append(name)
            interp.note(
                call.line,
                f"the typer command {name!r} is defined in code that cannot be followed "
                "statically; its options are missing",
                "warning",
                partial=True,
            )
        return fn  # typer returns the function itself


def _new_app(interp: Interpreter, call: CallArgs) -> object:
    app = TyperApp(call.line)
    app.defined_in = interp.path
    interp.candidates.append(app)
    return app


def _run(interp: Interpreter, call: CallArgs) -> object:
    fn = call.args[0] if call.args else UNKNOWN
    app = TyperApp(call.line)
    app.defined_in = interp.path
    if isinstance(fn, FunctionValue):
        app.commands.append((fn.name, fn))
    raise Invoked(app, call.line)


def _info(kind: str) -> RefHandler:
    def handler(interp: Interpreter, call: CallArgs) -> object:
        default = call.args[0] if call.args else call.kwargs.get("default", _MISSING)
        return ParamInfo(kind, default, dict(call.kwargs), tuple(call.args[1:]))

    return handler


def is_single_command(app: TyperApp) -> bool:
    """typer runs a lone command directly (no sub-command name) when there is no callback."""
    return (
        app.callback is None
        and len(app.commands) + len(app.opaque_commands) == 1
        and not app.groups
    )


def app_arguments(interp: Interpreter, app: TyperApp) -> list[Argument]:
    """The arguments of ``app`` itself: its lone command's, else its callback's."""
    if is_single_command(app):
        # A lone opaque command was warned about where it was registered.
        return function_arguments(interp, app.commands[0][1]) if app.commands else []
    result = function_arguments(interp, app.callback) if app.callback is not None else []
    if not app.commands and not app.groups and not app.opaque_commands:
        interp.note(app.line, "typer app has no command", "warning", partial=True)
    return result


def function_arguments(interp: Interpreter, fn: FunctionValue) -> list[Argument]:
    """One argument per parameter of ``fn``, typer-style."""
    positional, keyword_only, defaults = fn.parameters()
    result: list[Argument] = []
    position = 0
    for param in [*positional, *keyword_only]:
        with interp.in_file(fn.path):
            arg = _param_argument(interp, fn, param, defaults.get(param.arg, _MISSING))
        if arg is not None and arg.kind == "positional":
            arg = arg._replace(position=position)
            position += 1
        if arg is not None:
            result.append(arg)
    return result


def _param_argument(
    interp: Interpreter, fn: FunctionValue, param: ast.arg, default: object
) -> Argument | None:
    line = param.lineno
    name = param.arg
    annotation, info, decls = _declared(_annotation(interp, param.annotation, fn.closure, 0))
    if _is_context(annotation):
        return None
    if isinstance(default, ParamInfo):
        info = default
        default = info.default
        decls = info.decls
    elif info is None:
        info = ParamInfo("option" if default is not _MISSING else "argument", _MISSING, {})
    required = default is _MISSING or default is Ellipsis
    if "default_factory" in info.kwargs:
        interp.note(line, f"default of '{name}' comes from default_factory; sent as null")
        required = False
        default = None
    if required:
        default = None
    type_name, choices = _type_from_annotation(interp, annotation, default, line, name)
    note_envvar(interp, info.kwargs.get("envvar"), name, line)
    default = convert_string_default(default, type_name, type_name in ("int", "float"))
    default = json_default(interp, default, name, line)
    help_text = known_help(interp, info.kwargs.get("help"), name, line) or None
    desc = _descriptor(info, name, type_name, decls, _is_list(annotation), required)
    # Kept with clamp=True too: inside the bounds, clamping changes nothing.
    bounds = Bounds(number(info.kwargs.get("min")), number(info.kwargs.get("max")))
    return described(Fields(name, type_name, default, required, help_text, choices), desc, bounds)


def _declared(annotation: object) -> tuple[object, ParamInfo | None, tuple[object, ...]]:
    """``Annotated[T, typer.Option(...)]``: T, the Option and its option names."""
    info: ParamInfo | None = None
    decls: tuple[object, ...] = ()
    if isinstance(annotation, tuple) and annotation[:2] == ("__generic__", "typing.Annotated"):
        parts = annotation[2] if isinstance(annotation[2], tuple) else (annotation[2],)
        annotation = parts[0] if parts else UNKNOWN
        for meta in parts[1:]:
            if isinstance(meta, ParamInfo):
                info = meta
                # Inside Annotated, typer reads Option("--lr", "-l")'s first
                # positional as an option name, not as the default.
                first = () if info.default is _MISSING else (info.default,)
                decls = (*first, *info.decls)
    return annotation, info, decls


def _descriptor(
    info: ParamInfo,
    name: str,
    type_name: str,
    decls: tuple[object, ...],
    is_list: bool,
    required: bool,
) -> Descriptor:
    """The spelling: typer hands click ``--x/--no-x`` for a bool unless names are given."""
    if info.kind != "option":
        return Descriptor("positional", nargs=("+" if required else "*") if is_list else None)
    positive, negative = declared_flags(decls)
    if not positive:
        option = "--" + name.lower().replace("_", "-")
        positive = [option]
        if type_name == "bool" and not is_list:
            negative = [f"--no-{option[2:]}"]
    flags = long_first(dict.fromkeys(positive))
    if info.kwargs.get("count") is True:
        return Descriptor("count", flags)
    if is_list:
        return Descriptor("list", flags, list_style="repeat")
    if type_name == "bool":
        if negative:
            return Descriptor("negatable", flags, None, long_first(dict.fromkeys(negative)))
        return Descriptor("flag", flags, True)
    return Descriptor("value", flags)


def _is_list(annotation: object) -> bool:
    """Whether typer makes the parameter ``multiple`` (a ``List[...]``-like annotation)."""
    for _ in range(10):
        if not (isinstance(annotation, tuple) and len(annotation) == 3):
            return False
        _, base, args = annotation
        single = not isinstance(args, tuple) or args[:1] == ("__generic__",)
        parts = (args,) if single else args
        if base in ("typing.List", "builtins.list"):
            return True
        if base in ("typing.Optional", "typing.Annotated"):
            annotation = parts[0] if parts else None
        elif base == "typing.Union":
            rest = [
                p
                for p in parts
                if p is not None and not (isinstance(p, Ref) and p.name == "builtins.None")
            ]
            annotation = rest[0] if len(rest) == 1 else None
        else:
            return False
    return False


def _is_context(annotation: object) -> bool:
    return isinstance(annotation, Ref) and annotation.name.endswith(".Context")


def _annotation(interp: Interpreter, node: ast.expr | None, scope: Scope, depth: int) -> object:
    """Evaluate an annotation; ``X | None`` and string annotations handled."""
    if node is None or depth > 20:
        return _MISSING if node is None else UNKNOWN
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if len(node.value) > 1000:
            return UNKNOWN
        try:
            parsed = ast.parse(node.value, mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return UNKNOWN
        return _annotation(interp, parsed, scope, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left = _annotation(interp, node.left, scope, depth + 1)
        right = _annotation(interp, node.right, scope, depth + 1)
        return ("__generic__", "typing.Union", (left, right))
    if isinstance(node, ast.Subscript):
        base = interp.eval(node.value, scope)
        sl = node.slice
        elts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        items = tuple(
            interp.eval(e, scope)
            if i and not _is_type_expr(e)
            else _annotation(interp, e, scope, depth + 1)
            for i, e in enumerate(elts)
        )
        base_name = base.name if isinstance(base, Ref) else "?"
        return ("__generic__", base_name, items if len(items) > 1 else items[0])
    return interp.eval(node, scope)


def _is_type_expr(node: ast.expr) -> bool:
    return isinstance(node, (ast.Name, ast.Attribute, ast.Subscript, ast.BinOp)) or (
        isinstance(node, ast.Constant) and node.value is None
    )


def _unwrap(annotation: object) -> object:
    """Strip Optional/Union-with-None and container wrappers down to the element type."""
    for _ in range(10):
        if not (isinstance(annotation, tuple) and len(annotation) == 3):
            return annotation
        _, base, args = annotation
        parts = args if isinstance(args, tuple) else (args,)
        if base in ("typing.Optional",):
            annotation = parts[0]
        elif base == "typing.Union":
            rest = [
                p
                for p in parts
                if p is not None and not (isinstance(p, Ref) and p.name == "builtins.None")
            ]
            annotation = rest[0] if len(rest) == 1 else UNKNOWN
        elif base in LIST_TYPES:
            annotation = parts[0] if parts else Ref("builtins.str")
        elif base == "typing.Annotated":
            annotation = parts[0]
        else:
            return UNKNOWN
    return annotation


def _type_from_annotation(
    interp: Interpreter, annotation: object, default: object, line: int, name: str
) -> tuple[str, list[str] | None]:
    if annotation is _MISSING:
        # typer treats an unannotated parameter as str
        return "str", None
    base = _unwrap(annotation)
    builtin = builtin_type_name(base)
    if builtin is not None:
        return builtin, None
    if isinstance(base, ClassValue) and base.is_enum:
        try:
            return "str", choices_list(base)
        except Unresolved:
            interp.note(line, f"choices of '{name}' could not be resolved statically", "warning")
            return "str", None
    if isinstance(base, Ref) and base.name in ("pathlib.Path", "pathlib.PurePath", "builtins.str"):
        return "str", None
    inferred = type_of_value(default) if default is not None else None
    interp.note(line, f"type of '{name}' not resolved statically; sent as {inferred or 'str'}")
    return inferred or "str", None


def subcommand_names(target: TyperApp) -> list[str]:
    """The app's commands and groups, in registration order (a lone command: none)."""
    if is_single_command(target):
        return []
    names = [name for name, _ in target.commands] + target.opaque_commands + target.groups
    return list(dict.fromkeys(names))


def arguments(
    interp: Interpreter, target: TyperApp, command: str | None, site: Site
) -> list[Argument]:
    """The app's arguments (with ``command``: the callback's, then the command's)."""
    parent = app_arguments(interp, target)
    if command is None:
        return parent
    fn = next((f for n, f in target.commands if n == command), None)
    if not isinstance(fn, FunctionValue):
        if command not in target.opaque_commands:  # those were warned about already
            interp.note(
                target.line,
                f"sub-command {command!r} is a nested typer app, not extracted",
                "warning",
                partial=True,
            )
        return as_global(parent)
    own = function_arguments(interp, fn)
    return with_parent(interp, parent, own, command, fn.node.lineno)


def _size(target: TyperApp) -> int:
    return len(target.commands)


HANDLERS: dict[str, RefHandler] = {
    "typer.Typer": _new_app,
    "typer.run": _run,
    "typer.Option": _info("option"),
    "typer.Argument": _info("argument"),
}

HINTS = CommandHints(
    spelling_fix=another_spelling("typer.Option({first!r}, {option!r})"),
    bool_spelling_fix=on_off_pair("a bool parameter, which typer spells {option}/--no-{bare}"),
    bare_flags=True,
    value_bool_fix="typer makes every bool parameter a flag; declare it as a str parameter "
    "(default 'False') and convert it in the code",
    option_fix="typer.Option(..., {option!r})",
    command_fix="run only the {command!r} command (`typer.run({command})`, or an app with "
    "that one command), or push an entry script that does",
)

FAMILY = Family(
    parser_type="typer",
    handlers=HANDLERS,
    target_types=(TyperApp,),
    arguments=arguments,
    subcommands=subcommand_names,
    hints=HINTS,
    size=_size,
    never_read=frozenset({"typer"}),
)
