"""A tiny abstract interpreter for the parts of a script that build its CLI parser.

It walks the module like Python would — top to bottom, into functions when
they are called, into ``if __name__ == "__main__":`` — but only evaluates
what is safe and knowable: literals, names bound to them, arithmetic,
containers, a few builtins, classes used as constant holders or Enums, and the
parser-building APIs of argparse, click and typer (modelled in the sibling
modules). It stops at the first call that would parse the command line, which
is exactly the parser the script would use at runtime.

Nothing is imported or executed. Work is bounded by a step budget and size
caps, so any input finishes quickly.
"""

from __future__ import annotations

import ast
import contextlib
import math
import operator
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from keynet_train.extraction.model import Diagnostic
from keynet_train.extraction.values import (
    UNKNOWN,
    BoundMethod,
    ClassValue,
    EnumMember,
    FunctionValue,
    InstanceValue,
    PathValue,
    Ref,
    Scope,
)

#: Hard limits that make every input finish quickly.
MAX_STEPS = 100_000
MAX_SECONDS = 0.4
MAX_CALL_DEPTH = 24
MAX_SEQUENCE = 10_000
MAX_STR = 100_000
MAX_INT_BITS = 4_096
MAX_LOOP = 1_000

#: Modules whose names we model; ``typing_extensions`` names alias ``typing``.
_MODULE_ALIASES = {"typing_extensions": "typing"}


class Invoked(Exception):
    """The program reached the call that parses the command line."""

    def __init__(self, target: object, line: int) -> None:
        super().__init__("invoked")
        self.target = target
        self.line = line


class BudgetExceeded(Exception):
    """The step or time budget ran out."""


class _Return(Exception):
    def __init__(self, value: object) -> None:
        super().__init__("return")
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class CallArgs:
    """Evaluated arguments of one call, plus its node for line numbers."""

    def __init__(
        self,
        args: list[object],
        kwargs: dict[str, object],
        node: ast.Call,
        incomplete: bool = False,
    ) -> None:
        self.args = args
        self.kwargs = kwargs
        self.node = node
        self.incomplete = incomplete

    @property
    def line(self) -> int:
        return self.node.lineno


#: A handler for a call of a modelled library name (``argparse.ArgumentParser``…).
RefHandler = Callable[["Interpreter", CallArgs], object]


class Modelled:
    """Base of library objects (parsers, commands, apps) the interpreter can call methods on."""

    def call_method(self, interp: Interpreter, name: str, call: CallArgs) -> object:
        """Model ``self.name(*call.args, **call.kwargs)``; default: unknown result."""
        return UNKNOWN

    def get_attr(self, name: str) -> object:
        """Model ``self.name``; default: a bound method."""
        return BoundMethod(self, name)

    def call_self(self, interp: Interpreter, call: CallArgs) -> object:
        """Model ``self(...)``; default: unknown result."""
        return UNKNOWN


