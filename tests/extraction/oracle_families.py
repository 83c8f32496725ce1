"""Runtime oracles of the hfargparser, fire, tyro and globals families.

Like ``oracle.py``, our own fixture scripts are run for real with each
library's entry point replaced by one that raises ``Captured``; then the
library itself describes what it would accept:

- hfargparser: transformers' ``HfArgumentParser`` builds the argparse actions
  (``check_min_version``/``require_version`` are patched: example scripts call
  them at import); string defaults go through the action's ``type`` as
  argparse does at parse time;
- fire: ``fire.inspectutils.GetFullArgSpec`` (what fire binds flags to) and
  ``fire.docstrings.parse`` (what fire shows as help);
- tyro: the argparse parser tyro builds (flags, choices, required, help) and
  the defaults of ``tyro.cli(f, args=[...])`` itself;
- globals: ``exec`` is intercepted when the script runs the configurator, and
  the script's globals at that moment are read.

The normalisation is written independently of the extractor; both follow
docs/extraction.md.
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import dataclasses
import enum
import inspect
import sys
import types
import typing
import warnings
from collections.abc import Iterator
from typing import Any

from tests.extraction.oracle_values import json_value, type_of_value
from tests.extraction.patching import replaced, transformers_checks_off

FAMILY_KINDS = ("hfargparser", "fire", "tyro", "globals")


@contextlib.contextmanager
def family_patches(captured: type[Exception]) -> Iterator[None]:
    """Entry points of the four families replaced by ones raising ``captured(kind, target)``."""
    import fire
    import fire.core
    import transformers
    import tyro

    def capture(kind: str) -> Any:
        def raiser(*args: object, **kwargs: object) -> Any:
            raise captured(kind, (args, kwargs))

        return raiser

    def capture_hf(self: Any, *a: object, **k: object) -> Any:
        raise captured("hfargparser", self)

    def capture_tyro(*args: object, **kwargs: object) -> Any:
        # Described here, while the fixture is still sys.modules["__main__"]:
        # tyro reads field docstrings from the class's source through it.
        raise captured("tyro", _tyro_arguments((args, kwargs), real_cli))

    real_cli = tyro.cli
    real_exec = builtins.exec

    def capture_exec(code: Any, globs: Any = None, locs: Any = None, /) -> Any:
        frame = sys._getframe(1)
        if (
            isinstance(code, str)
            and globs is None
            and frame.f_globals.get("__name__") == "__main__"
        ):
            raise captured("globals", dict(frame.f_globals))
        if globs is None:
            globs, locs = frame.f_globals, frame.f_locals
        return real_exec(code, globs, locs)

    hf = transformers.HfArgumentParser
    parse_methods = (
        "parse_args_into_dataclasses",
        "parse_json_file",
        "parse_yaml_file",
        "parse_dict",
    )
    capture_fire = capture("fire")
    with (
        transformers_checks_off(),
        replaced(
            *((hf, name, capture_hf) for name in parse_methods),
            (fire, "Fire", capture_fire),
            (fire.core, "Fire", capture_fire),
            (tyro, "cli", capture_tyro),
            (builtins, "exec", capture_exec),
        ),
    ):
        yield


def classify(kind: str, target: object) -> str:
    """An HfArgumentParser caught by argparse's own parse_args is still the hfargparser family."""
    import transformers

    if kind == "argparse" and isinstance(target, transformers.HfArgumentParser):
        return "hfargparser"
    return kind


def family_arguments(kind: str, target: Any, argparse_arguments: Any) -> list[dict[str, object]]:
    """The arguments (plus ``flags``) of a captured family target."""
    if kind == "hfargparser":
        return _hf_arguments(target, argparse_arguments)
    if kind == "fire":
        return _fire_arguments(target)
    if kind == "tyro":
        return list(target)  # described when captured
    return _globals_arguments(target)


def family_command(kind: str, target: Any) -> str | None:
    """The command trained with: fire's dict of commands names one (the only one, else train)."""
    if kind != "fire":
        return None
    args, kwargs = target
    names = _fire_commands(args[0] if args else kwargs.get("component"))
    if not names:
        return None
    return names[0] if len(names) == 1 else "train" if "train" in names else None


def _fire_commands(component: Any) -> list[str]:
    """What fire takes as a command: a dict's keys, a class's public methods."""
    if isinstance(component, dict):
        return list(component)
    if inspect.isclass(component):
        return [
            name
            for name, member in vars(component).items()
            if inspect.isfunction(member) and not name.startswith("_")
        ]
    return []


# ------------------------------------------------------------------ shared rules
def _plain(annotation: Any) -> Any:
    """The annotation without Annotated, Optional and one list/tuple wrapper."""
    wrapped = False
    for _ in range(10):
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            annotation = args[0]
        elif origin is typing.Union or type(annotation).__name__ == "UnionType":
            rest = [a for a in args if a is not type(None)]
            annotation = rest[0] if len(rest) == 1 else Any
        elif origin in (list, tuple, set, frozenset) and not wrapped:
            wrapped = True
            annotation = args[0] if args else str
        else:
            return annotation
    return annotation


