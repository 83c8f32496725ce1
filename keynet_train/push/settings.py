"""What the user asked a push to do, resolved and checked before anything runs.

Flags > ``KEYNET_*`` environment > project file > user config > default
(docs/commands.md, "Precedence"), then the tag, platform, build-arg and Harbor project names
are validated, so a bad value fails before a build starts. Pure: no network,
no podman, no output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keynet_train.build.image_names import (
    DEFAULT_PLATFORM,
    validate_build_arg_name,
    validate_model_name,
    validate_platform,
    validate_tag,
)
from keynet_train.config import DEFAULT_HARBOR_PROJECT, ca_bundle_from, validate_harbor_project
from keynet_train.errors import ConfigError, InputError

if TYPE_CHECKING:
    from keynet_train.config import Config
    from keynet_train.push.project_file import ProjectSettings


@dataclass(kw_only=True)
class BuildOptions:
    """How to build ENTRYPOINT's image: the flags push and run share (None = not given).

    ``run`` builds exactly as ``push`` does, so its options extend these too
    (:class:`keynet_train.run.pipeline.RunOptions`).
    """

    dockerfile: Path | None = None
    context: Path | None = None
    model_name: str | None = None
    build_args: dict[str, str] = field(default_factory=dict)
    platform: str | None = None
    no_cache: bool = False
    podman_url: str | None = None
    #: ``--command``: the sub-command to train with (docs/extraction-rules.md).
    command: str | None = None
    #: ``--python``: the interpreter whose installed libraries extraction may read.
    python: str | None = None

    def build_options(self) -> dict[str, Any]:
        """These fields alone, as keywords for another options class."""
        return {f.name: getattr(self, f.name) for f in fields(BuildOptions)}


@dataclass(kw_only=True)
class PushOptions(BuildOptions):
    """What the user asked ``push`` for on the command line (None = not given)."""

    entrypoint: Path
    project_id: int | None = None
    tags: list[str] = field(default_factory=list)
    harbor_project: str | None = None
    insecure_registry: bool = False
    dry_run: bool = False
    #: ``--allow-command-mismatch``: problems in the platform's command are warnings.
    allow_command_mismatch: bool = False
    #: ``--new-key``: register a new upload key even if an unfinished push of the
    #: same inputs holds one.
    new_key: bool = False


@dataclass
class ResolvedSettings:
    """Options after applying flag > KEYNET_* env > project file > user config > default."""

    entrypoint: Path
    context: Path
    dockerfile: Path | None
    project_id: int | None
    #: ``--model-name`` > project file; None: chosen by the image check from
    #: where the image holds the entrypoint.
    model_name: str | None
    tags: list[str]
    build_args: dict[str, str]
    platform: str
    harbor_project: str
    podman_url: str | None
    project_file: Path | None
    project_source: str | None = None
    #: "error" (default) or "warn": ``--allow-command-mismatch`` > project file ``command_check``.
    command_check: str = "error"
    #: ``KEYNET_CA_BUNDLE``: a PEM file trusted, besides the system CAs, for the
    #: backend and the registry (and installed into podman's certs.d).
    ca_bundle: str | None = None
    #: ``--insecure-registry``: the registry's TLS certificate is not verified.
    insecure_registry: bool = False


def _env_project_id(environ: Mapping[str, str], name: str) -> int | None:
    """``KEYNET_PROJECT_ID`` under the rule of ``config set project_id`` (a positive integer).

    Raises:
        ConfigError: it is set but not a positive integer.
    """
    from keynet_train.config import validate_project_id

    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return validate_project_id(raw)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc.message}", exc.hint) from None


def _project_id(
    options: PushOptions,
    environ: Mapping[str, str],
    project: ProjectSettings,
    config: Config | None,
) -> tuple[int | None, str | None]:
    """The project id by precedence and where it came from (None, None when unset).

    Raises:
        InputError: ``--project`` is not a positive integer.
        ConfigError: ``KEYNET_PROJECT_ID`` is not a positive integer.
    """
    if options.project_id is not None and options.project_id <= 0:
        raise InputError(
            f"--project must be a positive integer, got {options.project_id}.",
            "List the projects you can train in with: keynet-train projects",
        )
    env_project = _env_project_id(environ, "KEYNET_PROJECT_ID")
    for candidate, source in (
        (options.project_id, "--project"),
        (env_project, "KEYNET_PROJECT_ID"),
        (project.project_id, str(project.source) if project.source else None),
        (config.project_id if config else None, "user config (config set project_id)"),
    ):
        if candidate is not None:
            return candidate, source
    return None, None


def _harbor_project(
    options: PushOptions,
    environ: Mapping[str, str],
    project: ProjectSettings,
    config: Config | None,
) -> str:
    """The Harbor project by precedence, checked.

    Raises:
        InputError: the name breaks Harbor's project-name rule.
    """
    harbor_project = (
        options.harbor_project
        or environ.get("KEYNET_HARBOR_PROJECT")
        or project.harbor_project
        or (config.harbor_project if config else None)
        or DEFAULT_HARBOR_PROJECT
    )
    try:
        validate_harbor_project(harbor_project)
    except ConfigError as exc:
        raise InputError(exc.message, exc.hint) from None
    return harbor_project


def _paths(
    options: PushOptions, project: ProjectSettings, cwd: Path
) -> tuple[Path, Path, Path | None]:
    """The entrypoint, the context and the Dockerfile (None: found in the context)."""
    # `cwd / path` leaves an absolute path as it is, so one rule covers both.
    dockerfile = options.dockerfile or project.dockerfile
    return (
        cwd / options.entrypoint,
        cwd / (options.context or project.context or cwd),
        cwd / dockerfile if dockerfile is not None else None,
    )


def resolve_settings(
    options: PushOptions,
    environ: Mapping[str, str],
    project: ProjectSettings,
    config: Config | None,
    cwd: Path,
) -> ResolvedSettings:
    """Apply the precedence rules (docs/commands.md) and validate tags, platform and names.

    Tags and build args: ``--tag`` flags replace the project file's ``tags``;
    ``--build-arg`` flags are merged over its ``build_args`` key by key.

    Raises:
        InputError: an invalid tag, platform, build-arg name, model name or
            Harbor project name.
        InputError: ``--project`` is not a positive integer.
        ConfigError: ``KEYNET_PROJECT_ID`` is not a positive integer.
    """
    project_id, project_source = _project_id(options, environ, project, config)
    harbor_project = _harbor_project(options, environ, project, config)

    tags = list(options.tags) if options.tags else list(project.tags)
    for tag in tags:
        validate_tag(tag)
    tags = list(dict.fromkeys(tags))

    build_args = {**project.build_args, **options.build_args}
    for name in build_args:
        validate_build_arg_name(name)

    platform = validate_platform(options.platform or project.platform or DEFAULT_PLATFORM)

    entrypoint, context, dockerfile = _paths(options, project, cwd)

    # None: the image check chooses it (docs/push.md). The script's own name may
    # become it, and it can hold a newline too (a file named "train\n.py").
    model_name = options.model_name or project.model_name
    validate_model_name(model_name or options.entrypoint.name)

    return ResolvedSettings(
        entrypoint=entrypoint,
        context=context,
        dockerfile=dockerfile,
        project_id=project_id,
        model_name=model_name,
        tags=tags,
        build_args=build_args,
        platform=platform,
        harbor_project=harbor_project,
        podman_url=options.podman_url
        or environ.get("CONTAINER_HOST")
        or (config.podman_url if config else None),
        project_file=project.source,
        project_source=project_source,
        ca_bundle=ca_bundle_from(environ),
        insecure_registry=options.insecure_registry,
        command_check="warn"
        if options.allow_command_mismatch
        else project.command_check or "error",
    )


def extraction_python(flag: str | None, environ: Mapping[str, str], cwd: Path) -> str | None:
    """The interpreter the user named for extraction: --python > KEYNET_PYTHON, absolute.

    A relative path is resolved against ``cwd``. The project file's ``python``
    is not considered here: it is passed separately, because it is only ever
    read as a virtualenv layout, never run (docs/security.md). None lets
    extraction fall back to it, then VIRTUAL_ENV, then the running interpreter.
    """
    chosen = flag or environ.get("KEYNET_PYTHON") or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser()
    return str(path if path.is_absolute() else cwd / path)


def parse_build_args(values: list[str]) -> dict[str, str]:
    """``["A=1", "B=x=y"]`` → ``{"A": "1", "B": "x=y"}``.

    Raises:
        InputError: an item has no ``=``.
    """
    result: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError(f"Invalid --build-arg {item!r}.", "Use --build-arg NAME=VALUE.")
        result[name] = value
    return result
