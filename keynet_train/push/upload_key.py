"""The upload key of a push: a record on the platform, requested once the image is ready.

:func:`obtain_upload_key` reuses the key of an earlier push of the same image
that failed after its key (the build cache's pending pushes, :func:`pending_push`)
unless ``--new-key`` asks for a fresh one; otherwise it asks the backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keynet_train.progress import Reporter, SlowCall, live_progress
from keynet_train.push.settings import PushOptions, ResolvedSettings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from keynet_train.backend.client import BackendClient, UploadKeyResponse
    from keynet_train.backend.models import HyperParameter
    from keynet_train.build.pending_pushes import PendingPush
    from keynet_train.config import Config
    from keynet_train.push.image_build import BuiltImage
    from keynet_train.push.pipeline import PreparedPush, PushServices


def pending_push(
    config: Config,
    project_id: int,
    model_name: str,
    prepared: PreparedPush,
    built: BuiltImage,
    settings: ResolvedSettings,
) -> PendingPush:
    """This push as the cache records it once it has a key (key fields still empty)."""
    import time

    from keynet_train.backend.models import definition_fields
    from keynet_train.build.pending_pushes import PendingPush, hyperparameters_hash

    return PendingPush(
        upload_key="",
        record_id=0,
        command=None,
        server_url=config.server_url or "",
        project_id=project_id,
        model_name=model_name,
        hyperparameters_hash=hyperparameters_hash(
            [definition_fields(a) for a in prepared.extraction.arguments]
        ),
        build_fingerprint=built.fingerprint,
        tags=tuple(settings.tags),
        time=time.time(),
    )


def obtain_upload_key(
    backend: BackendClient,
    pending: PendingPush,
    prepared: PreparedPush,
    options: PushOptions,
    services: PushServices,
    reporter: Reporter,
) -> UploadKeyResponse:
    """Step 5: the key of the same push that did not finish, else a new one (recorded at once).

    Raises:
        AuthenticationError / ValidationError / NotFoundError / BackendError: backend failures.
    """
    from dataclasses import replace

    from keynet_train.backend.client import UploadKeyResponse

    pushes = services.build_cache.pending_pushes() if services.build_cache else None
    earlier = pushes.find(pending.match) if pushes is not None else None
    if earlier is not None and not options.new_key:
        reporter.step_started("Request upload key")
        reporter.info(
            f"Reusing upload key {earlier.upload_key}: an earlier push of the same project, "
            "model name, hyperparameters and build inputs registered it and did not finish "
            "(--new-key registers a new one)"
        )
        reporter.step_finished("Request upload key", f"{earlier.upload_key} (reused)")
        return UploadKeyResponse(
            id=earlier.record_id, upload_key=earlier.upload_key, command=earlier.command
        )
    upload = _request_upload_key(
        backend, pending.project_id, pending.model_name, prepared.extraction.arguments, reporter
    )
    if pushes is not None:
        pushes.record(
            replace(
                pending, upload_key=upload.upload_key, record_id=upload.id, command=upload.command
            )
        )
    return upload


def _request_upload_key(
    backend: BackendClient,
    project_id: int,
    model_name: str,
    hyperparameters: Sequence[HyperParameter],
    reporter: Reporter,
) -> UploadKeyResponse:
    """Step 5: register the model name and hyperparameters; the key is a platform record.

    Raises:
        AuthenticationError / ValidationError / NotFoundError / BackendError: backend failures.
    """
    reporter.step_started("Request upload key")
    endpoint = f"POST /v1/projects/{project_id}/trains/images"
    with SlowCall(live_progress(reporter), reporter.info, endpoint):
        upload = backend.request_upload_key(project_id, model_name, hyperparameters)
    reporter.step_finished("Request upload key", upload.upload_key)
    return upload
