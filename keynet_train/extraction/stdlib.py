"""Models of the few builtins and standard-library calls that appear in parser code."""

from __future__ import annotations

import copy
import math

from keynet_train.extraction.interpreter import CallArgs, Interpreter, Modelled, RefHandler
from keynet_train.extraction.operations import MAX_SEQUENCE, MAX_STR, hashable, is_plain, to_set
from keynet_train.extraction.values import (
    UNKNOWN,
    ClassValue,
    EnumMember,
    InstanceValue,
    PathValue,
    Ref,
)


def _plain_args(call: CallArgs) -> bool:
    return not call.incomplete and all(is_plain(a) for a in call.args)


def _convert(kind: type) -> RefHandler:
    def handler(interp: Interpreter, call: CallArgs) -> object:
        if not _plain_args(call) or call.kwargs or len(call.args) > 1:
            return UNKNOWN
        if not call.args:
            return kind()
        arg = call.args[0]
        if kind is str:
            if isinstance(arg, (list, tuple, dict, set)):
                return UNKNOWN
            return str(arg)
        if isinstance(arg, str) and len(arg) > 1000:
            return UNKNOWN
        try:
            return kind(arg)
        except Exception:  # noqa: BLE001 - int("x") fails at runtime too
            return UNKNOWN

    return handler


def _str(interp: Interpreter, call: CallArgs) -> object:
    if len(call.args) == 1 and isinstance(call.args[0], PathValue):
        return call.args[0].path
    if len(call.args) == 1 and isinstance(call.args[0], EnumMember):
        return UNKNOWN
    return _convert(str)(interp, call)


def _len(interp: Interpreter, call: CallArgs) -> object:
    if len(call.args) == 1:
        seq = interp.iterate(call.args[0])
        if seq is not None:
            return len(seq)
    return UNKNOWN


def _range(interp: Interpreter, call: CallArgs) -> object:
    if call.kwargs or not 1 <= len(call.args) <= 3 or call.incomplete:
        return UNKNOWN
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in call.args):
        return UNKNOWN
    try:
        return range(*call.args)  # type: ignore[call-overload]
    except (ValueError, OverflowError):
        return UNKNOWN


def _sequence(kind: type) -> RefHandler:
    def handler(interp: Interpreter, call: CallArgs) -> object:
        if call.kwargs or call.incomplete or len(call.args) > 1:
            return UNKNOWN
        if not call.args:
            return kind()
        seq = interp.iterate(call.args[0])
        if seq is None:
            return UNKNOWN
        if kind is list:
            return seq
        if kind is tuple:
            return tuple(seq)
        return to_set(seq)

    return handler


def _sorted(interp: Interpreter, call: CallArgs) -> object:
    if len(call.args) != 1 or call.incomplete or set(call.kwargs) - {"reverse"}:
        return UNKNOWN
    seq = interp.iterate(call.args[0])
    reverse = call.kwargs.get("reverse", False)
    if seq is None or not isinstance(reverse, bool):
        return UNKNOWN
    try:
        return sorted(seq, reverse=reverse)  # type: ignore[type-var]
    except TypeError:
        return UNKNOWN


def _reduce(fn: object) -> RefHandler:
    def handler(interp: Interpreter, call: CallArgs) -> object:
        if call.kwargs or call.incomplete or not call.args:
            return UNKNOWN
        items = call.args if len(call.args) > 1 else interp.iterate(call.args[0])
        if not items or not all(
            isinstance(i, (int, float)) or (isinstance(i, str) and fn is not sum) for i in items
        ):
            return UNKNOWN
        try:
            return fn(items)  # type: ignore[operator]
        except Exception:  # noqa: BLE001
            return UNKNOWN

    return handler


def _abs(interp: Interpreter, call: CallArgs) -> object:
    if len(call.args) == 1 and isinstance(call.args[0], (int, float)):
        return abs(call.args[0])
    return UNKNOWN


def _round(interp: Interpreter, call: CallArgs) -> object:
    if not call.kwargs and 1 <= len(call.args) <= 2:
        x = call.args[0]
        nd = call.args[1] if len(call.args) == 2 else None
        if isinstance(x, (int, float)) and (nd is None or isinstance(nd, int)):
            if nd is not None and abs(nd) > 400:
                return UNKNOWN
            try:
                return round(x, nd)
            except (OverflowError, ValueError):
                return UNKNOWN
    return UNKNOWN


