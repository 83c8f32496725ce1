"""Expression evaluation for the static interpreter (statements are in ``statements``).

One handler per expression kind, in the ``_EXPRESSIONS`` table.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from keynet_train.extraction.operations import (
    BINOPS,
    COMPARE,
    MAX_SEQUENCE,
    MAX_STR,
    binop_is_cheap,
    hashable,
    is_plain,
    plain_size,
    size_ok,
    sorted_if_possible,
    to_set,
    unaryop,
)
from keynet_train.extraction.runtime import Modelled
from keynet_train.extraction.values import (
    UNKNOWN,
    BoundMethod,
    ClassValue,
    EnumMember,
    FunctionValue,
    ModuleValue,
    PathValue,
    Ref,
    Scope,
)

if TYPE_CHECKING:
    from keynet_train.extraction.model import Severity


class ExpressionEvaluator:
    """Evaluates expressions to values; the subclass supplies statements, calls and attributes.

    Every evaluation spends one step of the budget (:meth:`tick`), and work
    proportional to a value's size (copying a list to iterate it) spends one
    step per item (:meth:`charge`), so the budget bounds the real work, not
    only the number of nodes visited.
    """

    steps: int
    max_steps: int
    #: The file being read (diagnostics name it).
    path: str

    def tick(self) -> None:
        """Spend one step. Raises BudgetExceeded when the budget is spent."""
        raise NotImplementedError

    def charge(self, amount: int) -> None:
        """Spend ``amount`` steps at once. Raises BudgetExceeded when the budget is spent."""
        raise NotImplementedError

    def note(
        self,
        line: int,
        message: str,
        severity: Severity = "info",
        path: str | None = None,
        *,
        partial: bool = False,
    ) -> None:
        """Record a diagnostic once per (file, line, message); see ``Interpreter.note``."""
        raise NotImplementedError

    def get_attr(self, obj: object, attr: str) -> object:
        """``obj.attr``."""
        raise NotImplementedError

    def assign(self, target: ast.expr, value: object, scope: Scope) -> None:
        """Bind ``target`` (a name, tuple, attribute or subscript) to ``value``."""
        raise NotImplementedError

    def eval_call(self, node: ast.Call, scope: Scope) -> object:
        """Evaluate the call expression ``node``."""
        raise NotImplementedError

    def eval(self, node: ast.expr | None, scope: Scope) -> object:
        """The value of ``node`` in ``scope``, or UNKNOWN."""
        if node is None:
            return None
        self.tick()
        # The four most frequent kinds are tested before the table lookup.
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return scope.lookup(node.id)
        if isinstance(node, ast.Attribute):
            return self.get_attr(self.eval(node.value, scope), node.attr)
        if isinstance(node, ast.Call):
            return self.eval_call(node, scope)
        handler = _EXPRESSIONS.get(type(node))
        return UNKNOWN if handler is None else handler(self, node, scope)

    def _sequence(self, node: ast.Tuple | ast.List | ast.Set, scope: Scope) -> object:
        items: list[object] = []
        for elt in node.elts:
            if isinstance(elt, ast.Starred):
                seq = self.iterate(self.eval(elt.value, scope))
                if seq is None:
                    return UNKNOWN
                items.extend(seq)
            else:
                items.append(self.eval(elt, scope))
            if len(items) > MAX_SEQUENCE:
                return UNKNOWN
        if isinstance(node, ast.Tuple):
            return tuple(items)
        if isinstance(node, ast.Set):
            return to_set(items)
        return items

    def _dict(self, node: ast.Dict, scope: Scope) -> object:
        result: dict[object, object] = {}
        for k, v in zip(node.keys, node.values, strict=False):
            if k is None:
                sub = self.eval(v, scope)
                if not isinstance(sub, dict):
                    return UNKNOWN
                result.update(sub)
                continue
            key = self.eval(k, scope)
            if not hashable(key):
                return UNKNOWN
            result[key] = self.eval(v, scope)
        return result

    def _binop(self, node: ast.BinOp, scope: Scope) -> object:
        return self.binop(node.op, self.eval(node.left, scope), self.eval(node.right, scope))

    def _unaryop(self, node: ast.UnaryOp, scope: Scope) -> object:
        return unaryop(node.op, self.eval(node.operand, scope))

    def _if_exp(self, node: ast.IfExp, scope: Scope) -> object:
        truth = self.truth(self.eval(node.test, scope))
        if truth is None:
            return UNKNOWN
        return self.eval(node.body if truth else node.orelse, scope)

    def _lambda(self, node: ast.Lambda, scope: Scope) -> object:
        return self.function_value(node, scope, "<lambda>")

    def function_value(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, scope: Scope, name: str
    ) -> FunctionValue:
        """The function a ``def`` or ``lambda`` makes; its defaults are evaluated now, as in Python.

        Raises:
            BudgetExceeded: the step budget is spent.
        """
        fn = FunctionValue(
            node=node,
            closure=scope,
            defaults=[self.eval(d, scope) for d in node.args.defaults],
            kw_defaults=[
                self.eval(d, scope) if d is not None else None for d in node.args.kw_defaults
            ],
            name=name,
        )
        fn.path = self.path
        return fn

    def _named_expr(self, node: ast.NamedExpr, scope: Scope) -> object:
        value = self.eval(node.value, scope)
        self.assign(node.target, value, scope)
        return value

    def truth(self, value: object) -> bool | None:
        """Python truthiness of a known value; None when unknown."""
        if value is UNKNOWN or isinstance(value, (Ref, Modelled, BoundMethod)):
            return None
        if isinstance(value, (list, tuple, dict, set, frozenset, str, bytes)):
            return len(value) > 0
        if value is None or isinstance(value, (bool, int, float, complex)):
            return bool(value)
        if isinstance(value, (FunctionValue, ClassValue, PathValue, EnumMember, ModuleValue)):
            return True
        return None

    def _boolop(self, node: ast.BoolOp, scope: Scope) -> object:
        value: object = UNKNOWN
        for sub in node.values:
            value = self.eval(sub, scope)
            truth = self.truth(value)
            if truth is None:
                return UNKNOWN
            if isinstance(node.op, ast.And) and not truth:
                return value
            if isinstance(node.op, ast.Or) and truth:
                return value
        return value

    def _compare(self, node: ast.Compare, scope: Scope) -> object:
        left = self.eval(node.left, scope)
        for op, comp in zip(node.ops, node.comparators, strict=False):
            right = self.eval(comp, scope)
            by_name = _compare_names(op, left, right)
            if by_name is not None:
                if not by_name:
                    return False
                left = right
                continue
            if not (self.plain(left) and self.plain(right)):
                return UNKNOWN
            fn = COMPARE.get(type(op))
            if fn is None:
                return UNKNOWN
            try:
                ok = fn(left, right)
            except Exception:  # noqa: BLE001 - e.g. '<' between str and int
                return UNKNOWN
            if not ok:
                return False
            left = right
        return True

    def _joined_str(self, node: ast.JoinedStr, scope: Scope) -> object:
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            elif isinstance(value, ast.FormattedValue):
                v = self.eval(value.value, scope)
                if not self.plain(v) or value.format_spec is not None:
                    return UNKNOWN
                if value.conversion == ord("r"):
                    parts.append(repr(v))
                else:
                    parts.append(str(v))
            else:
                return UNKNOWN
        text = "".join(parts)
        return text if len(text) <= MAX_STR else UNKNOWN

    def _subscript(self, node: ast.Subscript, scope: Scope) -> object:
        obj = self.eval(node.value, scope)
        if isinstance(obj, Ref) and obj.name == "os.environ":
            self.note(node.lineno, "os.environ[...] is only known at runtime; value unresolved")
            return UNKNOWN
        if isinstance(obj, Ref):
            # typing constructs in annotations: Optional[int], Annotated[...], List[str]
            return ("__generic__", obj.name, self.eval(node.slice, scope))
        if isinstance(obj, tuple) and len(obj) == 3 and obj[0] == "__generic__":
            return UNKNOWN
        if isinstance(node.slice, ast.Slice):
            if not isinstance(obj, (list, tuple, str)):
                return UNKNOWN
            lo = self.eval(node.slice.lower, scope)
            hi = self.eval(node.slice.upper, scope)
            st = self.eval(node.slice.step, scope)
            if not all(v is None or isinstance(v, int) for v in (lo, hi, st)) or st == 0:
                return UNKNOWN
            return obj[slice(lo, hi, st)]  # type: ignore[arg-type]
        key = self.eval(node.slice, scope)
        if isinstance(obj, dict) and hashable(key):
            return obj.get(key, UNKNOWN)
        if isinstance(obj, (list, tuple, str)) and isinstance(key, int):
            if -len(obj) <= key < len(obj):
                return obj[key]
            return UNKNOWN
        if isinstance(obj, ClassValue) and obj.is_enum and isinstance(key, str):
            member = obj.namespace.get(key)
            return member if isinstance(member, EnumMember) else UNKNOWN
        if isinstance(obj, (ClassValue, type)) or obj is UNKNOWN:
            # list[int] and friends in annotations
            return ("__generic__", getattr(obj, "name", "?"), key)
        return UNKNOWN

    def _comprehension(
        self,
        node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp,
        scope: Scope,
    ) -> object:
        inner = Scope(scope)
        results: list[object] = []

        def loop(index: int) -> bool:
            if index == len(node.generators):
                if isinstance(node, ast.DictComp):
                    results.append((self.eval(node.key, inner), self.eval(node.value, inner)))
                else:
                    results.append(self.eval(node.elt, inner))
                return len(results) <= MAX_SEQUENCE
            gen = node.generators[index]
            seq = self.iterate(self.eval(gen.iter, inner if index else scope))
            if seq is None:
                return False
            for item in seq:
                self.assign(gen.target, item, inner)
                conds = [self.truth(self.eval(c, inner)) for c in gen.ifs]
                if any(c is None for c in conds):
                    return False
                if all(conds) and not loop(index + 1):
                    return False
            return True

        if not loop(0):
            return UNKNOWN
        if isinstance(node, ast.DictComp):
            out: dict[object, object] = {}
            for pair in results:
                assert isinstance(pair, tuple)
                if not hashable(pair[0]):
                    return UNKNOWN
                out[pair[0]] = pair[1]
            return out
        if isinstance(node, ast.SetComp):
            return to_set(results)
        return results

    def binop(self, op: ast.operator, left: object, right: object) -> object:
        """Arithmetic/concatenation on known values, guarded against huge results."""
        if isinstance(left, PathValue) and isinstance(op, ast.Div):
            if isinstance(right, (str, PathValue)):
                r = right if isinstance(right, str) else right.path
                return PathValue(r if r.startswith("/") else f"{left.path.rstrip('/')}/{r}")
            return UNKNOWN
        if not (self.plain(left) and self.plain(right)):
            return UNKNOWN
        fn = BINOPS.get(type(op))
        if fn is None or not binop_is_cheap(op, left, right):
            return UNKNOWN
        try:
            result = fn(left, right)
        except Exception:  # noqa: BLE001 - ZeroDivision, TypeError, OverflowError...
            return UNKNOWN
        if not size_ok(result):
            return UNKNOWN
        self.plain(result)  # building the result was work proportional to its size
        return result

    def plain(self, value: object) -> bool:
        """:func:`is_plain`, charging the budget one step per value checked."""
        size = plain_size(value)
        if size > 1:
            self.charge(size)
        return size >= 0

    def iterate(self, value: object) -> list[object] | None:
        """The items of a known iterable, or None; copying them costs one step per item."""
        items = self._items(value)
        if items is not None and len(items) > 1:
            self.charge(len(items))
        return items

    def _items(self, value: object) -> list[object] | None:
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, str):
            return list(value) if len(value) <= MAX_SEQUENCE else None
        if isinstance(value, dict):
            return list(value.keys())
        if isinstance(value, (set, frozenset)):
            return sorted_if_possible(value)
        if isinstance(value, range):
            try:
                return list(value) if len(value) <= MAX_SEQUENCE else None
            except OverflowError:  # len() of a range beyond sys.maxsize
                return None
        if isinstance(value, ClassValue) and value.is_enum:
            return [value.namespace[m] for m in value.members]
        return None


#: The handler of each expression kind after the four :meth:`ExpressionEvaluator.eval`
#: tests first; kinds not listed (``*x`` outside a call or display...) are UNKNOWN.
_EXPRESSIONS: dict[type[ast.expr], Callable[[ExpressionEvaluator, Any, Scope], object]] = {
    ast.Tuple: ExpressionEvaluator._sequence,
    ast.List: ExpressionEvaluator._sequence,
    ast.Set: ExpressionEvaluator._sequence,
    ast.Dict: ExpressionEvaluator._dict,
    ast.BinOp: ExpressionEvaluator._binop,
    ast.UnaryOp: ExpressionEvaluator._unaryop,
    ast.BoolOp: ExpressionEvaluator._boolop,
    ast.Compare: ExpressionEvaluator._compare,
    ast.IfExp: ExpressionEvaluator._if_exp,
    ast.JoinedStr: ExpressionEvaluator._joined_str,
    ast.Subscript: ExpressionEvaluator._subscript,
    ast.Lambda: ExpressionEvaluator._lambda,
    ast.ListComp: ExpressionEvaluator._comprehension,
    ast.SetComp: ExpressionEvaluator._comprehension,
    ast.GeneratorExp: ExpressionEvaluator._comprehension,
    ast.DictComp: ExpressionEvaluator._comprehension,
    ast.NamedExpr: ExpressionEvaluator._named_expr,
}


def _named(value: object) -> bool:
    return isinstance(value, Ref) or is_plain_scalar(value)


def is_plain_scalar(value: object) -> bool:
    """None, a bool, a number or a string."""
    return value is None or isinstance(value, (bool, int, float, str))


def _compare_names(op: ast.cmpop, left: object, right: object) -> bool | None:
    """``f.type is bool``, ``f.default is not MISSING``, ``t in (int, float)`` with library names.

    A library name (``Ref``) is itself and nothing else: equal (and
    identical) to the same name, never to a literal. ``x is None`` is
    decided for any value known statically (a tuple of classes, a parser...
    is not None). None when neither applies (the plain comparison does).
    """
    if isinstance(op, (ast.Is, ast.IsNot)) and (left is None or right is None):
        other = right if left is None else left
        if other is None:
            return isinstance(op, ast.Is)
        if other is not UNKNOWN and not is_plain(other):
            return isinstance(op, ast.IsNot)
    if isinstance(op, (ast.Is, ast.Eq, ast.IsNot, ast.NotEq)):
        if not (isinstance(left, Ref) or isinstance(right, Ref)):
            return None
        if not (_named(left) and _named(right)):
            return None
        same = isinstance(left, Ref) and isinstance(right, Ref) and left.name == right.name
        return same if isinstance(op, (ast.Is, ast.Eq)) else not same
    if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (list, tuple, set, frozenset)):
        if not isinstance(left, Ref) and not any(isinstance(v, Ref) for v in right):
            return None
        if not (_named(left) and all(_named(v) for v in right)):
            return None
        found = any(
            (isinstance(v, Ref) and isinstance(left, Ref) and v.name == left.name)
            or (not isinstance(v, Ref) and not isinstance(left, Ref) and v == left)
            for v in right
        )
        return found if isinstance(op, ast.In) else not found
    return None
