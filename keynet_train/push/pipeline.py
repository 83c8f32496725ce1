"""The push pipeline: validate, extract, project, build, registry check, key, push.

The steps are described in docs/commands.md (push).

This module decides *what* happens and in which order; it never prints or
prompts. Progress goes to a :class:`~keynet_train.progress.Reporter`, the
interactive project pick is a callback supplied by the CLI, and every
failure is a :class:`~keynet_train.errors.KeynetError`.

Checks that need no network run first (entrypoint, Dockerfile, context,
tags), and the upload key, a record on the platform, is requested only after
the image is built and the registry has accepted the robot credentials: a
failed build or a rejected robot account leaves nothing behind.

What the user asked for, resolved by precedence and validated, comes from
:mod:`keynet_train.push.settings`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.errors import (
    CommandMismatchError,
    note_left_behind,
)
from keynet_train.progress import (
    Background,
    HeldReporter,
    Reporter,
    live_progress,
)
from keynet_train.push.command_checks import (
    check_backend_command,
    check_platform_command,
    platform_command_text,
)
from keynet_train.push.image_build import BuiltImage, build_base
from keynet_train.push.labels import image_labels, repository_component, source_labels

# Re-exported: cli/commands/push.py imports the results from here.
from keynet_train.push.publish import (
    check_registry,
    push_references,
    start_registry_check,
    tag_image,
)
from keynet_train.push.results import DryRunResult, PushResult
from keynet_train.push.settings import (
    PushOptions,
    ResolvedSettings,
    extraction_python,
    resolve_settings,
)
from keynet_train.push.upload_key import obtain_upload_key, pending_push

if TYPE_CHECKING:
    from keynet_train.backend.client import BackendClient, ProjectsPage, UploadKeyResponse
    from keynet_train.build.cache import BuildCache
    from keynet_train.build.context import ContextSummary
    from keynet_train.config import Config
    from keynet_train.extraction import ExtractionResult
    from keynet_train.extraction.platform import PlatformCheck
    from keynet_train.podman.client import PodmanClient
    from keynet_train.push.image_check import FactsMemo, ImageFacts

DRY_RUN_REPOSITORY = "localhost/keynet-dry-run"
#: Said when extraction is partial (``complete: false``).
PARTIAL_LIST = (
    "the hyperparameter list may be partial: code that may add arguments could not be "
    "followed at the places warned about above (complete: false)"
)

ProjectChooser = Callable[[Callable[[int], "ProjectsPage"]], int]
"""Picks a project id given a function that fetches page N (0-based) of trainable projects."""


# --------------------------------------------------------------------------- pipeline


EngineOpener = Callable[[str | None], AbstractContextManager["PodmanClient"]]
BackendFactory = Callable[["Config"], "BackendClient"]


@dataclass
class PushServices:
    """The collaborators of :func:`run_push`, injected so tests can swap them."""

    open_engine: EngineOpener
    backend_for: BackendFactory
    choose_project: ProjectChooser
    load_config: Callable[[], Config | None]
    trust_registry_ca: Callable[[str, Path], object] | None = None
    build_cache: BuildCache | None = None
    debug_log: Callable[[str], None] | None = None


@dataclass
class PreparedPush:
    """What the local, offline steps (validate, extract, settings, context) produced."""

    settings: ResolvedSettings
    extraction: ExtractionResult
    """Its arguments go to the backend as they are: the client maps their six fields."""
    described: list[dict[str, object]]
    """The arguments with their descriptor (docs/cli-descriptor.md): label and results."""
    summary: ContextSummary
    entry_in_context: str
    #: The predicted platform command and its problems (set by the command check).
    platform: PlatformCheck | None = None


def run_push(
    options: PushOptions,
    *,
    environ: Mapping[str, str],
    cwd: Path,
    services: PushServices,
    reporter: Reporter,
) -> PushResult | DryRunResult:
    """Run the whole push (or ``--dry-run``) and return its result.

    Run order (docs/commands.md, push): credentials, validate + extract, command check,
    project, build, image check, registry credential check, upload key,
    command check of the backend's command, labels, tag, push. The upload key
    creates a record on the platform, so it is requested only once nothing
    local can fail any more.

    Raises:
        NotLoggedInError: no credentials or an expired token (before any request).
        EntrypointError / ExtractionError: the script is unreadable or unparsable.
        ConfigError / InputError: invalid project file, flags or variables.
        BuildError: Dockerfile/context problems, podman unavailable, build failure.
        AuthenticationError / ValidationError / NotFoundError / BackendError: backend failures.
        RegistryError / RegistryAuthError: credential check or push failures.
    """
    config = None if options.dry_run else _check_credentials(services, reporter)
    prepared = _prepare(options, environ, cwd, config, reporter)
    prepared.platform = check_platform_command(prepared, options.dry_run, reporter)
    # Run order from here: command check of the predicted platform command,
    # project, build, image check, registry check, upload key, command check
    # of the backend's command, labels, tag, push.
    if options.dry_run:
        return _dry_run(prepared, services, reporter, options.no_cache)
    assert config is not None
    return _push(options, prepared, config, services, reporter)


def _check_credentials(services: PushServices, reporter: Reporter) -> Config:
    """Step 1: the stored login, refused when missing or expired (no request is sent)."""
    from keynet_train.auth import require_credentials

    reporter.step_started("Check credentials")
    config = require_credentials(services.load_config(), datetime.now(timezone.utc))
    reporter.step_finished("Check credentials", f"{config.username} @ {config.server_url}")
    return config


def _prepare(
    options: PushOptions,
    environ: Mapping[str, str],
    cwd: Path,
    config: Config | None,
    reporter: Reporter,
) -> PreparedPush:
    """Steps 2-3 and the offline checks of step 6: everything that needs no network."""
    from keynet_train.extraction import to_described_arguments
    from keynet_train.push.project_file import find_project_settings

    entry = cwd / options.entrypoint
    # The project file (docs/commands.md) may name the sub-command to train with, the
    # build context and the interpreter whose libraries are read (docs/extraction-rules.md).
    project = find_project_settings(entry)
    extraction = _extract(
        entry,
        options.command or project.command,
        reporter,
        context=cwd / (options.context or project.context or cwd),
        python=extraction_python(options.python, environ, cwd),
        project_python=project.python,
        environ=environ,
    )
    # The backend client sends the six fields of each argument; the label and the
    # results also carry the descriptor (docs/cli-descriptor.md).
    described = to_described_arguments(extraction)
    settings = resolve_settings(options, environ, project, config, cwd)
    if settings.project_file is not None:
        reporter.info(f"Using project file {settings.project_file}")
    summary, entry_in_context = _check_context(settings, entry, reporter)
    return PreparedPush(settings, extraction, described, summary, entry_in_context)


def _extract(
    entry: Path,
    command: str | None,
    reporter: Reporter,
    *,
    context: Path,
    python: str | None,
    project_python: Path | None,
    environ: Mapping[str, str],
) -> ExtractionResult:
    """Steps 2-3: validate the entrypoint and extract its hyperparameters statically.

    Imports are followed into the project (``context`` is an import root) and
    into the libraries of the environment the user named with ``python``, else
    of the project file's virtualenv ``project_python`` (read, never run).
    """
    from keynet_train.extraction import extract_hyperparameters
    from keynet_train.notices import EXTRACTION, INCOMPLETE, Notice

    reporter.step_started("Validate and extract hyperparameters")
    extraction = extract_hyperparameters(
        entry,
        command,
        context=context,
        python=python,
        project_python=project_python,
        environ=environ,
    )
    for diag in extraction.diagnostics:
        if diag.severity == "warning":
            reporter.notice(Notice(EXTRACTION, diag.message, diag.path, diag.line or None))
        else:
            where = f"{diag.path}:{diag.line}: " if diag.line else f"{diag.path}: "
            reporter.info(where + diag.message)
    if extraction.parser_type is not None and not extraction.complete:
        reporter.notice(Notice(INCOMPLETE, PARTIAL_LIST))
    sub = f" of sub-command {extraction.command!r}" if extraction.command else ""
    reporter.step_finished(
        "Validate and extract hyperparameters",
        f"{extraction.parser_type or 'no parser'}, {len(extraction.arguments)} arguments{sub}",
    )
    return extraction


def _check_context(
    settings: ResolvedSettings, entry: Path, reporter: Reporter
) -> tuple[ContextSummary, str]:
    """Dockerfile, ignore rules and the entrypoint's place in the context, before any request."""
    from keynet_train.build.context import (
        check_entrypoint,
        human_size,
        resolve_context,
        resolve_dockerfile,
        scan_context,
    )
    from keynet_train.notices import BUILD_CONTEXT, Notice

    reporter.step_started("Check build context")
    # Symlinks and ".." are resolved here, once, for the context; the
    # entrypoint gets the same treatment in check_entrypoint.
    context = resolve_context(settings.context)
    dockerfile = resolve_dockerfile(context, settings.dockerfile, entry)
    summary = scan_context(context, dockerfile)
    entry_in_context = check_entrypoint(summary, entry)
    for warning in summary.warnings:
        reporter.notice(Notice(BUILD_CONTEXT, warning))
    reporter.step_finished(
        "Check build context",
        f"{summary.file_count} files, {human_size(summary.total_size)} (Dockerfile: {dockerfile})",
    )
    return summary, entry_in_context