def _enumerate(interp: Interpreter, call: CallArgs) -> object:
    if len(call.args) >= 1:
        seq = interp.iterate(call.args[0])
        start = call.args[1] if len(call.args) > 1 else call.kwargs.get("start", 0)
        if seq is not None and isinstance(start, int):
            return [(start + i, v) for i, v in enumerate(seq)]
    return UNKNOWN


def _zip(interp: Interpreter, call: CallArgs) -> object:
    seqs = [interp.iterate(a) for a in call.args]
    known = [s for s in seqs if s is not None]
    if call.kwargs or call.incomplete or len(known) != len(seqs):
        return UNKNOWN
    return [tuple(t) for t in zip(*known, strict=False)]


def _reversed(interp: Interpreter, call: CallArgs) -> object:
    if len(call.args) == 1:
        seq = interp.iterate(call.args[0])
        if seq is not None:
            return list(reversed(seq))
    return UNKNOWN


def _none(interp: Interpreter, call: CallArgs) -> object:
    return None


def _env_get(interp: Interpreter, call: CallArgs) -> object:
    """``os.environ.get("X", fallback)`` / ``os.getenv``: the fallback, with a diagnostic."""
    name = call.args[0] if call.args else call.kwargs.get("key", UNKNOWN)
    fallback = call.args[1] if len(call.args) > 1 else call.kwargs.get("default")
    shown = name if isinstance(name, str) else "?"
    interp.note(
        call.line,
        f"environment variable {shown} is read at runtime; using its fallback {fallback!r}"
        if fallback is not UNKNOWN
        else f"environment variable {shown} is read at runtime; value unresolved",
    )
    return fallback


def _path(interp: Interpreter, call: CallArgs) -> object:
    if call.kwargs or call.incomplete:
        return UNKNOWN
    parts: list[str] = []
    for a in call.args:
        if isinstance(a, PathValue):
            parts.append(a.path)
        elif isinstance(a, str):
            parts.append(a)
        else:
            return UNKNOWN
    if not parts:
        return PathValue(".")
    path = parts[0]
    for p in parts[1:]:
        path = p if p.startswith("/") else f"{path.rstrip('/')}/{p}"
    return PathValue(path) if len(path) <= MAX_STR else UNKNOWN


def _path_join(interp: Interpreter, call: CallArgs) -> object:
    value = _path(interp, call)
    return value.path if isinstance(value, PathValue) else UNKNOWN


def _field(interp: Interpreter, call: CallArgs) -> object:
    """``dataclasses.field(default=...)`` used as a class attribute."""
    return call.kwargs.get("default", UNKNOWN)


_BUILTIN_TYPES: dict[str, type] = {
    t.__name__: t for t in (bool, int, float, str, list, tuple, dict, set, frozenset, complex)
}


#: Abstract collection types ``isinstance`` is asked about in parser code.
_ABSTRACT_ITERABLES = frozenset(
    f"{module}.{name}"
    for module in ("collections.abc", "typing")
    for name in ("Iterable", "Sequence", "Collection")
)


def _isinstance(interp: Interpreter, call: CallArgs) -> object:
    """``isinstance(v, int)`` for a known plain value and builtin types (``str2bool`` helpers)."""
    if len(call.args) != 2 or call.kwargs or call.incomplete:
        return UNKNOWN
    value, spec = call.args
    if isinstance(spec, Ref) and spec.name in _ABSTRACT_ITERABLES:
        # ``isinstance(dataclass_types, Iterable)``: a known container is one,
        # a class is not (an Enum class is: it iterates over its members).
        if isinstance(value, (list, tuple, str, dict, set, frozenset)):
            return True
        if isinstance(value, ClassValue):
            return value.is_enum
        return UNKNOWN
    if value is UNKNOWN or not is_plain(value) or isinstance(value, range):
        return UNKNOWN
    refs = spec if isinstance(spec, tuple) else (spec,)
    types: list[type] = []
    for ref in refs:
        if not isinstance(ref, Ref) or not ref.name.startswith("builtins."):
            return UNKNOWN
        kind = _BUILTIN_TYPES.get(ref.name.removeprefix("builtins."))
        if kind is None:
            return UNKNOWN
        types.append(kind)
    return isinstance(value, tuple(types))


def _math_fn(name: str) -> RefHandler:
    fn = getattr(math, name)

    def handler(interp: Interpreter, call: CallArgs) -> object:
        if call.kwargs or not call.args or not all(isinstance(a, (int, float)) for a in call.args):
            return UNKNOWN
        try:
            result = fn(*call.args)
        except Exception:  # noqa: BLE001 - math domain errors
            return UNKNOWN
        if isinstance(result, int) and result.bit_length() > 4096:
            return UNKNOWN
        return result

    return handler


