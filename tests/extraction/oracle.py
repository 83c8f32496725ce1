"""Runtime oracle: build a fixture's parser for real and normalise it to the result of
docs/extraction-rules.md.

This is the *reference* the static extractor is checked against. It runs our
own fixture scripts (never user code) with the libraries' parse entry points
replaced by a function that raises an exception carrying the parser, so the
script stops exactly where it would parse the command line. The normalisation
below is written independently of keynet_train.extraction.normalize; both
follow docs/extraction.md.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import io
import math
import pathlib
import runpy
import sys
import typing
from collections.abc import Callable, Iterator
from typing import Any

import click
import click.core

from tests.extraction.oracle_families import (
    FAMILY_KINDS,
    classify,
    family_arguments,
    family_command,
    family_patches,
)
from tests.extraction.oracle_values import json_value, type_of_value
from tests.extraction.patching import replaced

SUPPRESS = argparse.SUPPRESS
_PROBES = ("1", "0", "true", "false", "2.5", "abc")


class Captured(Exception):
    """Raised by the patched parse entry points; carries the parser/command/app."""

    def __init__(self, kind: str, target: object, fed_by: list[object] | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.target = target
        #: Pre-parsers whose parse_known_args remainder the target parses.
        self.fed_by = fed_by or []


class _Remainder(list):  # type: ignore[type-arg]
    """What a patched parse_known_args returns as the rest: remembers its parser."""

    def __init__(self, items: list[str], parser: argparse.ArgumentParser) -> None:
        super().__init__(items)
        self.parser = parser


_ORIGINAL_KNOWN = argparse.ArgumentParser.parse_known_args


@contextlib.contextmanager
def _patched(known: list[argparse.ArgumentParser]) -> Iterator[None]:
    import typer

    def fed_by(self: object, a: tuple[object, ...], k: dict[str, object]) -> list[object]:
        return [
            v.parser
            for v in (*a, *k.values())
            if isinstance(v, _Remainder) and v.parser is not self
        ]

    def capture_argparse(self: argparse.ArgumentParser, *a: object, **k: object) -> Any:
        raise Captured("argparse", self, fed_by(self, a, k))

    def capture_known(self: argparse.ArgumentParser, *a: object, **k: object) -> Any:
        # A config pre-parser: the script goes on with the rest of the command
        # line (empty here), exactly as it would at runtime.
        known.append(self)
        try:
            namespace, rest = _ORIGINAL_KNOWN(self, [])
        except SystemExit:
            namespace, rest = argparse.Namespace(), []
        return namespace, _Remainder(list(rest), self)

    def capture_click(self: click.Command, *a: object, **k: object) -> Any:
        raise Captured("click", self)

    def capture_typer(self: typer.Typer, *a: object, **k: object) -> Any:
        raise Captured("typer", self)

    parse_methods = {
        "parse_args": capture_argparse,
        "parse_known_args": capture_known,
        "parse_intermixed_args": capture_argparse,
        "parse_known_intermixed_args": capture_known,
    }
    with replaced(
        *((argparse.ArgumentParser, name, capture) for name, capture in parse_methods.items()),
        (click.core.Command, "main", capture_click),
        (typer.Typer, "__call__", capture_typer),
    ):
        yield


def _run_until_parse(argv0: str, run: Callable[[], object]) -> Captured | None:
    """Run a script (``run()``) until it parses its command line; what it parsed with.

    Every library's parse entry points are patched, ``sys.argv`` is
    ``[argv0]`` and what the script prints is swallowed. Returns the
    captured parser, command or app; else the last config pre-parser (a
    script that only calls ``parse_known_args``); else None.
    """
    known: list[argparse.ArgumentParser] = []
    with (
        replaced((sys, "argv", [argv0])),
        _patched(known),
        family_patches(Captured),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        try:
            run()
        except Captured as c:
            return c
        except Exception:
            # The script went on after a parse_known_args and failed later
            # (a public script in a scratch environment): that parse was the one.
            if not known:
                raise
        return Captured("argparse", known[-1]) if known else None


def runtime_extract(
    path: pathlib.Path,
    command: str | None = None,
    *,
    roots: tuple[pathlib.Path, ...] = (),
    module: str | None = None,
) -> dict[str, object]:
    """Run ``path`` as __main__ until it parses its command line; the result JSON of that parser.

    With sub-commands, ``command`` (else the only one, else ``train``) is
    resolved by the library's own parsing, and the parent's options come first.

    Multi-file projects run as they would for real: the script's directory
    (then ``roots``, e.g. a ``src/`` dir an editable install would add) is on
    ``sys.path``, or ``module`` is run with ``python -m`` semantics. The
    project's modules are dropped from ``sys.modules`` afterwards, so the next
    project's ``utils`` is not this one's.
    """
    global _project_dirs
    old_path, old_modules = list(sys.path), set(sys.modules)
    project = tuple(str(d.resolve()) for d in (path.parent, *roots))
    _project_dirs = project
    sys.path[:0] = [str(path.parent), *(str(r) for r in roots)]

    def run() -> object:
        if module is None:
            return runpy.run_path(str(path), run_name="__main__")
        return runpy.run_module(module, run_name="__main__", alter_sys=True)

    try:
        captured = _run_until_parse(str(path), run)
    finally:
        sys.path[:] = old_path
    try:
        return _normalised(captured, command)
    finally:
        for name in set(sys.modules) - old_modules:
            file = getattr(sys.modules[name], "__file__", None) or ""
            if str(pathlib.Path(file).resolve()).startswith(project):
                del sys.modules[name]


def _normalised(captured: Captured | None, command: str | None) -> dict[str, object]:
    if captured is None:
        return {"parser_type": None, "arguments": [], "command": None}
    captured.kind = classify(captured.kind, captured.target)
    if captured.kind in FAMILY_KINDS:
        return {
            "parser_type": captured.kind,
            "arguments": family_arguments(captured.kind, captured.target, _argparse_arguments),
            "command": family_command(captured.kind, captured.target),
        }
    chosen: str | None = None
    if captured.kind == "argparse":
        parser: argparse.ArgumentParser = captured.target  # type: ignore[assignment]
        chosen, sub = _argparse_subcommand(parser, command)
        args = _argparse_arguments(parser)
        if sub is not None:
            args = _scoped(args, "global") + _argparse_arguments(sub)
        pre_args: list[dict[str, object]] = []
        names = {a["name"] for a in args}
        for pre in captured.fed_by:
            for a in _argparse_arguments(pre):  # type: ignore[arg-type]
                if a["name"] not in names:
                    names.add(a["name"])
                    pre_args.append(a)
        args = (_scoped(pre_args, "global") if sub is not None else pre_args) + args
    else:
        cmd = captured.target
        if captured.kind == "typer":
            import typer.main

            cmd = typer.main.get_command(captured.target)  # type: ignore[arg-type]
        args = _click_arguments(cmd) if captured.kind == "click" else _typer_arguments(cmd)
        chosen, sub_cmd = _click_subcommand(cmd, command)
        if sub_cmd is not None:
            own = (
                _click_arguments(sub_cmd) if captured.kind == "click" else _typer_arguments(sub_cmd)
            )
            args = _scoped(args, "global") + own
    return {"parser_type": captured.kind, "arguments": args, "command": chosen}


def _scoped(args: list[dict[str, object]], scope: str) -> list[dict[str, object]]:
    return [{**a, "scope": scope} for a in args]


def _default_command(names: list[str], command: str | None) -> str:
    if command is not None:
        return command
    if len(names) == 1:
        return names[0]
    if "train" in names:
        return "train"
    raise AssertionError(f"fixture has sub-commands {names}; pass the command to use")


def _argparse_subcommand(
    parser: argparse.ArgumentParser, command: str | None
) -> tuple[str | None, argparse.ArgumentParser | None]:
    """The sub-parser argparse itself dispatches ``[command]`` to (None: no sub-commands)."""
    action = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    if action is None:
        return None, None
    primary = list(dict.fromkeys(p.prog.rsplit(" ", 1)[-1] for p in action.choices.values()))
    name = _default_command(primary, command)
    parsed: list[argparse.ArgumentParser] = []

    def record(self: argparse.ArgumentParser, *a: Any, **k: Any) -> Any:
        parsed.append(self)
        return _ORIGINAL_KNOWN(self, *a, **k)

    # SystemExit: a required option of the command is missing.
    with (
        replaced((argparse.ArgumentParser, "parse_known_args", record)),
        contextlib.suppress(SystemExit),
    ):
        _ORIGINAL_KNOWN(parser, [name])
    return name, parsed[0]


def _click_subcommand(cmd: Any, command: str | None) -> tuple[str | None, Any]:
    """The command a click group (typer's too) resolves ``[command]`` to (None: not a group)."""
    commands = getattr(cmd, "commands", None)
    if not commands or not hasattr(cmd, "resolve_command"):
        return None, None
    name = _default_command(list(commands), command)
    # The group's own lookup (token normalisation, aliases of custom groups);
    # a context without parsing the group's parameters, which a script may
    # declare so that no command line parses (two nargs=-1 arguments).
    ctx = type(cmd).context_class(cmd, info_name="prog", resilient_parsing=True)
    _, sub, _ = cmd.resolve_command(ctx, [name])
    return name, sub


# ------------------------------------------------------------------ shared rules
def _choice(c: object) -> str:
    if isinstance(c, enum.Enum):
        return str(c.value)
    return str(c)


def _probe_function(fn: Any) -> str:
    """Type of a user ``type=`` function by calling it on sample strings."""
    kinds = set()
    for s in _PROBES:
        try:
            r = fn(s)
        except Exception:
            continue
        if r is None or r is s:
            continue
        if isinstance(r, bool):
            kinds.add("bool")
        elif isinstance(r, int):
            kinds.add("int")
        elif isinstance(r, float):
            kinds.add("float")
        else:
            kinds.add("other")
    if kinds == {"bool"}:
        return "bool"
    if kinds == {"int"}:
        return "int"
    if kinds and kinds <= {"int", "float"}:
        return "float"
    return "str"


def _convert_str_default(default: object, type_name: str, builtin: bool) -> object:
    if builtin and isinstance(default, str) and type_name in ("int", "float", "bool"):
        if type_name == "bool":
            return bool(default)
        try:
            return int(default) if type_name == "int" else float(default)
        except ValueError:
            return default
    return default


#: Directories of the project being run: functions defined there are the user's.
_project_dirs: tuple[str, ...] = ()


def _is_user_function(t: object) -> bool:
    if not callable(t) or isinstance(t, type):
        return False
    module = getattr(t, "__module__", None)
    if module == "__main__":
        return True
    file = getattr(sys.modules.get(module or ""), "__file__", None)
    return bool(file) and str(pathlib.Path(file).resolve()).startswith(_project_dirs or ("\\0",))


# --------------------------------------------------------------------- argparse
def _argparse_arguments(parser: argparse.ArgumentParser) -> list[dict[str, object]]:
    skip = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)
    by_dest: dict[str, list[argparse.Action]] = {}
    for a in parser._actions:
        if isinstance(a, skip) or a.dest == SUPPRESS:
            continue
        by_dest.setdefault(a.dest, []).append(a)
    out = []
    positions: dict[str, int] = {}
    groups: dict[int, int] = {}
    for dest, acts in by_dest.items():
        first = acts[0]
        owner = next((a for a in acts if a.default is not SUPPRESS), None)
        if owner is not None:
            default = owner.default
        else:
            default = parser._defaults.get(dest)
            owner = first
        builtin = False
        if isinstance(
            owner,
            (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse.BooleanOptionalAction),
        ):
            t = "bool"
        elif isinstance(owner, argparse._CountAction):
            t = "int"
        elif isinstance(owner, (argparse._StoreConstAction, argparse._AppendConstAction)):
            t = type_of_value(owner.const) or "str"
        elif owner.type is None:
            t = type_of_value(default) or "str"
        elif owner.type in (int, float, str, bool):
            t = owner.type.__name__  # type: ignore[union-attr]
            builtin = True
        elif _is_user_function(owner.type):
            t = _probe_function(owner.type)
        else:
            t = "str"
        default = _convert_str_default(default, t, builtin)
        if default is SUPPRESS:
            default = None
        choices = None
        if first.choices is not None:
            choices = [_choice(c) for c in first.choices]
        help_text = first.help if first.help not in (None, SUPPRESS) else None
        help_text = _without_boolean_optional_suffix(first, help_text)
        out.append(
            {
                "name": dest,
                "type": t,
                "default": json_value(default),
                "required": any(a.required for a in acts),
                "help": help_text,
                "choices": choices,
                **_argparse_descriptor(parser, acts, owner, positions, groups),
            }
        )
    return out


