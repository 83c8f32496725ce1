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
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

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
    LazyImport,
    ModuleValue,
    PathValue,
    Ref,
    Scope,
)

if TYPE_CHECKING:
    from keynet_train.extraction.loader import ModuleLoader

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
        loader: ModuleLoader | None = None,
    ) -> None:
        self.tree = tree
        self.path = path
        #: The entrypoint's display path (``path`` changes while modules are read).
        self.entry_path = path
        self.handlers = handlers
        self.steps = 0
        self.max_steps = max_steps
        #: The line of the statement being executed (where a budget ran out).
        self.line = 1
        self.depth = 0
        self.diagnostics: list[Diagnostic] = []
        self._noted: set[tuple[str, int, str]] = set()
        #: Parsers/commands/apps in creation order (for when none is invoked).
        self.candidates: list[object] = []
        self.called_functions: set[int] = set()
        #: ``parse_known_args`` calls the program went past (a pre-parser, or
        #: the real parse when nothing parses the rest): (parser, line, file).
        self.known_parses: list[tuple[object, int, str]] = []
        #: ``X.parse_args()`` on something not known statically: (line, "X").
        self.opaque_parses: list[tuple[int, str]] = []
        self.module_scope = Scope()
        self.module_scope.vars["__name__"] = "__main__"
        self.module_scope.vars["__file__"] = path
        #: Follows imports into the project and installed libraries; None: imports stay Refs.
        self.loader = loader
        #: True while an installed library's top-level code runs: its definitions
        #: are read, but calls into other modules (logging set-up, version and
        #: availability checks) are not followed. See ``loader``.
        self.defs_only = False
        if loader is not None:
            self.module_scope.vars["__package__"] = loader.package
        #: ``self`` of the methods being run on a project subclass of a modelled
        #: class (innermost last), for ``super()``.
        self._selves: list[object] = []
        #: The functions being run, innermost last (which class a super() is in).
        self._running: list[FunctionValue] = []
        #: Where the step budget ran out (file, line): the innermost statement of
        #: the project (not of an installed library) being run.
        self.stopped_at: tuple[str, int] | None = None
        #: Call sites of the functions being run, outermost first: (file, line).
        self._frames: list[tuple[str, int]] = []
        #: Per function call being run: the values of ``return`` statements
        #: under unknown conditions, merged into its result (see ``_exec_both``).
        self._pending_returns: list[list[object]] = []

    # ------------------------------------------------------------------ helpers
    def note(
        self,
        line: int,
        message: str,
        severity: str = "info",
        path: str | None = None,
        *,
        partial: bool = False,
    ) -> None:
        """Record a diagnostic once per (file, line, message).

        ``path`` is the file the line is in (e.g. a class's ``path``), by
        default the file being read. Informational notes about installed
        libraries' code are dropped: they are not the user's to act on.
        ``partial``: arguments may be missing because of this place; it is a
        warning, and the result is not complete.
        """
        where = path or self.path
        loader = self.loader
        if partial:
            severity = "warning"
        if severity == "info" and loader is not None and where in loader.library_paths:
            return
        key = (where, line, message)
        if key not in self._noted:
            self._noted.add(key)
            self.diagnostics.append(Diagnostic(where, line, message, severity, partial))

    @contextlib.contextmanager
    def in_file(self, path: str | None) -> Iterator[None]:
        """Diagnostics made inside name ``path`` (the file that holds what is described).

        For notes made after the run, about an argument added in another
        module (a helper's ``add_argument``): they name that module, not the
        entrypoint. ``None`` or ``""`` keeps the current file. Raises nothing.
        """
        saved = self.path
        if path:
            self.path = path
        try:
            yield
        finally:
            self.path = saved

    def import_module(self, name: str) -> ModuleValue | None:
        """The module ``name`` (absolute, dotted) read from the project or an installed library.

        For library models that need a module the script did not import
        itself. None without a loader, or when the module cannot be read.

        Raises:
            Invoked: the module's top-level code parsed the command line.
            BudgetExceeded: the run's step budget is spent.
        """
        if self.loader is None:
            return None
        return self.loader.load(self, name)

    def import_name(self, module: str, name: str) -> object:
        """What ``from module import name`` binds: the value read from source, else a Ref.

        Raises:
            Invoked: the module's top-level code parsed the command line.
            BudgetExceeded: the run's step budget is spent.
        """
        if self.loader is None:
            return Ref(f"{module}.{name}")
        return self.loader.import_attr(self, module, name)

    def tick(self) -> None:
        """Spend one evaluation step.

        Raises:
            BudgetExceeded: more than ``max_steps`` steps were spent. Counting
                steps rather than seconds gives the same result for the same
                input on any machine.
        """
        self.steps += 1
        if self.steps > self.max_steps:
            self._stopped()
            raise BudgetExceeded(self.steps)

    def _stopped(self) -> None:
        """Remember where the budget ran out: the innermost place in the project's files."""
        library = self.loader.library_paths if self.loader is not None else set()
        for path, line in reversed([*self._frames, (self.path, self.line)]):
            if path not in library:
                self.stopped_at = (path, line)
                return
        self.stopped_at = (self.path, self.line)

    def charge(self, amount: int) -> None:
        """Spend ``amount`` steps for work proportional to a value's size.

        Raises:
            BudgetExceeded: the budget is spent (see :meth:`tick`).
        """
        self.steps += amount
        if self.steps > self.max_steps:
            self._stopped()
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
            if all(isinstance(target, ast.Name) for target in stmt.targets):
                names = [target.id for target in stmt.targets if isinstance(target, ast.Name)]
                value = self._eval_assigned(stmt.value, scope, names)
            else:
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
            if self.loader is not None:
                self.loader.exec_import(self, stmt, scope)
                return
            for alias in stmt.names:
                if alias.asname:
                    scope.assign(alias.asname, Ref(self._module_name(alias.name)))
                else:
                    top = alias.name.split(".", 1)[0]
                    scope.assign(top, Ref(self._module_name(top)))
        elif isinstance(stmt, ast.ImportFrom):
            if self.loader is not None:
                self.loader.exec_import_from(self, stmt, scope)
                return
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
        elif type(stmt).__name__ == "Match" or isinstance(stmt, ast.While):
            self._skip_block(stmt)
        # raise, assert, pass, nonlocal: nothing that builds a parser is expected
        # there; they are skipped.

    def _skip_block(self, stmt: ast.stmt) -> None:
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
            self._exec_both(stmt, scope)

    def _exec_both(self, stmt: ast.If, scope: Scope) -> None:
        """Both branches of an ``if`` whose condition is unknown, then the rest of the block.

        A ``return``, ``break`` or ``continue`` in a branch ends that path
        only: the path where the branch is not taken goes on with the
        statements after the ``if`` (docs/extraction.md, "Control flow").
        A ``return`` is kept for the function's result (see
        :meth:`call_function`); when no path falls through, the signal that
        keeps reading the most code (``continue``, then ``break``) goes on.
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
        fn.path = self.path
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
        # None for the script's own classes (the families name its file themselves).
        cls.path = self.path if self.path != self.entry_path else None
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
        if self.defs_only and _reaches_unread_module(node.func, scope):
            return UNKNOWN
        func = self.eval(node.func, scope)
        if (
            self.defs_only
            and isinstance(func, (FunctionValue, ClassValue))
            and getattr(func, "path", self.path) != self.path
        ):
            return UNKNOWN
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
        handed = note_opaque_call(self, func, node, args, kwargs)
        result = self.call(func, CallArgs(args, kwargs, node, incomplete))
        if result is UNKNOWN and handed is not None:
            return handed  # ``parser = wrap(parser)``: the same parser (see note_opaque_call)
        return result

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
                method = _user_method(obj, func.name)
                if method is not None:  # a project subclass overrides it: read as code
                    return self.call_function(method, call, self_value=obj)
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
            # A parser handed to the call may get arguments nobody sees.
            hands_parser = any(isinstance(v, Modelled) for v in (*call.args, *call.kwargs.values()))
            self.note(
                call.line,
                "call nesting too deep to follow statically"
                + (
                    "; arguments it adds to the parser passed to it are missing"
                    if hands_parser
                    else ""
                ),
                partial=hands_parser,
            )
            return UNKNOWN
        self.called_functions.add(id(fn.node))
        scope = Scope(fn.closure)
        args = ([self_value] if self_value is not None else []) + list(call.args)
        self._bind(fn, args, call.kwargs, scope, unknown_args or call.incomplete)
        self.depth += 1
        # Diagnostics inside the function name the file it was defined in.
        saved_path, saved_line = self.path, self.line
        self._frames.append((saved_path, saved_line))
        if fn.path:
            self.path = fn.path
        pending: list[object] = []
        self._pending_returns.append(pending)
        self._selves.append(self_value)
        self._running.append(fn)
        try:
            if isinstance(fn.node, ast.Lambda):
                return self.eval(fn.node.body, scope)
            result: object = None
            try:
                self.exec_block(fn.node.body, scope)
            except ReturnSignal as r:
                result = r.value
            except (BreakSignal, ContinueSignal):
                pass
            except Invoked as inv:
                if not inv.path:
                    inv.path = self.path  # the parse call is in this function's file
                raise
            if pending:
                # ``return`` under unknown conditions: every value the function may return.
                result = merge_returns([*pending, result])
            return result
        finally:
            self._running.pop()
            self._selves.pop()
            self._pending_returns.pop()
            self.depth -= 1
            self._frames.pop()
            self.path, self.line = saved_path, saved_line

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

    def super_of_method(self) -> object:
        """``super()`` in a method of a project subclass of a modelled class, else UNKNOWN.

        Its methods are the library model's (``super().__init__(...)`` does
        nothing more: the object was built as the library class).
        """
        current = self._selves[-1] if self._selves else None
        if isinstance(current, Modelled) and getattr(current, "user_class", None) is not None:
            running = self._running[-1] if self._running else None
            chain = _class_chain(getattr(current, "user_class", None))
            # The class whose method is running: super() starts after it.
            start = next(
                (
                    i + 1
                    for i, klass in enumerate(chain)
                    if klass.scope is not None
                    and any(v is running for v in klass.scope.vars.values())
                ),
                1,
            )
            return _Super(current, start)
        return UNKNOWN

    def _instantiate(self, cls: ClassValue, call: CallArgs) -> object:
        modelled, stand_in = _modelled_base(self, cls)
        if modelled is not None:
            # A project class over a modelled one (``class MyParser(HfArgumentParser)``)
            # is built as that class; its own methods are read as code.
            init = _method_in_chain(cls, "__init__", stand_in)
            # With an __init__ of its own, the library part is built by its
            # super().__init__(...) call, with the arguments given there.
            built = call if init is None else CallArgs([], {}, call.node)
            obj = self.handlers[modelled](self, built)
            if isinstance(obj, Modelled):
                obj.user_class = cls  # type: ignore[attr-defined]
                obj.model_class = stand_in  # type: ignore[attr-defined]
                obj.model_name = modelled  # type: ignore[attr-defined]
                if init is not None:
                    self.call_function(init, call, self_value=obj)
                return obj
        if cls.is_enum:
            if len(call.args) == 1:
                for m in cls.members:
                    member = cls.namespace[m]
                    if isinstance(member, EnumMember) and member.value == call.args[0]:
                        return member
            return UNKNOWN
        inst = InstanceValue(cls)
        constructor = cls.namespace.get("__init__")
        if isinstance(constructor, FunctionValue):
            self.call_function(constructor, call, self_value=inst)
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
        if isinstance(obj, ModuleValue) and self.loader is not None:
            return self.loader.module_attr(self, obj, attr)
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


class _Super(Modelled):
    """``super()`` inside a method of a project subclass of a modelled class."""

    def __init__(self, obj: Modelled, start: int) -> None:
        self.obj = obj
        #: Index in the class chain where the method lookup starts (after the caller's class).
        self.start = start

    def call_method(self, interp: Interpreter, name: str, call: CallArgs) -> object:
        chain = _class_chain(getattr(self.obj, "user_class", None))
        # A method of a project base class between them is still code to read.
        if self.start < len(chain):
            fn = _method_in_chain(chain[self.start], name, getattr(self.obj, "model_class", None))
            if fn is not None:
                return interp.call_function(fn, call, self_value=self.obj)
        if name == "__init__":
            self._build(interp, call)
            return None
        return self.obj.call_method(interp, name, call)

    def _build(self, interp: Interpreter, call: CallArgs) -> None:
        """``super().__init__(...)`` reaching the library class: build it with these arguments."""
        handler = interp.handlers.get(str(getattr(self.obj, "model_name", "")))
        if handler is None:
            return
        fresh = handler(interp, call)
        if type(fresh) is not type(self.obj):
            return
        keep = {
            k: v
            for k, v in self.obj.__dict__.items()
            if k in ("user_class", "model_class", "model_name", "defined_in")
        }
        self.obj.__dict__.update(fresh.__dict__)
        self.obj.__dict__.update(keep)
        if fresh in interp.candidates:
            interp.candidates.remove(fresh)


def _class_chain(cls: object) -> list[ClassValue]:
    """``cls`` and its project base classes, nearest first (single inheritance)."""
    chain: list[ClassValue] = []
    while isinstance(cls, ClassValue) and cls not in chain and len(chain) < 64:
        chain.append(cls)
        cls = next((b for b in cls.bases if isinstance(b, ClassValue)), None)
    return chain


def _defines(cls: ClassValue, name: str) -> bool:
    """Whether the class statement itself defines method ``name``."""
    return cls.node is not None and any(
        isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name
        for item in cls.node.body
    )


def _user_method(obj: Modelled, name: str) -> FunctionValue | None:
    """The method ``name`` of the project subclass ``obj`` was built from, if it defines one."""
    cls = getattr(obj, "user_class", None)
    if not isinstance(cls, ClassValue) or name.startswith("__"):
        return None
    return _method_in_chain(cls, name, getattr(obj, "model_class", None))


def _method_in_chain(cls: ClassValue, name: str, stop: object) -> FunctionValue | None:
    """``name`` as defined by ``cls`` or its project bases, up to (not into) ``stop``."""
    for klass in _class_chain(cls):
        if klass is stop:
            return None
        if _defines(klass, name):
            fn = klass.scope.vars.get(name) if klass.scope is not None else None
            return fn if isinstance(fn, FunctionValue) else None
    return None


#: Project copies of a modelled class (trl vendors transformers' HfArgumentParser):
#: (class name, a method its source defines) → the modelled class it stands for.
_VENDORED = {("HfArgumentParser", "_parse_dataclass_field"): "transformers.HfArgumentParser"}


def _modelled_base(interp: Interpreter, cls: ClassValue) -> tuple[str | None, ClassValue | None]:
    """The modelled library class ``cls`` derives from (``argparse.ArgumentParser``...).

    Also the project class standing for it, when the project vendors a copy
    of the library's class (read as the library, not as code); (None, None)
    when ``cls`` derives from no modelled class.
    """
    seen: set[int] = set()
    stack: list[object] = [cls]
    while stack:
        klass = stack.pop()
        if isinstance(klass, Ref) and klass.name in interp.handlers:
            if not klass.name.startswith("builtins."):
                return klass.name, None
        elif isinstance(klass, ClassValue) and id(klass) not in seen and len(seen) < 64:
            seen.add(id(klass))
            for (name, method), model in _VENDORED.items():
                if klass.name == name and _defines(klass, method) and model in interp.handlers:
                    return model, klass
            stack.extend(reversed(klass.bases))
    return None, None


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


def _reaches_unread_module(func: ast.expr, scope: Scope) -> bool:
    """Whether calling ``func`` would first read a module not read yet (``a.b.c(...)``, ``f()``)."""
    root = func
    while isinstance(root, ast.Attribute):
        root = root.value
    return isinstance(root, ast.Name) and isinstance(scope.peek(root.id), LazyImport)


def _is_auto(node: ast.expr, scope: Scope) -> bool:
    if isinstance(node, ast.Call) and not node.args:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name == "auto"
    return False