# Over 60 lines on purpose: the steps share one engine, one backend session and
# one try block, whose handler must know how far a push got after its key.
def _push(
    options: PushOptions,
    prepared: PreparedPush,
    config: Config,
    services: PushServices,
    reporter: Reporter,
) -> PushResult:
    """The steps after extraction, in run order (docs/commands.md, push).

    Project, build, image check, registry check, upload key (or the key of
    the same push that did not finish), command check of the backend's
    command, labels, tag, push. Everything that can fail for a local reason
    comes before the key (a record on the platform); whatever fails after it
    says that the key is registered and how to finish.
    """
    assert config.harbor is not None  # guaranteed by require_credentials
    settings = prepared.settings
    with services.open_engine(settings.podman_url) as engine:
        # The user's build needs nothing from the backend, so it starts while
        # the project is chosen (maybe interactively); its log is held back
        # until then so it does not scroll over a prompt.
        held = HeldReporter(reporter)
        summary, no_cache = prepared.summary, options.no_cache
        cache = services.build_cache
        build = Background(lambda: build_base(engine, summary, settings, no_cache, cache, held))
        # The registry check needs nothing from the build either: it runs during
        # it, and its outcome is reported (and acted on) at its place in the order.
        registry = start_registry_check(config, settings, services, reporter)
        source = Background(lambda: source_labels(settings.context))  # git, for the labels
        upload: UploadKeyResponse | None = None
        stage = "without an image"
        try:
            with services.backend_for(config) as backend:
                project_id = _choose_project(settings, services, backend, reporter)
                built = _await_build(build, held, reporter)
                memo = cache.image_checks() if cache is not None else None
                facts = check_built_image(engine, built.image_id, prepared, reporter, memo)
                check_registry(registry, config, reporter)
                pending = pending_push(
                    config, project_id, facts.model_name, prepared, built, settings
                )
                upload = obtain_upload_key(backend, pending, prepared, options, services, reporter)
            # From here on the key is a record on the platform.
            backend_problems = check_backend_command(upload, prepared, reporter)
            image = (
                f"{config.harbor.host}/{settings.harbor_project}/"
                f"{repository_component(upload.upload_key)}"
            )
            image_id = _label_image(
                engine, built.image_id, image, prepared, upload.upload_key, source, reporter
            )
            references = tag_image(engine, image_id, image, settings.tags, reporter)
            stage = "and its image may be only partly pushed"
            digest = push_references(
                engine, references, image_id, config, settings, services, reporter
            )
            if services.build_cache is not None:
                services.build_cache.pending_pushes().clear(pending.match)
        except BaseException as exc:
            if upload is not None:
                _note_registered_key(exc, upload.upload_key, stage, services)
            raise
    if services.build_cache is not None:
        services.build_cache.wait()
    return PushResult(
        upload_key=upload.upload_key,
        image=image,
        tags=[r.rsplit(":", 1)[1] for r in references],
        digest=digest,
        project_id=project_id,
        model_name=facts.model_name,
        parser_type=prepared.extraction.parser_type,
        hyperparameters=prepared.described,
        command=upload.command or "",
        subcommand=prepared.extraction.command,
        complete=prepared.extraction.complete,
        platform_command=platform_command_text(prepared, facts.model_name),
        problems=backend_problems,
    )