def _long_first(options: list[str], chars: str) -> list[str]:
    unique = list(dict.fromkeys(options))
    return sorted(unique, key=lambda o: not (len(o) > 2 and o[1] in chars))


def _argparse_descriptor(
    parser: argparse.ArgumentParser,
    acts: list[argparse.Action],
    owner: argparse.Action,
    positions: dict[str, int],
    groups: dict[int, int],
) -> dict[str, object]:
    """The descriptor of one destination, read from argparse's own Action objects."""
    chars = parser.prefix_chars
    options = [o for a in acts for o in a.option_strings]
    nargs = owner.nargs if owner.nargs not in (None, argparse.OPTIONAL) or not options else None
    if owner.nargs == argparse.OPTIONAL:
        nargs = "?"
    doc: dict[str, object] = {}
    if not options:
        doc = {"flags": [], "kind": "positional"}
        if owner.nargs is not None:
            doc["nargs"] = owner.nargs
        doc["position"] = positions.setdefault(owner.dest, len(positions))
    elif all(isinstance(a, argparse.BooleanOptionalAction) for a in acts):
        negative = [o for o in options if o.startswith("--no-") and "--" + o[5:] in options]
        positive = [o for o in options if o not in negative]
        doc = {
            "flags": _long_first(positive, chars),
            "kind": "negatable",
            "negative_flags": negative,
        }
    else:
        sets = [
            a.const
            if isinstance(a, argparse._StoreConstAction) and isinstance(a.const, bool)
            else None
            for a in acts
        ]
        if len(acts) > 1 and None not in sets and len(set(sets)) == 2:
            on = [o for a, b in zip(acts, sets, strict=True) if b for o in a.option_strings]
            off = [o for a, b in zip(acts, sets, strict=True) if not b for o in a.option_strings]
            doc = {
                "flags": _long_first(on, chars),
                "kind": "negatable",
                "negative_flags": _long_first(off, chars),
            }
        elif isinstance(owner, argparse._StoreConstAction):  # store_true/false are subclasses
            value = json_value(owner.const)
            doc = {"flags": _long_first(options, chars), "kind": "flag", "flag_value": value}
        elif isinstance(owner, argparse._CountAction):
            doc = {"flags": _long_first(options, chars), "kind": "count"}
        elif isinstance(owner, argparse._AppendConstAction):
            value = json_value(owner.const)
            doc = {"flags": _long_first(options, chars), "kind": "count", "flag_value": value}
        elif isinstance(owner, (argparse._AppendAction, argparse._ExtendAction)):
            style = "space" if isinstance(owner, argparse._ExtendAction) else "repeat"
            doc = {"flags": _long_first(options, chars), "kind": "list", "list_style": style}
            if owner.nargs is not None:
                doc["nargs"] = owner.nargs
        elif owner.nargs is not None and owner.nargs != argparse.OPTIONAL:
            doc = {
                "flags": _long_first(options, chars),
                "kind": "list",
                "list_style": "space",
                "nargs": owner.nargs,
            }
        else:
            doc = {"flags": _long_first(options, chars), "kind": "value"}
            if nargs is not None:
                doc["nargs"] = nargs
    choices = acts[0].choices
    if isinstance(choices, range) and choices.step == 1 and len(choices):
        doc.update(min=choices.start, max=choices.stop - 1, min_open=False, max_open=False)
    doc["scope"] = "command"
    for group in parser._mutually_exclusive_groups:
        if any(a in group._group_actions for a in acts):
            doc["exclusive_group"] = f"group-{groups.setdefault(id(group), len(groups) + 1)}"
            break
    return doc


