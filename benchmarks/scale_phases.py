"""Where a cold build of a context spends its time, timed inside keynet-train's own code.

Run by ``bench_scale.py --phases`` with the interpreter of the fresh venv, so
the installed wheel is what is timed (this directory, not the checkout, is
on ``sys.path``). Phases, each timed separately:

* scan: ``scan_context`` (walk, ignore rules, stat of every entry);
* tar: generating the whole context tar with every file hashed from the
  bytes sent, and discarding it (our CPU cost of the stream, without the
  socket), as a cold push of new content does;
* fingerprint after the build: a re-stat of every file, no read; saving the
  memo; and, for comparison, a fingerprint that reads and hashes every file
  (what a push still does before the build when a recorded build has the
  same shape);
* upload: the same tar sent as the body of the build request, from the first
  to the last byte handed to the socket;
* service unpack: last byte sent until podman's first log line (the service
  stores the tar and unpacks it before it starts ``STEP 1``);
* each build step, until podman's next log line, then the image id.

The build runs with ``nocache`` so an earlier build of the same content
cannot turn the ``COPY`` into a cache hit. Without ``PODMAN_URL`` only the
in-process phases run (no service): run it alternately with ``PYTHONPATH``
set to an older checkout to compare two trees on the same files.

    <venv>/bin/python benchmarks/scale_phases.py CONTEXT [PODMAN_URL]
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from keynet_train.build import context as build_context
from keynet_train.build import tar_stream
from keynet_train.build.fingerprint import FileDigests, context_fingerprint, context_shape
from keynet_train.notices import Notice
from keynet_train.podman.client import PodmanClient


class StampReporter:
    """Records the arrival time of every build log line (a Reporter)."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str]] = []

    def step_started(self, title: str) -> None:
        """Unused."""

    def step_finished(self, title: str, detail: str = "") -> None:
        """Unused."""

    def info(self, message: str) -> None:
        """Unused."""

    def warning(self, message: str) -> None:
        """Unused."""

    def notice(self, notice: Notice) -> None:
        """Unused."""

    def log_line(self, line: str) -> None:
        """One line of podman's build log, stamped."""
        self.lines.append((time.perf_counter(), line))


def main() -> int:
    """Time each phase of one cold build of ``argv[1]`` through the service at ``argv[2]``."""
    context = Path(sys.argv[1])
    phases: list[tuple[str, float]] = []

    start = time.perf_counter()
    summary = build_context.scan_context(context, context / "Dockerfile")
    phases.append(("scan", time.perf_counter() - start))
    start = time.perf_counter()
    context_shape(summary, {}, "linux/amd64")
    phases.append(("shape (is hashing before the build worth it?)", time.perf_counter() - start))

    with tempfile.TemporaryDirectory() as memo_dir:
        digests = FileDigests(Path(memo_dir) / "file-digests.json")
        start = time.perf_counter()
        size = sum(len(chunk) for chunk in tar_stream.context_tar_stream(summary, digests=digests))
        phases.append(
            (
                f"tar generated with every file hashed as it is sent, not sent "
                f"({size / 2**20:.1f} MiB, {digests.files_streamed} files hashed)",
                time.perf_counter() - start,
            )
        )
        start = time.perf_counter()
        context_fingerprint(summary, {}, "linux/amd64", digests, restat_only=True)
        phases.append(
            ("fingerprint after the build (re-stat, no read)", time.perf_counter() - start)
        )
        start = time.perf_counter()
        digests.save()
        phases.append(
            ("digest memo saved (in the background during a push)", time.perf_counter() - start)
        )
        fresh = FileDigests(None)
        start = time.perf_counter()
        context_fingerprint(summary, {}, "linux/amd64", fresh)
        phases.append(
            (
                "for comparison: fingerprint with every file read and hashed (a push does this "
                "only when a recorded build has the same shape)",
                time.perf_counter() - start,
            )
        )

    if len(sys.argv) > 2:
        phases += _build_phases(summary, sys.argv[2])
    own = sum(seconds for label, seconds in phases if not label.startswith(_NOT_OURS))
    for label, seconds in phases:
        print(f"{seconds:8.2f} s  {label}")
    print(f"{own:8.2f} s  keynet-train's own phases (scan, shape, tar with hashing, re-stat)")
    return 0


# Phases that are not on a push's critical path, or not keynet-train's work.
_NOT_OURS = ("digest memo saved", "for comparison", "upload", "service", "STEP", "last log line")


def _build_phases(summary: build_context.ContextSummary, url: str) -> list[tuple[str, float]]:
    """Upload, unpack, steps and the end of the response of one cold build through ``url``."""
    phases: list[tuple[str, float]] = []
    stream = tar_stream.context_tar_stream
    sending: list[float] = []

    def stamped(
        summary: build_context.ContextSummary,
        chunk_size: int = tar_stream.CHUNK_SIZE,
        digests: tar_stream.DigestSink | None = None,
    ) -> Iterator[bytes]:
        sending.append(time.perf_counter())
        yield from stream(summary, chunk_size, digests)
        sending.append(time.perf_counter())

    # The builder (podman/builder.py) looks the function up at call time.
    tar_stream.context_tar_stream = stamped
    reporter = StampReporter()
    client = PodmanClient(url)
    try:
        image_id = client.build(summary, nocache=True, reporter=reporter).image_id
        done = time.perf_counter()
        last_line = reporter.lines[-1][0]
        client.remove_image(image_id, force=True)
    finally:
        client.close()
    phases.append(("upload (first to last byte)", sending[1] - sending[0]))
    marks = [(sending[1], "service unpack (last byte sent to first log line)")]
    marks += [(at, line[:60]) for at, line in reporter.lines if line.startswith("STEP")]
    marks.append((last_line, "last log line (the image id) to the end of the response"))
    marks.append((done, ""))
    for (at, label), (after, _) in itertools.pairwise(marks):
        phases.append((label, after - at))
    return phases


if __name__ == "__main__":
    raise SystemExit(main())