def _note_registered_key(
    exc: BaseException, upload_key: str, stage: str, services: PushServices
) -> None:
    """Add to ``exc`` that the key is registered and how the user finishes the push."""
    # A mismatching backend command says itself what it left (the same
    # push would meet the same command).
    if isinstance(exc, CommandMismatchError):
        return
    finish = (
        "run the same push again to finish it (it reuses this key)"
        if services.build_cache is not None
        else "a new push registers another key"
    )
    note_left_behind(exc, f"Upload key {upload_key} is registered {stage}; {finish}.")


def _choose_project(
    settings: ResolvedSettings,
    services: PushServices,
    backend: BackendClient,
    reporter: Reporter,
) -> int:
    """Step 4: the configured project, else the interactive pick."""
    reporter.step_started("Choose project")
    project_id = settings.project_id
    if project_id is None:
        project_id = services.choose_project(
            lambda page: backend.fetch_trainable_projects(page=page, limit=20)
        )
        source = "interactive choice"
    else:
        source = settings.project_source or "--project"
    reporter.step_finished("Choose project", f"{project_id} (from {source})")
    return project_id


def _await_build(
    build: Background[BuiltImage], held: HeldReporter, reporter: Reporter
) -> BuiltImage:
    """Step 6: wait for the background build, showing its log in its own step.

    Raises:
        BuildError / PodmanUnavailableError: the build failed.
    """
    reporter.step_started("Build image")
    held.release()
    # The build runs in another thread with no live display of its own; the
    # spinner shows it is alive between its log lines (docs/terminal.md).
    live = live_progress(reporter)
    spinner = live.activity("Building image") if live is not None else None
    if spinner is not None and held.live is not None:
        # The context upload's bytes and the current STEP, from the build thread.
        held.live.attach(spinner, "Building image: ")
    try:
        built = build.result()
    finally:
        if held.live is not None:
            held.live.detach()
        if spinner is not None:
            spinner.close()
    reporter.step_finished("Build image", built.image_id[:12])
    return built


