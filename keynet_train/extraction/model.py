"""The extractor's result types, and their JSON for ``--json`` and the image label.

The rules are in docs/extraction-rules.md and docs/cli-descriptor.md; what the
backend accepts in docs/platform-contract.md.

Named tuples and a plain class on purpose: ``inspect`` must start as fast as
``python -c "import ast"``, so nothing here may pull in pydantic, nor even
``dataclasses`` (docs/development.md, "Start-up").
"""

from __future__ import annotations

from typing import Literal, NamedTuple, TypeVar, get_args

#: The values ``Argument.type`` may take (docs/extraction-rules.md).
ARGUMENT_TYPES = ("str", "int", "float", "bool")

#: JSON-native default values: what ``json.dumps`` writes without help.
JSONValue = object

#: How the command line carries an argument's value (docs/cli-descriptor.md).
Kind = Literal["value", "flag", "negatable", "count", "list", "positional"]
#: How a ``list`` argument takes its values.
ListStyle = Literal["space", "repeat", "literal"]
#: ``global``: an option of the parent, given before the sub-command.
Scope = Literal["global", "command"]
#: A diagnostic's weight: ``warning`` is shown by default, ``info`` with ``--verbose``.
Severity = Literal["info", "warning"]
#: The families the extractor models (``keynet_train/extraction/families/``).
ParserType = Literal["argparse", "click", "typer", "hfargparser", "fire", "tyro", "globals"]

KINDS: tuple[Kind, ...] = get_args(Kind)
LIST_STYLES: tuple[ListStyle, ...] = get_args(ListStyle)
SCOPES: tuple[Scope, ...] = get_args(Scope)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
PARSER_TYPES: tuple[ParserType, ...] = get_args(ParserType)

_T = TypeVar("_T", bound=str)


def one_of(value: object, allowed: tuple[_T, ...], what: str) -> _T:
    """``value`` when it is one of ``allowed`` (a Literal's values).

    Raises:
        ValueError: it is not; the message names ``what`` and the values allowed.
    """
    for option in allowed:
        if value == option:
            return option
    raise ValueError(f"{what} is {value!r}, not one of: {', '.join(allowed)}")


