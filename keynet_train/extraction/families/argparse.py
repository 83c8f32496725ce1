"""argparse, modelled: parsers, groups, subparsers and the actions they collect.

The actions become arguments in ``argparse_arguments``.
"""

from __future__ import annotations

from keynet_train.extraction.families.argparse_arguments import parser_arguments
from keynet_train.extraction.families.contract import (
    CommandHints,
    Family,
    Site,
    another_spelling,
    describe,
    on_off_pair,
)
from keynet_train.extraction.interpreter import CallArgs, Interpreter, Invoked, Modelled, RefHandler
from keynet_train.extraction.model import Argument
from keynet_train.extraction.subcommands import with_parent
from keynet_train.extraction.values import UNKNOWN, ClassValue, Ref

_PARSE_METHODS = frozenset(
    ("parse_args", "parse_known_args", "parse_intermixed_args", "parse_known_intermixed_args")
)
# These return (namespace, remaining strings): the remainder may feed another parser.
_KNOWN_PARSE_METHODS = frozenset(("parse_known_args", "parse_known_intermixed_args"))
_ACTION_NAMES = frozenset(
    (
        "store",
        "store_const",
        "store_true",
        "store_false",
        "append",
        "append_const",
        "count",
        "help",
        "version",
        "extend",
    )
)
_MISSING = object()


class Action:
    """One ``add_argument`` call, with argparse's own defaulting rules applied."""

    def __init__(
        self,
        option_strings: list[str],
        dest: str,
        kind: str,
        line: int,
        default: object = None,
        type: object = None,
        const: object = None,
        nargs: object = None,
        choices: object = None,
        required: object = False,
        help: object = None,
        unresolved_kind: bool = False,
        group: object = None,
        path: str = "",
    ) -> None:
        self.option_strings = option_strings
        self.dest = dest
        self.kind = kind
        self.line = line
        self.default = default
        self.type = type
        self.const = const
        self.nargs = nargs
        self.choices = choices
        self.required = required
        self.help = help
        self.unresolved_kind = unresolved_kind
        # The mutually exclusive group it belongs to (a token; ids are given at output).
        self.group = group
        #: The file of the add_argument call (its diagnostics name it); "": the entrypoint.
        self.path = path


class ParserValue(Modelled):
    """An ``argparse.ArgumentParser`` under construction."""

    def __init__(
        self,
        line: int,
        prefix_chars: str = "-",
        argument_default: object = None,
        conflict_resolve: bool = False,
        subparsers_line: int = 0,
        is_subparser: bool = False,
    ) -> None:
        self.line = line
        self.prefix_chars = prefix_chars
        self.argument_default = argument_default
        self.conflict_resolve = conflict_resolve
        self.actions: list[Action] = list()
        self.defaults: dict[str, object] = dict()
        self.subcommands: list[str] = list()
        #: Sub-command name (and alias) → its parser, from ``add_parser``.
        self.subparsers: dict[str, ParserValue] = dict()
        self.subparsers_line = subparsers_line
        self.is_subparser = is_subparser
        #: Pre-parsers whose ``parse_known_args`` remainder this parser parses.
        self.fed_by: list[ParserValue] = list()
        #: Helpers that got this parser but cannot be followed: (callee, line).
        self.escapes: list[tuple[str, int]] = list()

    parser_type = "argparse"

    def call_method(self, interp: Interpreter, name: str, call: CallArgs) -> object:
        if name in _PARSE_METHODS:
            given = call.args[0] if call.args else call.kwargs.get("args")
            if isinstance(given, (list, tuple)):
                # parse_args([]) / parse_args(["--x", "1"]): a fixed list, not the
                # command line (Lightning's nondefault_trainer_args idiom).
                interp.note(
                    call.line,
                    f"{name}() here parses a fixed list, not the command line; "
                    "it is not the parse the script's arguments go through",
                )
                return (UNKNOWN, []) if name in _KNOWN_PARSE_METHODS else UNKNOWN
            for value in (*call.args, *call.kwargs.values()):
                if (
                    isinstance(value, Remainder)
                    and value.parser is not self
                    and value.parser not in self.fed_by
                ):
                    self.fed_by.append(value.parser)
            if name in _KNOWN_PARSE_METHODS:
                # Not necessarily the parse whose result the script uses: a
                # config pre-parser hands the rest of the command line on.
                interp.known_parses.append((self, call.line, interp.path))
                return (UNKNOWN, Remainder(self))
            raise Invoked(self, call.line)
        if name == "add_argument":
            add_argument(interp, self, call)
            return UNKNOWN
        if name == "add_argument_group":
            return GroupValue(self)
        if name == "add_mutually_exclusive_group":
            return GroupValue(self, ExclusiveGroup())
        if name == "set_defaults":
            set_defaults(interp, self, call)
            return None
        if name == "add_subparsers":
            self.subparsers_line = call.line
            return SubparsersValue(self)
        return UNKNOWN

    def get_attr(self, name: str) -> object:
        if name == "prefix_chars":
            return self.prefix_chars
        return super().get_attr(name)

    def escaped(self, interp: Interpreter, callee: str, line: int) -> None:
        self.escapes.append((callee, line))
        where = f"line {self.line}"
        if self.defined_in and self.defined_in != interp.path:
            where = f"{self.defined_in}:{self.line}"
        interp.note(
            line,
            f"the argparse parser defined at {where} is passed to {callee}(), "
            "which cannot be followed statically; arguments it adds may be missing",
            "warning",
            partial=True,
        )