# ------------------------------------------------------------------------ click
def _click_type(pt: Any) -> tuple[str, list[str] | None, bool]:
    if isinstance(pt, click.Choice):
        return "str", [_choice(c) for c in pt.choices], False
    if isinstance(pt, (click.types.IntParamType, click.IntRange)):
        return "int", None, True
    if isinstance(pt, (click.types.FloatParamType, click.FloatRange)):
        return "float", None, True
    if isinstance(pt, click.types.BoolParamType):
        return "bool", None, False
    if isinstance(pt, click.types.FuncParamType) and _is_user_function(pt.func):
        return _probe_function(pt.func), None, False
    return "str", None, False


def _click_descriptor(p: Any, position: int) -> dict[str, object]:
    """The descriptor of one click parameter, read from click's own Parameter object.

    Duck-typed: typer ships its own copy of click, whose classes are not click's.
    """

    def long_first(flags: list[str]) -> list[str]:
        return sorted(dict.fromkeys(flags), key=lambda f: not f.startswith("--"))

    doc: dict[str, object]
    if getattr(p, "param_type_name", None) != "option":
        doc = {"flags": [], "kind": "positional"}
        if p.nargs != 1:
            doc["nargs"] = ("+" if p.required else "*") if p.nargs < 0 else p.nargs
        doc["position"] = position
    elif p.count:
        doc = {"flags": long_first(p.opts), "kind": "count"}
    elif p.is_flag and p.secondary_opts:
        doc = {
            "flags": long_first(p.opts),
            "kind": "negatable",
            "negative_flags": long_first(p.secondary_opts),
        }
    elif p.is_flag:
        # click 8.5 resolves a missing flag_value at parse time; typer's own click
        # copy keeps none: its bool flags store True (the round-trip tests parse it).
        value = getattr(p, "flag_activation_value", getattr(p, "flag_value", True))
        doc = {"flags": long_first(p.opts), "kind": "flag", "flag_value": json_value(value)}
    elif p.multiple:
        doc = {"flags": long_first(p.opts), "kind": "list", "list_style": "repeat"}
    elif p.nargs != 1:
        doc = {"flags": long_first(p.opts), "kind": "list", "list_style": "space", "nargs": p.nargs}
    else:
        doc = {"flags": long_first(p.opts), "kind": "value"}
    # click keeps bounds on its IntRange/FloatRange type; typer on the parameter.
    t = getattr(p, "type", p)
    low, high = getattr(t, "min", None), getattr(t, "max", None)
    # A clamping range keeps its bounds: values inside them parse unchanged.
    if low is not None or high is not None:
        doc.update(
            min=low,
            max=high,
            min_open=getattr(t, "min_open", False),
            max_open=getattr(t, "max_open", False),
        )
    doc["scope"] = "command"
    return doc


