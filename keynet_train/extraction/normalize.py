"""Interpreter values onto the result's fields: type names, JSON defaults, choices.

The rules are in docs/extraction-rules.md.

The same rules are written down in docs/extraction.md and re-implemented
independently by the runtime oracle in the tests.
"""

from __future__ import annotations

import ast
import math

from keynet_train.extraction.values import (
    UNKNOWN,
    ClassValue,
    EnumMember,
    FunctionValue,
    PathValue,
    Ref,
)

#: Choices lists longer than this (e.g. ``range(1, 100000)``) are not sent.
MAX_CHOICES = 1_000

_BUILTIN_TYPES = {
    "builtins.int": "int",
    "builtins.float": "float",
    "builtins.str": "str",
    "builtins.bool": "bool",
}


class Unresolved(Exception):
    """A value could not be turned into JSON."""


def type_of_value(value: object) -> str | None:
    """The type name of a literal default; None when it says nothing (None/unknown)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, (str, PathValue)):
        return "str"
    if isinstance(value, EnumMember):
        return type_of_value(value.value)
    if isinstance(value, (list, tuple)) and value:
        return type_of_value(value[0])
    return None


def builtin_type_name(value: object) -> str | None:
    """``int``/``float``/``str``/``bool`` when ``value`` is that builtin, else None."""
    if isinstance(value, Ref):
        return _BUILTIN_TYPES.get(value.name)
    return None


#: The most values one JSON default may be made of (nested lists count what they hold).
MAX_JSON_VALUES = 100_000


def to_json_value(value: object) -> object:
    """A JSON-native copy of a known value; raises :class:`Unresolved` otherwise.

    A value made of more than ``MAX_JSON_VALUES`` values (a list holding one
    large sublist many times) is not copied: Unresolved, found after at
    most that many steps.
    """
    return _to_json(value, [MAX_JSON_VALUES])


def _to_json(value: object, budget: list[int]) -> object:
    budget[0] -= 1
    if budget[0] < 0:
        raise Unresolved("too large")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Unresolved("not a finite number")
        return value
    if isinstance(value, PathValue):
        return value.path
    if isinstance(value, EnumMember):
        return _to_json(value.value, budget)
    if isinstance(value, (list, tuple)):
        return [_to_json(v, budget) for v in value]
    if isinstance(value, (set, frozenset)):
        try:
            items = sorted(value)
        except TypeError:
            items = list(value)
        return [_to_json(v, budget) for v in items]
    if isinstance(value, dict):
        # A JSON object; keys other than strings would change type in JSON.
        if not all(isinstance(k, str) for k in value):
            raise Unresolved("a dict with keys that are not strings")
        return {k: _to_json(v, budget) for k, v in value.items()}
    raise Unresolved(type(value).__name__)


def convert_string_default(default: object, type_name: str | None, builtin: bool) -> object:
    """argparse/click convert a *string* default through ``type``; mirror it for builtins."""
    if not builtin or not isinstance(default, str) or type_name not in ("int", "float", "bool"):
        return default
    if type_name == "bool":
        return bool(default)
    try:
        return int(default) if type_name == "int" else float(default)
    except ValueError:
        return default


def choices_list(value: object) -> list[str] | None:
    """``choices=`` as a list of strings, or raises :class:`Unresolved`."""
    if value is None:
        return None
    if isinstance(value, range):
        if len(value) > MAX_CHOICES:
            raise Unresolved("too many choices")
        return [str(v) for v in value]
    if isinstance(value, ClassValue) and value.is_enum:
        return [_choice_str(value.namespace[m]) for m in value.members]
    if isinstance(value, dict):
        value = list(value.keys())
    if isinstance(value, str):
        value = list(value)
    if isinstance(value, (set, frozenset)):
        try:
            value = sorted(value)
        except TypeError:
            raise Unresolved("unordered choices") from None
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_CHOICES:
            raise Unresolved("too many choices")
        return [_choice_str(v) for v in value]
    raise Unresolved("choices")


def _choice_str(value: object) -> str:
    if isinstance(value, EnumMember):
        return _choice_str(value.value)
    if isinstance(value, PathValue):
        return value.path
    if value is None or isinstance(value, (bool, int, float, str)):
        return str(value)
    raise Unresolved("choice")


def function_return_type(fn: FunctionValue) -> str | None:
    """What a custom ``type=`` function returns, from its annotation or return statements.

    ``bool`` when every return is clearly boolean (the usual ``str2bool``),
    ``int``/``float`` when every return is such a conversion or literal; None
    (meaning ``str``) otherwise. Returning the parameter itself unchanged is
    ignored (``if isinstance(v, bool): return v``).
    """
    node = fn.node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
        ann = node.returns
        name = ann.id if isinstance(ann, ast.Name) else getattr(ann, "value", None)
        if name in ("int", "float", "bool", "str"):
            return str(name)
    params = {a.arg for a in [*node.args.posonlyargs, *node.args.args]}
    if isinstance(node, ast.Lambda):
        returns: list[ast.expr] = [node.body]
        assigned: dict[str, list[ast.expr]] = {}
    else:
        returns = []
        assigned = {}
        for sub in _walk_function(node):
            if isinstance(sub, ast.Return) and sub.value is not None:
                returns.append(sub.value)
            elif isinstance(sub, ast.Assign):
                for t in sub.targets:
                    if isinstance(t, ast.Name):
                        assigned.setdefault(t.id, []).append(sub.value)
    kinds: set[str] = set()
    for expr in returns:
        if isinstance(expr, ast.Name) and expr.id in params and expr.id not in assigned:
            continue
        kinds.add(_expr_kind(expr, assigned, params, 0))
    kinds.discard("none")
    if kinds == {"bool"}:
        return "bool"
    if kinds == {"int"}:
        return "int"
    if kinds and kinds <= {"int", "float"}:
        return "float"
    return None


def _walk_function(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """Nodes of a function body, not descending into nested functions or classes."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = list(node.body)
    while stack and len(out) < 10_000:
        cur = stack.pop()
        out.append(cur)
        for child in ast.iter_child_nodes(cur):
            if not isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
            ):
                stack.append(child)
    return out


