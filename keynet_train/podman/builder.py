"""Building an image through a podman service: the context upload, the build log, labels.

Facts this module relies on, verified against podman 4.3.1 with podman-py 5.8
(see ``docs/testing.md``):

* ``/build`` streams JSON lines when posted with ``stream=True``; errors arrive
  *inside* the stream with HTTP 200, so the stream must be read to know
  whether the build worked.
* The build context can be sent as a chunked HTTP body (a generator), so a
  large context is never held in memory.
"""

from __future__ import annotations

import io
import json
import re
import signal
import tarfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keynet_train.build.failures import BuildStepError, StoreFacts, explain
from keynet_train.build.image_names import DEFAULT_PLATFORM
from keynet_train.errors import BuildError
from keynet_train.interrupts import Stopped
from keynet_train.podman.api import json_lines, raise_for_status
from keynet_train.podman.heartbeat import Heartbeat
from keynet_train.podman.images import ImageStore
from keynet_train.progress import LiveTask, NullReporter, Reporter, live_progress

if TYPE_CHECKING:
    from keynet_train.build.context import ContextSummary
    from keynet_train.build.tar_stream import DigestSink

# How often a long context upload reports how far it got (podman starts
# printing only once it has the whole tar).
CONTEXT_PROGRESS_SECONDS = 10.0
# A log line at most this often while a build is silent (a long RUN step).
BUILD_HEARTBEAT_SECONDS = 30.0

_STEP_RE = re.compile(r"^STEP (\d+)(?:/(\d+))?: (.*)$")
_IMAGE_ID_RE = re.compile(r"^[0-9a-f]{64}$")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
# Sent with every build (the caller's parameters override them).
_BUILD_PARAMS: dict[str, Any] = {
    "layers": True,
    "rm": True,
    # Also remove the working container when a step fails (rm alone does not).
    "forcerm": True,
    # Without an explicit format the libpod API builds Docker-format
    # intermediates that its own cache lookup never matches, so every
    # build started from scratch. OCI is also what `podman build` uses.
    "outputformat": OCI_MANIFEST,
}
_UNCONSUMED_ARGS_RE = re.compile(
    r"^\[Warning\] one or more build args were not consumed: \[(.*)\]$"
)
# podman sets these build args itself for the `platform` this client always
# sends; a Dockerfile that does not declare them made buildah warn about
# arguments the user never gave.
_PLATFORM_BUILD_ARGS = frozenset({"TARGETARCH", "TARGETOS", "TARGETPLATFORM", "TARGETVARIANT"})


@dataclass(frozen=True)
class BuildResult:
    """A finished build."""

    image_id: str
    tag: str | None
    steps: int


@dataclass
class _BuildProgress:
    step: int = 0
    total: int = 0
    instruction: str = ""
    image_id: str | None = None
    partial: str = ""


def _upload_progress(
    chunks: Iterator[bytes], total: int, reporter: Reporter, interval: float
) -> Iterator[bytes]:
    """Pass ``chunks`` through, reporting how much was sent.

    On a terminal (the reporter has a live display) a bar shows bytes and
    rate throughout; otherwise a line every ``interval`` s, quiet for uploads
    shorter than that. ``total`` is the size of the files (the tar adds
    headers, hence "about").
    """
    from keynet_train.build.context import human_size

    live = live_progress(reporter)
    task = live.transfer("Sending build context", total) if live is not None else None
    started = last = time.monotonic()
    sent = 0
    try:
        for chunk in chunks:
            yield chunk
            sent += len(chunk)
            if task is not None:
                task.advance(sent)
                continue
            now = time.monotonic()
            if now - last >= interval:
                last = now
                reporter.info(
                    f"Sending build context: {human_size(sent)} of about {human_size(total)}"
                )
    finally:
        if task is not None:
            task.close()
    elapsed = time.monotonic() - started
    if elapsed >= interval:
        reporter.info(f"Build context sent: {human_size(sent)} in {elapsed:.0f} s")


