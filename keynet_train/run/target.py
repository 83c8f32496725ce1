"""What ``keynet-train run`` runs: the entrypoint's image built as push builds it, or ``--image``.

The build, the image check and the reading of an image's labels are push's
own (:mod:`keynet_train.push.pipeline`, :mod:`keynet_train.push.image_check`);
this module picks which applies and gathers what is known about the script.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.errors import InputError
from keynet_train.notices import IMAGE_CHECK_SKIPPED, IMAGE_ENTRYPOINT, Notice
from keynet_train.progress import Reporter
from keynet_train.push.labels import LABEL_PREFIX
from keynet_train.push.settings import PushOptions
from keynet_train.run.plan import set_values

if TYPE_CHECKING:
    from keynet_train.extraction import ExtractionResult
    from keynet_train.podman.client import PodmanClient
    from keynet_train.push.pipeline import PreparedPush
    from keynet_train.run.pipeline import RunOptions, RunServices

RUN_REPOSITORY = "localhost/keynet-run"


@dataclass
class Target:
    """The image to run and what is known about its script."""

    image: str | None
    extraction: ExtractionResult | None
    model_name: str
    context: Path


def prepare_push(
    options: RunOptions, environ: Mapping[str, str], cwd: Path, reporter: Reporter
) -> PreparedPush:
    """Push's local steps for the entrypoint: settings, validation, extraction, context.

    Raises:
        EntrypointError / ExtractionError / ConfigError / InputError / BuildError:
            as :func:`keynet_train.push.pipeline.prepare_local`.
    """
    from keynet_train.push.pipeline import prepare_local

    assert options.entrypoint is not None
    push_options = PushOptions(
        entrypoint=options.entrypoint, dry_run=True, **options.build_options()
    )
    return prepare_local(push_options, environ, cwd, reporter)


def build_target(
    options: RunOptions,
    environ: Mapping[str, str],
    cwd: Path,
    engine: PodmanClient,
    services: RunServices,
    reporter: Reporter,
) -> Target:
    """Build the entrypoint's image as push does (or read ``--image``) and check it."""
    if options.image is not None:
        return image_target(options, engine, cwd, reporter)
    from keynet_train.push.pipeline import build_local_image, check_built_image, local_tag

    prepared = prepare_push(options, environ, cwd, reporter)
    # --set is checked before anything is built (nothing has started yet).
    set_values(options, Target(None, prepared.extraction, "", cwd))
    image = f"{RUN_REPOSITORY}:{local_tag(prepared.settings.entrypoint)}"
    reporter.step_started("Build image")
    image_id = build_local_image(
        engine,
        prepared,
        image,
        build_cache=services.build_cache,
        no_cache=options.no_cache,
        reporter=reporter,
    )
    reporter.step_finished("Build image", f"{image} ({image_id[:12]})")
    if services.build_cache is not None:
        services.build_cache.wait()
    # push's own image check, on the image push would register.
    model_name = check_built_image(engine, image, prepared, reporter).model_name
    return Target(image, prepared.extraction, model_name, prepared.settings.context)


def image_target(
    options: RunOptions, engine: PodmanClient, cwd: Path, reporter: Reporter, *, check: bool = True
) -> Target:
    """``--image REF``: the descriptor and the entrypoint come from its labels."""
    from keynet_train.extraction import Argument, ExtractionResult

    assert options.image is not None
    reporter.step_started("Read image")
    labels = engine.image_labels(options.image)
    raw = labels.get(f"{LABEL_PREFIX}.hyperparameters")
    extraction: ExtractionResult | None = None
    if raw is not None:
        try:
            docs = json.loads(raw)
            arguments = [Argument.from_json(doc) for doc in docs]
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(
                f"The image {options.image} has an unreadable "
                f"{LABEL_PREFIX}.hyperparameters label.",
                "Rebuild it with keynet-train push, or run from the script: "
                "keynet-train run train.py",
            ) from e
        extraction = ExtractionResult(
            None, arguments, command=labels.get(f"{LABEL_PREFIX}.command")
        )
    elif options.command_line is None:
        raise InputError(
            f"The image {options.image} has no {LABEL_PREFIX}.hyperparameters label, so the "
            "platform's command cannot be predicted.",
            "Use an image built by keynet-train push or run, or give the command: "
            '--command-line "python train.py ..."',
        )
    reporter.step_finished(
        "Read image", f"{len(extraction.arguments) if extraction else 0} hyperparameters"
    )
    entry = labels.get(f"{LABEL_PREFIX}.entrypoint")
    if not check:
        return Target(options.image, extraction, options.model_name or entry or "train.py", cwd)
    local = options.entrypoint or (Path(entry) if entry else None)
    model_name = _check_image(
        engine,
        options.image,
        entrypoint=(cwd / local) if local is not None and (cwd / local).is_file() else None,
        context=cwd,
        model_name=options.model_name or entry,
        platform=options.platform,
        reporter=reporter,
    )
    return Target(options.image, extraction, model_name, cwd)


def _check_image(
    engine: PodmanClient,
    image: str,
    *,
    entrypoint: Path | None,
    context: Path,
    model_name: str | None,
    platform: str | None,
    reporter: Reporter,
    dockerfile: Path | None = None,
) -> str:
    """The image check of push (the entrypoint where the platform runs it, python, platform).

    Returns the model name (the entrypoint's path relative to WORKDIR). With
    ``--image`` and no local copy of its entrypoint there is nothing to
    compare the image's file with: the check is skipped, and said so.

    Raises:
        ImageCheckError: the platform could not run this image.
        BuildError / PodmanUnavailableError: podman failed to answer.
    """
    from keynet_train.build.image_names import DEFAULT_PLATFORM
    from keynet_train.push.image_check import check_image

    if entrypoint is None:
        reporter.notice(
            Notice(
                IMAGE_CHECK_SKIPPED,
                f"No local copy of the entrypoint of {image}: the image check (entrypoint, "
                "python on PATH, platform) was skipped. Run from the project folder to have it.",
            )
        )
        return model_name or "train.py"
    reporter.step_started("Check image")
    facts = check_image(
        engine,
        image,
        entrypoint=entrypoint,
        context=context,
        model_name=model_name,
        platform=platform or DEFAULT_PLATFORM,
        dockerfile=dockerfile,
    )
    for warning in facts.warnings:
        reporter.notice(Notice(IMAGE_ENTRYPOINT, warning, None, None))
    reporter.step_finished(
        "Check image", f"{facts.model_name} in {facts.workdir or '/'}, python at {facts.python}"
    )
    return facts.model_name
