"""Dataclasses and annotations, read statically for the families built on them.

``HfArgumentParser`` and ``tyro.cli`` build their options from a dataclass's
fields: the annotation, ``= default`` or ``field(default=..., default_factory=...,
metadata=...)``, and (tyro) the docstring or comment that documents the field.
This module reads those from the class statement the interpreter kept on the
:class:`ClassValue`, never running the class. Each family then applies its own
library's rules to the fields (``hf_ext``, ``tyro_ext``).

Annotations are evaluated into a small vocabulary: :class:`Generic` for
subscripted and ``X | Y`` types (``Optional[X]`` becomes ``Union[X, None]``, and
nested unions flatten as in ``typing``), ``None`` for ``None``, and whatever the
interpreter gives for plain names (``Ref("builtins.int")``, a ``ClassValue``).
"""

from __future__ import annotations

import ast
import io
import tokenize
from typing import NamedTuple

from keynet_train.extraction.interpreter import CallArgs, Interpreter
from keynet_train.extraction.values import UNKNOWN, ClassValue, FunctionValue, Ref, Scope

#: A field without ``default`` (or ``default_factory``).
MISSING = Ref("dataclasses.MISSING")

_DATACLASS_DECORATORS = frozenset(
    ("dataclasses.dataclass", "pydantic.dataclasses.dataclass", "flax.struct.dataclass")
)
_FIELD_FUNCTIONS = frozenset(
    ("dataclasses.field", "transformers.HfArg", "transformers.hf_argparser.HfArg")
)
_UNION = "typing.Union"
_LIST_TYPES = frozenset(
    (
        "typing.List",
        "typing.Sequence",
        "typing.Tuple",
        "typing.Set",
        "typing.FrozenSet",
        "builtins.list",
        "builtins.tuple",
        "builtins.set",
        "builtins.frozenset",
        "collections.abc.Sequence",
    )
)
_MAX_DEPTH = 20


class Generic(NamedTuple):
    """``base[args]``: ``Generic("typing.Union", (Ref(int), None))`` for ``int | None``."""

    base: str
    args: tuple[object, ...]


class DataField(NamedTuple):
    """One field of a dataclass, as ``dataclasses.fields()`` would list it."""

    name: str
    annotation: object
    default: object  # MISSING when absent
    factory: object  # the value default_factory() returns, MISSING when absent
    metadata: dict[str, object]
    init: bool
    doc: str | None  # the attribute docstring or comment documenting it (tyro)
    line: int


def is_dataclass(interp: Interpreter, value: object) -> bool:
    """Whether ``value`` is a user class decorated with ``@dataclass`` (any form)."""
    if not isinstance(value, ClassValue) or value.node is None or value.scope is None:
        return False
    outer = value.scope.parent or value.scope
    for deco in value.node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        ref = interp.eval(target, outer)
        if isinstance(ref, Ref) and ref.name in _DATACLASS_DECORATORS:
            return True
    return False


def dataclass_fields(
    interp: Interpreter, cls: ClassValue, source: str | None = None
) -> list[DataField]:
    """The fields of dataclass ``cls`` and its dataclass bases, in ``dataclasses.fields`` order.

    ``source`` (the module's text) lets comments serve as help, as tyro reads
    them; without it only attribute docstrings do. Raises nothing.
    """
    fields: dict[str, DataField] = {}
    for klass in _mro(cls):
        if not is_dataclass(interp, klass):
            continue
        assert klass.node is not None and klass.scope is not None
        comments = _comments(source, klass.node) if source is not None else {}
        body = klass.node.body
        for i, stmt in enumerate(body):
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            annotation = eval_annotation(interp, stmt.annotation, klass.scope)
            if isinstance(annotation, Generic) and annotation.base in (
                "typing.ClassVar",
                "dataclasses.InitVar",
            ):
                continue
            if isinstance(annotation, Ref) and annotation.name == "typing.ClassVar":
                continue
            doc = _docstring_after(body, i) or comments.get(stmt.lineno)
            fields[stmt.target.id] = _field(interp, klass, stmt, annotation, doc)
    return list(fields.values())


