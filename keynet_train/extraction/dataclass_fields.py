"""Dataclasses and annotations, read statically for the families built on them.

``HfArgumentParser`` and ``tyro.cli`` build their options from a dataclass's
fields: the annotation, ``= default`` or ``field(default=..., default_factory=...,
metadata=...)``, and (tyro) the docstring or comment that documents the field.
This module reads those from the class statement the interpreter kept on the
:class:`ClassValue`, never running the class. Each family then applies its own
library's rules to the fields (``families/hfargparser.py``, ``families/tyro.py``).

Annotations are evaluated into a small vocabulary: :class:`Generic` for
subscripted and ``X | Y`` types (``Optional[X]`` becomes ``Union[X, None]``, and
nested unions flatten as in ``typing``), ``None`` for ``None``, and whatever the
interpreter gives for plain names (``Ref("builtins.int")``, a ``ClassValue``).
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from keynet_train.extraction.interpreter import CallArgs, Interpreter
from keynet_train.extraction.library_dataclasses import library_dataclass
from keynet_train.extraction.values import UNKNOWN, ClassValue, FunctionValue, Ref, Scope

#: A field without ``default`` (or ``default_factory``).
MISSING = Ref("dataclasses.MISSING")

_DATACLASS_DECORATORS = frozenset(
    ("dataclasses.dataclass", "pydantic.dataclasses.dataclass", "flax.struct.dataclass")
)
_FIELD_FUNCTIONS = frozenset(
    ("dataclasses.field", "transformers.HfArg", "transformers.hf_argparser.HfArg")
)
#: The libraries' decorators and field functions read here: the loader keeps
#: them as they are when their library is read (``Family.modelled_names``;
#: ``dataclasses`` itself is standard library, never read).
DATACLASS_NAMES = frozenset(
    name for name in _DATACLASS_DECORATORS | _FIELD_FUNCTIONS if not name.startswith("dataclasses.")
)
_UNION = "typing.Union"
#: The generic containers read as "a list of X" (typer reads them so too).
LIST_TYPES = frozenset(
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
#: Classes read in one dataclass's inheritance (a deep chain is read whole up to here).
_MAX_CLASSES = 500


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
    doc: str | None  # the attribute docstring under it (tyro's help)
    line: int
    comment: str | None  # the comment documenting it (tyro's help, last resort)
    path: str | None = None  # the library file it was read from (None: the script's)


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
    interp: Interpreter, cls: ClassValue, *, comments: bool = False
) -> list[DataField]:
    """The fields of dataclass ``cls`` and its dataclass bases, in ``dataclasses.fields`` order.

    With ``comments``, the comments documenting each field are read from the
    file's text too (tyro shows them as help). Raises nothing.
    """
    fields: dict[str, DataField] = {}
    for klass in mro(cls, interp):
        _note_unread_bases(interp, klass)
        if not is_dataclass(interp, klass):
            continue
        script_path = interp.path
        interp.path = klass.path or script_path  # notes about a library's fields name its file
        try:
            _class_fields(interp, klass, comments, fields)
        finally:
            interp.path = script_path
    return list(fields.values())


def _class_fields(
    interp: Interpreter, klass: ClassValue, comments: bool, fields: dict[str, DataField]
) -> None:
    """Add (or override) the fields ``klass`` itself declares."""
    assert klass.node is not None and klass.scope is not None
    source = class_source(interp) if comments else None
    notes = _comments(source, klass.node) if source is not None else {}
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
        fields[stmt.target.id] = _field(
            interp, klass, stmt, annotation, _docstring_after(body, i)
        )._replace(comment=notes.get(stmt.lineno), path=klass.path)


def _note_unread_bases(interp: Interpreter, klass: ClassValue) -> None:
    """Warn that fields inherited from a base class whose source was not read are missing."""
    for base in _bases(interp, klass):
        if isinstance(base, ClassValue) or base == Ref("builtins.object"):
            continue
        what = base.name if isinstance(base, Ref) else "a base class not known statically"
        interp.note(
            klass.line,
            f"{klass.name} inherits from {what}, whose source was not read; "
            "the fields it inherits are missing",
            "warning",
            partial=True,
        )


def _bases(interp: Interpreter | None, klass: ClassValue) -> list[object]:
    """``klass``'s bases, transformers' argument dataclasses read from the library's source."""
    if interp is None:
        return list(klass.bases)
    return [library_dataclass(interp, base, klass.line) for base in klass.bases]