def _click_arguments(cmd: click.Command) -> list[dict[str, object]]:
    unset = getattr(click.core, "UNSET", object())
    out = []
    position = 0
    for p in cmd.params:
        if not p.expose_value:
            continue
        t, choices, builtin = _click_type(p.type)
        bool_flag = isinstance(p, click.Option) and p.is_flag and p.is_bool_flag
        if bool_flag:
            t = "bool"
        default = p.default
        if default is unset:
            default = False if bool_flag and not p.required else None
        if callable(default):
            default = None
        default = _convert_str_default(default, t, builtin)
        help_text = getattr(p, "help", None) or None
        out.append(
            {
                "name": p.name,
                "type": t,
                "default": json_value(default),
                "required": bool(p.required),
                "help": help_text,
                "choices": choices,
                **_click_descriptor(p, position),
            }
        )
        position += p.param_type_name != "option"
    return out


# ------------------------------------------------------------------------ typer
def _unwrap(annotation: Any) -> Any:
    for _ in range(10):
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is None:
            return annotation
        if origin is typing.Annotated:
            annotation = args[0]
        elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            rest = [a for a in args if a is not type(None)]
            annotation = rest[0] if len(rest) == 1 else str
        elif origin in (list, tuple, set, frozenset) or str(origin).startswith(
            "<class 'collections"
        ):
            annotation = args[0] if args else str
        else:
            return annotation
    return annotation