class Interpreter:
    """Walks one module; see the module docstring."""

    def __init__(self, tree: ast.Module, path: str, handlers: dict[str, RefHandler]) -> None:
        self.tree = tree
        self.path = path
        self.handlers = handlers
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS
        self.depth = 0
        self.diagnostics: list[Diagnostic] = []
        self._noted: set[tuple[int, str]] = set()
        #: Parsers/commands/apps in creation order (for when none is invoked).
        self.candidates: list[object] = []
        self.called_functions: set[int] = set()
        self.module_scope = Scope()
        self.module_scope.vars["__name__"] = "__main__"
        self.module_scope.vars["__file__"] = path

    # ------------------------------------------------------------------ helpers
    def note(self, line: int, message: str, severity: str = "info") -> None:
        """Record a diagnostic once per (line, message)."""
        key = (line, message)
        if key not in self._noted:
            self._noted.add(key)
            self.diagnostics.append(Diagnostic(self.path, line, message, severity))

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS or (self.steps % 2048 == 0 and time.monotonic() > self.deadline):
            raise BudgetExceeded

    # ---------------------------------------------------------------- statements
    def run(self) -> None:
        """Execute the module; raises :class:`Invoked` or :class:`BudgetExceeded`."""
        self.exec_block(self.tree.body, self.module_scope)

    def run_uncalled_functions(self) -> None:
        """Walk top-level functions never called, to find parsers built inside them."""
        for stmt in self.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                fn = self.module_scope.vars.get(stmt.name)
                if isinstance(fn, FunctionValue) and id(fn.node) not in self.called_functions:
                    call = CallArgs([], {}, ast.Call(ast.Name(stmt.name), [], []))
                    call.node.lineno = stmt.lineno
                    with contextlib.suppress(_Return, _Break, _Continue):
                        self.call_function(fn, call, unknown_args=True)

    def exec_block(self, stmts: Iterable[ast.stmt], scope: Scope) -> None:
        for stmt in stmts:
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, stmt: ast.stmt, scope: Scope) -> None:
        self.tick()
        if isinstance(stmt, ast.Expr):
            self.eval(stmt.value, scope)
        elif isinstance(stmt, ast.Assign):
            value = self.eval(stmt.value, scope)
            for target in stmt.targets:
                self.assign(target, value, scope)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, self.eval(stmt.value, scope), scope)
        elif isinstance(stmt, ast.AugAssign):
            self._aug_assign(stmt, scope)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._def_function(stmt, scope)
        elif isinstance(stmt, ast.ClassDef):
            self._def_class(stmt, scope)
        elif isinstance(stmt, ast.Return):
            raise _Return(self.eval(stmt.value, scope) if stmt.value is not None else None)
        elif isinstance(stmt, ast.If):
            self._exec_if(stmt, scope)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            self._exec_for(stmt, scope)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self.eval(item.context_expr, scope)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, UNKNOWN, scope)
            self.exec_block(stmt.body, scope)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self._exec_try(stmt, scope)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    scope.assign(alias.asname, Ref(self._module_name(alias.name)))
                else:
                    top = alias.name.split(".", 1)[0]
                    scope.assign(top, Ref(self._module_name(top)))
        elif isinstance(stmt, ast.ImportFrom):
            module = self._module_name(stmt.module or "") if stmt.level == 0 else ".local"
            for alias in stmt.names:
                if alias.name != "*":
                    scope.assign(alias.asname or alias.name, Ref(f"{module}.{alias.name}"))
        elif isinstance(stmt, ast.Global):
            scope.globals_names.update(stmt.names)
        elif isinstance(stmt, ast.Break):
            raise _Break
        elif isinstance(stmt, ast.Continue):
            raise _Continue
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    scope.vars.pop(target.id, None)
        elif type(stmt).__name__ == "Match":
            self.note(stmt.lineno, "match statements are not followed statically")
        # while loops, raise, assert, pass, nonlocal: nothing that builds a parser
        # is expected there; they are skipped.

    @staticmethod
    def _module_name(name: str) -> str:
        top, _, rest = name.partition(".")
        top = _MODULE_ALIASES.get(top, top)
        return f"{top}.{rest}" if rest else top

    def _exec_if(self, stmt: ast.If, scope: Scope) -> None:
        test = self.eval(stmt.test, scope)
        truth = self.truth(test)
        if truth is True:
            self.exec_block(stmt.body, scope)
        elif truth is False:
            self.exec_block(stmt.orelse, scope)
        else:
            self.note(
                stmt.lineno,
                "condition could not be evaluated statically; both branches were read",
            )
            self.exec_block(stmt.body, scope)
            self.exec_block(stmt.orelse, scope)

    def _exec_for(self, stmt: ast.For | ast.AsyncFor, scope: Scope) -> None:
        items = self.iterate(self.eval(stmt.iter, scope))
        if items is None:
            self.note(stmt.lineno, "loop over a value not known statically; body read once")
            items = [UNKNOWN]
        for item in items[:MAX_LOOP]:
            self.assign(stmt.target, item, scope)
            try:
                self.exec_block(stmt.body, scope)
            except _Break:
                return
            except _Continue:
                continue
        self.exec_block(stmt.orelse, scope)

    def _exec_try(self, stmt: ast.stmt, scope: Scope) -> None:
        body: list[ast.stmt] = getattr(stmt, "body", [])
        orelse: list[ast.stmt] = getattr(stmt, "orelse", [])
        final: list[ast.stmt] = getattr(stmt, "finalbody", [])
        try:
            self.exec_block(body, scope)
            self.exec_block(orelse, scope)
        finally:
            self.exec_block(final, scope)

    def _aug_assign(self, stmt: ast.AugAssign, scope: Scope) -> None:
        if isinstance(stmt.target, ast.Name):
            left = scope.lookup(stmt.target.id)
            right = self.eval(stmt.value, scope)
            if isinstance(left, list) and isinstance(stmt.op, ast.Add):
                seq = self.iterate(right)
                if seq is None or len(left) + len(seq) > MAX_SEQUENCE:
                    scope.assign(stmt.target.id, UNKNOWN)
                else:
                    left.extend(seq)
                return
            scope.assign(stmt.target.id, self.binop(stmt.op, left, right))
        else:
            self.assign(stmt.target, UNKNOWN, scope)

    def assign(self, target: ast.expr, value: object, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            scope.assign(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            seq = self.iterate(value)
            starred = any(isinstance(e, ast.Starred) for e in target.elts)
            if seq is None or starred or len(seq) != len(target.elts):
                seq = [UNKNOWN] * len(target.elts)
            for elt, item in zip(target.elts, seq, strict=False):
                if isinstance(elt, ast.Starred):
                    self.assign(elt.value, UNKNOWN, scope)
                else:
                    self.assign(elt, item, scope)
        elif isinstance(target, ast.Attribute):
            obj = self.eval(target.value, scope)
            if isinstance(obj, InstanceValue):
                obj.attrs[target.attr] = value
            elif isinstance(obj, ClassValue):
                obj.namespace[target.attr] = value
        elif isinstance(target, ast.Subscript):
            obj = self.eval(target.value, scope)
            key = self.eval(target.slice, scope)
            if isinstance(obj, dict) and _hashable(key):
                if key in obj or len(obj) < MAX_SEQUENCE:
                    obj[key] = value
            elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
                obj[key] = value
        elif isinstance(target, ast.Starred):
            self.assign(target.value, UNKNOWN, scope)

    def _def_function(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        decorators = [self.eval(d, scope) for d in stmt.decorator_list]
        fn = FunctionValue(
            node=stmt,
            closure=scope,
            defaults=[self.eval(d, scope) for d in stmt.args.defaults],
            kw_defaults=[
                self.eval(d, scope) if d is not None else None for d in stmt.args.kw_defaults
            ],
            name=stmt.name,
        )
        value: object = fn
        for deco, node in zip(reversed(decorators), reversed(stmt.decorator_list), strict=False):
            value = self.apply_decorator(deco, value, node)
        scope.assign(stmt.name, value)

    def apply_decorator(self, deco: object, value: object, node: ast.expr) -> object:
        """``@deco`` applied to ``value``; unknown decorators leave the function as is.

        Keeping the function (rather than UNKNOWN) under decorators such as
        ``@torch.no_grad()`` or ``@hydra.main`` keeps ``main()`` callable.
        """
        fake = ast.Call(func=node, args=[], keywords=[])
        fake.lineno = getattr(node, "lineno", 1)
        if isinstance(deco, (Modelled, Ref, FunctionValue, BoundMethod)):
            result = self.call(deco, CallArgs([value], {}, fake))
            if isinstance(deco, Ref) and deco.name not in self.handlers:
                return value
            if isinstance(deco, FunctionValue):
                return value if result is UNKNOWN else result
            return result if result is not UNKNOWN else value
        return value

    def _def_class(self, stmt: ast.ClassDef, scope: Scope) -> None:
        bases = [self.eval(b, scope) for b in stmt.bases]
        is_enum = any(
            (isinstance(b, Ref) and b.name.startswith("enum.") and "Enum" in b.name)
            or (isinstance(b, ClassValue) and b.is_enum)
            for b in bases
        )
        cls = ClassValue(stmt.name, {}, bases, stmt.lineno, is_enum=is_enum)
        for base in bases:
            if isinstance(base, ClassValue):
                cls.namespace.update(base.namespace)
                cls.fields.extend(base.fields)
        body_scope = Scope(scope)
        auto_counter = 0
        for item in stmt.body:
            if isinstance(item, (ast.Assign, ast.AnnAssign)):
                targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                if item.value is None:
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        cls.fields.append(item.target.id)
                    continue
                if is_enum and _is_auto(item.value, body_scope):
                    auto_counter += 1
                    value: object = auto_counter
                    for target in targets:
                        if isinstance(target, ast.Name):
                            value = self._enum_auto(bases, target.id, auto_counter)
                else:
                    value = self.eval(item.value, body_scope)
                for target in targets:
                    if isinstance(target, ast.Name):
                        body_scope.vars[target.id] = value
                        if isinstance(item, ast.AnnAssign):
                            cls.fields.append(target.id)
                        if is_enum and not target.id.startswith("_"):
                            if isinstance(value, int) and not isinstance(value, bool):
                                auto_counter = value
                            cls.members.append(target.id)
                            body_scope.vars[target.id] = EnumMember(cls, target.id, value)
            elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._def_function(item, body_scope)
            else:
                self.tick()
        cls.namespace.update(body_scope.vars)
        value_cls: object = cls
        for deco, node in zip(
            reversed([self.eval(d, scope) for d in stmt.decorator_list]),
            reversed(stmt.decorator_list),
            strict=False,
        ):
            if isinstance(deco, Ref) and deco.name not in self.handlers:
                continue
            value_cls = self.apply_decorator(deco, value_cls, node)
        scope.assign(stmt.name, value_cls)

    @staticmethod
    def _enum_auto(bases: list[object], name: str, counter: int) -> object:
        # StrEnum's auto() is the lower-cased member name; every other Enum counts from 1.
        for b in bases:
            if isinstance(b, Ref) and b.name == "enum.StrEnum":
                return name.lower()
        return counter

    # --------------------------------------------------------------- expressions
    def eval(self, node: ast.expr | None, scope: Scope) -> object:
        """The value of ``node`` in ``scope``, or UNKNOWN."""
        if node is None:
            return None
        self.tick()
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return scope.lookup(node.id)
        if isinstance(node, ast.Attribute):
            return self.get_attr(self.eval(node.value, scope), node.attr)
        if isinstance(node, ast.Call):
            return self._eval_call(node, scope)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
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
                return _to_set(items)
            return items
        if isinstance(node, ast.Dict):
            result: dict[object, object] = {}
            for k, v in zip(node.keys, node.values, strict=False):
                if k is None:
                    sub = self.eval(v, scope)
                    if not isinstance(sub, dict):
                        return UNKNOWN
                    result.update(sub)
                    continue
                key = self.eval(k, scope)
                if not _hashable(key):
                    return UNKNOWN
                result[key] = self.eval(v, scope)
            return result
        if isinstance(node, ast.BinOp):
            return self.binop(node.op, self.eval(node.left, scope), self.eval(node.right, scope))
        if isinstance(node, ast.UnaryOp):
            return _unaryop(node.op, self.eval(node.operand, scope))
        if isinstance(node, ast.BoolOp):
            return self._boolop(node, scope)
        if isinstance(node, ast.Compare):
            return self._compare(node, scope)
        if isinstance(node, ast.IfExp):
            truth = self.truth(self.eval(node.test, scope))
            if truth is None:
                return UNKNOWN
            return self.eval(node.body if truth else node.orelse, scope)
        if isinstance(node, ast.JoinedStr):
            return self._joined_str(node, scope)
        if isinstance(node, ast.Subscript):
            return self._subscript(node, scope)
        if isinstance(node, ast.Lambda):
            return FunctionValue(
                node=node,
                closure=scope,
                defaults=[self.eval(d, scope) for d in node.args.defaults],
                kw_defaults=[
                    self.eval(d, scope) if d is not None else None for d in node.args.kw_defaults
                ],
                name="<lambda>",
            )
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self._comprehension(node, scope)
        if isinstance(node, ast.NamedExpr):
            value = self.eval(node.value, scope)
            self.assign(node.target, value, scope)
            return value
        if isinstance(node, ast.Starred):
            return UNKNOWN
        return UNKNOWN

    def truth(self, value: object) -> bool | None:
        """Python truthiness of a known value; None when unknown."""
        if value is UNKNOWN or isinstance(value, (Ref, Modelled, BoundMethod)):
            return None
        if isinstance(value, (list, tuple, dict, set, frozenset, str, bytes)):
            return len(value) > 0
        if value is None or isinstance(value, (bool, int, float, complex)):
            return bool(value)
        if isinstance(value, (FunctionValue, ClassValue, PathValue, EnumMember)):
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
            if not (_is_plain(left) and _is_plain(right)):
                return UNKNOWN
            fn = _COMPARE.get(type(op))
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
                if not _is_plain(v) or value.format_spec is not None:
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
        if isinstance(obj, dict) and _hashable(key):
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
                if not _hashable(pair[0]):
                    return UNKNOWN
                out[pair[0]] = pair[1]
            return out
        if isinstance(node, ast.SetComp):
            return _to_set(results)
        return results

    def binop(self, op: ast.operator, left: object, right: object) -> object:
        """Arithmetic/concatenation on known values, guarded against huge results."""
        if isinstance(left, PathValue) and isinstance(op, ast.Div):
            if isinstance(right, (str, PathValue)):
                r = right if isinstance(right, str) else right.path
                return PathValue(r if r.startswith("/") else f"{left.path.rstrip('/')}/{r}")
            return UNKNOWN
        if not (_is_plain(left) and _is_plain(right)):
            return UNKNOWN
        fn = _BINOPS.get(type(op))
        if fn is None or not _binop_is_cheap(op, left, right):
            return UNKNOWN
        try:
            result = fn(left, right)
        except Exception:  # noqa: BLE001 - ZeroDivision, TypeError, OverflowError...
            return UNKNOWN
        return result if _size_ok(result) else UNKNOWN

    def iterate(self, value: object) -> list[object] | None:
        """The items of a known iterable, or None."""
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, str):
            return list(value) if len(value) <= MAX_SEQUENCE else None
        if isinstance(value, dict):
            return list(value.keys())
        if isinstance(value, (set, frozenset)):
            return _sorted_if_possible(value)
        if isinstance(value, range):
            try:
                return list(value) if len(value) <= MAX_SEQUENCE else None
            except OverflowError:  # len() of a range beyond sys.maxsize
                return None
        if isinstance(value, ClassValue) and value.is_enum:
            return [value.namespace[m] for m in value.members]
        return None

    # --------------------------------------------------------------------- calls
    def _eval_call(self, node: ast.Call, scope: Scope) -> object:
        func = self.eval(node.func, scope)
        args: list[object] = []
        kwargs: dict[str, object] = {}
        incomplete = False
        for a in node.args:
            if isinstance(a, ast.Starred):
                seq = self.iterate(self.eval(a.value, scope))
                if seq is None:
                    incomplete = True
                else:
                    args.extend(seq)
            else:
                args.append(self.eval(a, scope))
        for kw in node.keywords:
            if kw.arg is None:
                mapping = self.eval(kw.value, scope)
                if isinstance(mapping, dict) and all(isinstance(k, str) for k in mapping):
                    kwargs.update({str(k): v for k, v in mapping.items()})
                else:
                    incomplete = True
            else:
                kwargs[kw.arg] = self.eval(kw.value, scope)
        return self.call(func, CallArgs(args, kwargs, node, incomplete))

    def call(self, func: object, call: CallArgs) -> object:
        """Model calling ``func``."""
        if isinstance(func, Ref):
            handler = self.handlers.get(func.name)
            if handler is not None:
                return handler(self, call)
            return UNKNOWN
        if isinstance(func, BoundMethod):
            obj = func.obj
            if isinstance(obj, Modelled):
                return obj.call_method(self, func.name, call)
            return _call_value_method(self, obj, func.name, call)
        if isinstance(func, Modelled):
            return func.call_self(self, call)
        if isinstance(func, FunctionValue):
            return self.call_function(func, call)
        if isinstance(func, ClassValue):
            return self._instantiate(func, call)
        return UNKNOWN

    def call_function(
        self,
        fn: FunctionValue,
        call: CallArgs,
        *,
        unknown_args: bool = False,
        self_value: object = None,
    ) -> object:
        """Run a user function's body with its arguments bound; its return value or UNKNOWN."""
        if self.depth >= MAX_CALL_DEPTH:
            self.note(call.line, "call nesting too deep to follow statically")
            return UNKNOWN
        self.called_functions.add(id(fn.node))
        scope = Scope(fn.closure)
        args = ([self_value] if self_value is not None else []) + list(call.args)
        self._bind(fn, args, call.kwargs, scope, unknown_args or call.incomplete)
        self.depth += 1
        try:
            if isinstance(fn.node, ast.Lambda):
                return self.eval(fn.node.body, scope)
            try:
                self.exec_block(fn.node.body, scope)
            except _Return as r:
                return r.value
            except (_Break, _Continue):
                pass
            return None
        finally:
            self.depth -= 1

    def _bind(
        self,
        fn: FunctionValue,
        args: list[object],
        kwargs: dict[str, object],
        scope: Scope,
        unknown: bool,
    ) -> None:
        a = fn.node.args
        positional = [*a.posonlyargs, *a.args]
        n_defaults = len(fn.defaults)
        for i, param in enumerate(positional):
            if unknown:
                value: object = UNKNOWN
            elif i < len(args):
                value = args[i]
            elif param.arg in kwargs:
                value = kwargs[param.arg]
            elif i >= len(positional) - n_defaults:
                value = fn.defaults[i - (len(positional) - n_defaults)]
            else:
                value = UNKNOWN
            scope.vars[param.arg] = value
        for i, param in enumerate(a.kwonlyargs):
            if unknown:
                scope.vars[param.arg] = UNKNOWN
            elif param.arg in kwargs:
                scope.vars[param.arg] = kwargs[param.arg]
            else:
                has_default = a.kw_defaults[i] is not None
                scope.vars[param.arg] = fn.kw_defaults[i] if has_default else UNKNOWN
        if a.vararg is not None:
            extra = args[len(positional) :]
            scope.vars[a.vararg.arg] = UNKNOWN if unknown else tuple(extra)
        if a.kwarg is not None:
            names = {p.arg for p in positional} | {p.arg for p in a.kwonlyargs}
            scope.vars[a.kwarg.arg] = (
                UNKNOWN if unknown else {k: v for k, v in kwargs.items() if k not in names}
            )

    def _instantiate(self, cls: ClassValue, call: CallArgs) -> object:
        if cls.is_enum:
            if len(call.args) == 1:
                for m in cls.members:
                    member = cls.namespace[m]
                    if isinstance(member, EnumMember) and member.value == call.args[0]:
                        return member
            return UNKNOWN
        inst = InstanceValue(cls)
        init = cls.namespace.get("__init__")
        if isinstance(init, FunctionValue):
            self.call_function(init, call, self_value=inst)
        else:
            # dataclass-style: fields in declaration order
            for name, value in zip(cls.fields, call.args, strict=False):
                inst.attrs[name] = value
            for name, value in call.kwargs.items():
                if name in cls.fields:
                    inst.attrs[name] = value
        return inst

    # ---------------------------------------------------------------- attributes
    def get_attr(self, obj: object, attr: str) -> object:
        if isinstance(obj, Ref):
            return self.ref_attr(obj, attr)
        if isinstance(obj, Modelled):
            return obj.get_attr(attr)
        if isinstance(obj, InstanceValue):
            if attr in obj.attrs:
                return obj.attrs[attr]
            value = obj.cls.namespace.get(attr, UNKNOWN)
            if isinstance(value, FunctionValue):
                return BoundMethod(obj, attr)
            return value
        if isinstance(obj, ClassValue):
            return obj.namespace.get(attr, UNKNOWN)
        if isinstance(obj, EnumMember):
            if attr == "value":
                return obj.value
            if attr == "name":
                return obj.name
            return UNKNOWN
        if obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, (str, list, dict, PathValue, int, float, tuple)):
            return BoundMethod(obj, attr)
        return UNKNOWN

    def ref_attr(self, ref: Ref, attr: str) -> object:
        """``module.attr``: constants the libraries define, else a deeper Ref."""
        name = f"{ref.name}.{attr}"
        constant = _LIBRARY_CONSTANTS.get(name, _NO_CONSTANT)
        if constant is not _NO_CONSTANT:
            return constant
        return Ref(name)


def _is_auto(node: ast.expr, scope: Scope) -> bool:
    if isinstance(node, ast.Call) and not node.args:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name == "auto"
    return False


_NO_CONSTANT = object()
_LIBRARY_CONSTANTS: dict[str, object] = {
    "argparse.SUPPRESS": "==SUPPRESS==",
    "argparse.OPTIONAL": "?",
    "argparse.ZERO_OR_MORE": "*",
    "argparse.ONE_OR_MORE": "+",
    "math.pi": math.pi,
    "math.e": math.e,
    "math.inf": math.inf,
    "sys.maxsize": 2**63 - 1,
}

_BINOPS: dict[type[ast.operator], Callable[[object, object], object]] = {
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

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], object]] = {
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


def _is_plain(value: object) -> bool:
    """A Python value safe to feed to operators (no interpreter objects inside)."""
    if value is None or isinstance(value, (bool, int, float, str, complex, range)):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return len(value) <= MAX_SEQUENCE and all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return len(value) <= MAX_SEQUENCE and all(
            _is_plain(k) and _is_plain(v) for k, v in value.items()
        )
    return False


def _hashable(value: object) -> bool:
    return value is None or (
        isinstance(value, (bool, int, float, str, tuple, frozenset))
        and (not isinstance(value, tuple) or all(_hashable(v) for v in value))
    )


def _to_set(items: list[object]) -> object:
    if all(_hashable(i) for i in items):
        return set(items)
    return UNKNOWN


def _sorted_if_possible(values: Iterable[object]) -> list[object]:
    items = list(values)
    try:
        return sorted(items)  # type: ignore[type-var]
    except TypeError:
        return items


def _size_ok(value: object) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() <= MAX_INT_BITS
    if isinstance(value, (str, bytes)):
        return len(value) <= MAX_STR
    if isinstance(value, (list, tuple)):
        return len(value) <= MAX_SEQUENCE
    return True


def _binop_is_cheap(op: ast.operator, left: object, right: object) -> bool:
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
        return _format_is_cheap(left)
    if isinstance(op, (ast.Mult, ast.Mod)):
        for a, b in ((left, right), (right, left)):
            if isinstance(a, (str, list, tuple)) and isinstance(b, int):
                return len(a) * max(b, 0) <= MAX_STR
        if isinstance(op, ast.Mod) and isinstance(left, str):
            return _format_is_cheap(left)
    if isinstance(left, int) and isinstance(right, int):
        return left.bit_length() + right.bit_length() <= MAX_INT_BITS * 2
    return True


def _unaryop(op: ast.unaryop, value: object) -> object:
    if isinstance(op, ast.Not):
        if _is_plain(value):
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


_STR_METHODS = frozenset(
    "lower upper strip lstrip rstrip title capitalize replace split rsplit join startswith "  # noqa: SIM905
    "endswith format removeprefix removesuffix casefold".split()
)
_LIST_MUTATORS = frozenset(("append", "extend", "insert"))


def _call_value_method(interp: Interpreter, obj: object, name: str, call: CallArgs) -> object:
    """Methods of plain values: str/list/dict helpers that show up in parser code."""
    if isinstance(obj, InstanceValue):
        method = obj.cls.namespace.get(name)
        if isinstance(method, FunctionValue):
            return interp.call_function(method, call, self_value=obj)
        return UNKNOWN
    if call.incomplete or not all(_is_plain(a) for a in call.args):
        return UNKNOWN
    if not all(_is_plain(v) for v in call.kwargs.values()):
        return UNKNOWN
    try:
        if isinstance(obj, str) and name in _STR_METHODS:
            if not _str_call_is_cheap(obj, name, call):
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
            return result if _size_ok(result) else UNKNOWN
        if isinstance(obj, list):
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
        if isinstance(obj, dict):
            if name == "get":
                key = call.args[0] if call.args else None
                fallback = call.args[1] if len(call.args) > 1 else None
                return obj.get(key, fallback) if _hashable(key) else UNKNOWN
            if name in ("keys", "values"):
                return list(getattr(obj, name)())
            if name == "items":
                return [tuple(kv) for kv in obj.items()]
            if name == "copy":
                return dict(obj)
        if isinstance(obj, PathValue) and name in ("resolve", "expanduser", "absolute"):
            return UNKNOWN
    except Exception:  # noqa: BLE001 - bad arguments to a str method etc.
        return UNKNOWN
    return UNKNOWN


_DIGITS_RE = re.compile(r"\d+")


def _format_is_cheap(template: str) -> bool:
    """Refuse ``'%999999999d'``-style widths that would build huge strings."""
    return all(len(d) <= 5 for d in _DIGITS_RE.findall(template))


def _str_call_is_cheap(obj: str, name: str, call: CallArgs) -> bool:
    if name == "format":
        return _format_is_cheap(obj)
    if name == "replace":
        longest = max((len(a) for a in call.args if isinstance(a, str)), default=0)
        return len(obj) * max(longest, 1) <= MAX_STR * 10
    if name == "join" and call.args and isinstance(call.args[0], (list, tuple)):
        total = sum(len(s) for s in call.args[0] if isinstance(s, str))
        return total + len(obj) * len(call.args[0]) <= MAX_STR
    return True