def mro(cls: ClassValue, interp: Interpreter | None = None) -> list[ClassValue]:
    """``cls`` and its user-class bases, bases first (single inheritance order).

    Walked without recursion, so a deep chain of dataclasses keeps its
    base-most fields; past ``_MAX_CLASSES`` classes the rest is noted (a
    warning: their fields are missing).
    """
    out: list[ClassValue] = []
    seen: set[int] = set()
    # (class, whether its bases were pushed): post-order, bases before the class.
    stack: list[tuple[ClassValue, bool]] = [(cls, False)]
    while stack:
        klass, expanded = stack.pop()
        if expanded:
            out.append(klass)
            continue
        if id(klass) in seen:
            continue
        if len(seen) >= _MAX_CLASSES:
            if interp is not None:
                interp.note(
                    cls.line,
                    f"{cls.name} has more than {_MAX_CLASSES} base classes; the fields of "
                    f"{klass.name} and its bases are missing",
                    "warning",
                    partial=True,
                )
            continue
        seen.add(id(klass))
        stack.append((klass, True))
        bases = [b for b in _bases(interp, klass) if isinstance(b, ClassValue)]
        stack.extend((base, False) for base in reversed(bases))
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
        None,
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
    """``{field line: help}`` from comments, by tyro's rules.

    A comment at the end of the field's line wins; else the comment lines
    right above it (blank lines between do not matter; any other code does),
    which also serve the fields on the lines that directly follow (a comment
    over a group); a ``#:`` comment serves one field only.
    """
    # Imported here: only tyro needs tokenize (docs/development.md, "Start-up").
    import io
    import tokenize

    lines = source.splitlines(keepends=True)
    start = node.lineno - 1
    end = getattr(node, "end_lineno", None) or node.lineno
    if not 0 <= start < len(lines) or f"class {node.name}" not in lines[start]:
        return {}  # not this class's text (the source given is another file's)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("".join(lines[start:end])).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return {}
    fields = {
        stmt.lineno
        for stmt in node.body
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
    }
    by_line: dict[int, list[tokenize.TokenInfo]] = {}
    for tok in tokens:
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            by_line.setdefault(tok.start[0] + start, []).append(tok)
    found: dict[int, str] = {}
    buffer: list[tuple[str, bool]] = []
    ordered = sorted(line for line in by_line if line > node.lineno)
    for index, line in enumerate(ordered):
        toks = by_line[line]
        if line in fields:
            if toks[-1].type == tokenize.COMMENT:
                found[line] = _comment_text(toks[-1].string)
                buffer = []
            elif buffer:
                found[line] = " ".join(text for text, _ in buffer)
                next_is_field = index + 1 < len(ordered) and ordered[index + 1] in fields
                if any(sphinx for _, sphinx in buffer) or not next_is_field:
                    buffer = []
        elif len(toks) == 1 and toks[0].type == tokenize.COMMENT:
            buffer.append((_comment_text(toks[0].string), toks[0].string.startswith("#:")))
        else:
            buffer = []
    return found


def _comment_text(comment: str) -> str:
    return comment[2:].strip() if comment.startswith("#:") else comment[1:].strip()


def class_source(interp: Interpreter) -> str | None:
    """The text of the file being interpreted (for comments), read once; None if unreadable."""
    cache: dict[str, str | None] = interp.__dict__.setdefault("_family_sources", {})
    if interp.path not in cache:
        try:
            with open(interp.path, encoding="utf-8-sig") as f:
                cache[interp.path] = f.read(5 * 1024 * 1024)
        except (OSError, UnicodeDecodeError, ValueError):
            cache[interp.path] = None
    return cache[interp.path]


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
    if isinstance(annotation, Ref) and annotation.name in LIST_TYPES:
        return Ref("builtins.str")
    if isinstance(annotation, Generic) and annotation.base in LIST_TYPES:
        return annotation.args[0] if annotation.args else Ref("builtins.str")
    return MISSING


def is_list_type(annotation: object) -> bool:
    """``list``, ``list[X]``, ``Sequence[X]``, ``tuple[...]``..."""
    return list_element(annotation) is not MISSING