class Remainder:
    """The unparsed strings ``parse_known_args`` returns, remembering which parser left them."""

    def __init__(self, parser: ParserValue) -> None:
        self.parser = parser


class ExclusiveGroup:
    """Identity of one mutually exclusive group (``exclusive_group`` ids are numbered at output)."""


class GroupValue(Modelled):
    """An argument group or mutually exclusive group: its arguments belong to the parser."""

    def __init__(self, parser: ParserValue, exclusive: ExclusiveGroup | None = None) -> None:
        self.parser = parser
        self.exclusive = exclusive

    def call_method(self, interp: Interpreter, name: str, call: CallArgs) -> object:
        if name == "add_argument_group":
            return GroupValue(self.parser, self.exclusive)
        if name == "add_mutually_exclusive_group":
            return GroupValue(self.parser, ExclusiveGroup())
        if name == "add_argument":
            add_argument(interp, self.parser, call, self.exclusive)
            return UNKNOWN
        if name == "set_defaults":
            return self.parser.call_method(interp, name, call)
        return UNKNOWN

    def escaped(self, interp: Interpreter, callee: str, line: int) -> None:
        self.parser.escaped(interp, callee, line)


class SubparsersValue(Modelled):
    """The object ``add_subparsers()`` returns; ``add_parser`` names a subcommand."""

    def __init__(self, parser: ParserValue) -> None:
        self.parser = parser

    def call_method(self, interp: Interpreter, name: str, call: CallArgs) -> object:
        if name == "add_parser":
            sub_name = call.args[0] if call.args else call.kwargs.get("name", "?")
            sub = ParserValue(call.line, is_subparser=True)
            sub.defined_in = interp.path
            _apply_constructor_kwargs(interp, sub, call.kwargs, call.line)
            if not isinstance(sub_name, str):
                interp.note(
                    call.line, "sub-command name not known statically", "warning", partial=True
                )
                self.parser.subcommands.append("?")
                return sub
            self.parser.subcommands.append(sub_name)
            aliases = interp.iterate(call.kwargs.get("aliases", ())) or []
            for alias in (sub_name, *aliases):
                if isinstance(alias, str):
                    self.parser.subparsers[alias] = sub
            return sub
        return UNKNOWN

    def escaped(self, interp: Interpreter, callee: str, line: int) -> None:
        self.parser.escaped(interp, callee, line)


def _new_parser(interp: Interpreter, call: CallArgs) -> object:
    parser = ParserValue(call.line)
    parser.defined_in = interp.path
    kwargs = dict(call.kwargs)
    # ArgumentParser(prog, usage, description, epilog, parents, formatter_class, prefix_chars,
    #                fromfile_prefix_chars, argument_default, conflict_handler, ...)
    positional_names = [
        "prog",
        "usage",
        "description",
        "epilog",
        "parents",
        "formatter_class",
        "prefix_chars",
        "fromfile_prefix_chars",
        "argument_default",
        "conflict_handler",
    ]
    for name, value in zip(positional_names, call.args, strict=False):
        kwargs.setdefault(name, value)
    _apply_constructor_kwargs(interp, parser, kwargs, call.line)
    interp.candidates.append(parser)
    return parser