def _expr_kind(
    expr: ast.expr, assigned: dict[str, list[ast.expr]], params: set[str], depth: int
) -> str:
    if depth > 8:
        return "other"
    if isinstance(expr, ast.Constant):
        v = expr.value
        if v is None:
            return "none"
        return type_of_value(v) or "other"
    if isinstance(expr, (ast.Compare, ast.BoolOp)) or (
        isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not)
    ):
        if isinstance(expr, ast.BoolOp):
            kinds = {_expr_kind(v, assigned, params, depth + 1) for v in expr.values}
            return "bool" if kinds == {"bool"} else "other"
        return "bool"
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        if expr.func.id in ("int", "float", "bool"):
            return expr.func.id
        if expr.func.id in ("str", "repr"):
            return "str"
    if isinstance(expr, ast.IfExp):
        kinds = {_expr_kind(e, assigned, params, depth + 1) for e in (expr.body, expr.orelse)}
        kinds.discard("none")
        return kinds.pop() if len(kinds) == 1 else "other"
    if isinstance(expr, ast.Name) and expr.id in assigned:
        kinds = {_expr_kind(e, assigned, params, depth + 1) for e in assigned[expr.id]}
        return kinds.pop() if len(kinds) == 1 else "other"
    return "other"


def unknown(value: object) -> bool:
    """True when ``value`` is, or contains, UNKNOWN (or is too large to look through).

    At most ``MAX_JSON_VALUES`` values are looked at: a larger value (a list
    holding a large sublist many times) counts as unknown.
    """
    budget = [MAX_JSON_VALUES]
    return _unknown(value, budget) or budget[0] < 0


def _unknown(value: object, budget: list[int]) -> bool:
    budget[0] -= 1
    if budget[0] < 0:
        return True
    if value is UNKNOWN:
        return True
    if isinstance(value, (list, tuple)):
        return any(_unknown(v, budget) for v in value)
    return False