class Argument(NamedTuple):
    """One hyperparameter as the platform sees it, and how it is spelled (docs/cli-descriptor.md).

    The first six fields are the six fields the backend stores
    (docs/extraction-rules.md): this type satisfies ``backend.models.HyperParameter``,
    so the backend client takes it as it is. The rest is the CLI
    descriptor; every family's extractor must fill it (defaults describe a
    plain ``--name VALUE`` option):

    - ``flags``: option strings for the value (or for true), long form first;
      ``()`` for positionals. Negative forms are *not* here.
    - ``kind``: one of :data:`KINDS`:
      ``value`` (``FLAG VALUE``; argparse ``nargs="?"`` keeps ``nargs="?"``),
      ``flag`` (present/absent; ``flag_value`` is what presence stores:
      ``store_true`` → true, ``store_false`` → false, ``store_const`` → the
      const, click ``is_flag``/``flag_value``),
      ``negatable`` (``flags`` set true, ``negative_flags`` set false),
      ``count`` (the flag repeated), ``list`` (see ``list_style``),
      ``positional`` (``position`` is its 0-based place among positionals;
      ``nargs`` says whether it takes several words).
    - ``list_style``: for ``list`` only, one of :data:`LIST_STYLES`: ``space``
      (one flag then the values: argparse ``nargs``, click option ``nargs=N``,
      tyro), ``repeat`` (the flag per value: argparse ``append``, click
      ``multiple``, typer ``List[...]`` options), ``literal`` (one Python
      literal: fire).
    - ``nargs``: the library's count as argparse spells it: an int when fixed,
      else ``"?"``, ``"*"``, ``"+"`` (click ``nargs=-1`` is ``"*"``, or ``"+"``
      when required); ``None`` for a single value.
    - ``min``/``max``/``min_open``/``max_open``: bounds of a range type (click
      ``IntRange``/``FloatRange``, typer ``min=``/``max=``, argparse
      ``choices=range(a, b)``); ``None``/``False`` when there is none.
    - ``scope``: one of :data:`SCOPES`; ``global`` for an option of the parent
      parser/group when a sub-command is chosen.
    - ``exclusive_group``: the same id on every member of one mutually
      exclusive group, else ``None``.
    """

    name: str
    type: str
    default: JSONValue = None
    required: bool = False
    help: str | None = None
    choices: list[str] | None = None
    flags: tuple[str, ...] = ()
    kind: Kind = "value"
    flag_value: JSONValue = None
    negative_flags: tuple[str, ...] = ()
    list_style: ListStyle | None = None
    nargs: int | str | None = None
    position: int | None = None
    min: int | float | None = None
    max: int | float | None = None
    min_open: bool = False
    max_open: bool = False
    scope: Scope = "command"
    exclusive_group: str | None = None

    def to_json(self) -> dict[str, object]:
        """The six fields plus the descriptor (docs/cli-descriptor.md); inapplicable ones absent.

        What ``--json`` and the image label carry; the backend gets the six
        fields only, mapped by its client (``backend/models.py``).
        """
        doc: dict[str, object] = {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "required": self.required,
            "help": self.help,
            "choices": list(self.choices) if self.choices is not None else None,
        }
        doc["flags"] = list(self.flags)
        doc["kind"] = self.kind
        if self.kind == "flag" or (self.kind == "count" and self.flag_value is not None):
            # count: argparse append_const appends flag_value per repetition.
            doc["flag_value"] = self.flag_value
        if self.negative_flags:
            doc["negative_flags"] = list(self.negative_flags)
        if self.list_style is not None:
            doc["list_style"] = self.list_style
        if self.nargs is not None:
            doc["nargs"] = self.nargs
        if self.position is not None:
            doc["position"] = self.position
        if self.min is not None or self.max is not None:
            doc["min"] = self.min
            doc["max"] = self.max
            doc["min_open"] = self.min_open
            doc["max_open"] = self.max_open
        doc["scope"] = self.scope
        if self.exclusive_group is not None:
            doc["exclusive_group"] = self.exclusive_group
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, object]) -> Argument:
        """Rebuild an argument from :meth:`to_json` (e.g. read back from an image label).

        Raises:
            KeyError / TypeError: ``doc`` lacks ``name`` or ``type``, or is not a dict.
            ValueError: ``kind``, ``list_style`` or ``scope`` is not one of its values.
        """

        def strings(value: object) -> tuple[str, ...]:
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        choices = doc.get("choices")
        nargs = doc.get("nargs")
        position = doc.get("position")
        bound_min = doc.get("min")
        bound_max = doc.get("max")
        group = doc.get("exclusive_group")
        name = str(doc["name"])
        style = doc.get("list_style")
        return cls(
            name=name,
            type=str(doc["type"]),
            default=doc.get("default"),
            required=doc.get("required") is True,
            help=doc["help"] if isinstance(doc.get("help"), str) else None,  # type: ignore[arg-type]
            choices=list(strings(choices)) if isinstance(choices, list) else None,
            flags=strings(doc.get("flags")),
            kind=one_of(doc.get("kind", "value"), KINDS, f"the kind of {name!r}"),
            flag_value=doc.get("flag_value"),
            negative_flags=strings(doc.get("negative_flags")),
            list_style=None
            if style is None
            else one_of(style, LIST_STYLES, f"the list style of {name!r}"),
            nargs=nargs if isinstance(nargs, (int, str)) else None,
            position=position if isinstance(position, int) else None,
            min=bound_min if isinstance(bound_min, (int, float)) else None,
            max=bound_max if isinstance(bound_max, (int, float)) else None,
            min_open=doc.get("min_open") is True,
            max_open=doc.get("max_open") is True,
            scope=one_of(doc.get("scope", "command"), SCOPES, f"the scope of {name!r}"),
            exclusive_group=group if isinstance(group, str) else None,
        )

    def accepted_flags(self) -> tuple[str, ...]:
        """Every option string the script accepts for this argument (positive and negative)."""
        return self.flags + self.negative_flags


class Diagnostic(NamedTuple):
    """Something the extractor could not resolve statically, or a choice it made.

    ``partial``: the place could not be followed and arguments may be missing
    there (always a warning); any such diagnostic makes the result
    ``complete: false`` (docs/extraction.md, "Complete or partial").
    """

    path: str
    line: int
    message: str
    severity: Severity = "info"
    partial: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


class ExtractionResult:
    """What the extractor found in one entrypoint."""

    def __init__(
        self,
        parser_type: ParserType | None,
        arguments: list[Argument] | None = None,
        diagnostics: list[Diagnostic] | None = None,
        command: str | None = None,
    ) -> None:
        self.parser_type = parser_type
        # The sub-command trained with (docs/extraction-rules.md), or None.
        self.command = command
        self.arguments: list[Argument] = [] if arguments is None else arguments
        self.diagnostics: list[Diagnostic] = [] if diagnostics is None else diagnostics

    def __repr__(self) -> str:
        return (
            f"ExtractionResult({self.parser_type!r}, {self.arguments!r}, "
            f"{self.diagnostics!r}, command={self.command!r})"
        )

    @property
    def complete(self) -> bool:
        """False when a place between the parser's creation and its parse could not be followed.

        Each such place is a warning diagnostic with its file and line
        (``Diagnostic.partial``); a partial list is never reported as complete.
        """
        return not any(d.partial for d in self.diagnostics)

    def to_json(self) -> dict[str, object]:
        """The JSON result (docs/extraction-rules.md): parser_type, command, complete, arguments."""
        return {
            "parser_type": self.parser_type,
            "command": self.command,
            "complete": self.complete,
            "arguments": [a.to_json() for a in self.arguments],
        }


def to_described_arguments(result: ExtractionResult) -> list[dict[str, object]]:
    """Every argument with its descriptor (docs/cli-descriptor.md): ``--json`` and the label."""
    return [a.to_json() for a in result.arguments]
