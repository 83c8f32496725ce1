"""Values of the static interpreter: what an expression is known to evaluate to.

Plain Python constants and containers stand for themselves. Everything else
the interpreter understands is one of the small classes below; anything it
does not understand is :data:`UNKNOWN`.
"""

from __future__ import annotations

import ast


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


class Scope:
    """A variable namespace chained to its enclosing scopes (function → module)."""

    __slots__ = ("globals_names", "parent", "vars")

    def __init__(self, parent: Scope | None = None) -> None:
        self.vars: dict[str, object] = {}
        self.parent = parent
        self.globals_names: set[str] = set()

    def lookup(self, name: str) -> object:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return scope.vars[name]
            scope = scope.parent
        return _BUILTINS.get(name, UNKNOWN)

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
