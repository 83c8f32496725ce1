"""Building the user's image, reused when its inputs have not changed.

:func:`build_base` builds the image from the scanned context (or takes the
build cache's image id when the Dockerfile, the context's files, the build
args, the platform and the base images are all the same as last time);
:class:`BuiltImage` is what the rest of the push needs of it. The KeyNet
labels are added afterwards (:mod:`keynet_train.push.labels`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from keynet_train.errors import BuildError
from keynet_train.progress import Reporter
from keynet_train.push.settings import ResolvedSettings

if TYPE_CHECKING:
    from keynet_train.build.cache import BuildCache
    from keynet_train.build.context import ContextSummary
    from keynet_train.build.fingerprint import FileDigests
    from keynet_train.podman.client import PodmanClient


@dataclass(frozen=True)
class BuiltImage:
    """The user's image, and what identifies the inputs it was built from."""

    image_id: str
    #: The build cache's reuse key when the inputs could be read, else the image id.
    fingerprint: str


def build_base(
    engine: PodmanClient,
    summary: ContextSummary,
    settings: ResolvedSettings,
    no_cache: bool,
    cache: BuildCache | None,
    reporter: Reporter,
) -> BuiltImage:
    """Build the user's image, or reuse the build of unchanged inputs.

    Reuse needs the same context content, build args, platform and external
    image ids (see :mod:`keynet_train.build.fingerprint`). A key is recorded only
    when the inputs read before and after the build agree: a file edited or
    a base image re-tagged while podman was building would otherwise map
    the new inputs to an image built from the old ones.

    Raises:
        BuildError / PodmanUnavailableError: see :meth:`PodmanClient.build`.
    """
    digests = cache.file_digests() if cache is not None else None
    before: _BuildInputs | None = None
    shape: str | None = None
    if cache is not None:
        from keynet_train.build.fingerprint import context_shape

        shape = context_shape(summary, settings.build_args, settings.platform)
        # Files are hashed before the build only when a recorded build has the
        # same shape (paths, modes, sizes): no other can match. Otherwise they
        # are hashed from the bytes sent to the build, one read per file.
        worth_hashing = not no_cache and shape is not None and cache.has_shape(shape)
        before = _build_inputs(engine, summary, settings, digests, hash_files=worth_hashing)
    if cache is not None and before is not None and not no_cache:
        reused = _reuse(engine, cache, before, digests, reporter)
        if reused is not None:
            return reused
    base = engine.build(
        summary,
        buildargs=settings.build_args,
        platform=settings.platform,
        nocache=no_cache,
        reporter=reporter,
        digests=digests,
    ).image_id
    fingerprint = f"image:{base}"
    if cache is not None and before is not None:
        # A re-stat, not a re-read: every file must still be as it was sent.
        after = _build_inputs(engine, summary, settings, digests, restat_only=True)
        if (
            after is not None
            and after.context is not None
            and after.complete
            and before.agrees_with(after)
        ):
            cache.store(after.key(), base, shape)
            fingerprint = after.key()
    if cache is not None and digests is not None:
        cache.save_digests_later(digests)
    return BuiltImage(base, fingerprint)


def _reuse(
    engine: PodmanClient,
    cache: BuildCache,
    before: _BuildInputs,
    digests: FileDigests | None,
    reporter: Reporter,
) -> BuiltImage | None:
    """The recorded build of the same complete inputs, if its image still exists."""
    if before.context is None or not before.complete:
        return None
    base = cache.lookup(before.key())
    if base is None or not engine.image_exists(base):
        return None
    # Every layer would come from the cache anyway; skipping the build
    # saves sending the whole context to podman again.
    reporter.info(
        f"Inputs unchanged since the build of image {base[:12]} (context and base "
        "images): reusing it (--no-cache rebuilds)"
    )
    if digests is not None:
        cache.save_digests_later(digests)
    return BuiltImage(base, before.key())


@dataclass(frozen=True)
class _BuildInputs:
    """What a build reads: the context fingerprint and each external image's id (None: absent).

    ``context`` is None when the files were not hashed (before a build whose
    shape no recorded build has).
    """

    context: str | None
    images: tuple[tuple[str, str | None], ...]

    @property
    def complete(self) -> bool:
        return all(image_id is not None for _, image_id in self.images)

    def key(self) -> str:
        from keynet_train.build.fingerprint import reuse_key

        assert self.context is not None, "key() of inputs whose files were not hashed"
        return reuse_key(self.context, [(ref, image_id or "") for ref, image_id in self.images])

    def agrees_with(self, after: _BuildInputs) -> bool:
        # An image absent before the build was pulled by it: its id now is the one used.
        # Files not hashed before were hashed as they were sent, and the re-stat
        # after the build says they did not change since.
        return (self.context is None or self.context == after.context) and all(
            early is None or early == late
            for (_, early), (_, late) in zip(self.images, after.images, strict=True)
        )


def _build_inputs(
    engine: PodmanClient,
    summary: ContextSummary,
    settings: ResolvedSettings,
    digests: FileDigests | None,
    *,
    hash_files: bool = True,
    restat_only: bool = False,
) -> _BuildInputs | None:
    """The inputs of a build of ``summary``; None when they cannot be determined.

    ``hash_files`` False leaves the context fingerprint out (None);
    ``restat_only`` takes every file's digest from this run, by stat (see
    :func:`keynet_train.build.fingerprint.context_fingerprint`).

    Raises:
        BuildError / PodmanUnavailableError: the service failed to answer an inspect.
    """
    from keynet_train.build.dockerfile import SCRATCH, external_images
    from keynet_train.build.fingerprint import context_fingerprint

    context = (
        context_fingerprint(
            summary, settings.build_args, settings.platform, digests, restat_only=restat_only
        )
        if hash_files or restat_only
        else None
    )
    from keynet_train.build.context import read_dockerfile

    try:
        text = read_dockerfile(summary.dockerfile)
    except BuildError:
        return None
    references = external_images(text, settings.build_args)
    if references is None or (context is None and (hash_files or restat_only)):
        return None
    images = tuple((ref, SCRATCH if ref == SCRATCH else engine.image_id(ref)) for ref in references)
    return _BuildInputs(context, images)