def _typer_arguments(cmd: Any) -> list[dict[str, object]]:
    out = []
    position = 0
    for p in cmd.params:
        if p.name in ("install_completion", "show_completion"):
            continue
        ann = _unwrap(p.type_descriptor.annotation)
        choices = None
        if isinstance(ann, type) and issubclass(ann, enum.Enum):
            t = "str"
            choices = [str(m.value) for m in ann]
        elif ann in (int, float, str, bool):
            t = ann.__name__
        else:
            t = "str"
        default = p.default
        if p.required or (callable(default) and not isinstance(default, enum.Enum)):
            default = None
        default = _convert_str_default(default, t, t in ("int", "float"))
        out.append(
            {
                "name": p.name,
                "type": t,
                "default": json_value(default),
                "required": bool(p.required),
                "help": getattr(p, "help", None) or None,
                "choices": choices,
                **_click_descriptor(p, position),
            }
        )
        position += p.param_type_name != "option"
    return out


# Python 3.10's BooleanOptionalAction appends this to the help it was given
# (3.11 moved it to the help formatter). It is argparse's display template,
# not what the author wrote: the extractor reports the author's text on every
# Python, so the oracle takes the suffix off again.
_BOOLEAN_OPTIONAL_SUFFIX = " (default: %(default)s)"


