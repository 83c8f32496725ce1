"""Methods of plain values (``str``, ``list``, ``dict``, paths, user instances) in parser code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keynet_train.extraction.operations import (
    MAX_SEQUENCE,
    MAX_STR,
    hashable,
    is_plain,
    shallow_size,
    size_ok,
    str_call_is_cheap,
)
from keynet_train.extraction.runtime import CallArgs
from keynet_train.extraction.values import UNKNOWN, FunctionValue, InstanceValue

if TYPE_CHECKING:
    from keynet_train.extraction.interpreter import Interpreter

_STR_METHODS = frozenset(
    "lower upper strip lstrip rstrip title capitalize replace split rsplit join startswith "  # noqa: SIM905
    "endswith format removeprefix removesuffix casefold".split()
)
_LIST_MUTATORS = frozenset(("append", "extend", "insert"))


def call_value_method(interp: Interpreter, obj: object, name: str, call: CallArgs) -> object:
    """Methods of plain values: str/list/dict helpers that show up in parser code.

    Scanning ``obj`` and building the result cost one step per item (per
    256 characters of a string) on top of the call itself.

    Raises:
        BudgetExceeded: the step budget is spent.
    """
    if not isinstance(obj, InstanceValue):
        interp.charge(shallow_size(obj))
    result = _call(interp, obj, name, call)
    interp.charge(shallow_size(result))
    return result


def _call(interp: Interpreter, obj: object, name: str, call: CallArgs) -> object:
    if isinstance(obj, InstanceValue):
        method = obj.cls.namespace.get(name)
        if isinstance(method, FunctionValue):
            return interp.call_function(method, call, self_value=obj)
        return UNKNOWN
    if call.incomplete or not all(is_plain(a) for a in call.args):
        return UNKNOWN
    if not all(is_plain(v) for v in call.kwargs.values()):
        return UNKNOWN
    # Paths' methods (``resolve``, ``expanduser``...) depend on the machine: UNKNOWN.
    try:
        if isinstance(obj, str):
            return _str_method(interp, obj, name, call)
        if isinstance(obj, list):
            return _list_method(interp, obj, name, call)
        if isinstance(obj, dict):
            return _dict_method(interp, obj, name, call)
    except Exception:  # noqa: BLE001 - bad arguments to a str method etc.
        return UNKNOWN
    return UNKNOWN


def _str_method(interp: Interpreter, obj: str, name: str, call: CallArgs) -> object:
    if name not in _STR_METHODS:
        return UNKNOWN
    if not str_call_is_cheap(obj, name, call.args, call.kwargs):
        interp.note(
            call.line,
            f"str.{name}() here would build a string over the size limit "
            f"({MAX_STR} characters); its value is not known statically",
        )
        return UNKNOWN
    if name == "format":
        result: object = obj.format(*call.args, **call.kwargs)
    elif name == "join":
        seq = interp.iterate(call.args[0]) if call.args else None
        if seq is None or not all(isinstance(s, str) for s in seq):
            return UNKNOWN
        result = obj.join(str(s) for s in seq)
    else:
        result = getattr(obj, name)(*call.args, **call.kwargs)
    return result if size_ok(result) else UNKNOWN


def _list_method(interp: Interpreter, obj: list[object], name: str, call: CallArgs) -> object:
    if name in _LIST_MUTATORS:
        if len(obj) >= MAX_SEQUENCE:
            return UNKNOWN
        if name == "extend":
            seq = interp.iterate(call.args[0]) if call.args else None
            if seq is None:
                return UNKNOWN
            obj.extend(seq)
        else:
            getattr(obj, name)(*call.args)
        return None
    if name in ("copy", "index", "count"):
        return getattr(obj, name)(*call.args)
    return UNKNOWN


def _dict_method(
    interp: Interpreter, obj: dict[object, object], name: str, call: CallArgs
) -> object:
    if name == "get":
        key = call.args[0] if call.args else None
        fallback = call.args[1] if len(call.args) > 1 else None
        return obj.get(key, fallback) if hashable(key) else UNKNOWN
    if name in ("keys", "values"):
        return list(getattr(obj, name)())
    if name == "items":
        return [tuple(kv) for kv in obj.items()]
    if name == "copy":
        return dict(obj)
    # Helpers fill in keyword dicts before passing them on (kw.setdefault("help", ...)).
    if name == "setdefault" and call.args and hashable(call.args[0]):
        if len(obj) >= MAX_SEQUENCE:
            return UNKNOWN
        fallback = call.args[1] if len(call.args) > 1 else None
        return obj.setdefault(call.args[0], fallback)
    if name == "pop" and call.args and hashable(call.args[0]):
        return (
            obj.pop(call.args[0], *call.args[1:2])
            if call.args[0] in obj or len(call.args) > 1
            else UNKNOWN
        )
    if name == "update" and len(call.args) <= 1:
        other = call.args[0] if call.args else {}
        if not isinstance(other, dict) or len(obj) + len(other) + len(call.kwargs) > MAX_SEQUENCE:
            return UNKNOWN
        obj.update(other)
        obj.update(call.kwargs)
        return None
    return UNKNOWN
