"""Per-repository push defaults: ``keynet.toml`` or ``[tool.keynet-train]``.

The keys are documented in docs/commands.md, "Project file".

A CI job should need no flags, so push defaults can live with the code. The
search starts in the entrypoint's directory and walks upward, nearest file
first, and stops at the git root (the directory containing ``.git``), the
user's home directory (a file above it belongs to someone else: another
user's ``/tmp/keynet.toml`` must not configure a download unpacked in
``/tmp``) or the file-system root. In one directory ``keynet.toml`` wins over
``pyproject.toml``; a ``pyproject.toml`` without a ``[tool.keynet-train]``
table is not a project file and the search goes on past it.

Every value is checked here, so a typo in CI fails with the file, the key and
the valid keys instead of silently falling back to a default.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keynet_train.build.image_names import (
    validate_build_arg_name,
    validate_model_name,
    validate_platform,
    validate_tag,
)
from keynet_train.errors import ConfigError, InputError, KeynetError

__all__ = ["PROJECT_KEYS", "ProjectSettings", "find_project_settings", "load_project_file"]

KEYNET_TOML = "keynet.toml"
PYPROJECT_TOML = "pyproject.toml"
TOOL_TABLE = "keynet-train"
#: A project file is a few lines of TOML; a larger one is refused, not parsed.
MAX_PROJECT_FILE_BYTES = 1024 * 1024

#: The keys a project file may set.
PROJECT_KEYS: tuple[str, ...] = (
    "project_id",
    "model_name",
    "dockerfile",
    "context",
    "harbor_project",
    "tags",
    "build_args",
    "platform",
    "command",
    "python",
    "command_check",
)

#: ``command_check`` values: a problem in the platform's training command is an
#: error (the default) or a warning (docs/platform-command.md).
COMMAND_CHECK_MODES = ("error", "warn")


@dataclass
class ProjectSettings:
    """Push defaults from a project file; ``source`` is None when none was found.

    ``dockerfile`` and ``context`` are absolute, resolved against the
    directory of ``source``.
    """

    source: Path | None = None
    project_id: int | None = None
    model_name: str | None = None
    dockerfile: Path | None = None
    context: Path | None = None
    harbor_project: str | None = None
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)
    platform: str | None = None
    #: The sub-command to train with (docs/extraction-rules.md), for scripts that have several.
    command: str | None = None
    #: The interpreter (or virtualenv) whose installed libraries extraction reads.
    python: Path | None = None
    #: "error" or "warn": how push treats a problem in the platform's training command.
    command_check: str | None = None


def find_project_settings(entrypoint: Path) -> ProjectSettings:
    """Find and read the project file that applies to ``entrypoint``.

    Searches the entrypoint's directory (or ``entrypoint`` itself if it is a
    directory) and its parents, nearest first, up to the git root, the user's
    home directory or the file-system root. Returns empty settings with ``source=None`` when there
    is no project file. Raises ConfigError (naming the file) if the file found
    cannot be read, is not valid TOML, has an unknown key or a wrong type or
    value; the search does not continue past a broken file.
    """
    from keynet_train.locations import project_file_candidates

    for candidate in project_file_candidates(entrypoint):
        if candidate.name == KEYNET_TOML:
            return load_project_file(candidate)
        table = _tool_table(candidate, _read_toml(candidate))
        if table is not None:
            return _settings_from_table(candidate, table, label=f"tool.{TOOL_TABLE}.")
    return ProjectSettings()


def load_project_file(path: Path) -> ProjectSettings:
    """Read one project file: top-level keys of a ``keynet.toml``, or the
    ``[tool.keynet-train]`` table of a ``pyproject.toml``.

    Returns empty settings with ``source=path`` for a pyproject without the
    table. Raises ConfigError as :func:`find_project_settings` does.
    """
    path = path.resolve()
    data = _read_toml(path)
    if path.name == PYPROJECT_TOML:
        table = _tool_table(path, data)
        if table is None:
            return ProjectSettings(source=path)
        return _settings_from_table(path, table, label=f"tool.{TOOL_TABLE}.")
    return _settings_from_table(path, data, label="")


def _toml_loads(text: str) -> dict[str, Any]:
    # tomllib is stdlib from 3.11; tomli is the same parser, a dependency only below.
    # Imported by name so type checking does not depend on which one is installed.
    try:
        module = importlib.import_module("tomllib")
    except ModuleNotFoundError:  # Python 3.10 (tested by faking it on 3.11)
        module = importlib.import_module("tomli")
    try:
        result: dict[str, Any] = module.loads(text)
    except module.TOMLDecodeError as exc:
        raise _TomlSyntaxError(str(exc)) from None
    except RecursionError:  # tables/arrays nested thousands deep
        raise _TomlSyntaxError("nested too deeply to read") from None
    return result


class _TomlSyntaxError(Exception):
    pass


def _read_toml(path: Path) -> dict[str, Any]:
    from keynet_train.files import UnreadableFile, read_regular_file

    try:
        raw = read_regular_file(path, MAX_PROJECT_FILE_BYTES)
    except UnreadableFile as exc:
        raise ConfigError(
            f"Cannot read the project file {path}: it {exc.reason}.",
            hint="A project file is a regular TOML file; fix or remove it.",
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"The project file {path} is not UTF-8 text ({exc.reason} at byte {exc.start}).",
            hint="TOML files must be UTF-8; re-save it as UTF-8.",
        ) from None
    try:
        return _toml_loads(text)
    except _TomlSyntaxError as exc:
        raise ConfigError(
            f"The project file {path} is not valid TOML: {exc}.",
            hint="Fix the syntax (see https://toml.io).",
        ) from None


def _tool_table(path: Path, data: dict[str, Any]) -> dict[str, Any] | None:
    tool = data.get("tool")
    if not isinstance(tool, dict) or TOOL_TABLE not in tool:
        return None
    table = tool[TOOL_TABLE]
    if not isinstance(table, dict):
        raise ConfigError(
            f"{path}: 'tool.{TOOL_TABLE}' must be a table, got {_toml_type(table)}.",
            hint=f"Write it as a [tool.{TOOL_TABLE}] section.",
        )
    return table


def _toml_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"  # dates and times


class _Checker:
    """Typed access to one table, raising ConfigError naming file, key and valid keys."""

    def __init__(self, path: Path, table: dict[str, Any], label: str) -> None:
        self.path = path
        self.table = table
        self.label = label

    def error(self, key: str, problem: str, hint: str | None = None) -> ConfigError:
        return ConfigError(
            f"{self.path}: '{self.label}{key}' {problem}.",
            hint=hint or f"Valid keys: {', '.join(PROJECT_KEYS)}.",
        )

    def wrong_type(self, key: str, expected: str, value: object) -> ConfigError:
        return self.error(key, f"must be {expected}, got {_toml_type(value)}")

    def string(self, key: str) -> str | None:
        value = self.table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.wrong_type(key, "a string", value)
        if not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def rule(
        self,
        key: str,
        value: str,
        validate: Callable[[str], object],
        problem: str | Callable[[KeynetError], str],
    ) -> str:
        """``value`` if ``validate`` (a rule of build/image_names.py or config.py) accepts it.

        Raises:
            ConfigError: naming the file and ``key``, with ``problem`` (or what it
                makes of the rule's error) and the rule's hint.
        """
        try:
            validate(value)
        except (ConfigError, InputError) as exc:
            text = problem(exc) if callable(problem) else problem
            raise self.error(key, text, exc.hint) from None
        return value

    def path_value(self, key: str) -> Path | None:
        text = self.string(key)
        if text is None:
            return None
        if "\x00" in text:
            raise self.error(key, "contains a NUL character, which no path can hold")
        # Relative to the file, not to wherever CI happens to run the command.
        return (self.path.parent / Path(text).expanduser()).resolve()


def _settings_from_table(path: Path, table: dict[str, Any], label: str) -> ProjectSettings:
    check = _Checker(path, table, label)
    unknown = sorted(set(table) - set(PROJECT_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(label + key) for key in unknown)}. "
            f"Valid keys: {', '.join(PROJECT_KEYS)}.",
            hint="Remove or rename the key (keys use snake_case, e.g. build_args).",
        )

    project_id = table.get("project_id")
    if project_id is not None:
        if isinstance(project_id, bool) or not isinstance(project_id, int):
            raise check.wrong_type("project_id", "an integer", project_id)
        if project_id <= 0:
            raise check.error("project_id", f"must be a positive integer, got {project_id}")

    harbor_project = check.string("harbor_project")
    if harbor_project is not None:
        # here, not at module level: inspect reads project files and must start fast
        from keynet_train.config import validate_harbor_project

        check.rule("harbor_project", harbor_project, validate_harbor_project, _is_invalid)

    tags = _tags(check)
    build_args = _build_args(check)

    platform = check.string("platform")
    if platform is not None:
        check.rule("platform", platform, validate_platform, _platform_problem(platform))

    model_name = check.string("model_name")
    if model_name is not None:
        check.rule("model_name", model_name, validate_model_name, _is_invalid)

    command_check = _command_check(check)

    return ProjectSettings(
        source=path,
        project_id=project_id,
        model_name=model_name,
        dockerfile=check.path_value("dockerfile"),
        context=check.path_value("context"),
        harbor_project=harbor_project,
        tags=tags,
        build_args=build_args,
        platform=platform,
        command=check.string("command"),
        python=check.path_value("python"),
        command_check=command_check,
    )


def _tags(check: _Checker) -> list[str]:
    """The ``tags`` array, each a valid image tag."""
    tags_value = check.table.get("tags", [])
    if not isinstance(tags_value, list):
        raise check.wrong_type("tags", "an array of strings", tags_value)
    tags: list[str] = []
    for tag in tags_value:
        if not isinstance(tag, str):
            raise check.wrong_type("tags", "an array of strings", tag)
        problem = f"contains {tag!r}, which is not a valid image tag"
        tags.append(check.rule("tags", tag, validate_tag, problem))
    return tags


def _build_args(check: _Checker) -> dict[str, str]:
    """The ``build_args`` table: valid names, string values."""
    args_value = check.table.get("build_args", {})
    if not isinstance(args_value, dict):
        raise check.wrong_type("build_args", "a table of strings", args_value)
    build_args: dict[str, str] = {}
    for name, value in args_value.items():
        problem = f"has {name!r}, which is not a valid build argument name"
        check.rule("build_args", name, validate_build_arg_name, problem)
        if not isinstance(value, str):
            raise check.error(
                f"build_args.{name}",
                f"must be a string, got {_toml_type(value)}",
                hint=f'Quote the value, e.g. {name} = "{value}".',
            )
        build_args[name] = value
    return build_args


def _is_invalid(exc: KeynetError) -> str:
    return f"is invalid: {exc.message}"


def _platform_problem(platform: str) -> Callable[[KeynetError], str]:
    """How a refused ``platform`` is described: the part the rule named, else the shape."""

    def problem(exc: KeynetError) -> str:
        detail = exc.message.removeprefix(f"Invalid platform: {platform!r}").strip(":. ")
        if detail:
            return f"names {detail} in {platform!r}"
        return f"must look like os/arch (e.g. linux/amd64), got {platform!r}"

    return problem


def _command_check(check: _Checker) -> str | None:
    """The ``command_check`` mode, one of :data:`COMMAND_CHECK_MODES`."""
    command_check = check.string("command_check")
    if command_check is not None and command_check not in COMMAND_CHECK_MODES:
        raise check.error(
            "command_check",
            f"must be one of {', '.join(repr(m) for m in COMMAND_CHECK_MODES)}, "
            f"got {command_check!r}",
            hint='"warn" only for a platform that builds the training command from the '
            "image label (docs/platform-command.md).",
        )
    return command_check
