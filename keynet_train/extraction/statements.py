"""Statements for the static interpreter: one handler per statement kind.

:class:`StatementExecutor` runs a block statement by statement: each kind of
``ast`` statement has its handler in the ``_STATEMENTS`` table (the shape of
pyflakes' checker); kinds without one (``raise``, ``assert``, ``pass``,
``nonlocal``) are skipped, as nothing that builds a parser is expected there.
``def`` and ``class`` statements build the function and class objects here;
calling them, and the interpreter's state, are in ``interpreter``;
expressions are in ``expressions``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from keynet_train.extraction.expressions import ExpressionEvaluator
from keynet_train.extraction.operations import MAX_SEQUENCE, hashable
from keynet_train.extraction.runtime import (
    BreakSignal,
    CallArgs,
    ContinueSignal,
    Modelled,
    RefHandler,
    ReturnSignal,
)
from keynet_train.extraction.values import (
    UNKNOWN,
    BoundMethod,
    ClassValue,
    EnumMember,
    FunctionValue,
    InstanceValue,
    LazyImport,
    Ref,
    Scope,
    module_ref_name,
)

if TYPE_CHECKING:
    from keynet_train.extraction.loader import ModuleLoader

#: At most this many iterations of one ``for`` loop are followed.
MAX_LOOP = 1_000


class StatementExecutor(ExpressionEvaluator):
    """Executes statements; the subclass (``Interpreter``) supplies state, calls and attributes.

    The handlers in ``_STATEMENTS`` are looked up by the statement's exact
    type, so they are not meant to be overridden.
    """

    handlers: dict[str, RefHandler]
    #: Follows imports into the project and installed libraries; None: imports stay Refs.
    loader: ModuleLoader | None
    #: True while an installed library's top-level code runs (see ``Interpreter``).
    defs_only: bool
    #: The line of the statement being executed.
    line: int
    #: The entrypoint's display path (``path`` changes while modules are read).
    entry_path: str
    #: Per function call being run: the values of ``return`` statements under
    #: unknown conditions, merged into its result (see :meth:`_exec_both`).
    _pending_returns: list[list[object]]

    def call(self, func: object, call: CallArgs) -> object:
        """Model calling ``func``."""
        raise NotImplementedError

    def exec_block(self, stmts: Iterable[ast.stmt], scope: Scope) -> None:
        for stmt in stmts:
            self.exec_stmt(stmt, scope)

    def exec_stmt(self, stmt: ast.stmt, scope: Scope) -> None:
        self.tick()
        self.line = stmt.lineno
        handler = _STATEMENTS.get(type(stmt))
        if handler is not None:
            handler(self, stmt, scope)

    # ---------------------------------------------------------- assignments
    def _exec_expr(self, stmt: ast.Expr, scope: Scope) -> None:
        self.eval(stmt.value, scope)

    def _exec_assign(self, stmt: ast.Assign, scope: Scope) -> None:
        if all(isinstance(target, ast.Name) for target in stmt.targets):
            names = [target.id for target in stmt.targets if isinstance(target, ast.Name)]
            value = self._eval_assigned(stmt.value, scope, names)
        else:
            value = self.eval(stmt.value, scope)
        for target in stmt.targets:
            self.assign(target, value, scope)

    def _exec_ann_assign(self, stmt: ast.AnnAssign, scope: Scope) -> None:
        if stmt.value is not None:
            self.assign(stmt.target, self.eval(stmt.value, scope), scope)

    def _eval_assigned(self, node: ast.expr, scope: Scope, targets: list[str]) -> object:
        """The value of ``NAME = node``; a library's module-level data is computed when used.

        Calls in a library's top-level code are not followed (``defs_only``),
        but ``LEVELS = logging.get_levels().copy()`` is data a class body may
        use (``choices=LEVELS.keys()``): such a value is computed in full the
        first time the name is read, and never if nothing reads it (most of a
        library's ``logger = get_logger(...)`` and friends).
        """
        if not (self.defs_only and scope.parent is None and _has_call(node)):
            return self.eval(node, scope)
        path = self.path
        # ``X = f(X)`` reads the X bound before this line, not itself.
        previous = {name: scope.vars[name] for name in targets if name in scope.vars}
        busy: list[bool] = []

        def compute() -> object:
            if busy:  # ``a = f(b)`` and ``b = g(a)``: a cycle among deferred values
                return UNKNOWN
            busy.append(True)
            saved = self.path, self.line, self.defs_only
            self.path, self.line, self.defs_only = path, node.lineno, False
            mine = {name: scope.vars.get(name) for name in targets}
            for name in targets:
                if name in previous:
                    scope.vars[name] = previous[name]
                else:
                    scope.vars.pop(name, None)
            try:
                return self.eval(node, scope)
            finally:
                for name, value in mine.items():
                    if value is not None:
                        scope.vars[name] = value
                self.path, self.line, self.defs_only = saved
                busy.clear()

        return LazyImport(compute)

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

    def _exec_delete(self, stmt: ast.Delete, scope: Scope) -> None:
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                scope.vars.pop(target.id, None)

    def _exec_global(self, stmt: ast.Global, scope: Scope) -> None:
        scope.globals_names.update(stmt.names)

    # --------------------------------------------------------- control flow
    def _exec_return(self, stmt: ast.Return, scope: Scope) -> None:
        raise ReturnSignal(self.eval(stmt.value, scope) if stmt.value is not None else None)

    def _exec_break(self, stmt: ast.Break, scope: Scope) -> None:
        raise BreakSignal

    def _exec_continue(self, stmt: ast.Continue, scope: Scope) -> None:
        raise ContinueSignal

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
            self._exec_both(stmt, scope)

    def _exec_both(self, stmt: ast.If, scope: Scope) -> None:
        """Both branches of an ``if`` whose condition is unknown, then the rest of the block.

        A ``return``, ``break`` or ``continue`` in a branch ends that path
        only: the path where the branch is not taken goes on with the
        statements after the ``if`` (docs/extraction.md, "Control flow").
        A ``return`` is kept for the function's result (see
        ``Interpreter.call_function``); when no path falls through, the signal
        that keeps reading the most code (``continue``, then ``break``) goes on.
        """
        signals: list[ReturnSignal | BreakSignal | ContinueSignal] = []
        falls_through = False
        for branch in (stmt.body, stmt.orelse):
            try:
                self.exec_block(branch, scope)
            except (ReturnSignal, BreakSignal, ContinueSignal) as signal:
                signals.append(signal)
            else:
                falls_through = True
        returns = [s for s in signals if isinstance(s, ReturnSignal)]
        if returns and self._pending_returns:
            self._pending_returns[-1].extend(r.value for r in returns)
        if falls_through:
            return
        for kind in (ContinueSignal, BreakSignal):
            for other in signals:
                if isinstance(other, kind):
                    raise other
        raise ReturnSignal(merge_returns([r.value for r in returns]))

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

    def _exec_with(self, stmt: ast.With | ast.AsyncWith, scope: Scope) -> None:
        for item in stmt.items:
            self.eval(item.context_expr, scope)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, UNKNOWN, scope)
        self.exec_block(stmt.body, scope)

    def _exec_try(self, stmt: ast.stmt, scope: Scope) -> None:
        body: list[ast.stmt] = getattr(stmt, "body", [])
        orelse: list[ast.stmt] = getattr(stmt, "orelse", [])
        final: list[ast.stmt] = getattr(stmt, "finalbody", [])
        try:
            self.exec_block(body, scope)
            self.exec_block(orelse, scope)
        finally:
            self.exec_block(final, scope)

    def _skip_block(self, stmt: ast.stmt, scope: Scope) -> None:
        """A ``while`` loop or ``match`` statement: not followed, said when it builds a parser.

        Their bodies usually train (``while step < max_steps``); one that
        calls a parser-building method (``add_argument``...) may add
        arguments, so the result is marked partial there.
        """
        kind = "while loops" if isinstance(stmt, ast.While) else "match statements"
        builds = next(
            (
                node
                for node in ast.walk(stmt)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _BUILDING_METHODS
            ),
            None,
        )
        if builds is None:
            if kind == "match statements":
                self.note(stmt.lineno, "match statements are not followed statically")
            return
        self.note(
            builds.lineno,
            f"{kind} are not followed statically; the {_call_name(builds)}() "
            "call in this one is not read, so arguments it adds are missing",
            partial=True,
        )

    # -------------------------------------------------------------- imports
    def _exec_import(self, stmt: ast.Import, scope: Scope) -> None:
        if self.loader is not None:
            self.loader.exec_import(self, stmt, scope)
            return
        for alias in stmt.names:
            if alias.asname:
                scope.assign(alias.asname, Ref(module_ref_name(alias.name)))
            else:
                top = alias.name.split(".", 1)[0]
                scope.assign(top, Ref(module_ref_name(top)))

    def _exec_import_from(self, stmt: ast.ImportFrom, scope: Scope) -> None:
        if self.loader is not None:
            self.loader.exec_import_from(self, stmt, scope)
            return
        module = module_ref_name(stmt.module or "") if stmt.level == 0 else ".local"
        for alias in stmt.names:
            if alias.name != "*":
                scope.assign(alias.asname or alias.name, Ref(f"{module}.{alias.name}"))

    # ------------------------------------------------- functions and classes
    def _def_function(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        decorators = [self.eval(d, scope) for d in stmt.decorator_list]
        value: object = self.function_value(stmt, scope, stmt.name)
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
        # None for the script's own classes (the families name its file themselves).
        cls.path = self.path if self.path != self.entry_path else None
        cls.node = stmt
        for base in bases:
            if isinstance(base, ClassValue):
                cls.namespace.update(base.namespace)
                cls.fields.extend(base.fields)
        body_scope = Scope(scope)
        cls.scope = body_scope
        self._class_body(stmt, cls, bases, body_scope)
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

    def _class_body(
        self, stmt: ast.ClassDef, cls: ClassValue, bases: list[object], body_scope: Scope
    ) -> None:
        """Run a class body: its fields, Enum members and methods land in ``body_scope``."""
        is_enum = cls.is_enum
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
                            value = _enum_auto(bases, target.id, auto_counter)
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


#: The handler of each statement kind; kinds not listed are skipped.
_STATEMENTS: dict[type[ast.stmt], Callable[[StatementExecutor, Any, Scope], None]] = {
    ast.Expr: StatementExecutor._exec_expr,
    ast.Assign: StatementExecutor._exec_assign,
    ast.AnnAssign: StatementExecutor._exec_ann_assign,
    ast.AugAssign: StatementExecutor._aug_assign,
    ast.FunctionDef: StatementExecutor._def_function,
    ast.AsyncFunctionDef: StatementExecutor._def_function,
    ast.ClassDef: StatementExecutor._def_class,
    ast.Return: StatementExecutor._exec_return,
    ast.If: StatementExecutor._exec_if,
    ast.For: StatementExecutor._exec_for,
    ast.AsyncFor: StatementExecutor._exec_for,
    ast.With: StatementExecutor._exec_with,
    ast.AsyncWith: StatementExecutor._exec_with,
    ast.Try: StatementExecutor._exec_try,
    ast.Import: StatementExecutor._exec_import,
    ast.ImportFrom: StatementExecutor._exec_import_from,
    ast.Global: StatementExecutor._exec_global,
    ast.Break: StatementExecutor._exec_break,
    ast.Continue: StatementExecutor._exec_continue,
    ast.Delete: StatementExecutor._exec_delete,
    ast.While: StatementExecutor._skip_block,
    ast.Match: StatementExecutor._skip_block,
}
# ``try: ... except* E:`` (Python 3.11+) runs like ``try``.
_TRY_STAR: type[ast.stmt] | None = getattr(ast, "TryStar", None)
if _TRY_STAR is not None:
    _STATEMENTS[_TRY_STAR] = StatementExecutor._exec_try


def merge_returns(values: list[object]) -> object:
    """The result of a function that may return any of ``values`` (the paths it can take).

    One value (by identity or equality of plain values) is that value; else
    the last parser-like object (the path that read the most code: a
    helper's early ``return parser`` and its final one are the same parser
    in practice); else UNKNOWN. Raises nothing.
    """
    distinct: list[object] = []
    for value in values:
        if not any(value is seen or _same_plain(value, seen) for seen in distinct):
            distinct.append(value)
    if len(distinct) == 1:
        return distinct[0]
    modelled = [v for v in distinct if isinstance(v, (Modelled, InstanceValue))]
    return modelled[-1] if modelled else UNKNOWN


def _same_plain(a: object, b: object) -> bool:
    plain = (str, int, float, bool, type(None))
    return isinstance(a, plain) and type(a) is type(b) and a == b


def _enum_auto(bases: list[object], name: str, counter: int) -> object:
    # StrEnum's auto() is the lower-cased member name; every other Enum counts from 1.
    for b in bases:
        if isinstance(b, Ref) and b.name == "enum.StrEnum":
            return name.lower()
    return counter


#: Methods that add arguments or sub-commands to a parser (or a click/typer object).
_BUILDING_METHODS = frozenset(
    (
        "add_argument",
        "add_argument_group",
        "add_mutually_exclusive_group",
        "add_parser",
        "add_subparsers",
        "set_defaults",
        "add_command",
        "add_typer",
    )
)


def _call_name(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else "call"


def _has_call(node: ast.expr) -> bool:
    return any(isinstance(sub, ast.Call) for sub in ast.walk(node))


def _is_auto(node: ast.expr, scope: Scope) -> bool:
    if isinstance(node, ast.Call) and not node.args:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name == "auto"
    return False