def _enum_values(interp: Interpreter, call: CallArgs) -> object:
    if len(call.args) == 1 and isinstance(call.args[0], ClassValue):
        return interp.iterate(call.args[0])
    return UNKNOWN


def _type(interp: Interpreter, call: CallArgs) -> object:
    """``type(value)`` of a known literal: the builtin type, so ``type=type(default)`` works."""
    if len(call.args) == 1 and not call.kwargs:
        v = call.args[0]
        for kind in (bool, int, float, str, list, tuple, dict):
            if type(v) is kind:
                return Ref(f"builtins.{kind.__name__}")
    return UNKNOWN


def _dict(interp: Interpreter, call: CallArgs) -> object:
    if call.incomplete or len(call.args) > 1:
        return UNKNOWN
    result: dict[object, object] = {}
    if call.args:
        src = call.args[0]
        if isinstance(src, dict):
            result.update(src)
        else:
            pairs = interp.iterate(src)
            if pairs is None:
                return UNKNOWN
            for pair in pairs:
                if not (isinstance(pair, tuple) and len(pair) == 2) or not hashable(pair[0]):
                    return UNKNOWN
                result[pair[0]] = pair[1]
    result.update(call.kwargs)
    return result


def _fields(interp: Interpreter, call: CallArgs) -> object:
    """``dataclasses.fields(cls_or_instance)`` of a dataclass read statically: Field-like objects.

    Each has ``name``, ``type`` (the annotation: ``int`` is ``builtins.int``),
    ``default`` and ``default_factory`` (``dataclasses.MISSING`` when absent),
    ``metadata`` and ``init``, so helpers that generate options from a
    dataclass are read like any other code.
    """
    from keynet_train.extraction.dataclass_fields import MISSING, dataclass_fields, is_dataclass

    target = call.args[0] if len(call.args) == 1 else UNKNOWN
    if isinstance(target, InstanceValue):
        target = target.cls
    if not isinstance(target, ClassValue) or not is_dataclass(interp, target):
        return UNKNOWN
    field_class = ClassValue("Field", {}, [], call.line)
    result: list[object] = []
    for f in dataclass_fields(interp, target):
        item = InstanceValue(field_class)
        item.attrs.update(
            name=f.name,
            type=f.annotation,
            default=f.default,
            default_factory=MISSING if f.factory is MISSING else _Factory(f.factory),
            metadata=dict(f.metadata),
            init=f.init,
        )
        result.append(item)
    return result


class _Factory(Modelled):
    """A field's ``default_factory``: calling it gives the value it was read to return."""

    def __init__(self, value: object) -> None:
        self.value = value

    def call_self(self, interp: Interpreter, call: CallArgs) -> object:
        return copy.deepcopy(self.value) if is_plain(self.value) else self.value


def _super(interp: Interpreter, call: CallArgs) -> object:
    """``super()`` in a method of a project subclass of a modelled class (see the interpreter)."""
    return interp.super_of_method() if not call.args else UNKNOWN


HANDLERS: dict[str, RefHandler] = {
    "builtins.super": _super,
    "dataclasses.fields": _fields,
    "builtins.dict": _dict,
    "builtins.type": _type,
    "builtins.int": _convert(int),
    "builtins.float": _convert(float),
    "builtins.bool": _convert(bool),
    "builtins.str": _str,
    "builtins.len": _len,
    "builtins.range": _range,
    "builtins.list": _sequence(list),
    "builtins.tuple": _sequence(tuple),
    "builtins.set": _sequence(set),
    "builtins.frozenset": _sequence(set),
    "builtins.sorted": _sorted,
    "builtins.min": _reduce(min),
    "builtins.max": _reduce(max),
    "builtins.sum": _reduce(sum),
    "builtins.abs": _abs,
    "builtins.round": _round,
    "builtins.enumerate": _enumerate,
    "builtins.zip": _zip,
    "builtins.reversed": _reversed,
    "builtins.print": _none,
    "builtins.isinstance": _isinstance,
    "os.environ.get": _env_get,
    "os.getenv": _env_get,
    "pathlib.Path": _path,
    "pathlib.PurePath": _path,
    "pathlib.PosixPath": _path,
    "os.path.join": _path_join,
    "dataclasses.field": _field,
    "logging.basicConfig": _none,
    "warnings.filterwarnings": _none,
    **{f"math.{n}": _math_fn(n) for n in ("sqrt", "log", "log2", "log10", "exp", "ceil", "floor")},
}

# Unused but kept importable for callers that check limits.
__all__ = ["HANDLERS", "MAX_SEQUENCE", "MAX_STR"]
