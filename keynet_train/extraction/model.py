"""The extractor's result types (SPEC §6) and the conversion to the backend's list (SPEC §4.3).

Named tuples and a plain class on purpose: ``inspect`` must start as fast as
``python -c "import ast"``, so nothing here may pull in pydantic, nor even
``dataclasses`` (which imports ``inspect``: ~16 ms of a ~25 ms start-up).
"""

from __future__ import annotations

from typing import NamedTuple

#: The values ``Argument.type`` may take (SPEC §6).
ARGUMENT_TYPES = ("str", "int", "float", "bool")

#: JSON-native default values: what ``json.dumps`` writes without help.
JSONValue = object


class Argument(NamedTuple):
    """One hyperparameter as the platform sees it (SPEC §6)."""

    name: str
    type: str
    default: JSONValue = None
    required: bool = False
    help: str | None = None
    choices: list[str] | None = None
    # How a command line spells it ("--learning-rate", "-l", "--no-flip");
    # empty for positionals. Not part of SPEC §6: used to check the platform's
    # training command against what the script accepts.
    flags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The SPEC §6 object: keys name, type, default, required, help, choices."""
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "required": self.required,
            "help": self.help,
            "choices": list(self.choices) if self.choices is not None else None,
        }


class Diagnostic(NamedTuple):
    """Something the extractor could not resolve statically, or a choice it made."""

    path: str
    line: int
    message: str
    severity: str = "info"  # 'info' | 'warning'

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


class ExtractionResult:
    """What the extractor found in one entrypoint."""

    def __init__(
        self,
        parser_type: str | None,
        arguments: list[Argument] | None = None,
        diagnostics: list[Diagnostic] | None = None,
    ) -> None:
        self.parser_type = parser_type
        self.arguments: list[Argument] = [] if arguments is None else arguments
        self.diagnostics: list[Diagnostic] = [] if diagnostics is None else diagnostics

    def __repr__(self) -> str:
        return f"ExtractionResult({self.parser_type!r}, {self.arguments!r}, {self.diagnostics!r})"

    def to_json(self) -> dict[str, object]:
        """Exactly the SPEC §6 object ``{"parser_type": ..., "arguments": [...]}``."""
        return {
            "parser_type": self.parser_type,
            "arguments": [a.to_json() for a in self.arguments],
        }


def to_argument_definitions(result: ExtractionResult) -> list[dict[str, object]]:
    """The backend's ``hyperParameters`` list (SPEC §4.3) for ``result``.

    The backend's ArgumentDefinition has the same six fields as SPEC §6 (the
    names are single words, so camelCase and snake_case agree). Raises nothing.
    """
    return [a.to_json() for a in result.arguments]
