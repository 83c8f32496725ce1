"""The project's classes at run time: instances, Enum lookups, subclasses of modelled classes.

A project class over a modelled library class (``class MyParser(ArgumentParser)``,
a vendored copy of ``HfArgumentParser``) is built as the library object; its own
methods are read as code, and ``super()`` in them reaches the library model.
The ``class`` statement itself is run in ``statements``.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from keynet_train.extraction.runtime import CallArgs, Modelled
from keynet_train.extraction.values import (
    UNKNOWN,
    ClassValue,
    EnumMember,
    FunctionValue,
    InstanceValue,
    Ref,
)

if TYPE_CHECKING:
    from keynet_train.extraction.interpreter import Interpreter

#: Project copies of a modelled class (trl vendors transformers' HfArgumentParser):
#: (class name, a method its source defines) → the modelled class it stands for.
_VENDORED = {("HfArgumentParser", "_parse_dataclass_field"): "transformers.HfArgumentParser"}


def instantiate(interp: Interpreter, cls: ClassValue, call: CallArgs) -> object:
    """``cls(...)``: the modelled library object, an Enum member, or an instance.

    Raises:
        Invoked: its ``__init__`` parsed the command line.
        BudgetExceeded: the step budget is spent.
    """
    modelled, stand_in = _modelled_base(interp, cls)
    if modelled is not None:
        # A project class over a modelled one (``class MyParser(HfArgumentParser)``)
        # is built as that class; its own methods are read as code.
        init = _method_in_chain(cls, "__init__", stand_in)
        # With an __init__ of its own, the library part is built by its
        # super().__init__(...) call, with the arguments given there.
        built = call if init is None else CallArgs([], {}, call.node)
        obj = interp.handlers[modelled](interp, built)
        if isinstance(obj, Modelled):
            obj.user_class = cls  # type: ignore[attr-defined]
            obj.model_class = stand_in  # type: ignore[attr-defined]
            obj.model_name = modelled  # type: ignore[attr-defined]
            if init is not None:
                interp.call_function(init, call, self_value=obj)
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
        interp.call_function(constructor, call, self_value=inst)
    else:
        # dataclass-style: fields in declaration order
        for name, value in zip(cls.fields, call.args, strict=False):
            inst.attrs[name] = value
        for name, value in call.kwargs.items():
            if name in cls.fields:
                inst.attrs[name] = value
    return inst


def super_object(current: object, running: FunctionValue | None) -> object:
    """``super()`` in ``running``, a method of ``current``'s project class; else UNKNOWN.

    Only a project subclass of a modelled class has one: its methods are the
    library model's (``super().__init__(...)`` does nothing more: the object
    was built as the library class). Raises nothing.
    """
    if isinstance(current, Modelled) and getattr(current, "user_class", None) is not None:
        chain = _class_chain(getattr(current, "user_class", None))
        # The class whose method is running: super() starts after it.
        start = next(
            (
                i + 1
                for i, klass in enumerate(chain)
                if klass.scope is not None and any(v is running for v in klass.scope.vars.values())
            ),
            1,
        )
        return _Super(current, start)
    return UNKNOWN


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


def user_method(obj: Modelled, name: str) -> FunctionValue | None:
    """The method ``name`` of the project subclass ``obj`` was built from, if it defines one."""
    cls = getattr(obj, "user_class", None)
    if not isinstance(cls, ClassValue) or name.startswith("__"):
        return None
    return _method_in_chain(cls, name, getattr(obj, "model_class", None))


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


def _method_in_chain(cls: ClassValue, name: str, stop: object) -> FunctionValue | None:
    """``name`` as defined by ``cls`` or its project bases, up to (not into) ``stop``."""
    for klass in _class_chain(cls):
        if klass is stop:
            return None
        if _defines(klass, name):
            fn = klass.scope.vars.get(name) if klass.scope is not None else None
            return fn if isinstance(fn, FunctionValue) else None
    return None


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
