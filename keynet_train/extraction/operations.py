"""Operations on plain values for the static interpreter, each guarded against huge results.

The interpreter evaluates arithmetic, comparisons and string formatting on
values it knows, but a script can ask for ``10 ** 10 ** 9`` or
``'a' * 10 ** 12``: every operation here refuses (returns UNKNOWN, or False
for the ``*_cheap`` predicates) what would take more than a bounded amount of
memory or time, so the step budget keeps bounding the real work.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

from keynet_train.extraction.values import UNKNOWN

#: Size caps that keep each single operation cheap.
MAX_SEQUENCE = 10_000
MAX_STR = 100_000
MAX_INT_BITS = 4_096
#: Copying or scanning this many characters of a string costs one step.
STR_CHARS_PER_STEP = 256

NO_CONSTANT = object()
LIBRARY_CONSTANTS: dict[str, object] = {
    "argparse.SUPPRESS": "==SUPPRESS==",
    "argparse.OPTIONAL": "?",
    "argparse.ZERO_OR_MORE": "*",
    "argparse.ONE_OR_MORE": "+",
    "math.pi": math.pi,
    "math.e": math.e,
    "math.inf": math.inf,
    "sys.maxsize": 2**63 - 1,
}

BINOPS: dict[type[ast.operator], Callable[[object, object], object]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitAnd: operator.and_,
    ast.BitXor: operator.xor,
}

COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], object]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: lambda a, b: a is b if a is None or b is None or isinstance(a, bool) else a == b,
    ast.IsNot: lambda a, b: a is not b if a is None or b is None or isinstance(a, bool) else a != b,
    ast.In: lambda a, b: operator.contains(b, a),
    ast.NotIn: lambda a, b: not operator.contains(b, a),
}


def is_plain(value: object) -> bool:
    """A Python value safe to feed to operators (no interpreter objects inside)."""
    return plain_size(value) >= 0


def shallow_size(value: object) -> int:
    """The work of copying ``value`` one level deep: its length, a string's per 256 chars."""
    if isinstance(value, str):
        return len(value) // STR_CHARS_PER_STEP
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return len(value)
    return 0


#: The most values a plain value may be made of, counted logically (a list
#: holding one sublist 10,000 times counts it 10,000 times): what ``str()``,
#: ``==`` or ``sorted()`` of it would walk. Larger values are not plain.
MAX_LOGICAL = 1_000_000


def plain_size(value: object, limit: int = MAX_LOGICAL) -> int:
    """How many values make up ``value`` if it is plain (see :func:`is_plain`), else -1.

    The count is the work of checking it, which the interpreter charges to its
    step budget: nested containers cost what they hold, not one step. A
    value of more than ``limit`` values (``[[0] * 10**4] * 10**4``: 10**8)
    is not plain, and finding that out costs at most ``limit`` steps.
    """
    budget = [limit]
    size = _plain_size(value, budget)
    return size if budget[0] >= 0 else -1


def _plain_size(value: object, budget: list[int]) -> int:
    budget[0] -= 1
    if budget[0] < 0:
        return -1
    if value is None or isinstance(value, (bool, int, float, complex, range)):
        return 1
    if isinstance(value, str):
        budget[0] -= len(value) // STR_CHARS_PER_STEP
        return 1 + len(value) // STR_CHARS_PER_STEP
    if isinstance(value, (list, tuple, set, frozenset)):
        if len(value) > MAX_SEQUENCE:
            return -1
        total = 1
        for item in value:
            size = _plain_size(item, budget)
            if size < 0:
                return -1
            total += size
        return total
    if isinstance(value, dict):
        if len(value) > MAX_SEQUENCE:
            return -1
        total = 1
        for key, item in value.items():
            k, v = _plain_size(key, budget), _plain_size(item, budget)
            if k < 0 or v < 0:
                return -1
            total += k + v
        return total
    return -1


def hashable(value: object) -> bool:
    return value is None or (
        isinstance(value, (bool, int, float, str, tuple, frozenset))
        and (not isinstance(value, tuple) or all(hashable(v) for v in value))
    )


def to_set(items: list[object]) -> object:
    if all(hashable(i) for i in items):
        return set(items)
    return UNKNOWN


def sorted_if_possible(values: Iterable[object]) -> list[object]:
    items = list(values)
    try:
        return sorted(items)  # type: ignore[type-var]
    except TypeError:
        return items


def size_ok(value: object) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() <= MAX_INT_BITS
    if isinstance(value, (str, bytes)):
        return len(value) <= MAX_STR
    if isinstance(value, (list, tuple)):
        return len(value) <= MAX_SEQUENCE
    return True