def _mro(cls: ClassValue) -> list[ClassValue]:
    """``cls`` and its user-class bases, bases first (single inheritance order)."""
    out: list[ClassValue] = []
    seen: set[int] = set()

    def visit(klass: ClassValue, depth: int) -> None:
        if id(klass) in seen or depth > _MAX_DEPTH:
            return
        seen.add(id(klass))
        for base in klass.bases:
            if isinstance(base, ClassValue):
                visit(base, depth + 1)
        out.append(klass)

    visit(cls, 0)
    return out


def _field(
    interp: Interpreter,
    klass: ClassValue,
    stmt: ast.AnnAssign,
    annotation: object,
    doc: str | None,
) -> DataField:
    assert isinstance(stmt.target, ast.Name) and klass.scope is not None
    name = stmt.target.id
    default: object = MISSING
    factory: object = MISSING
    metadata: dict[str, object] = {}
    init = True
    value = stmt.value
    if value is not None:
        func = interp.eval(value.func, klass.scope) if isinstance(value, ast.Call) else None
        if isinstance(value, ast.Call) and isinstance(func, Ref) and func.name in _FIELD_FUNCTIONS:
            kwargs = {kw.arg: kw.value for kw in value.keywords if kw.arg is not None}
            if "default" in kwargs:
                default = interp.eval(kwargs["default"], klass.scope)
            if "default_factory" in kwargs:
                factory = _call_factory(
                    interp, interp.eval(kwargs["default_factory"], klass.scope), value
                )
            if "init" in kwargs:
                init = interp.eval(kwargs["init"], klass.scope) is not False
            meta = interp.eval(kwargs["metadata"], klass.scope) if "metadata" in kwargs else {}
            metadata = dict(meta) if isinstance(meta, dict) else {}
            if func.name.endswith("HfArg"):
                # HfArg(help=..., aliases=...) fills the metadata for you.
                for key in ("help", "aliases"):
                    if key in kwargs:
                        metadata[key] = interp.eval(kwargs[key], klass.scope)
        else:
            default = interp.eval(value, klass.scope)
    return DataField(
        name,
        annotation,
        default,
        factory,
        {str(k): v for k, v in metadata.items()},
        init,
        doc,
        stmt.lineno,
    )


def _call_factory(interp: Interpreter, factory: object, node: ast.Call) -> object:
    """What ``default_factory()`` returns: ``list`` → [], ``lambda: [1, 2]`` → [1, 2]."""
    if isinstance(factory, Ref) and factory.name in ("builtins.list", "builtins.tuple"):
        return [] if factory.name == "builtins.list" else ()
    if isinstance(factory, Ref) and factory.name == "builtins.dict":
        return {}
    if isinstance(factory, (FunctionValue, ClassValue, Ref)):
        call = CallArgs([], {}, ast.Call(func=node.func, args=[], keywords=[]))
        call.node.lineno = node.lineno
        try:
            return interp.call(factory, call)
        except Exception:  # noqa: BLE001 - a factory whose body is beyond the model
            return UNKNOWN
    return UNKNOWN