class ImageBuilder(ImageStore):
    """Builds images: the user's Dockerfile, then one LABEL step on top."""

    def build(
        self,
        summary: ContextSummary,
        *,
        tag: str | None = None,
        buildargs: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        platform: str | None = DEFAULT_PLATFORM,
        nocache: bool = False,
        reporter: Reporter | None = None,
        progress_interval: float = CONTEXT_PROGRESS_SECONDS,
        digests: DigestSink | None = None,
    ) -> BuildResult:
        """Build an image from ``summary`` (see :func:`build_context.scan_context`).

        ``digests`` receives each file's SHA-256, computed from the bytes sent.

        The context is streamed as a chunked tar; every output line is passed
        to ``reporter.log_line`` as it arrives. An upload that takes longer
        than ``progress_interval`` s reports its progress every that often,
        and its total at the end, through ``reporter.info``.

        Raises:
            BuildError: "Container image build failed at step N: ..." when a step
                fails, or the service rejected the request.
            PodmanUnavailableError: the connection to the service broke.
        """
        from keynet_train.build.tar_stream import context_tar_stream

        reporter = reporter or NullReporter()
        params: dict[str, Any] = {"dockerfile": summary.dockerfile_name, "nocache": nocache}
        if platform:
            params["platform"] = platform
        if buildargs:
            params["buildargs"] = json.dumps(dict(buildargs))
        if tag and not labels:
            params["t"] = tag
        upload = _upload_progress(
            context_tar_stream(summary, digests=digests),
            summary.total_size,
            reporter,
            progress_interval,
        )
        try:
            image_id, steps = self._post_build(params, upload, reporter)
        except BuildStepError as failure:
            facts = StoreFacts(platform_of=self._stored_platform, rootless=self._rootless())
            raise explain(failure, summary, platform, facts) from failure
        if labels:
            image_id = self.add_labels(image_id, labels, tag=tag, reporter=reporter)
        return BuildResult(image_id, tag, steps)

    def add_labels(
        self,
        image_id: str,
        labels: Mapping[str, str],
        *,
        tag: str | None = None,
        reporter: Reporter | None = None,
    ) -> str:
        """Build ``FROM image_id`` plus one LABEL step; return the new image id.

        Reports one ``reporter.info`` line naming the labels, not podman's log.

        podman turns each entry of the build API's ``labels`` into its own
        committed step (~0.2 s each); this adds them all in one, and keeps the
        user's own build cacheable although these labels change on every push
        (creation time, upload key).

        Raises:
            BuildError: the service refused or reported no image.
            PodmanUnavailableError: the connection to the service broke.
        """
        dockerfile = f"FROM {image_id}\nLABEL {_label_arguments(labels)}\n".encode()
        # nocache: the labels (creation time, upload key) differ on every push, so
        # buildah's cache lookup, which scans every image in the store, never hits
        # (docs/performance.md, issue 20). The step stays an empty layer.
        params: dict[str, Any] = {"dockerfile": "Dockerfile", "nocache": True}
        if tag:
            params["t"] = tag
        # podman's log of this build would echo every label value (the whole
        # hyperparameter JSON) under step numbers unrelated to the user's
        # Dockerfile; the names say what was added. A failure still raises
        # with podman's message.
        labelled, _ = self._post_build(
            params, _single_file_tar("Dockerfile", dockerfile), NullReporter()
        )
        (reporter or NullReporter()).info("Labels: " + ", ".join(labels))
        return labelled

    def _post_build(
        self, params: dict[str, Any], context: Iterator[bytes], reporter: Reporter
    ) -> tuple[str, int]:
        """POST one build and stream its log; return (image id, number of steps).

        Raises:
            BuildError: a step failed, the service refused, or no image id came back.
            PodmanUnavailableError: the connection to the service broke.
        """
        params = {**_BUILD_PARAMS, **params}
        progress = _BuildProgress()
        live = live_progress(reporter)
        spinner: list[LiveTask] = []

        def sent() -> None:
            # podman unpacks the whole context before it prints anything
            # (~6 s for a large one): without this the screen stands still.
            if live is not None:
                spinner.append(live.activity("podman is unpacking the build context"))

        # A log keeps getting lines while a RUN step is silent; a terminal has the spinner.
        interval = 0.0 if live is not None else BUILD_HEARTBEAT_SECONDS
        try:
            with (
                self._translate("build"),
                Heartbeat(reporter, "Still building", interval) as beat,
            ):
                response = self._client.api.post(
                    "/build",
                    params=params,
                    data=_then(context, sent, beat.beat),
                    headers={"Content-Type": "application/x-tar"},
                    stream=True,
                )
                try:
                    raise_for_status(response, BuildError, "Container image build failed")
                    for record in json_lines(response):
                        beat.beat()
                        step = progress.step
                        self._build_record(record, progress, reporter)
                        if spinner and progress.step != step:
                            spinner[0].describe(
                                f"STEP {progress.step}/{progress.total}: {progress.instruction}"
                            )
                except KeyboardInterrupt as exc:
                    raise self._interrupted_build(exc, progress) from None
                finally:
                    response.close()
        finally:
            for task in spinner:
                task.close()
        if progress.image_id is None:
            raise BuildError(
                "Container image build failed: podman reported no image id",
                hint="Run the build with `podman build` to see the full output.",
            )
        return progress.image_id, progress.total or progress.step

    def _interrupted_build(self, exc: KeyboardInterrupt, progress: _BuildProgress) -> Stopped:
        """``exc`` as a :class:`Stopped` saying what the podman service still runs.

        A private service is stopped with everything it ran; the user's own
        service finishes the step in progress on its own and only then drops
        the build (verified with podman 4.3, see
        tests/podman/test_podman_integration.py), so "nothing was left
        running" would be false for a RUN step there.
        """
        stopped = exc if isinstance(exc, Stopped) else Stopped(signal.SIGINT)
        if not self.private and progress.step and progress.instruction.startswith("RUN"):
            stopped.left_running = (
                f"The podman service at {self.url} finishes the step that was running "
                f"(STEP {progress.step}: {progress.instruction}) on its own, then discards "
                "the build; `podman ps --external` lists it until then"
            )
        return stopped

    @staticmethod
    def _build_record(record: dict[str, Any], progress: _BuildProgress, reporter: Reporter) -> None:
        if "error" in record:
            detail = str(record.get("error") or "").strip()
            raise BuildStepError(progress.step, progress.instruction, detail)
        text = progress.partial + str(record.get("stream") or "")
        *complete, progress.partial = text.split("\n")
        for raw_line in complete:
            line = _without_platform_args(raw_line)
            if line is None:
                continue
            step = _STEP_RE.match(line)
            if step:
                progress.step = int(step.group(1))
                progress.total = int(step.group(2) or 0)
                progress.instruction = step.group(3)
            if _IMAGE_ID_RE.match(line):
                progress.image_id = line
            reporter.log_line(line)


