"""Values of the static interpreter: what an expression is known to evaluate to.

Plain Python constants and containers stand for themselves. Everything else
the interpreter understands is one of the small classes below; anything it
does not understand is :data:`UNKNOWN`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable


class _Unknown:
    """A value that cannot be determined without running the program."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        # Callers must test ``is UNKNOWN`` explicitly; falsy is the safe fallback.
        return False


UNKNOWN = _Unknown()

#: "No such name" from a deferred star import (UNKNOWN is a value a name may have).
MISSING = object()


class Ref:
    """A name from a module we model, e.g. ``argparse.ArgumentParser`` or ``builtins.int``.

    Unknown modules get a ``Ref`` too (``torch.cuda``); calling one yields UNKNOWN.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (self.name,) == (other.name,)

    def __hash__(self) -> int:
        return hash((self.name,))

    def __repr__(self) -> str:
        return f"Ref({self.name!r})"

    def attr(self, attr: str) -> Ref:
        return Ref(f"{self.name}.{attr}")


#: Modules whose names the models know under another name.
_MODULE_ALIASES = {"typing_extensions": "typing"}


def module_ref_name(name: str) -> str:
    """The dotted module ``name`` as Refs spell it: ``typing_extensions.X`` is ``typing.X``."""
    top, dot, rest = name.partition(".")
    return _MODULE_ALIASES.get(top, top) + dot + rest


class PathValue:
    """A ``pathlib.Path`` built from a known string (its JSON form is the string)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (self.path,) == (other.path,)

    def __hash__(self) -> int:
        return hash((self.path,))

    def __repr__(self) -> str:
        return f"PathValue({self.path!r})"


class FunctionValue:
    """A user function or lambda; defaults were evaluated where it was defined."""

    def __init__(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        closure: Scope,
        defaults: list[object],
        kw_defaults: list[object | None],
        name: str,
    ) -> None:
        self.node = node
        self.closure = closure
        self.defaults = defaults
        self.kw_defaults = kw_defaults
        self.name = name
        self.click_params: list[object] = list()
        #: The file the function was defined in (diagnostics inside it name it).
        self.path = ""

    def parameters(self) -> tuple[list[ast.arg], list[ast.arg], dict[str, object]]:
        """(positional parameters, keyword-only ones, defaults by name); raises nothing.

        ``defaults`` holds only the parameters that have one, with the values
        evaluated where the function was defined (the typer, fire and tyro
        models all read a signature this way).
        """
        a = self.node.args
        positional = [*a.posonlyargs, *a.args]
        defaults: dict[str, object] = {}
        offset = len(positional) - len(self.defaults)
        for i, value in enumerate(self.defaults):
            defaults[positional[offset + i].arg] = value
        for i, param in enumerate(a.kwonlyargs):
            if a.kw_defaults[i] is not None:
                defaults[param.arg] = self.kw_defaults[i]
        return positional, list(a.kwonlyargs), defaults


class ClassValue:
    """A user class: its body's assignments (constants, Enum members, methods)."""

    def __init__(
        self,
        name: str,
        namespace: dict[str, object],
        bases: list[object],
        line: int,
        is_enum: bool = False,
    ) -> None:
        self.name = name
        self.namespace = namespace
        self.bases = bases
        self.line = line
        self.is_enum = is_enum
        self.members: list[str] = list()
        self.fields: list[str] = list()
        # The class statement and its body's scope, for the families that read
        # a class's annotations, field(...) calls and field docstrings.
        self.node: ast.ClassDef | None = None
        self.scope: Scope | None = None
        # The file it was read from when that is not the script (a library's).
        self.path: str | None = None


class EnumMember:
    """``Color.RED``: its JSON form is its value."""

    def __init__(self, cls: ClassValue, name: str, value: object) -> None:
        self.cls = cls
        self.name = name
        self.value = value


class InstanceValue:
    """An instance of a user class (attributes assigned by ``__init__`` and later)."""

    def __init__(self, cls: ClassValue) -> None:
        self.cls = cls
        self.attrs: dict[str, object] = dict()


class BoundMethod:
    """``obj.method`` where obj is a modelled object; called via the interpreter."""

    def __init__(self, obj: object, name: str) -> None:
        self.obj = obj
        self.name = name


