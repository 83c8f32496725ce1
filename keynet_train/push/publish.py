"""The registry side of a push: the credential check, the tags, ``podman push``, the digest.

:func:`start_registry_check` asks the registry (``/v2/`` with the robot
account) in the background while the image builds and :func:`check_registry`
waits for and reports the answer; :func:`tag_image` and :func:`push_references`
tag the labelled image and push every reference, then look up the manifest
digest the registry stored. The upload key is requested before the push
(:mod:`keynet_train.push.upload_key`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.errors import RegistryError
from keynet_train.progress import Background, Reporter
from keynet_train.push.settings import ResolvedSettings

if TYPE_CHECKING:
    from keynet_train.config import Config
    from keynet_train.podman.client import PodmanClient
    from keynet_train.push.pipeline import PushServices
    from keynet_train.registry.answers import RegistryCheck


def start_registry_check(
    config: Config, settings: ResolvedSettings, services: PushServices, reporter: Reporter
) -> Background[RegistryCheck]:
    """Start checking, in the background, that the registry accepts the robot credentials.

    On a Harbor (Bearer) registry this includes the push permission on
    ``settings.harbor_project``. :func:`check_registry` waits for the outcome. A
    plain-http registry on another host is warned about first (it is only
    contacted with ``--insecure-registry``).
    """
    from keynet_train.registry.answers import cleartext_registry_warning
    from keynet_train.registry.client import RegistryClient
    from keynet_train.urls import is_cleartext_remote

    assert config.harbor is not None
    harbor = config.harbor
    if settings.insecure_registry and is_cleartext_remote(harbor.url):
        reporter.warning(cleartext_registry_warning(harbor.url, harbor.username))

    def check() -> RegistryCheck:
        with RegistryClient(
            harbor,
            ca_bundle=settings.ca_bundle,
            insecure=settings.insecure_registry,
            debug_log=services.debug_log,
        ) as registry:
            return registry.verify_push_access(settings.harbor_project)

    return Background(check)


def check_registry(check: Background[RegistryCheck], config: Config, reporter: Reporter) -> None:
    """The registry must accept the robot credentials before a key is requested.

    "Verified" is said only of credentials the registry checked: an open
    registry (no credentials asked) is reported as not verifying them.

    Raises:
        RegistryAuthError: the registry rejected the credentials.
        RegistryPermissionError / HarborProjectNotFoundError: the robot may not
            push to the Harbor project, or it does not exist.
        RegistryError: the registry cannot be reached or is not a registry, or
            it is plain http:// on another host without --insecure-registry.
        ConfigError: KEYNET_CA_BUNDLE is unusable.
    """
    assert config.harbor is not None
    harbor = config.harbor
    reporter.step_started("Check registry credentials")
    outcome = check.result()
    if outcome.credentials_checked:
        detail = f"{harbor.username} @ {harbor.host}"
    else:
        detail = (
            f"{harbor.host} asks for no credentials: {harbor.username} NOT verified "
            "(the push will tell)"
        )
    reporter.step_finished("Check registry credentials", detail)


def tag_image(
    engine: PodmanClient, image_id: str, image: str, tags: list[str], reporter: Reporter
) -> list[str]:
    """Step 7: ``:latest`` (set when labelling) plus every ``--tag``; returns all references."""
    reporter.step_started("Tag image")
    references = list(dict.fromkeys([f"{image}:latest"] + [f"{image}:{tag}" for tag in tags]))
    for tag in tags:
        engine.tag(image_id, image, tag)
    reporter.step_finished("Tag image", ", ".join(references))
    return references


def push_references(
    engine: PodmanClient,
    references: list[str],
    image_id: str,
    config: Config,
    settings: ResolvedSettings,
    services: PushServices,
    reporter: Reporter,
) -> str | None:
    """Step 8: push every reference with the robot credentials; return the manifest digest.

    The digest is never the registry's word alone: the manifest it serves must
    hash to it and name ``image_id`` (podman's digest of the image config) as
    its config, and a digest podman reported itself must be the same.

    Raises:
        RegistryError: the push failed, or the registry's manifest contradicts
            what podman pushed.
    """
    from keynet_train.notices import NO_DIGEST, Notice

    assert config.harbor is not None
    harbor = config.harbor
    _registry_trust(harbor.host, settings, services, reporter)
    reporter.step_started("Push image")
    credentials = harbor  # as login stored it: podman builds its auth payload from it
    digest: str | None = None
    asked: list[str | None] = []

    def lookup(reference: str) -> str | None:
        # Every tag names the same manifest: ask the registry once.
        if digest:
            return digest
        asked.append(_registry_digest(reference, image_id, config, settings, services))
        return asked[-1]

    for reference in references:
        reporter.info(f"Pushing {reference}")
        pushed = engine.push(
            reference,
            credentials,
            tls_verify=not settings.insecure_registry,
            reporter=reporter,
            digest_lookup=lookup,
        )
        digest = digest or pushed.digest
    if digest is not None and not asked:
        # podman reported the digest itself (podman 5): the registry must agree.
        held = _registry_digest(references[0], image_id, config, settings, services)
        _same_digest(references[0], digest, held)
    if digest is None:
        reporter.notice(
            Notice(
                NO_DIGEST,
                f"The push succeeded but {harbor.host} did not report the manifest digest.",
            )
        )
    reporter.step_finished("Push image", digest or "")
    return digest


def _registry_trust(
    host: str, settings: ResolvedSettings, services: PushServices, reporter: Reporter
) -> None:
    """Say that TLS is not verified (``--insecure-registry``), else install the CA for podman."""
    from keynet_train.notices import INSECURE_REGISTRY, Notice

    if settings.insecure_registry:
        reporter.notice(
            Notice(
                INSECURE_REGISTRY,
                f"--insecure-registry: TLS certificates of {host} are NOT verified.",
            )
        )
    elif settings.ca_bundle and services.trust_registry_ca is not None:
        services.trust_registry_ca(host, Path(settings.ca_bundle))


def _same_digest(reference: str, pushed: str, held: str | None) -> None:
    """Refuse a digest podman reported that the registry contradicts.

    Raises:
        RegistryError: the registry holds another manifest under ``reference``.
    """
    if held is not None and held != pushed:
        raise RegistryError(
            f"podman pushed {reference} as {pushed}, but the registry holds {held}",
            "The registry (or a proxy in front of it) does not hold what podman pushed; "
            "tell the platform team, and do not use this digest.",
        )


def _registry_digest(
    reference: str,
    image_id: str,
    config: Config,
    settings: ResolvedSettings,
    services: PushServices,
) -> str | None:
    """The registry's digest of a pushed ``host/repository:tag`` reference (None if unknown).

    Raises:
        RegistryError: the registry's manifest does not hash to its digest, or
            is not the image ``image_id`` (see :meth:`RegistryClient.manifest_digest`).
    """
    from keynet_train.errors import KeynetError
    from keynet_train.registry.client import RegistryClient

    assert config.harbor is not None
    name, _, tag = reference.rpartition(":")
    repository = name.split("/", 1)[1]
    try:
        registry = RegistryClient(
            config.harbor,
            ca_bundle=settings.ca_bundle,
            insecure=settings.insecure_registry,
            debug_log=services.debug_log,
        )
    except KeynetError:
        return None  # the push itself succeeded; only the digest is unknown
    with registry:
        return registry.manifest_digest(repository, tag, image_id)