def check_built_image(
    engine: PodmanClient,
    image_id: str,
    prepared: PreparedPush,
    reporter: Reporter,
    memo: FactsMemo | None = None,
) -> ImageFacts:
    """The image check (docs/push.md): the platform's command can start in the image.

    Raises:
        ImageCheckError: see :func:`keynet_train.push.image_check.check_image`.
        BuildError / PodmanUnavailableError: podman failed to answer.
    """
    from keynet_train.notices import IMAGE_ENTRYPOINT, Notice
    from keynet_train.push.image_check import check_image

    settings = prepared.settings
    reporter.step_started("Check image")
    facts = check_image(
        engine,
        image_id,
        entrypoint=settings.entrypoint,
        context=prepared.summary.context_dir,
        model_name=settings.model_name,
        platform=settings.platform,
        dockerfile=prepared.summary.dockerfile,
        memo=memo,
    )
    for warning in facts.warnings:
        reporter.notice(Notice(IMAGE_ENTRYPOINT, warning, str(prepared.summary.dockerfile)))
    reporter.step_finished(
        "Check image",
        f"python {facts.model_name} in {facts.workdir} (python: {facts.python}, "
        f"{facts.os}/{facts.architecture})",
    )
    return facts


def _label_image(
    engine: PodmanClient,
    base_id: str,
    image: str,
    prepared: PreparedPush,
    upload_key: str,
    source: Background[dict[str, str]],
    reporter: Reporter,
) -> str:
    """The labels of docs/platform-contract.md (they carry the upload key, so come after it).

    ``source`` looks up the git labels (:func:`~keynet_train.push.labels.source_labels`).
    """
    reporter.step_started("Label image")
    labels = image_labels(
        prepared.settings.context,
        prepared.entry_in_context,
        upload_key,
        prepared.described,
        subcommand=prepared.extraction.command,
        source=source.result(),
    )
    image_id = engine.add_labels(base_id, labels, tag=f"{image}:latest", reporter=reporter)
    reporter.step_finished("Label image", image_id[:12])
    return image_id