class ModuleValue:
    """A module of the project or of an installed library, read by the interpreter.

    ``scope`` is its namespace as far as it was executed: a module still being
    loaded (an import cycle) is seen half-initialised, as at runtime.
    """

    def __init__(self, name: str, path: str, scope: Scope, is_package: bool) -> None:
        self.name = name
        self.path = path
        self.scope = scope
        self.is_package = is_package
        #: False while its body runs (a cycle reached it), True once done.
        self.loaded = False

    def __repr__(self) -> str:
        return f"ModuleValue({self.name!r}, {self.path!r})"


class LazyImport:
    """A name bound by ``from m import name`` that is read only when first used.

    (Also a library's module-level ``NAME = call(...)``, computed when first read.)

    Loading is deferred so that a package ``__init__`` re-exporting hundreds
    of names (or a ``TYPE_CHECKING`` block importing them) costs nothing until
    the script reaches one of them.
    """

    __slots__ = ("busy", "resolve")

    def __init__(self, resolve: Callable[[], object]) -> None:
        self.resolve = resolve
        #: True while it is being resolved: a package ``__init__`` doing
        #: ``from . import b`` is asked for ``b`` again while reading it.
        self.busy = False

    def value(self) -> object:
        """The resolved value, or :data:`IN_CYCLE` when it is already being resolved."""
        if self.busy:
            return IN_CYCLE
        self.busy = True
        try:
            return self.resolve()
        finally:
            self.busy = False


#: What a :class:`LazyImport` gives while its own resolution asks for it (an import cycle).
IN_CYCLE = object()


class Scope:
    """A variable namespace chained to its enclosing scopes (function → module)."""

    __slots__ = ("globals_names", "parent", "stars", "vars")

    def __init__(self, parent: Scope | None = None) -> None:
        self.vars: dict[str, object] = {}
        self.parent = parent
        self.globals_names: set[str] = set()
        #: Deferred ``from m import *`` of an installed library: resolvers asked
        #: for a name this scope does not define (see ``loader``).
        self.stars: list[Callable[[str], object]] | None = None

    def lookup(self, name: str) -> object:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                value = scope.vars[name]
                if type(value) is LazyImport:
                    value = value.value()
                    if value is IN_CYCLE:
                        return UNKNOWN
                    scope.vars[name] = value
                return value
            if scope.stars is not None and name not in _BUILTINS:
                value = scope.from_stars(name)
                if value is not MISSING:
                    return value
            scope = scope.parent
        return _BUILTINS.get(name, UNKNOWN)

    def peek(self, name: str) -> object:
        """What ``name`` is bound to, without reading a module for it (a LazyImport stays one)."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        return _BUILTINS.get(name, UNKNOWN)

    def get(self, name: str) -> object:
        """``name`` in this scope only (imports resolved), or UNKNOWN."""
        if name not in self.vars and self.stars is not None:
            value = self.from_stars(name)
            return UNKNOWN if value is MISSING else value
        value = self.vars.get(name, UNKNOWN)
        if type(value) is LazyImport:
            value = value.value()
            if value is IN_CYCLE:
                return UNKNOWN
            self.vars[name] = value
        return value

    def from_stars(self, name: str) -> object:
        """``name`` from the deferred star imports (the last one first), or MISSING."""
        for resolve in reversed(self.stars or ()):
            value = resolve(name)
            if value is not MISSING:
                self.vars[name] = value
                return value
        return MISSING

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def assign(self, name: str, value: object) -> None:
        if name in self.globals_names:
            self.module().vars[name] = value
        else:
            self.vars[name] = value


_BUILTIN_NAMES = [
    "int",
    "float",
    "str",
    "bool",
    "len",
    "range",
    "list",
    "tuple",
    "dict",
    "set",
    "frozenset",
    "sorted",
    "min",
    "max",
    "abs",
    "round",
    "sum",
    "enumerate",
    "zip",
    "print",
    "isinstance",
    "open",
    "exec",
    "type",
    "reversed",
    "any",
    "all",
    "map",
    "filter",
    "repr",
    "getattr",
    "hasattr",
    "Exception",
    "ValueError",
    "TypeError",
    "object",
    "super",
]
_BUILTINS: dict[str, object] = {n: Ref(f"builtins.{n}") for n in _BUILTIN_NAMES}
_BUILTINS["True"] = True
_BUILTINS["False"] = False
_BUILTINS["None"] = None
_BUILTINS["__name__"] = "__main__"