def _without_boolean_optional_suffix(action: object, help_text: str | None) -> str | None:
    if (
        sys.version_info < (3, 11)
        and isinstance(action, argparse.BooleanOptionalAction)
        and help_text is not None
        and help_text.endswith(_BOOLEAN_OPTIONAL_SUFFIX)
    ):
        return help_text[: -len(_BOOLEAN_OPTIONAL_SUFFIX)]
    return help_text


def normalise_help(doc: dict[str, object]) -> dict[str, object]:
    """Whitespace-normalise every help text (the comparison allows that)."""
    args = []
    for a in doc["arguments"]:  # type: ignore[attr-defined]
        a = dict(a)
        if isinstance(a["help"], str):
            a["help"] = " ".join(a["help"].split()) or None
        args.append(a)
    return {"parser_type": doc["parser_type"], "command": doc.get("command"), "arguments": args}


# ------------------------------------------------------------ parse a command line
class ParseFailed(Exception):
    """The library rejected the command line (its usage error text is the message)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        # click BadParameter: the parameter whose type rejected its value.
        self.param = param


def _capture(path: pathlib.Path) -> Captured | None:
    """Run the script until it parses its command line (as runtime_extract does).

    The last few scripts are remembered by content: the parse and converter
    views of one script then share one run.
    """
    source = path.read_bytes()
    key = (str(path), source)
    if key in _CAPTURED:
        return _CAPTURED[key]
    captured = _run_until_parse(str(path), lambda: runpy.run_path(str(path), run_name="__main__"))
    if len(_CAPTURED) >= 4:
        _CAPTURED.pop(next(iter(_CAPTURED)))
    _CAPTURED[key] = captured
    return captured


_CAPTURED: dict[tuple[str, bytes], Captured | None] = {}


def runtime_parser(path: pathlib.Path) -> Callable[[list[str]], dict[str, object]]:
    """A function that parses an argv with the parser ``path`` builds, by the library itself.

    The script runs once (until it would parse its command line); each call
    then parses with the captured parser/command. It returns every
    destination's value, JSON-normalised (tuples → lists, enums → their
    value, paths → str), and raises ParseFailed with the library's usage
    error when the library rejects the argv.
    """
    captured = _capture(path)
    if captured is None:
        raise ParseFailed("no parser")
    if captured.kind == "argparse":
        parser: argparse.ArgumentParser = captured.target  # type: ignore[assignment]

        def error(message: str) -> Any:
            # Straight to the message: argparse 3.11 cannot format the usage of
            # a parser with an empty mutually exclusive group.
            raise ParseFailed(message)

        parser.error = error  # type: ignore[method-assign]
    elif captured.kind == "click":
        command: Any = captured.target
    else:
        import typer.main

        command = typer.main.get_command(captured.target)  # type: ignore[arg-type]
    if captured.kind != "argparse" and hasattr(command, "no_args_is_help"):
        # A group's own options are parsed without a sub-command (issue 7 adds those).
        command.no_args_is_help = False

    def parse(argv: list[str]) -> dict[str, object]:
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                if captured.kind == "argparse":
                    return {k: _parsed(v) for k, v in vars(parser.parse_args(argv)).items()}
                ctx = command.make_context("train.py", list(argv))
                params = {k: _parsed(v) for k, v in ctx.params.items()}
                rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
                if rest and hasattr(command, "resolve_command"):
                    # A group: its sub-command parses the rest, as click would.
                    name, sub, rest = command.resolve_command(ctx, rest)
                    sub_ctx = sub.make_context(name, list(rest), parent=ctx)
                    params.update({k: _parsed(v) for k, v in sub_ctx.params.items()})
                return params
        except SystemExit:
            raise ParseFailed(err.getvalue().strip()) from None
        except Exception as e:  # click's usage errors (click's own classes or typer's copy)
            if hasattr(e, "format_message"):
                param = getattr(e, "param", None) if type(e).__name__ == "BadParameter" else None
                raise ParseFailed(
                    f"{type(e).__name__}: {e.format_message()}",
                    getattr(param, "name", None),
                ) from None
            raise

    return parse


def _parsed(v: object) -> object:
    """JSON-normalised like ``_json``, but an object (a file...) is "<object>", not None."""
    if isinstance(v, (list, tuple)):
        return [_parsed(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return "<non-finite>"
    out = json_value(v)
    return "<object>" if out is None and v is not None else out


def runtime_converters(path: pathlib.Path) -> dict[str, Any] | None:
    """For argparse: each destination's ``type=`` callable (None: the word is kept as str).

    click and typer always convert with the parameter's type: None, except
    that a click script's own ``type=`` functions and clamping ranges are
    listed (under CLICK_ONLY: the other parameters convert the value itself).
    """
    captured = _capture(path)
    if captured is not None and captured.kind == "click":
        # A user type= function also converts a string default when it is left out.
        funcs = {
            p.name: p.type.func
            for p in captured.target.params  # type: ignore[attr-defined]
            if isinstance(p.type, click.types.FuncParamType) and _is_user_function(p.type.func)
        }
        # A clamping range takes any number and clamps it (its descriptor has the
        # bounds, docs/cli-descriptor.md): outside them the script receives the
        # clamped value.
        funcs.update(
            {
                p.name: p.type
                for p in captured.target.params  # type: ignore[attr-defined]
                if getattr(p.type, "clamp", False)
            }
        )
        return {CLICK_ONLY: True, **funcs} if funcs else None
    if captured is None or captured.kind != "argparse":
        return None
    parser: argparse.ArgumentParser = captured.target  # type: ignore[assignment]
    out: dict[str, Any] = {}
    for group in parser._mutually_exclusive_groups:
        if group.required:
            out.setdefault(REQUIRED_GROUP, []).append(group._group_actions[0].dest)
    actions = list(parser._actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            # The sub-commands' options are parsed by their own parsers.
            actions += [a for sub in action.choices.values() for a in sub._actions]
    for action in actions:
        if type(action).__module__ == "__main__":
            out.setdefault(action.dest, CUSTOM_ACTION)
        out.setdefault(action.dest, action.type)
    return out


#: ``runtime_converters`` value for a destination stored by the script's own Action class.
CUSTOM_ACTION = object()
#: ``runtime_converters`` key: a click script, only its type= functions are listed.
CLICK_ONLY = "<click: only type= functions>"
#: ``runtime_converters`` key listing the first member of each required exclusive group.
REQUIRED_GROUP = "<required exclusive groups>"


def has_preparser(path: pathlib.Path) -> bool:
    """Whether the script's parser parses a config pre-parser's remainder."""
    captured = _capture(path)
    return captured is not None and bool(captured.fed_by)