def _without_platform_args(line: str) -> str | None:
    """``line``, minus the platform build args from buildah's "not consumed" warning.

    None when nothing else is left in it (the warning was about our own arguments).
    """
    found = _UNCONSUMED_ARGS_RE.match(line.strip())
    if found is None:
        return line
    theirs = [name for name in found.group(1).split() if name not in _PLATFORM_BUILD_ARGS]
    if not theirs:
        return None
    return f"[Warning] one or more build args were not consumed: [{' '.join(theirs)}]"


def _then(
    chunks: Iterator[bytes], after: Callable[[], None], each: Callable[[], None]
) -> Iterator[bytes]:
    """``chunks``, calling ``each()`` per chunk and ``after()`` once all were sent."""
    for chunk in chunks:
        each()
        yield chunk
    after()


def _label_arguments(labels: Mapping[str, str]) -> str:
    """``"k"="v" ...`` for one Dockerfile LABEL instruction, quoted so any value survives."""

    def quote(text: str) -> str:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
        # A Dockerfile instruction is one line; newlines are kept as JSON-style escapes.
        return '"' + escaped.replace("\n", "\\n") + '"'

    return " ".join(f"{quote(key)}={quote(value)}" for key, value in labels.items())


def _single_file_tar(name: str, content: bytes) -> Iterator[bytes]:
    """A one-file tar archive, as a build context."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    yield buffer.getvalue()