def _apply_constructor_kwargs(
    interp: Interpreter, parser: ParserValue, kwargs: dict[str, object], line: int
) -> None:
    prefix = kwargs.get("prefix_chars", "-")
    if isinstance(prefix, str) and prefix:
        parser.prefix_chars = prefix
    elif "prefix_chars" in kwargs:
        interp.note(line, "prefix_chars not resolved; assuming '-'", "warning")
    if "argument_default" in kwargs:
        parser.argument_default = kwargs["argument_default"]
    parser.conflict_resolve = kwargs.get("conflict_handler") == "resolve"
    parents = kwargs.get("parents", [])
    items = interp.iterate(parents)
    if items is None:
        interp.note(
            line,
            "parents= not resolved statically; their arguments are missing",
            "warning",
            partial=True,
        )
        return
    for parent in items:
        if isinstance(parent, ParserValue):
            # argparse shares the parent's action objects and copies its defaults.
            for action in parent.actions:
                _add_action(parser, action)
            parser.defaults.update(parent.defaults)
        else:
            interp.note(
                line,
                "a parent parser was not resolved statically; its arguments are missing",
                "warning",
                partial=True,
            )


def _add_action(parser: ParserValue, action: Action) -> None:
    if parser.conflict_resolve and action.option_strings:
        for old in list(parser.actions):
            remaining = [s for s in old.option_strings if s not in action.option_strings]
            if len(remaining) != len(old.option_strings):
                old.option_strings = remaining
                if not remaining:
                    parser.actions.remove(old)
    parser.actions.append(action)


def add_argument(
    interp: Interpreter, parser: ParserValue, call: CallArgs, group: ExclusiveGroup | None = None
) -> None:
    """Model ``parser.add_argument(*flags, **kwargs)`` like argparse does."""
    line = call.line
    kw = call.kwargs
    flags = call.args
    if call.incomplete or not all(isinstance(f, str) and f for f in flags):
        interp.note(
            line,
            "add_argument with names not known statically was skipped",
            "warning",
            partial=True,
        )
        return
    names = [str(f) for f in flags]
    place = _destination(parser, names, kw)
    if place is None:
        return  # argparse raises ValueError here
    option_strings, dest, required = place
    if not isinstance(dest, str):
        interp.note(
            line, "argument destination not known statically; skipped", "warning", partial=True
        )
        return
    kind, unresolved_kind = _action_kind(kw.get("action", "store"))
    if unresolved_kind:
        interp.note(line, f"custom action for '{dest}' treated as a plain value", "info")
    default = _absent_value(parser, kw, dest, kind)
    action = Action(
        option_strings=option_strings,
        dest=dest,
        kind=kind,
        line=line,
        default=default,
        type=kw.get("type"),
        const=kw.get("const"),
        nargs=kw.get("nargs"),
        choices=kw.get("choices"),
        required=required,
        help=kw.get("help"),
        unresolved_kind=unresolved_kind,
        group=group,
        path=interp.path,
    )
    _add_action(parser, action)


def _destination(
    parser: ParserValue, names: list[str], kw: dict[str, object]
) -> tuple[list[str], object, object] | None:
    """argparse's option strings, ``dest`` and ``required`` for ``add_argument(*names, **kw)``.

    None where argparse raises (a positional given ``dest=`` too).
    """
    chars = parser.prefix_chars
    if not names or (len(names) == 1 and names[0][0] not in chars):
        if "dest" in kw and names:
            return None
        nargs = kw.get("nargs")
        required = nargs not in ("?", "*") or (nargs == "*" and "default" not in kw)
        return [], names[0] if names else kw.get("dest", UNKNOWN), required
    dest = kw.get("dest", _MISSING)
    if dest is _MISSING or dest is None:
        long = [s for s in names if len(s) > 1 and s[1] in chars]
        first = (long or names)[0]
        dest = first.lstrip(chars).replace("-", "_")
    return names, dest, kw.get("required", False)


def _absent_value(parser: ParserValue, kw: dict[str, object], dest: str, kind: str) -> object:
    """What the namespace holds for ``dest`` when the option is absent (argparse's order)."""
    if "default" in kw:
        return kw["default"]
    if dest in parser.defaults:
        return parser.defaults[dest]
    if parser.argument_default is not None:
        return parser.argument_default
    return {"store_true": False, "store_false": True}.get(kind)