def _annotation_type(annotation: Any) -> str | None:
    base = _plain(annotation)
    if base in (int, float, str, bool):
        return str(base.__name__)
    if typing.get_origin(base) is typing.Literal:
        kinds = {type_of_value(v) for v in typing.get_args(base)}
        return kinds.pop() if len(kinds) == 1 and None not in kinds else "str"
    if isinstance(base, type) and (issubclass(base, enum.Enum) or base.__name__.endswith("Path")):
        return "str"
    return None


# ------------------------------------------------------------------ hfargparser
def _hf_arguments(
    parser: argparse.ArgumentParser, argparse_arguments: Any
) -> list[dict[str, object]]:
    from transformers.hf_argparser import string_to_bool

    # HfArgumentParser's bool fields: --x (optional value, const True) and,
    # for fields defaulting to True, a store_false --no_x on the same dest.
    bools: dict[str, tuple[list[str], list[str], bool]] = {}
    for action in parser._actions:
        if action.type is string_to_bool:
            bools[action.dest] = (list(action.option_strings), [], action.const is True)
    for action in parser._actions:
        if isinstance(action, argparse._StoreFalseAction) and action.dest in bools:
            bools[action.dest][1].extend(action.option_strings)
    for action in parser._actions:
        function = action.type
        # argparse converts a string default through `type` when it parses.
        if isinstance(action.default, str) and callable(function):
            with contextlib.suppress(Exception):
                action.default = function(action.default)
        if function is string_to_bool:
            action.type = bool
        elif getattr(function, "__qualname__", "").startswith("make_choice_type_function"):
            kinds = {type_of_value(c) for c in action.choices or ()}
            kind = kinds.pop() if len(kinds) == 1 and None not in kinds else "str"
            action.type = {"int": int, "float": float, "bool": bool}.get(kind, str)
        elif function not in (None, int, float, str, bool):
            action.type = str
    out = list(argparse_arguments(parser))
    for doc in out:
        if doc["name"] in bools:
            positive, negative, alone = bools[str(doc["name"])]
            if negative:
                doc.update(kind="negatable", flags=positive, negative_flags=negative)
                doc.pop("nargs", None)
            elif alone:
                doc.update(kind="flag", flag_value=True, flags=positive)
                doc.pop("nargs", None)
    return out


# ------------------------------------------------------------------------- fire
def _fire_arguments(captured: Any) -> list[dict[str, object]]:

    args, kwargs = captured
    component = args[0] if args else kwargs.get("component")
    command = family_command("fire", captured)
    if isinstance(component, dict):
        if command is None:
            return []
        return _fire_component_arguments(component[command])
    if command is not None:
        # A class's method: fire takes the constructor's flags before or after its name.
        parent = [{**doc, "scope": "global"} for doc in _fire_component_arguments(component)]
        # Bound to a stand-in instance: fire's argspec of a method skips self.
        method = types.MethodType(vars(component)[command], object())
        return parent + _fire_component_arguments(method)
    return _fire_component_arguments(component)


def _fire_component_arguments(component: Any) -> list[dict[str, object]]:
    import fire.docstrings
    import fire.inspectutils

    if not callable(component):
        return []
    spec = fire.inspectutils.GetFullArgSpec(component)
    helps: dict[str, str] = {}
    docs = [inspect.getdoc(component)]
    if inspect.isclass(component):
        docs.append(inspect.getdoc(component.__init__))
    for doc in reversed(docs):
        for info in fire.docstrings.parse(doc).args or []:
            if info.description:
                helps[info.name] = info.description
    defaults = dict(
        zip(spec.args[len(spec.args) - len(spec.defaults) :], spec.defaults, strict=True)
    )
    defaults.update(spec.kwonlydefaults or {})
    out = []
    for name in [*spec.args, *spec.kwonlyargs]:
        required = name not in defaults
        default = None if required else defaults[name]
        t = None
        if name in spec.annotations:
            t = _annotation_type(spec.annotations[name])
        t = t or type_of_value(default) or "str"
        spellings = fire_spellings(component, name, t)
        positive = [f for f in spellings if not f.startswith("--no")]
        # The parameter's own name first, then the dashed form fire also reads.
        positive.sort(key=lambda f: f != f"--{name}")
        doc: dict[str, object] = {
            "name": name,
            "type": t,
            "default": json_value(default),
            "required": required,
            "help": helps.get(name),
            "choices": None,
            "flags": positive,
            "kind": "value",
            "scope": "command",
        }
        annotation = spec.annotations.get(name)
        is_list = isinstance(default, (list, tuple)) or typing.get_origin(
            _strip_optional(annotation)
        ) in (list, tuple)
        if is_list:
            doc.update(kind="list", list_style="literal")
        elif t == "bool":
            negative = [f"--no{f[2:]}" for f in positive]
            assert set(negative) <= set(spellings), (negative, spellings)
            doc.update(kind="negatable", negative_flags=negative)
        out.append(doc)
    return out


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) is typing.Union or type(annotation).__name__ == "UnionType":
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def fire_spellings(component: Any, name: str, type_name: str) -> list[str]:
    """The candidate spellings of ``name`` that fire's own flag parser binds to it."""
    import fire.core
    import fire.inspectutils

    spec = fire.inspectutils.GetFullArgSpec(component)
    hyphen = name.replace("_", "-")
    candidates = {f"--{name}", f"--{hyphen}", f"--no-{name}", f"--no_{name}"}
    if type_name == "bool":
        candidates |= {f"--no{name}", f"--no{hyphen}"}
    accepted = []
    for flag in candidates:
        # A bool flag stands alone; any other flag is given a value.
        argv = [flag] if flag.startswith("--no") else [f"{flag}=1"]
        kwargs, _, _ = fire.core._ParseKeywordArgs(argv, spec)
        if name in kwargs:
            accepted.append(flag)
    return accepted


