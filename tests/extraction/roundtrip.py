"""Round trips: render values with the descriptor, parse with the library, compare.

The descriptor is described in docs/cli-descriptor.md.

For one script: the extractor's result gives the descriptor; the reference
renderer writes a command for the defaults and for generated values of each
argument's type; the library itself (tests/extraction/oracle.py) parses it;
the parsed values must equal the ones asked for. A value the renderer refuses
must be refused with a reason documented as a limit of its library
(docs/extraction.md), never produce a command the library rejects.
"""

from __future__ import annotations

import json
import math
import pathlib
import random
import shlex
from collections.abc import Callable
from typing import Any

from keynet_train.extraction import ExtractionResult, extract_hyperparameters
from keynet_train.extraction.command_check import (
    rejected_options,
    subcommand_problems,
    value_problems,
)
from keynet_train.extraction.model import Argument
from keynet_train.extraction.render import UnrenderableError, render_parts
from tests.extraction.oracle import (
    CLICK_ONLY,
    CUSTOM_ACTION,
    REQUIRED_GROUP,
    ParseFailed,
    has_preparser,
    runtime_converters,
    runtime_parser,
)

INTS = [0, -1, 7, -1000000, 2**40, 1]
FLOATS = [0.0, -1.5, 1e-05, -2.5e-07, 3e20, 0.1, -0.0001, 2.0]
STRINGS = [
    "",
    "--",
    "a b",
    "it's",
    'say "hi"',
    "k=v",
    "-lead",
    "--double",
    "한국어 é",
    "-",
    "x",
    "-1",
    "a\tb",
]

#: Refusal reasons that are limits of the libraries (docs/extraction.md, "Values no
#: command line can carry"). Anything else is a renderer bug.
DOCUMENTED_LIMITS = (
    "takes at least one value (nargs='+')",
    "absent gives the default; an empty list cannot be written",
    "absent gives null, not an empty list",
    "a flag that only sets",
    "argparse appends to the default list",
    "not a list",
    "not an integer",
    "not a number",
    "not a bool",
    "not a string",
    "a list or mapping where one value is expected",
    "argparse appends to the default, which is not a list",
    "argparse reads a list value starting with",
    "reads a list value starting with '-' as an option",
    "a count cannot go below",
    "absent gives",
    "absent gives the default; no command line sets it to null",
    "not one of the choices",
    "below the range's minimum",
    "above the range's maximum",
    "takes exactly",
    "a positional value '--' is read as the end of options",
    "argparse drops the word '--'",
    "reads '--' as the end of options",
    "would not hand each of the positionals",
    "a positional before the sub-command cannot start with",
    "a variable-length positional before the sub-command would take its name",
    "mutually exclusive with",
    "each ",
    "the script has no option that sets",
    "required, and no value was given",
)


