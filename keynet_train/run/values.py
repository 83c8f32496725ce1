"""``--set NAME=VALUE``: a hyperparameter value checked against the script's descriptor.

Checked before anything is built or started: the name is a hyperparameter,
the value has its type, is one of its choices, lies within its bounds, and
fits how the argument is spelled (a ``store_true`` flag is present or
absent, a count is a non-negative number, a fixed ``nargs`` list has that
many items). See docs/run.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from keynet_train.errors import UsageError
from keynet_train.extraction.model import Argument, ExtractionResult

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def parse_set_values(items: Iterable[str], result: ExtractionResult) -> dict[str, object]:
    """``--set`` items → ``{name: value}`` with values of each argument's type.

    Raises:
        UsageError: an item is not ``NAME=VALUE``, names no hyperparameter, or
            its value is not one the argument can take (type, choices,
            bounds, flag vs value, list length); the message says which.
    """
    by_name = {a.name: a for a in result.arguments}
    # "batch_size" finds "batch-size" and the reverse: both spellings name one argument.
    loose = {a.name.replace("-", "_"): a for a in result.arguments}
    values: dict[str, object] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--set {item!r} is not NAME=VALUE.", "Example: --set epochs=3")
        argument = by_name.get(name) or loose.get(name.replace("-", "_"))
        if argument is None:
            raise UsageError(
                f"--set {name}: the script has no hyperparameter {name!r}.",
                _known_hint(name, list(by_name)),
            )
        values[argument.name] = convert(argument, text)
    return values


def _known_hint(name: str, names: list[str]) -> str:
    import difflib

    guess = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    listing = ", ".join(names) if names else "none"
    prefix = f"Did you mean {guess[0]}? " if guess else ""
    return prefix + f"Its hyperparameters: {listing} (keynet-train inspect lists them)."


def convert(argument: Argument, text: str) -> object:
    """``text`` as a value of ``argument``.

    Raises:
        UsageError: see :func:`parse_set_values`.
    """
    where = f"--set {argument.name}={text}"
    if argument.kind == "count":
        count = _scalar("int", text, where)
        assert isinstance(count, int)
        if count < 0:
            raise UsageError(
                f"{where}: a count is 0 or more.",
                f"{argument.name} counts how often {_flag(argument)} is repeated.",
            )
        return count
    if argument.kind == "list":
        return _list(argument, text, where)
    value = _scalar(
        "bool" if argument.kind in ("flag", "negatable") else argument.type, text, where
    )
    if argument.kind == "flag":
        allowed = [argument.default, argument.flag_value]
        if value not in allowed and not (value is False and argument.default is None):
            raise UsageError(
                f"{where}: {argument.name} is a flag ({_flag(argument)} present or absent); "
                f"it can only be {_or(allowed)}.",
                f"Present sets {argument.flag_value!r}, absent keeps {argument.default!r}.",
            )
    _check_choice(argument, value, where)
    _check_bounds(argument, value, where)
    return value


def _flag(argument: Argument) -> str:
    return argument.flags[0] if argument.flags else argument.name


def _or(values: list[object]) -> str:
    return " or ".join(json.dumps(v) for v in dict.fromkeys(values) if v is not None) or "true"


def _scalar(kind: str, text: str, where: str) -> object:
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise UsageError(
                f"{where}: not an integer.", "Give a whole number, e.g. --set epochs=3."
            ) from None
    if kind == "float":
        try:
            value = float(text)
        except ValueError:
            raise UsageError(
                f"{where}: not a number.", "Give a number, e.g. --set lr=0.001."
            ) from None
        if not math.isfinite(value):
            raise UsageError(
                f"{where}: NaN and infinity are not hyperparameter values.", "Give a finite number."
            )
        return value
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise UsageError(f"{where}: not a boolean.", "Give true or false.")
    return text


def _list(argument: Argument, text: str, where: str) -> list[object]:
    words: list[object]
    if text.strip().startswith("["):
        try:
            loaded = json.loads(text)
        except ValueError:
            raise UsageError(
                f"{where}: not a JSON list.", 'Give a JSON list (["a", "b"]) or a,b.'
            ) from None
        if not isinstance(loaded, list):
            raise UsageError(f"{where}: not a JSON list.", 'Give a JSON list (["a", "b"]) or a,b.')
        words = [str(w) if not isinstance(w, str) else w for w in loaded]
    else:
        words = [w for w in text.split(",") if w != ""] if text else []
    items = [_scalar(argument.type, str(w), where) for w in words]
    nargs = argument.nargs
    if isinstance(nargs, int) and len(items) != nargs:
        raise UsageError(
            f"{where}: {argument.name} takes exactly {nargs} values, got {len(items)}.",
            "Separate values with commas.",
        )
    if nargs == "+" and not items:
        raise UsageError(
            f"{where}: {argument.name} takes at least one value.", "Separate values with commas."
        )
    for item in items:
        _check_choice(argument, item, where)
        _check_bounds(argument, item, where)
    return items


def _check_choice(argument: Argument, value: object, where: str) -> None:
    if argument.choices is None:
        return
    text = value if isinstance(value, str) else json.dumps(value)
    if text not in argument.choices and str(value) not in argument.choices:
        raise UsageError(
            f"{where}: not one of the choices of {argument.name}.",
            f"Choose one of: {', '.join(argument.choices)}.",
        )


def _check_bounds(argument: Argument, value: object, where: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    low, high = argument.min, argument.max
    if low is not None and (value < low or (argument.min_open and value == low)):
        raise UsageError(
            f"{where}: below the minimum of {argument.name}.",
            f"It must be {'>' if argument.min_open else '>='} {low:g}.",
        )
    if high is not None and (value > high or (argument.max_open and value == high)):
        raise UsageError(
            f"{where}: above the maximum of {argument.name}.",
            f"It must be {'<' if argument.max_open else '<='} {high:g}.",
        )