def _action_kind(value: object) -> tuple[str, bool]:
    if isinstance(value, str) and value in _ACTION_NAMES:
        return value, False
    if isinstance(value, Ref) and value.name.endswith("BooleanOptionalAction"):
        return "boolopt", False
    if isinstance(value, Ref):
        tail = value.name.rsplit(".", 1)[-1]
        for known in ("StoreTrue", "StoreFalse", "Count"):
            if tail == f"_{known}Action":
                return {"StoreTrue": "store_true", "StoreFalse": "store_false", "Count": "count"}[
                    known
                ], False
    if isinstance(value, ClassValue):
        # A user Action subclass: maybe derived from BooleanOptionalAction.
        for base in value.bases:
            if isinstance(base, Ref) and base.name.endswith("BooleanOptionalAction"):
                return "boolopt", False
    return "store", True


def set_defaults(interp: Interpreter, parser: ParserValue, call: CallArgs) -> None:
    """``set_defaults(**kw)`` updates the parser's defaults and every existing action's."""
    if call.incomplete:
        interp.note(call.line, "set_defaults(**...) not resolved statically", "warning")
    for name, value in call.kwargs.items():
        parser.defaults[name] = value
        for action in parser.actions:
            if action.dest == name:
                action.default = value


def _file_type(interp: Interpreter, call: CallArgs) -> object:
    return Ref("argparse.FileType()")


def subcommand_names(target: ParserValue) -> list[str]:
    """The sub-commands ``add_parser`` named, in declaration order."""
    return list(dict.fromkeys(target.subcommands))


def command_names(target: ParserValue) -> set[str]:
    """Every name a sub-command is reachable by (``aliases=`` included)."""
    return set(target.subparsers)


def arguments(
    interp: Interpreter, target: ParserValue, command: str | None, site: Site
) -> list[Argument]:
    """The parser's arguments (with ``command``: the parent's, then the sub-command's).

    The options of pre-parsers whose remainder ``target`` parses come first.
    """
    if command is None:
        found = parser_arguments(interp, target)
    else:
        sub = target.subparsers[command]
        found = with_parent(
            interp,
            parser_arguments(interp, target),
            parser_arguments(interp, sub),
            command,
            sub.line,
            nested=bool(sub.subcommands),
        )
    return with_pre_parsers(interp, target, site, found, command is not None)


def with_pre_parsers(
    interp: Interpreter,
    target: ParserValue,
    site: Site,
    arguments: list[Argument],
    has_command: bool,
) -> list[Argument]:
    """Prepend the options of pre-parsers whose remainder ``target`` parses."""
    seen = {a.name for a in arguments}
    added: list[Argument] = []
    for pre in feeders(target):
        for arg in parser_arguments(interp, pre):
            if arg.name not in seen:
                seen.add(arg.name)
                added.append(arg._replace(scope="global") if has_command else arg)
        interp.note(
            site.line,
            f"config pre-parser: {describe(interp, pre)[4:]} reads its options with "
            f"parse_known_args and hands the rest to {describe(interp, target)}; "
            "both parsers' options are reported",
            path=site.path,
        )
    return added + arguments


def feeders(target: ParserValue) -> list[ParserValue]:
    """Pre-parsers of ``target``, and theirs (a chain of pre-parsers), each once."""
    order: list[ParserValue] = []
    stack = list(target.fed_by)
    while stack:
        pre = stack.pop(0)
        if pre is not target and pre not in order:
            order.append(pre)
            stack.extend(pre.fed_by)
    return order


def _size(target: ParserValue) -> int:
    return len(target.actions)


HANDLERS: dict[str, RefHandler] = {
    "argparse.ArgumentParser": _new_parser,
    "argparse.FileType": _file_type,
}

HINTS = CommandHints(
    spelling_fix=another_spelling("add_argument({first!r}, {option!r}, ...)"),
    bool_spelling_fix=on_off_pair(
        "add_argument({option!r}, action=argparse.BooleanOptionalAction)"
    ),
    bare_flags=True,
    argparse_rules=True,
    value_bool_fix="add_argument('{option}', type=str2bool, nargs='?', const=True, default=...) "
    "with a str2bool function mapping 'True'/'False' to a bool (docs/platform-command.md "
    "has one); it still accepts a bare {option}",
    command_fix="push an entry script whose parser has the {command!r} options without "
    "sub-commands",
)

FAMILY = Family(
    parser_type="argparse",
    handlers=HANDLERS,
    target_types=(ParserValue,),
    arguments=arguments,
    subcommands=subcommand_names,
    command_names=command_names,
    hints=HINTS,
    parts=feeders,
    size=_size,
    never_read=frozenset({"argparse"}),
)