class Stats:
    """How many values round-tripped and how many were refused (with why)."""

    def __init__(self) -> None:
        self.agreed = 0
        self.refused: dict[str, int] = {}

    def refuse(self, reason: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1


def scalars(argument: Argument) -> list[object]:
    """Values of the argument's type, inside its choices and range."""
    if argument.choices is not None:
        out: list[object] = []
        for choice in argument.choices:
            try:
                out.append(_typed(argument.type, choice))
            except ValueError:
                continue
        return out
    base: list[object] = {
        "int": list(INTS),
        "float": list(FLOATS),
        "bool": [True, False],
    }.get(argument.type, list(STRINGS))
    if argument.min is not None or argument.max is not None:
        low = argument.min if argument.min is not None else -(10**6)
        high = argument.max if argument.max is not None else 10**6
        base = [low, high, *(v for v in base if isinstance(v, (int, float)))]
        if argument.type == "int":
            base = [int(v) for v in base if float(v).is_integer()]
        else:
            base = [float(v) for v in base]
    return base


def _typed(type_name: str, text: str) -> object:
    if type_name == "int":
        return int(text)
    if type_name == "float":
        return float(text)
    if type_name == "bool":
        return text.lower() in ("true", "1", "yes")
    return text


def candidates(argument: Argument, rng: random.Random) -> list[object]:
    """The default plus generated values for one argument (kind-aware)."""
    values: list[object] = [argument.default]
    kind = argument.kind
    if kind in ("flag", "negatable"):
        values += [True, False]
        if argument.flag_value is not None:
            values.append(argument.flag_value)
    elif kind == "count":
        if argument.flag_value is not None:
            values += [[argument.flag_value] * n for n in (0, 1, 3)]
        else:
            values += [0, 1, 3]
    elif kind == "list" or (kind == "positional" and argument.nargs not in (None, "?")):
        pool = scalars(argument)
        sizes = [argument.nargs] if isinstance(argument.nargs, int) else [0, 1, 2, 3]
        for size in sizes:
            values.append([rng.choice(pool) for _ in range(size)] if pool else [])
        if pool and not isinstance(argument.nargs, int):
            values += [[v] for v in pool]
    else:
        values += scalars(argument)
    return values


class ScriptRejects(Exception):
    """The script's own ``type=`` function rejects the word (a validator, not the renderer)."""


def expected_value(
    argument: Argument, value: object, converters: dict[str, Any] | None, omitted: bool
) -> object:
    """What the script should receive for ``value``.

    click and typer (``converters`` None) convert with the declared type, so
    the value itself. argparse hands the word to ``type=`` (or keeps it as a
    string without one), so the test applies the script's own converter to
    the word: the round trip then checks that the word reached the right
    destination intact. An omitted value is the default itself.
    """
    if converters is None or value is None or argument.kind not in ("value", "list", "positional"):
        return value
    if converters.get(CLICK_ONLY) and argument.name not in converters:
        return value
    converter = converters.get(argument.name)
    if omitted:
        # argparse converts a string default with type= as if it had been typed.
        if isinstance(value, str) and callable(converter):
            return _convert(argument, value, converter, raw=True)
        return value
    if isinstance(value, list):
        return [_convert(argument, v, converter) for v in value]
    return _convert(argument, value, converter)


def _text(argument: Argument, value: object) -> str:
    if argument.type == "float" and isinstance(value, float):
        return repr(value)
    if argument.type == "bool":
        return "true" if value else "false"
    return str(value)


def _convert(argument: Argument, value: object, converter: Any, raw: bool = False) -> object:
    text = value if raw and isinstance(value, str) else _text(argument, value)
    if converter is None:
        return text
    try:
        converted = converter(text)
    except Exception:
        raise ScriptRejects(text) from None
    return _json_value(converted)


def _json_value(value: object) -> object:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, pathlib.PurePath):
        return str(value)
    return "<object>"  # a file object or the like, as the oracle reports it


def same(argument: Argument, got: object, want: object) -> bool:
    """JSON-equal, with int/float compared as numbers for float arguments."""

    if want is None and (got == "<missing>" or (got == [] and argument.kind != "value")):
        # argparse SUPPRESS leaves no attribute; click multiple without default gives ().
        return True
    if got == "<object>" and argument.type == "str" and want is not None:
        return True  # click.File / argparse.FileType: the script gets an open file
    if argument.choices is not None and isinstance(want, str) and str(got) == want:
        return True  # an Enum choice: the script gets the member, whose value is the choice
    if argument.type == "str" and isinstance(want, str) and got == str(pathlib.PurePath(want)):
        return True  # a Path type normalises the word ("" -> ".", "a//b" -> "a/b")

    def norm(v: object) -> object:
        if isinstance(v, list):
            return [norm(x) for x in v]
        if argument.type == "float" and isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v) + 0.0 if math.isfinite(v) else None  # -0.0 == 0.0
        return v

    return json.dumps(norm(got), sort_keys=True) == json.dumps(norm(want), sort_keys=True)