# ------------------------------------------------------------------------- tyro
def _tyro_arguments(captured: Any, cli: Any) -> list[dict[str, object]]:
    import tyro

    args, kwargs = captured
    target = args[0] if args else kwargs["f"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parser = tyro.extras.get_parser(target)
    # tyro ships its own copy of argparse: its help action is not argparse's class.
    actions = [a for a in parser._actions if a.dest != "help"]
    defaults = _tyro_defaults(target, actions, cli)
    hints = _tyro_hints(target)
    out = []
    for action in actions:
        name = action.dest.replace("-", "_")
        annotation = hints.get(name, Any)
        t = _annotation_type(annotation) or type_of_value(defaults.get(name)) or "str"
        help_text = action.help or ""
        cut = help_text.rfind("(default: ")
        if cut < 0:
            cut = help_text.rfind("(required)")
        if cut >= 0:
            help_text = help_text[:cut]
        default = None if action.required else defaults.get(name)
        if isinstance(default, enum.Enum):
            default = default.name  # tyro's CLI spells members by name
        choices = [str(c) for c in action.choices] if action.choices else None
        if choices is not None and sorted(choices) == ["False", "None", "True"]:
            # tyro builds Optional[bool]'s choices from a set: their order changes
            # with PYTHONHASHSEED. The extractor's order is the documented one.
            choices = ["True", "None", "False"]
        doc: dict[str, object] = {
            "name": name,
            "type": t,
            "default": json_value(default),
            "required": bool(action.required),
            "help": help_text.strip() or None,
            "choices": choices,
            "flags": list(action.option_strings),
            "kind": "value",
            "scope": "command",
        }
        if type(action).__name__ == "BooleanOptionalAction":
            # tyro negates the last part of the name: --optim.no-use-nesterov.
            negative = [
                o
                for o in action.option_strings
                if o.rpartition(".")[2].startswith(("no-", "--no-"))
            ]
            positive = [o for o in action.option_strings if o not in negative]
            doc.update(kind="negatable", flags=positive, negative_flags=negative)
        elif action.nargs not in (None, 1):
            doc.update(kind="list", list_style="space", nargs=action.nargs)
        out.append(doc)
    return out


def _tyro_hints(target: Any) -> dict[str, Any]:
    """Field name (dotted for nested dataclasses) → annotation."""
    if not dataclasses.is_dataclass(target):
        return typing.get_type_hints(target, include_extras=True)
    out: dict[str, Any] = {}

    def walk(cls: Any, prefix: str) -> None:
        hints = typing.get_type_hints(cls, include_extras=True)
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], f"{prefix}{f.name}.")
            else:
                out[prefix + f.name] = hints[f.name]

    walk(target, "")
    return out


def _tyro_defaults(target: Any, actions: list[argparse.Action], cli: Any) -> dict[str, object]:
    """The values tyro itself (``cli``) gives each option when the command line leaves it out."""
    argv: list[str] = []
    for action in actions:
        if action.required:
            filler = str(action.choices[0]) if action.choices else "1"
            argv += [action.option_strings[0], filler]
    if inspect.isfunction(target):
        # tyro calls the function: read its bound arguments instead of the result.
        seen: dict[str, object] = {}
        signature = inspect.signature(target)

        def record(*a: Any, **k: Any) -> None:
            seen.update(signature.bind(*a, **k).arguments)

        record.__signature__ = signature  # type: ignore[attr-defined]
        record.__annotations__ = target.__annotations__
        record.__doc__ = target.__doc__
        record.__name__ = target.__name__
        cli(record, args=argv)
        return {k.replace("-", "_"): v for k, v in seen.items()}
    instance = cli(target, args=argv)
    out: dict[str, object] = {}

    def walk(obj: Any, prefix: str) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                walk(value, f"{prefix}{f.name}.")
            else:
                out[prefix + f.name] = value

    walk(instance, "")
    return out


# ---------------------------------------------------------------------- globals
def _globals_arguments(snapshot: dict[str, object]) -> list[dict[str, object]]:
    out = []
    for name, value in snapshot.items():
        if name.startswith("_") or not isinstance(value, (int, float, bool, str)):
            continue
        out.append(
            {
                "name": name,
                "type": type_of_value(value),
                "default": value,
                "required": False,
                "help": None,
                "choices": None,
                "flags": [f"--{name}"],
                "kind": "value",
                "scope": "command",
            }
        )
    return out
