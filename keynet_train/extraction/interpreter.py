"""A tiny abstract interpreter for the parts of a script that build its CLI parser.

It walks the module like Python would — top to bottom, into functions when
they are called, into ``if __name__ == "__main__":`` — but only evaluates
what is safe and knowable: literals, names bound to them, arithmetic,
containers, a few builtins, classes used as constant holders or Enums, and the
parser-building APIs of argparse, click and typer (modelled in the sibling
modules). It stops at the first call that would parse the command line, which
is exactly the parser the script would use at runtime.

Statements, calls and attributes are here; expressions are in
``expressions``, operations on plain values in ``operations``, methods of
plain values in ``value_methods`` and the shared types in ``runtime``.

Nothing is imported or executed. Work is bounded by a deterministic step
budget (one step per statement or expression evaluated, plus one per item of
any value copied or scanned) and size caps, so any input finishes quickly and
gives the same result on any machine.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterable

from keynet_train.extraction.escapes import note_opaque_call
from keynet_train.extraction.expressions import ExpressionEvaluator
from keynet_train.extraction.model import Diagnostic
from keynet_train.extraction.operations import (
    LIBRARY_CONSTANTS,
    MAX_SEQUENCE,
    NO_CONSTANT,
    hashable,
    shallow_size,
)
from keynet_train.extraction.runtime import (
    BreakSignal,
    BudgetExceeded,
    CallArgs,
    ContinueSignal,
    Invoked,
    Modelled,
    RefHandler,
    ReturnSignal,
)
from keynet_train.extraction.value_methods import call_value_method
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

__all__ = [
    "MAX_CALL_DEPTH",
    "MAX_LOOP",
    "MAX_STEPS",
    "BudgetExceeded",
    "CallArgs",
    "Interpreter",
    "Invoked",
    "Modelled",
    "RefHandler",
]

#: The step budget of one extraction: statements and expressions evaluated,
#: plus one per item of a value copied or scanned. A 1,200-line script needs a
#: few tens of thousands; the cap bounds the work on adversarial input.
MAX_STEPS = 200_000
MAX_CALL_DEPTH = 24
MAX_LOOP = 1_000

#: Modules whose names we model; ``typing_extensions`` names alias ``typing``.
_MODULE_ALIASES = {"typing_extensions": "typing"}


class Interpreter(ExpressionEvaluator):
    """Walks one module; see the module docstring."""

    def __init__(
        self,
        tree: ast.Module,
        path: str,
        handlers: dict[str, RefHandler],
        *,
        max_steps: int = MAX_STEPS,
    ) -> None:
        self.tree = tree
        self.path = path
        self.handlers = handlers
        self.steps = 0
        self.max_steps = max_steps
        #: The line of the statement being executed (where a budget ran out).
        self.line = 1
        self.depth = 0
        self.diagnostics: list[Diagnostic] = []
        self._noted: set[tuple[int, str]] = set()
        #: Parsers/commands/apps in creation order (for when none is invoked).
        self.candidates: list[object] = []
        self.called_functions: set[int] = set()
        #: ``parse_known_args`` calls the program went past (a pre-parser, or
        #: the real parse when nothing parses the rest): (parser, line).
        self.known_parses: list[tuple[object, int]] = []
        #: ``X.parse_args()`` on something not known statically: (line, "X").
        self.opaque_parses: list[tuple[int, str]] = []
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
        """Spend one evaluation step.

        Raises:
            BudgetExceeded: more than ``max_steps`` steps were spent. Counting
                steps rather than seconds gives the same result for the same
                input on any machine.
        """
        self.steps += 1
        if self.steps > self.max_steps:
            raise BudgetExceeded(self.steps)

    def charge(self, amount: int) -> None:
        """Spend ``amount`` steps for work proportional to a value's size.

        Raises:
            BudgetExceeded: the budget is spent (see :meth:`tick`).
        """
        self.steps += amount
        if self.steps > self.max_steps:
            raise BudgetExceeded(self.steps)

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
                    with contextlib.suppress(ReturnSignal, BreakSignal, ContinueSignal):
                        self.call_function(fn, call, unknown_args=True)

    def exec_block(self, stmts: Iterable[ast.stmt], scope: Scope) -> None:
        for stmt in stmts:
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, stmt: ast.stmt, scope: Scope) -> None:
        self.tick()
        self.line = stmt.lineno
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
            raise ReturnSignal(self.eval(stmt.value, scope) if stmt.value is not None else None)
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
            raise BreakSignal
        elif isinstance(stmt, ast.Continue):
            raise ContinueSignal
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
            except BreakSignal:
                return
            except ContinueSignal:
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
            if isinstance(obj, dict) and hashable(key):
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
        if isinstance(deco, Ref) and deco.name not in self.handlers:
            # An unknown decorator (``@torch.no_grad()``) is not a helper the
            # parser escapes into: it keeps the function and warns about nothing.
            return value
        if isinstance(deco, (Modelled, Ref, FunctionValue, BoundMethod)):
            result = self.call(deco, CallArgs([value], {}, fake))
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
        cls.node = stmt
        for base in bases:
            if isinstance(base, ClassValue):
                cls.namespace.update(base.namespace)
                cls.fields.extend(base.fields)
        body_scope = Scope(scope)
        cls.scope = body_scope
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

    # --------------------------------------------------------------------- calls
    def eval_call(self, node: ast.Call, scope: Scope) -> object:
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
        note_opaque_call(self, func, node, args, kwargs)
        return self.call(func, CallArgs(args, kwargs, node, incomplete))

    def call(self, func: object, call: CallArgs) -> object:
        """Model calling ``func``."""
        if isinstance(func, Ref):
            handler = self.handlers.get(func.name)
            if handler is not None:
                result = handler(self, call)
                # builtins such as dict()/sorted() copy their input
                self.charge(shallow_size(result))
                return result
            return UNKNOWN
        if isinstance(func, BoundMethod):
            obj = func.obj
            if isinstance(obj, Modelled):
                return obj.call_method(self, func.name, call)
            return call_value_method(self, obj, func.name, call)
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
            except ReturnSignal as r:
                return r.value
            except (BreakSignal, ContinueSignal):
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
        constant = LIBRARY_CONSTANTS.get(name, NO_CONSTANT)
        if constant is not NO_CONSTANT:
            return constant
        return Ref(name)


def _is_auto(node: ast.expr, scope: Scope) -> bool:
    if isinstance(node, ast.Call) and not node.args:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name == "auto"
    return False
