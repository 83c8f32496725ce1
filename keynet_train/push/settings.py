"""What the user asked a push to do, resolved and checked before anything runs.

Flags > ``KEYNET_*`` environment > project file > user config > default
(docs/commands.md, "Precedence"), then the tag, platform, build-arg and Harbor project names
are validated, so a bad value fails before a build starts. Pure: no network,
no podman, no output.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.config import DEFAULT_HARBOR_PROJECT
from keynet_train.errors import ConfigError, InputError

if TYPE_CHECKING:
    from keynet_train.config import Config
    from keynet_train.push.project_file import ProjectSettings

DEFAULT_PLATFORM = "linux/amd64"

# Docker's tag grammar: a word character, then up to 127 word characters, dots or dashes.
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# Harbor project names: lowercase alphanumerics separated by . _ -
_HARBOR_PROJECT_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_PLATFORM_RE = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$")
_BUILD_ARG_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class PushOptions:
    """What the user asked for on the command line (None = not given)."""

    entrypoint: Path
    dockerfile: Path | None = None
    context: Path | None = None
    project_id: int | None = None
    model_name: str | None = None
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)
    platform: str | None = None
    harbor_project: str | None = None
    no_cache: bool = False
    podman_url: str | None = None
    insecure_registry: bool = False
    dry_run: bool = False
    #: ``--command``: the sub-command to train with (docs/extraction-rules.md).
    command: str | None = None
    #: ``--python``: the interpreter whose installed libraries extraction may read.
    python: str | None = None


@dataclass
class ResolvedSettings:
    """Options after applying flag > KEYNET_* env > project file > user config > default."""

    entrypoint: Path
    context: Path
    dockerfile: Path | None
    project_id: int | None
    model_name: str
    tags: list[str]
    build_args: dict[str, str]
    platform: str
    harbor_project: str
    podman_url: str | None
    project_file: Path | None
    project_source: str | None = None


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
        InputError: an invalid tag, platform, build-arg name or Harbor project name.
        InputError: ``--project`` is not a positive integer.
        ConfigError: ``KEYNET_PROJECT_ID`` is not a positive integer.
    """
    project_id: int | None = None
    project_source: str | None = None
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
            project_id, project_source = candidate, source
            break

    harbor_project = (
        options.harbor_project
        or environ.get("KEYNET_HARBOR_PROJECT")
        or project.harbor_project
        or (config.harbor_project if config else None)
        or DEFAULT_HARBOR_PROJECT
    )
    if not _HARBOR_PROJECT_RE.match(harbor_project) or len(harbor_project) > 255:
        raise InputError(
            f"Invalid Harbor project name: {harbor_project!r}.",
            "Use lowercase letters, digits and . _ - (e.g. kitech-model).",
        )

    tags = list(options.tags) if options.tags else list(project.tags)
    for tag in tags:
        if not _TAG_RE.match(tag):
            raise InputError(
                f"Invalid image tag: {tag!r}.",
                "A tag is 1-128 characters of letters, digits, '_', '.' and '-', "
                "not starting with '.' or '-'.",
            )
    tags = list(dict.fromkeys(tags))

    build_args = {**project.build_args, **options.build_args}
    for name in build_args:
        if not _BUILD_ARG_RE.match(name):
            raise InputError(f"Invalid build-arg name: {name!r}.", "Use --build-arg NAME=VALUE.")

    platform = validate_platform(options.platform or project.platform or DEFAULT_PLATFORM)

    # `cwd / path` leaves an absolute path as it is, so one rule covers both.
    entrypoint = cwd / options.entrypoint
    context = cwd / (options.context or project.context or cwd)
    dockerfile = options.dockerfile or project.dockerfile
    if dockerfile is not None:
        dockerfile = cwd / dockerfile

    return ResolvedSettings(
        entrypoint=entrypoint,
        context=context,
        dockerfile=dockerfile,
        project_id=project_id,
        model_name=options.model_name or project.model_name or options.entrypoint.name,
        tags=tags,
        build_args=build_args,
        platform=platform,
        harbor_project=harbor_project,
        podman_url=options.podman_url
        or environ.get("CONTAINER_HOST")
        or (config.podman_url if config else None),
        project_file=project.source,
        project_source=project_source,
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


# GOOS/GOARCH values podman accepts in --platform (Go's `go tool dist list`);
# anything else fails only after the context was sent, with podman's
# misleading "pinging container registry" text (docs/build-errors.md).
KNOWN_OS = (
    "linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly", "solaris",
    "illumos", "aix", "android", "ios", "plan9", "js", "wasip1",
)  # fmt: skip
KNOWN_ARCH = (
    "amd64", "arm64", "arm", "386", "ppc64le", "ppc64", "s390x", "riscv64", "mips",
    "mipsle", "mips64", "mips64le", "loong64", "wasm",
)  # fmt: skip


def validate_platform(platform: str) -> str:
    """Return ``platform`` if it is ``OS/ARCH[/VARIANT]`` with a known OS and architecture.

    Raises:
        InputError: malformed, or an OS/architecture podman does not know (the
            message names the nearest known one).
    """
    import difflib

    if not _PLATFORM_RE.match(platform):
        raise InputError(
            f"Invalid platform: {platform!r}.",
            "Use OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64.",
        )
    os_name, arch = platform.split("/")[:2]
    for kind, value, known in (("OS", os_name, KNOWN_OS), ("architecture", arch, KNOWN_ARCH)):
        if value not in known:
            # uname's names for the two common architectures are not Go's.
            alias = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64"}.get(value)
            close = [alias] if alias else difflib.get_close_matches(value, known, n=1, cutoff=0.5)
            guess = f"Did you mean {close[0]}? " if close else ""
            raise InputError(
                f"Invalid platform: {platform!r}: unknown {kind} {value!r}.",
                f"{guess}Use OS/ARCH[/VARIANT], e.g. linux/amd64 (the training "
                f"platform's GPU nodes) or linux/arm64; known {kind}s: {', '.join(known)}.",
            )
    return platform