def binop_is_cheap(op: ast.operator, left: object, right: object) -> bool:
    """Refuse operations whose result could be huge (``10**10**9``, ``'a' * 10**9``)."""
    if isinstance(op, ast.Pow):
        if isinstance(left, (int, float)) and isinstance(right, (int, float)):
            if isinstance(right, int) and abs(right) > 10_000:
                return False
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                return left.bit_length() * right <= MAX_INT_BITS
            return True
        return False
    if isinstance(op, ast.LShift):
        return isinstance(right, int) and right <= MAX_INT_BITS
    if isinstance(op, ast.Mod) and isinstance(left, str):
        values = right if isinstance(right, tuple) else (right,)
        return format_size_bound(left, values) <= MAX_STR
    if isinstance(op, (ast.Mult, ast.Mod)):
        for a, b in ((left, right), (right, left)):
            if isinstance(a, (list, tuple)) and isinstance(b, int):
                # The logical size: ``[x] * n`` holds x n times for every later walk.
                return 0 <= plain_size(a) * max(b, 0) <= MAX_LOGICAL and len(a) * b <= MAX_STR
            if isinstance(a, str) and isinstance(b, int):
                return len(a) * max(b, 0) <= MAX_STR
        if isinstance(op, ast.Mod) and isinstance(left, str):
            return format_is_cheap(left)
    if isinstance(left, int) and isinstance(right, int):
        return left.bit_length() + right.bit_length() <= MAX_INT_BITS * 2
    if isinstance(op, ast.Add) and isinstance(left, (list, tuple)):
        return 0 <= plain_size(left) + plain_size(right) <= MAX_LOGICAL
    return True


def unaryop(op: ast.unaryop, value: object) -> object:
    if isinstance(op, ast.Not):
        if is_plain(value):
            return not value
        return UNKNOWN
    if isinstance(value, (int, float, complex)) and not isinstance(value, bool):
        if isinstance(op, ast.USub):
            return -value
        if isinstance(op, ast.UAdd):
            return +value
        if isinstance(op, ast.Invert) and isinstance(value, int):
            return ~value
    if isinstance(value, bool):
        if isinstance(op, ast.USub):
            return -int(value)
        if isinstance(op, ast.UAdd):
            return int(value)
    return UNKNOWN


_DIGITS_RE = re.compile(r"\d+")


def format_is_cheap(template: str) -> bool:
    """Refuse ``'%999999999d'``-style widths that would build huge strings."""
    return all(len(d) <= 5 for d in _DIGITS_RE.findall(template))


def format_size_bound(template: str, values: tuple[object, ...] | list[object]) -> int:
    """An upper bound of the length of ``template`` formatted with ``values`` (``%`` or ``format``).

    Every number in the template counts as a width, every ``{``/``%`` as a
    field holding the longest value: ``"{0:>99999}" * 10000`` is bounded by
    about 10**9 before anything is built. Raises nothing.
    """
    digits = _DIGITS_RE.findall(template)
    if any(len(d) > 6 for d in digits):
        return MAX_STR * 1000
    fields = template.count("{") + template.count("%")
    longest = max((_text_size(v, 0) for v in values), default=0)
    return len(template) + sum(int(d) for d in digits) + fields * longest


def _text_size(value: object, depth: int) -> int:
    """An upper bound of ``len(str(value))`` for a plain value (bounded containers)."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, (list, tuple, set, frozenset)) and depth < 3:
        return 2 + sum(_text_size(v, depth + 1) + 2 for v in value)
    if isinstance(value, dict) and depth < 3:
        return 2 + sum(
            _text_size(k, depth + 1) + _text_size(v, depth + 1) + 4 for k, v in value.items()
        )
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() // 3 + 2
    return 32 if not isinstance(value, (list, tuple, set, frozenset, dict)) else MAX_STR


def str_call_is_cheap(
    obj: str, name: str, args: list[object], kwargs: dict[str, object] | None = None
) -> bool:
    """Refuse ``replace``/``join``/``format`` calls whose result could be huge."""
    if name == "format":
        values = [*args, *(kwargs or {}).values()]
        return format_is_cheap(obj) and format_size_bound(obj, values) <= MAX_STR
    if name == "replace":
        longest = max((len(a) for a in args if isinstance(a, str)), default=0)
        return len(obj) * max(longest, 1) <= MAX_STR * 10
    if name == "join" and args and isinstance(args[0], (list, tuple)):
        total = sum(len(s) for s in args[0] if isinstance(s, str))
        return total + len(obj) * len(args[0]) <= MAX_STR
    return True