def prepare_local(
    options: PushOptions, environ: Mapping[str, str], cwd: Path, reporter: Reporter
) -> PreparedPush:
    """Validate, extract and check the context as ``push --dry-run`` does (no login needed).

    Used by ``keynet-train run``, which builds exactly what push builds.

    Raises:
        EntrypointError / ExtractionError: the script is unreadable or unparsable.
        ConfigError / InputError: invalid project file, flags or variables.
        BuildError: Dockerfile or context problems.
    """
    return _prepare(options, environ, cwd, None, reporter)


def build_local_image(
    engine: PodmanClient,
    prepared: PreparedPush,
    image: str,
    *,
    build_cache: BuildCache | None,
    no_cache: bool,
    reporter: Reporter,
) -> str:
    """Build (or reuse) the user's image, add the KeyNet labels without an upload key, tag it.

    The same build, cache and labels as ``push --dry-run``; returns the image id.

    Raises:
        BuildError / PodmanUnavailableError: see :meth:`PodmanClient.build`.
    """
    settings = prepared.settings
    labels = image_labels(
        settings.context,
        prepared.entry_in_context,
        None,
        prepared.described,
        subcommand=prepared.extraction.command,
    )
    built = build_base(engine, prepared.summary, settings, no_cache, build_cache, reporter)
    return engine.add_labels(built.image_id, labels, tag=image, reporter=reporter)


def _dry_run(
    prepared: PreparedPush, services: PushServices, reporter: Reporter, no_cache: bool
) -> DryRunResult:
    """Step 6 and the image check, tagged locally: what a push would send, and its image."""
    settings, summary = prepared.settings, prepared.summary
    image = f"{DRY_RUN_REPOSITORY}:{local_tag(settings.entrypoint)}"
    with services.open_engine(settings.podman_url) as engine:
        reporter.step_started("Build image (dry run)")
        image_id = build_local_image(
            engine,
            prepared,
            image,
            build_cache=services.build_cache,
            no_cache=no_cache,
            reporter=reporter,
        )
        reporter.step_finished("Build image (dry run)", f"{image} ({image_id[:12]})")
        # What a push would refuse before its key, a dry run refuses too.
        facts = check_built_image(engine, image_id, prepared, reporter)
    if services.build_cache is not None:
        services.build_cache.wait()
    return DryRunResult(
        image=image,
        image_id=image_id,
        target_repository=f"<harbor-host>/{settings.harbor_project}/<upload-key>",
        dockerfile=summary.dockerfile,
        context=summary.context_dir,
        file_count=summary.file_count,
        total_size=summary.total_size,
        largest_files=[(e.path, e.size) for e in summary.largest_files],
        ignore_file=summary.ignore_file,
        parser_type=prepared.extraction.parser_type,
        hyperparameters=prepared.described,
        model_name=facts.model_name,
        subcommand=prepared.extraction.command,
        complete=prepared.extraction.complete,
        platform_command=platform_command_text(prepared, facts.model_name),
        problems=prepared.platform.problems if prepared.platform else [],
    )


def local_tag(entrypoint: Path) -> str:
    """The tag of a locally built image of ``entrypoint``: its stem, made a valid tag."""
    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", entrypoint.stem).lstrip(".-") or "train"
    return tag[:128]