def _docstring_after(body: list[ast.stmt], index: int) -> str | None:
    """The string statement right after a field: its attribute docstring (PEP 257)."""
    if index + 1 < len(body):
        nxt = body[index + 1]
        if (
            isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            return nxt.value.value
    return None


def _comments(source: str, node: ast.ClassDef) -> dict[int, str]:
    """Comments documenting fields: ``x: int = 1  # help``, or a comment alone on the line above."""
    lines = source.splitlines(keepends=True)
    start, end = node.lineno - 1, getattr(node, "end_lineno", node.lineno) or node.lineno
    text = "".join(lines[start:end])
    found: dict[int, str] = {}
    own_line: dict[int, str] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return {}
    code_lines: set[int] = set()
    for tok in tokens:
        line = tok.start[0] + start
        if tok.type == tokenize.COMMENT:
            comment = tok.string.lstrip("#").strip()
            if line in code_lines:
                found[line] = comment
            else:
                own_line[line] = comment
        elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            code_lines.add(line)
    for line, comment in own_line.items():
        found.setdefault(line + 1, comment)
    return found


# ----------------------------------------------------------------- annotations
def eval_annotation(
    interp: Interpreter, node: ast.expr | None, scope: Scope, depth: int = 0
) -> object:
    """The annotation ``node`` in the vocabulary of the module docstring; UNKNOWN when unclear."""
    if node is None or depth > _MAX_DEPTH:
        return UNKNOWN
    if isinstance(node, ast.Constant):
        if node.value is None or node.value is Ellipsis:
            return node.value
        if isinstance(node.value, str) and len(node.value) <= 1000:
            try:
                parsed = ast.parse(node.value.strip(), mode="eval").body
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return UNKNOWN
            return eval_annotation(interp, parsed, scope, depth + 1)
        return UNKNOWN
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left = eval_annotation(interp, node.left, scope, depth + 1)
        right = eval_annotation(interp, node.right, scope, depth + 1)
        return _union((left, right))
    if isinstance(node, ast.Subscript):
        base = interp.eval(node.value, scope)
        base_name = base.name if isinstance(base, Ref) else "?"
        if base_name == "typing_extensions.Literal":
            base_name = "typing.Literal"
        elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base_name == "typing.Literal":
            return Generic(base_name, tuple(interp.eval(e, scope) for e in elts))
        if base_name == "typing.Annotated":
            first = eval_annotation(interp, elts[0], scope, depth + 1)
            return Generic(base_name, (first, *(interp.eval(e, scope) for e in elts[1:])))
        args = tuple(eval_annotation(interp, e, scope, depth + 1) for e in elts)
        if base_name == "typing.Optional":
            return _union((args[0], None))
        if base_name == _UNION:
            return _union(args)
        return Generic(base_name, args)
    value = interp.eval(node, scope)
    if isinstance(value, Ref) and value.name == "builtins.None":
        return None
    return value


def _union(parts: tuple[object, ...]) -> object:
    flat: list[object] = []
    for part in parts:
        items = part.args if isinstance(part, Generic) and part.base == _UNION else (part,)
        for item in items:
            if not any(_same(item, seen) for seen in flat):
                flat.append(item)
    return flat[0] if len(flat) == 1 else Generic(_UNION, tuple(flat))


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    return a is b or (isinstance(a, Ref) and a == b)


def strip_annotated(annotation: object) -> tuple[object, tuple[object, ...]]:
    """``Annotated[X, meta...]`` → (X, meta); anything else → (it, ())."""
    if isinstance(annotation, Generic) and annotation.base == "typing.Annotated":
        return annotation.args[0], annotation.args[1:]
    return annotation, ()


def union_parts(annotation: object) -> tuple[object, ...] | None:
    """The members of a ``Union``/``Optional``, else None."""
    if isinstance(annotation, Generic) and annotation.base == _UNION:
        return annotation.args
    return None


def is_builtin(annotation: object, name: str) -> bool:
    """``annotation`` is the builtin type ``name`` (``int``, ``str``...)."""
    return isinstance(annotation, Ref) and annotation.name == f"builtins.{name}"


def literal_values(annotation: object) -> tuple[object, ...] | None:
    """The values of ``Literal[...]``, else None."""
    if isinstance(annotation, Generic) and annotation.base == "typing.Literal":
        return annotation.args
    return None


def list_element(annotation: object) -> object:
    """The element type of ``list[X]``, ``Sequence[X]``, ``tuple[X, ...]``...; else MISSING."""
    if isinstance(annotation, Ref) and annotation.name in _LIST_TYPES:
        return Ref("builtins.str")
    if isinstance(annotation, Generic) and annotation.base in _LIST_TYPES:
        return annotation.args[0] if annotation.args else Ref("builtins.str")
    return MISSING


def is_list_type(annotation: object) -> bool:
    """``list``, ``list[X]``, ``Sequence[X]``, ``tuple[...]``..."""
    return list_element(annotation) is not MISSING