def check_round_trips(
    path: pathlib.Path,
    rng: random.Random,
    result: ExtractionResult | None = None,
    stats: Stats | None = None,
    per_argument: int | None = None,
) -> Stats:
    """Render the defaults and generated values of every argument of ``path``; parse; compare.

    Both renderings are checked: defaults left out (the reference) and
    written out (as the backend does). Raises AssertionError naming the
    script, the argv and the difference.
    """
    stats = stats or Stats()
    result = result or extract_hyperparameters(path)
    if result.parser_type not in ("argparse", "click", "typer") or not result.arguments:
        return stats  # the other families have their own round trips (families/test_*.py)
    if has_preparser(path):
        return stats  # a config pre-parser reads part of the command line first
    parse = runtime_parser(path)
    converters = runtime_converters(path)
    by_name = {a.name: a for a in result.arguments}
    base: dict[str, object] = {}
    for argument in result.arguments:
        # Required arguments need some value for any command to parse; so does an
        # argparse default the script's own type= rejects (it is converted at parse time).
        if argument.required or _bad_default(argument, converters):
            base[argument.name] = _some_value(argument, rng, converters)
    for first in (converters or {}).get(REQUIRED_GROUP, []):
        if first in by_name:
            base[first] = _some_value(by_name[first], rng, converters, avoid=by_name[first].default)
    cases = [base]
    for argument in result.arguments:
        if converters is not None and converters.get(argument.name) is CUSTOM_ACTION:
            continue  # the script's own Action decides what the words mean
        values = candidates(argument, rng)
        if per_argument is not None and len(values) > per_argument:
            # The default, then a sample: generated scripts are many, keep each cheap.
            values = values[:1] + rng.sample(values[1:], per_argument - 1)
        if argument.name in base:
            values = [v for v in values if not same(argument, v, argument.default)]
        cases += [{**base, argument.name: v} for v in values]
    for values in cases:
        for explicit in (False, True):
            _one(path, result, values, explicit, parse, converters, stats)
    return stats


def _bad_default(argument: Argument, converters: dict[str, Any] | None) -> bool:
    converter = (converters or {}).get(argument.name)
    if not isinstance(argument.default, str) or not callable(converter):
        return False
    try:
        converter(argument.default)
    except Exception:
        return True
    return False


def _some_value(
    argument: Argument,
    rng: random.Random,
    converters: dict[str, Any] | None,
    avoid: object = None,
) -> object:
    """A plain value the script accepts (no leading '-', not empty, not ``avoid``)."""
    pool = [v for v in candidates(argument, rng)[1:] if v not in (None, [], "") and v != avoid]
    plain = [v for v in pool if not (isinstance(v, str) and v.startswith("-"))] or pool
    for value in plain:
        try:
            expected_value(argument, value, converters, False)
        except ScriptRejects:
            continue
        return value
    return "x"


def _one(
    path: pathlib.Path,
    result: ExtractionResult,
    values: dict[str, object],
    explicit: bool,
    parse: Callable[[list[str]], dict[str, object]],
    converters: dict[str, Any] | None,
    stats: Stats,
) -> None:
    try:
        argv, words = render_parts(result, values, explicit_defaults=explicit)
    except UnrenderableError as e:
        for refusal in e.refusals:
            assert any(limit in refusal.reason for limit in DOCUMENTED_LIMITS), (
                f"{path}: undocumented refusal {refusal}"
            )
            stats.refuse(refusal.reason)
        return
    try:
        wanted = {
            a.name: expected_value(
                a, values.get(a.name, a.default), converters, omitted=not words.get(a.name)
            )
            for a in result.arguments
            if converters is None or converters.get(a.name) is not CUSTOM_ACTION
        }
    except ScriptRejects as e:
        stats.refuse(f"the script's own type= rejects {e}")
        return
    # The training-command check must accept every command the library accepts.
    command = "python train.py " + shlex.join(argv)
    problems = [
        *value_problems(command, result),
        *rejected_options(command, result),
        *subcommand_problems(command, result, "train.py"),
    ]
    assert problems == [], f"{path}: the check rejects {argv!r}: {problems}"
    try:
        parsed = parse(argv)
    except ParseFailed as e:
        if e.param is not None and _validated_by_type(result, e.param):
            stats.refuse(f"the script's click type rejects a value of {e.param}")
            return
        raise AssertionError(f"{path}: the library rejected {argv!r}: {e}\n{values!r}") from None
    for argument in result.arguments:
        if argument.name not in wanted:
            continue
        want = wanted[argument.name]
        got = parsed.get(argument.name, "<missing>")
        if want is None and argument.default is None and not words.get(argument.name):
            continue  # left out, and its default is unknown statically (null): any value is its own
        assert same(argument, got, want), (
            f"{path}: {argument.name}: asked {want!r}, the library parsed {got!r} from {argv!r}"
        )
    stats.agreed += 1


def _validated_by_type(result: ExtractionResult, param: str) -> bool:
    """A click/typer type that validates strings (Path(exists=True), File...)."""
    argument = next((a for a in result.arguments if a.name == param), None)
    return argument is not None and argument.type == "str" and argument.choices is None
