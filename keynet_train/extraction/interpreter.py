"""A tiny abstract interpreter for the parts of a script that build its CLI parser.

It walks the module like Python would — top to bottom, into functions when
they are called, into ``if __name__ == "__main__":`` — but only evaluates
what is safe and knowable: literals, names bound to them, arithmetic,
containers, a few builtins, classes used as constant holders or Enums, and
the parser-building APIs of the CLI libraries (modelled in ``families``). It
stops at the first call that would parse the command line, which is exactly
the parser the script would use at runtime.

Here are the interpreter's state, its step budget, diagnostics, imports,
calls and attributes. Statements are in ``statements`` (one handler per
kind), expressions in ``expressions``, the project's classes at run time in
``classes``, operations on plain values in ``operations``, methods of plain
values in ``value_methods`` and the shared types in ``runtime``.

Nothing is imported or executed. Work is bounded by a deterministic step
budget (one step per statement or expression evaluated, plus one per item of
any value copied or scanned) and size caps, so any input finishes quickly and
gives the same result on any machine.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from keynet_train.extraction.classes import instantiate, super_object, user_method
from keynet_train.extraction.escapes import note_opaque_call
from keynet_train.extraction.model import Diagnostic, Severity
from keynet_train.extraction.operations import LIBRARY_CONSTANTS, NO_CONSTANT, shallow_size
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
from keynet_train.extraction.statements import StatementExecutor, merge_returns
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
#: Calls nested deeper than this are not followed.
MAX_CALL_DEPTH = 24


class Interpreter(StatementExecutor):
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
        severity: Severity = "info",
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
                method = user_method(obj, func.name)
                if method is not None:  # a project subclass overrides it: read as code
                    return self.call_function(method, call, self_value=obj)
                return obj.call_method(self, func.name, call)
            return call_value_method(self, obj, func.name, call)
        if isinstance(func, Modelled):
            return func.call_self(self, call)
        if isinstance(func, FunctionValue):
            return self.call_function(func, call)
        if isinstance(func, ClassValue):
            return instantiate(self, func, call)
        return UNKNOWN

    def call_function(
        self,
        fn: FunctionValue,
        call: CallArgs,
        *,
        unknown_args: bool = False,
        self_value: object = None,
    ) -> object:
        """Run a user function's body with its arguments bound; its return value or UNKNOWN.

        Raises:
            Invoked: the function parsed the command line.
            BudgetExceeded: the step budget is spent.
        """
        if self.depth >= MAX_CALL_DEPTH:
            self._too_deep(call)
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

    def _too_deep(self, call: CallArgs) -> None:
        """Say a call nested beyond ``MAX_CALL_DEPTH`` is not followed (partial when it matters)."""
        # A parser handed to the call may get arguments nobody sees.
        hands_parser = any(isinstance(v, Modelled) for v in (*call.args, *call.kwargs.values()))
        message = "call nesting too deep to follow statically"
        if hands_parser:
            message += "; arguments it adds to the parser passed to it are missing"
        self.note(call.line, message, partial=hands_parser)

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
        """``super()`` in the method being run (:func:`classes.super_object`); raises nothing."""
        current = self._selves[-1] if self._selves else None
        running = self._running[-1] if self._running else None
        return super_object(current, running)

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


def _reaches_unread_module(func: ast.expr, scope: Scope) -> bool:
    """Whether calling ``func`` would first read a module not read yet (``a.b.c(...)``, ``f()``)."""
    root = func
    while isinstance(root, ast.Attribute):
        root = root.value
    return isinstance(root, ast.Name) and isinstance(scope.peek(root.id), LazyImport)
