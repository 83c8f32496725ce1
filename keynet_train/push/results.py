"""What a push or a dry run reports: the result objects the CLI renders and ``--json`` prints.

:func:`keynet_train.push.pipeline.run_push` returns them; nothing here talks to a service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keynet_train.extraction.model import ParserType
    from keynet_train.extraction.platform import PlatformProblem


@dataclass
class PushResult:
    """The outcome of a push (the ``push --json`` object of docs/commands.md)."""

    upload_key: str
    image: str
    tags: list[str]
    digest: str | None
    project_id: int
    model_name: str
    parser_type: ParserType | None
    hyperparameters: list[dict[str, object]]
    command: str
    #: The script's sub-command trained with (docs/extraction-rules.md); ``command`` above is
    #: already the platform's training command (docs/commands.md, push), hence the name.
    subcommand: str | None = None
    #: False when extraction could not follow a place that may add arguments
    #: (each is a warning): the hyperparameters may be a partial list.
    complete: bool = True
    #: The predicted platform command for the defaults (docs/platform-command.md).
    platform_command: str = ""
    #: Problems of the backend's ``command`` (let through by --allow-command-mismatch).
    problems: list[PlatformProblem] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The JSON object printed on stdout with ``--json`` (the CLI adds ``warnings``)."""
        return {
            "upload_key": self.upload_key,
            "image": self.image,
            "tags": self.tags,
            "digest": self.digest,
            "project_id": self.project_id,
            "model_name": self.model_name,
            "parser_type": self.parser_type,
            "hyperparameters": self.hyperparameters,
            "command": self.command,
            "subcommand": self.subcommand,
            "complete": self.complete,
            "platform_command": self.platform_command,
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass
class DryRunResult:
    """What a push would send, and the locally built image."""

    image: str
    image_id: str
    target_repository: str
    dockerfile: Path
    context: Path
    file_count: int
    total_size: int
    largest_files: list[tuple[str, int]]
    ignore_file: Path | None
    parser_type: ParserType | None
    hyperparameters: list[dict[str, object]]
    model_name: str
    subcommand: str | None = None
    #: As ``PushResult.complete``.
    complete: bool = True
    #: The predicted platform command for the defaults (docs/platform-command.md).
    platform_command: str = ""
    #: What the script would reject in it: a real push refuses these.
    problems: list[PlatformProblem] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The ``--dry-run --json`` object on stdout (the CLI adds ``warnings``)."""
        return {
            "dry_run": True,
            "image": self.image,
            "image_id": self.image_id,
            "target_repository": self.target_repository,
            "dockerfile": str(self.dockerfile),
            "context": str(self.context),
            "context_files": self.file_count,
            "context_bytes": self.total_size,
            "largest_files": [{"path": p, "bytes": s} for p, s in self.largest_files],
            "ignore_file": str(self.ignore_file) if self.ignore_file else None,
            "model_name": self.model_name,
            "parser_type": self.parser_type,
            "hyperparameters": self.hyperparameters,
            "subcommand": self.subcommand,
            "complete": self.complete,
            "platform_command": self.platform_command,
            "problems": [p.to_json() for p in self.problems],
        }
