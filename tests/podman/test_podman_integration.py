"""Integration tests of keynet_train.podman.client against a real podman service and registry.

Services come from tests/support/conftest_plugin.py (session-scoped, stopped by
PID at the end). Images pushed here use unique repository names, so the
session registry can be shared with other test modules.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import pytest

from keynet_train.build import context as bc
from keynet_train.config import RegistryCredentials, Secret
from keynet_train.errors import (
    BuildError,
    InputError,
    PodmanUnavailableError,
    RegistryAuthError,
    RegistryError,
)
from keynet_train.podman import builder as podman_builder
from keynet_train.podman import client as pc
from keynet_train.podman import connection as podman_connection
from keynet_train.podman import trust as registry_trust
from keynet_train.podman.api import ping
from keynet_train.podman.service import RUNTIME_ENV, connect
from keynet_train.progress import RecordingReporter
from keynet_train.retries import RetryPolicy
from tests.build.docker_ignore_vectors import (
    PODMAN_CLI_DIFFERS,
    PODMAN_SERVICE_ALSO_EXCLUDES,
    VECTORS,
    Vector,
)
from tests.build.ignore_cases import CASES, IgnoreCase, make_tree
from tests.build.test_context import make_vector_tree
from tests.support.fault_proxy import FaultProxy
from tests.support.services import PodmanServiceHandle, RegistryHandle, free_port, start_registry

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client(podman_service: PodmanServiceHandle) -> Iterator[pc.PodmanClient]:
    with connect(podman_service.url) as podman:
        assert not podman.private
        yield podman


NO_WAIT = RetryPolicy(base_delay=0)


def _creds(registry: RegistryHandle, password: str | None = None) -> RegistryCredentials:
    return RegistryCredentials(
        f"https://{registry.host}", registry.username, Secret(password or registry.password)
    )


def _unique_image(client: pc.PodmanClient, tmp_path: Path) -> str:
    """Build a tiny image whose only layer is unique, so every push uploads a new blob."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY payload /payload\n")
    (tmp_path / "payload").write_text(uuid.uuid4().hex)
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    return client.build(summary).image_id


def _log_lines(reporter: RecordingReporter) -> list[str]:
    return [text for kind, text in reporter.events if kind == "log"]


def _image_files(image: str) -> frozenset[str]:
    """Regular files under /ctx in a local image (mounted read-only, then unmounted)."""
    if os.geteuid() != 0:
        # Rootless podman mounts an image only inside its user namespace.
        script = (
            f'm=$(podman image mount {image}) && cd "$m/ctx" && '
            "find . \\( -type f -o -type l \\) -print; "
            f"podman image unmount {image} >/dev/null"
        )
        listing = subprocess.run(
            ["podman", "unshare", "sh", "-c", script], capture_output=True, text=True, check=True
        ).stdout
        return frozenset(line[2:] for line in listing.splitlines() if line.startswith("./"))
    mount = subprocess.run(
        ["podman", "image", "mount", image], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        root = Path(mount) / "ctx"
        return frozenset(
            p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()
        )
    finally:
        subprocess.run(["podman", "image", "unmount", image], capture_output=True, check=False)


def _remove_image(image: str) -> None:
    subprocess.run(["podman", "rmi", "-f", image], capture_output=True, check=False)


# --------------------------------------------------------------------------- .dockerignore


def _podman_cli_build(case: IgnoreCase, workdir: Path) -> frozenset[str]:
    """What `podman build` (buildah's own matcher, no keynet code) copies for ``case``."""
    context = workdir / case.name
    context.mkdir()
    make_tree(context, case, "FROM scratch\nCOPY . /ctx\n")
    result = subprocess.run(
        ["podman", "build", "--layers=false", "-q", str(context)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    image_id = result.stdout.strip().splitlines()[-1]
    try:
        return _image_files(image_id)
    finally:
        _remove_image(image_id)


def test_ignore_table_matches_podman_build(
    tmp_path: Path, podman_service: PodmanServiceHandle
) -> None:
    """The whole table against `podman build` itself (parallel: each build is ~0.5 s)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(
            zip(CASES, pool.map(lambda c: _podman_cli_build(c, tmp_path), CASES), strict=True)
        )
    mismatches = {
        case.name: {"extra": sorted(got - case.expected), "missing": sorted(case.expected - got)}
        for case, got in results.items()
        if got != case.expected
    }
    assert not mismatches


# The streamed path is checked on the cases where sender and builder could
# disagree (exceptions, allowlists, the always-sent files); the full table is
# covered by the unit test (our matcher) and the podman-build test above.
STREAMED_CASES = [
    c
    for c in CASES
    if "exception" in c.name or c.name in {"allowlist", "dockerfile-and-ignorefile-excluded"}
]


def test_ignore_table_through_our_streamed_context(tmp_path: Path, client: pc.PodmanClient) -> None:
    """Our tar, sent to the service, yields exactly the expected files in the image."""
    mismatches = {}
    for case in STREAMED_CASES:
        context = tmp_path / case.name
        context.mkdir()
        make_tree(context, case, "FROM scratch\nCOPY . /ctx\n")
        result = client.build(bc.scan_context(context, context / "Dockerfile"))
        try:
            got = _image_files(result.image_id)
        finally:
            _remove_image(result.image_id)
        if got != case.expected:
            mismatches[case.name] = (sorted(got - case.expected), sorted(case.expected - got))
    assert not mismatches


def _sent_and_built(client: pc.PodmanClient, vector: Vector, workdir: Path) -> frozenset[str]:
    """The vector's files in the image podman builds from OUR streamed tar."""
    context = workdir / f"ours-{vector.name}"
    make_vector_tree(context, vector, "FROM scratch\nCOPY . /ctx\n")
    result = client.build(bc.scan_context(context, context / "Dockerfile"), platform=None)
    try:
        return _image_files(result.image_id) & vector.verdicts.keys()
    finally:
        _remove_image(result.image_id)


def _podman_cli_vector(vector: Vector, workdir: Path) -> frozenset[str]:
    """The vector's files in the image `podman build` makes with its own matcher."""
    context = workdir / f"cli-{vector.name}"
    make_vector_tree(context, vector, "FROM scratch\nCOPY . /ctx\n")
    result = subprocess.run(
        ["podman", "build", "--layers=false", "-q", str(context)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    image_id = result.stdout.strip().splitlines()[-1]
    try:
        return _image_files(image_id) & vector.verdicts.keys()
    finally:
        _remove_image(image_id)


def test_docker_vectors_hold_in_the_image_built_from_our_tar(
    tmp_path: Path, client: pc.PodmanClient
) -> None:
    """podman re-applies the ignore file it finds in our tar; the image must still be Docker's."""
    mismatches = {}
    for vector in VECTORS:
        expected = vector.kept - PODMAN_SERVICE_ALSO_EXCLUDES.get(vector.name, frozenset())
        got = _sent_and_built(client, vector, tmp_path)
        if got != expected:
            mismatches[vector.name] = (sorted(got - expected), sorted(expected - got))
    assert not mismatches


def test_podman_build_differs_from_docker_only_where_documented(
    tmp_path: Path, podman_service: PodmanServiceHandle
) -> None:
    """`podman build` with its own matcher: docs/dockerignore.md lists each difference."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda v: _podman_cli_vector(v, tmp_path), VECTORS))
    differences = {
        vector.name: (kept - vector.kept) | (vector.kept - kept)
        for vector, kept in zip(VECTORS, got, strict=True)
        if kept != vector.kept
    }
    assert differences == PODMAN_CLI_DIFFERS


# --------------------------------------------------------------------------- build


class TimedReporter(RecordingReporter):
    """Records when each log line arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.times: dict[str, float] = {}

    def log_line(self, line: str) -> None:
        super().log_line(line)
        self.times.setdefault(line, time.monotonic())


def test_build_streams_live_logs_with_labels_and_buildargs(
    tmp_path: Path, client: pc.PodmanClient, base_image: str
) -> None:
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_image}\nARG GREETING=unset\n"
        "RUN echo first-$GREETING && sleep 1 && echo second\n"
        "COPY train.py /app/train.py\n"
    )
    (tmp_path / "train.py").write_text("print('hi')\n")
    reporter = TimedReporter()
    tag = f"localhost/keynet-test-build:{uuid.uuid4().hex[:8]}"
    labels = {"ai.keynet.train.entrypoint": "train.py", "ai.keynet.train.hyperparameters": "[]"}
    result = client.build(
        bc.scan_context(tmp_path, tmp_path / "Dockerfile"),
        tag=tag,
        buildargs={"GREETING": "hello", "UNUSED_BY_DOCKERFILE": "1"},
        labels=labels,
        nocache=True,
        reporter=reporter,
    )
    finished = time.monotonic()
    try:
        lines = _log_lines(reporter)
        # podman's TARGET* args come from the platform this client sends, not
        # from the user: the warning names only the user's unused argument.
        unconsumed = [line for line in lines if "build args were not consumed" in line]
        assert unconsumed == [
            "[Warning] one or more build args were not consumed: [UNUSED_BY_DOCKERFILE]"
        ]
        run_step = "RUN echo first-$GREETING && sleep 1 && echo second"
        step_lines = [line for line in lines if line.startswith("STEP ")]
        # podman numbers ARG as a step and appends its own steps for --label.
        assert step_lines[2].startswith("STEP 3/") and step_lines[2].endswith(run_step)
        assert "first-hello" in lines
        # Live: the first line arrived while the build was still running.
        assert finished - reporter.times["first-hello"] > 0.8
        assert result.steps == int(step_lines[0].split("/")[1].split(":")[0])
        assert len(result.image_id) == 64
        assert client.image_labels(tag).items() >= labels.items()
    finally:
        _remove_image(tag)


def test_labels_add_no_layer_and_skip_the_build_cache(
    tmp_path: Path, client: pc.PodmanClient
) -> None:
    """The label step's values change on every push, so buildah's cache lookup (which scans
    every image in the store) can never hit: it is skipped, and the step stays an empty layer."""
    image = _unique_image(client, tmp_path)
    labels = {"ai.keynet.train.upload-key": "abc123xyz456789012345"}
    first = client.add_labels(image, labels)
    second = client.add_labels(image, labels)
    try:
        # Taken from the cache, the second would be the first image again.
        assert first != second
        for labelled in (first, second):
            layers = client.inspect_image(labelled)["RootFS"]["Layers"]
            assert layers == client.inspect_image(image)["RootFS"]["Layers"]
            assert client.image_labels(labelled).items() >= labels.items()
    finally:
        for labelled in (first, second, image):
            client.remove_image(labelled, force=True)


def test_unchanged_context_reuses_the_build_cache(
    tmp_path: Path, client: pc.PodmanClient, base_image: str
) -> None:
    """A second build of the same context must hit the layer cache (warm pushes depend on it)."""
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_image}\nCOPY data.bin /data.bin\nRUN echo built > /marker\n"
    )
    (tmp_path / "data.bin").write_bytes(uuid.uuid4().bytes * 1024)
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    tag = f"localhost/keynet-test-cache:{uuid.uuid4().hex[:8]}"
    first = client.build(summary, tag=tag, labels={"created": "1"})
    reporter = RecordingReporter()
    try:
        second = client.build(summary, tag=tag, labels={"created": "2"}, reporter=reporter)
        lines = _log_lines(reporter)
        assert sum(1 for line in lines if line.startswith("--> Using cache")) >= 2, lines
        assert "built" not in lines  # the RUN step did not run again
        assert second.image_id != first.image_id  # only the label layer differs
    finally:
        _remove_image(tag)


def test_long_context_upload_reports_its_progress(
    tmp_path: Path, client: pc.PodmanClient, base_image: str
) -> None:
    """podman prints nothing until it has the whole tar; the upload reports itself."""
    (tmp_path / "Dockerfile").write_text(f"FROM {base_image}\nCOPY big.bin /big.bin\n")
    (tmp_path / "big.bin").write_bytes(os.urandom(8 * 1024 * 1024))
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    reporter = RecordingReporter()
    tag = f"localhost/keynet-test-upload:{uuid.uuid4().hex[:8]}"
    try:
        # Interval 0: every chunk counts as "a long time"; the default is 10 s.
        client.build(summary, tag=tag, reporter=reporter, progress_interval=0)
    finally:
        _remove_image(tag)
    infos = [text for kind, text in reporter.events if kind == "info"]
    sending = [text for text in infos if text.startswith("Sending build context: ")]
    assert sending and sending[0].endswith("of about 8.0 MiB"), infos
    assert sending[-1].startswith("Sending build context: 8.0 MiB of")
    assert [text for text in infos if text.startswith("Build context sent: 8.0 MiB in ")]
    # All of it before podman's first line: the upload precedes the build.
    first_log = next(i for i, (kind, _) in enumerate(reporter.events) if kind == "log")
    last_info = max(i for i, (kind, _) in enumerate(reporter.events) if kind == "info")
    assert last_info < first_log


class _ChangingReporter(RecordingReporter):
    """Changes a context file once its first MiB went out (the second progress report)."""

    def __init__(self, target: Path, change: str) -> None:
        super().__init__()
        self.target, self.change, self.done, self.reports = target, change, False, 0

    def info(self, message: str) -> None:
        super().info(message)
        self.reports += message.startswith("Sending build context")
        # Report 1 follows the headers, report 2 the file's first chunk.
        if self.reports == 2 and not self.done:
            self.done = True
            with self.target.open("r+b") as handle:
                if self.change == "grow":
                    handle.seek(0, os.SEEK_END)
                    handle.write(b"y" * 1024)
                else:
                    handle.truncate(1024 * 1024)


@pytest.mark.parametrize("change", ["grow", "shrink"])
def test_a_file_changing_during_the_upload_fails_the_build_naming_it(
    tmp_path: Path, client: pc.PodmanClient, base_image: str, change: str
) -> None:
    """A checkpoint still being written must not reach the image padded or cut short."""
    (tmp_path / "Dockerfile").write_text(f"FROM {base_image}\nCOPY ckpt.bin /ckpt.bin\n")
    (tmp_path / "ckpt.bin").write_bytes(os.urandom(8 * 1024 * 1024))
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    tag = f"localhost/keynet-test-changing:{uuid.uuid4().hex[:8]}"
    reporter = _ChangingReporter(tmp_path / "ckpt.bin", change)
    try:
        with pytest.raises(BuildError) as info:
            client.build(summary, tag=tag, reporter=reporter, progress_interval=0)
        assert reporter.done
        assert "ckpt.bin changed while the build context was being sent" in info.value.message
        assert ("grew" if change == "grow" else "shrank") in info.value.message
        assert not client.image_exists(tag)
        # The service shrugged off the aborted upload: the next build works.
        again = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
        assert client.build(again, tag=tag).image_id
    finally:
        _remove_image(tag)


def test_labels_are_added_in_one_step_and_survive_any_characters(
    tmp_path: Path, client: pc.PodmanClient, base_image: str
) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {base_image}\nCOPY a.txt /a.txt\n")
    (tmp_path / "a.txt").write_text(uuid.uuid4().hex)
    labels = {
        "ai.keynet.train.hyperparameters": json.dumps(
            [{"name": "lr", "help": 'say "hi" to $HOME \\ ok ü', "default": None}],
            separators=(",", ":"),
        ),
        "plain": "value with spaces",
        "empty": "",
    }
    tag = f"localhost/keynet-test-labels:{uuid.uuid4().hex[:8]}"
    reporter = RecordingReporter()
    client.build(
        bc.scan_context(tmp_path, tmp_path / "Dockerfile"),
        tag=tag,
        labels=labels,
        reporter=reporter,
    )
    try:
        got = client.image_labels(tag)
        for key, value in labels.items():
            assert got[key] == value
        history = client.inspect_image(tag).get("History") or []
        label_steps = [h for h in history if "ai.keynet.train.hyperparameters" in str(h)]
        assert len(label_steps) == 1, history
        # The label step is ours, not the user's: one summary line with the
        # names instead of podman's log of a LABEL line with every value.
        lines = _log_lines(reporter)
        assert not any(" LABEL " in line or "say" in line for line in lines), lines
        assert ("info", "Labels: " + ", ".join(labels)) in reporter.events
    finally:
        _remove_image(tag)


def test_failing_run_step_names_the_step(
    tmp_path: Path, client: pc.PodmanClient, base_image: str
) -> None:
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_image}\nRUN echo ok\nRUN echo broken >&2; exit 3\n"
    )
    reporter = RecordingReporter()
    with pytest.raises(BuildError) as excinfo:
        client.build(bc.scan_context(tmp_path, tmp_path / "Dockerfile"), reporter=reporter)
    message = str(excinfo.value)
    assert message.startswith("Container image build failed at step 3: RUN echo broken >&2; exit 3")
    assert "exit status 3" in message
    assert "broken" in _log_lines(reporter)


def test_dockerfile_outside_context(tmp_path: Path, client: pc.PodmanClient) -> None:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx/app.py").write_text("print(1)\n")
    (tmp_path / "Dockerfile.build").write_text("FROM scratch\nCOPY app.py /ctx/app.py\n")
    summary = bc.scan_context(tmp_path / "ctx", tmp_path / "Dockerfile.build")
    result = client.build(summary)
    try:
        assert _image_files(result.image_id) == {"app.py"}
    finally:
        _remove_image(result.image_id)


def test_dockerfile_syntax_error_is_a_build_error(tmp_path: Path, client: pc.PodmanClient) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nNOSUCHINSTRUCTION x\n")
    with pytest.raises(BuildError, match="Container image build failed"):
        client.build(bc.scan_context(tmp_path, tmp_path / "Dockerfile"))


# --------------------------------------------------------------------------- push


def test_tag_and_push_to_tls_registry(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle
) -> None:
    image_id = _unique_image(client, tmp_path)
    repository = f"{registry.host}/keynet-test/{uuid.uuid4().hex[:12]}"
    try:
        references = [client.tag(image_id, repository, t) for t in ("abc", "v1")]
        reporter = RecordingReporter()
        results = [client.push(r, _creds(registry), reporter=reporter) for r in references]
        path = repository.split("/", 1)[1]
        assert path in registry.catalog()
        assert sorted(registry.tags(path)) == ["abc", "v1"]
        for result, tag in zip(results, ("abc", "v1"), strict=True):
            assert result.attempts == 1
            assert result.digest == registry.manifest_digest(path, tag)
        assert any(line.startswith("Copying blob sha256:") for line in _log_lines(reporter))
    finally:
        _remove_image(image_id)


def test_invalid_tags_are_rejected_before_podman(client: pc.PodmanClient) -> None:
    with pytest.raises(InputError, match="Invalid image tag"):
        client.tag("0" * 64, "127.0.0.1:5000/p/r", "bad tag")
    with pytest.raises(InputError, match="Invalid image repository"):
        client.tag("0" * 64, "127.0.0.1:5000/Upper/r", "ok")


def test_wrong_password_is_registry_auth_error(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle
) -> None:
    image_id = _unique_image(client, tmp_path)
    reference = client.tag(image_id, f"{registry.host}/keynet-test/auth", "x")
    try:
        with pytest.raises(RegistryAuthError) as excinfo:
            client.push(reference, _creds(registry, "wrong-password-123"), retries=NO_WAIT)
        assert "Harbor Registry authentication failed" in str(excinfo.value)
        assert "login" in (excinfo.value.hint or "")
        assert "wrong-password-123" not in str(excinfo.value)
    finally:
        _remove_image(image_id)


def test_registry_down_is_registry_error(tmp_path: Path, client: pc.PodmanClient) -> None:
    image_id = _unique_image(client, tmp_path)
    reference = client.tag(image_id, f"127.0.0.1:{free_port()}/keynet-test/down", "x")
    try:
        with pytest.raises(RegistryError, match="Cannot reach the registry") as excinfo:
            client.push(
                reference,
                RegistryCredentials("https://127.0.0.1", "u", Secret("password-1")),
                retries=NO_WAIT,
            )
        assert not isinstance(excinfo.value, RegistryAuthError)
    finally:
        _remove_image(image_id)


def test_transient_500_is_retried_and_succeeds(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle, fault_proxy: FaultProxy
) -> None:
    image_id = _unique_image(client, tmp_path)
    name = f"keynet-test/retry-{uuid.uuid4().hex[:8]}"
    reference = client.tag(image_id, f"{fault_proxy.host}/{name}", "v1")
    reporter = RecordingReporter()
    sleeps: list[float] = []
    fault_proxy.fail_next(2)
    try:
        result = client.push(
            reference,
            _creds(registry),
            reporter=reporter,
            retries=RetryPolicy(base_delay=0.5),
            sleep=sleeps.append,
        )
    finally:
        _remove_image(image_id)
    assert result.attempts == 2
    assert sleeps == [0.5]
    assert [s for s in fault_proxy.requests if s.status == 500][:2]
    assert any("retrying" in text for kind, text in reporter.events if kind == "warning")
    assert result.digest == registry.manifest_digest(name, "v1")


def test_a_silent_run_step_reports_still_building_lines_without_a_terminal(
    tmp_path: Path, client: pc.PodmanClient, base_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log (no live display) gets a line while a RUN step prints nothing; at most one per
    interval (30 s in real use, 1 s here)."""
    monkeypatch.setattr(podman_builder, "BUILD_HEARTBEAT_SECONDS", 1.0)
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_image}\nRUN echo {uuid.uuid4().hex} >/dev/null && sleep 3\n"
    )
    reporter = TimedReporter()
    result = client.build(bc.scan_context(tmp_path, tmp_path / "Dockerfile"), reporter=reporter)
    _remove_image(result.image_id)

    still = [t for kind, t in reporter.events if kind == "info" and t.startswith("Still building")]
    assert 2 <= len(still) <= 4, reporter.events
    assert all(re.fullmatch(r"Still building \(\d+ s so far\)", text) for text in still)


def test_silent_upload_reports_that_the_push_is_still_running(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle, fault_proxy: FaultProxy
) -> None:
    """podman says nothing while a layer uploads; a slow link must not look like a hang."""
    image_id = _unique_image(client, tmp_path)
    name = f"keynet-test/slow-{uuid.uuid4().hex[:8]}"
    reference = client.tag(image_id, f"{fault_proxy.host}/{name}", "v1")
    reporter = RecordingReporter()
    fault_proxy.slow_uploads(1.0)
    try:
        result = client.push(reference, _creds(registry), reporter=reporter, heartbeat=0.3)
    finally:
        _remove_image(image_id)
    still = [text for kind, text in reporter.events if kind == "info" and "Still pushing" in text]
    assert still, reporter.events
    assert still[0].startswith(f"Still pushing {reference} (") and still[0].endswith(" s so far)")
    assert result.digest == registry.manifest_digest(name, "v1")


def test_a_push_with_steady_output_reports_no_heartbeat(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle
) -> None:
    image_id = _unique_image(client, tmp_path)
    reference = client.tag(image_id, f"{registry.host}/keynet-test/quick", "v1")
    reporter = RecordingReporter()
    try:
        client.push(reference, _creds(registry), reporter=reporter, heartbeat=30)
    finally:
        _remove_image(image_id)
    assert not [text for _, text in reporter.events if "Still pushing" in text]


def test_persistent_500_gives_up_after_three_attempts(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle, fault_proxy: FaultProxy
) -> None:
    image_id = _unique_image(client, tmp_path)
    reference = client.tag(image_id, f"{fault_proxy.host}/keynet-test/down500", "v1")
    fault_proxy.fail_next(1000)
    sleeps: list[float] = []
    try:
        with pytest.raises(RegistryError, match="failed after 3 attempts"):
            client.push(
                reference, _creds(registry), retries=RetryPolicy(base_delay=1), sleep=sleeps.append
            )
    finally:
        _remove_image(image_id)
    assert sleeps == [1, 2]


def test_413_is_reported_as_proxy_body_limit(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle, fault_proxy: FaultProxy
) -> None:
    image_id = _unique_image(client, tmp_path)
    reference = client.tag(image_id, f"{fault_proxy.host}/keynet-test/big", "v1")
    fault_proxy.reject_uploads(413)
    sleeps: list[float] = []
    try:
        with pytest.raises(RegistryError, match="413") as excinfo:
            client.push(reference, _creds(registry), sleep=sleeps.append)
    finally:
        _remove_image(image_id)
    assert "body-size limit" in (excinfo.value.hint or "")
    assert sleeps == []  # not retried


def test_untrusted_ca_then_insecure_then_installed_ca(
    tmp_path: Path, client: pc.PodmanClient
) -> None:
    """x509 failure explains the fix; --insecure-registry works; an installed CA works live."""
    other = start_registry(tmp_path / "other-registry")
    installed: Path | None = None
    image_id = _unique_image(client, tmp_path / "ctx" if (tmp_path / "ctx").mkdir() else tmp_path)
    try:
        name = "keynet-test/tls"
        reference = client.tag(image_id, f"{other.host}/{name}", "v1")
        with pytest.raises(RegistryError, match="TLS verification") as excinfo:
            client.push(reference, _creds(other), retries=NO_WAIT)
        assert "KEYNET_CA_BUNDLE" in (excinfo.value.hint or "")
        assert "--insecure-registry" in (excinfo.value.hint or "")

        insecure = client.push(reference, _creds(other), tls_verify=False)
        assert insecure.digest == other.manifest_digest(name, "v1")

        assert other.ca_cert is not None
        installed = registry_trust.install_registry_ca(other.host, other.ca_cert)
        assert installed == registry_trust.certs_dir(other.host) / "ca.crt"
        # The already running service picks the CA up: certs.d is read per push.
        verified = client.push(reference, _creds(other))
        assert verified.digest == insecure.digest
    finally:
        _remove_image(image_id)
        other.stop()
        if installed is not None:
            # What logout does: the CA and the directory made for it go.
            assert registry_trust.remove_registry_ca(other.host) == installed
            assert not installed.parent.exists()


# --------------------------------------------------------------------------- logout


def test_logout_removes_a_podman_login_an_older_version_made(
    registry: RegistryHandle, podman_service: PodmanServiceHandle, tmp_path: Path
) -> None:
    # keynet-train no longer runs `podman login` (AUTH.md); logout still removes one.
    # podman_service installed the registry's CA in certs.d, which `podman login` reads.
    env_auth = tmp_path / "auth.json"
    os.environ["REGISTRY_AUTH_FILE"] = str(env_auth)
    try:
        subprocess.run(
            ["podman", "login", "-u", registry.username, "--password-stdin", registry.host],
            input=registry.password, text=True, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        assert registry.host in json.loads(env_auth.read_text())["auths"]
        assert registry_trust.logout(registry.host)
        assert registry.host not in json.loads(env_auth.read_text()).get("auths", {})
        assert not registry_trust.logout(registry.host)  # nothing left: reported, no error
    finally:
        del os.environ["REGISTRY_AUTH_FILE"]


# --------------------------------------------------------------------------- private service


def test_connect_starts_and_always_stops_a_private_service(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        podman_connection, "default_socket_url", lambda environ=None: f"unix://{tmp_path}/none"
    )
    environ = {RUNTIME_ENV: "runc"}
    with pytest.raises(RuntimeError, match="boom"), connect(environ=environ) as podman:
        service = podman.private_service
        assert service is not None and service.process is not None
        assert service.runtime == "runc"
        assert ping(podman.url)
        process, directory = service.process, service.directory
        assert directory is not None and (directory / "podman.sock").exists()
        raise RuntimeError("boom")
    assert process.poll() is not None
    assert not directory.exists()


def test_explicit_url_that_does_not_answer(tmp_path: Path) -> None:
    with (
        pytest.raises(PodmanUnavailableError, match="No podman service answers"),
        connect(f"unix://{tmp_path}/missing.sock"),
    ):
        pass


def test_missing_podman_binary_gives_install_hints(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        podman_connection, "default_socket_url", lambda environ=None: f"unix://{tmp_path}/none"
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PodmanUnavailableError) as excinfo, connect():
        pass
    assert "apt-get install podman" in (excinfo.value.hint or "")
    assert "brew install podman" in (excinfo.value.hint or "")


def _storage_ids(*what: str) -> set[str]:
    """Full IDs that ``podman <what> -a -q --no-trunc`` lists.

    The session's services, private services and the local CLI share one
    storage, so the local CLI sees everything any of them left behind.
    """
    listed = subprocess.run(
        ["podman", *what, "-a", "-q", "--no-trunc"], capture_output=True, check=False
    )
    assert listed.returncode == 0, listed.stderr
    return set(listed.stdout.decode().split())


def _external_containers() -> set[str]:
    """Every container in storage, buildah's working containers included."""
    return _storage_ids("ps", "--external")


def _all_images() -> set[str]:
    """Every image in storage, intermediate ones included."""
    return _storage_ids("images")


def _wait_for_line(stream: IO[str], wanted: str, seen: list[str], timeout: float) -> bool:
    """Read lines into ``seen`` until ``wanted`` arrives; False on EOF or timeout."""
    found = threading.Event()

    def read() -> None:
        for line in stream:
            seen.append(line.rstrip("\n"))
            if line.strip() == wanted:
                found.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return found.is_set()


def test_sigint_during_build_leaves_nothing_behind(tmp_path: Path, base_image: str) -> None:
    # A unique RUN line: a layer cached by an earlier run of this test (same
    # base image, same command) would skip the step, so "started" would never
    # be printed and the build would finish before the SIGINT.
    run_id = uuid.uuid4().hex
    marker = f"sleep {37 + uuid.uuid4().int % 50}"
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_image}\nRUN echo started-{run_id} && {marker}\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.podman.interrupt_driver", str(tmp_path)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, RUNTIME_ENV: "runc"},
    )
    seen: list[str] = []
    containers_before = _external_containers()
    try:
        assert child.stdout is not None
        service = json.loads(child.stdout.readline())
        started = _wait_for_line(child.stdout, f"started-{run_id}", seen, timeout=60)
        assert started, f"the RUN step never printed its marker; build log: {seen}"
        child.send_signal(signal.SIGINT)
        assert child.wait(30) == 130, f"build log: {seen}"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not Path(service["dir"]).exists()
    assert not Path(f"/proc/{service['pid']}").exists()
    # The RUN step itself was cancelled too, not left running.
    time.sleep(0.5)
    leftovers = subprocess.run(["pgrep", "-f", f"^{marker}$"], capture_output=True, check=False)
    assert leftovers.returncode == 1, "the interrupted RUN step is still running"
    # Nor buildah's working container of the killed build (it would keep its
    # overlay mounted and pin the base image).
    assert _external_containers() - containers_before == set()


def test_sigint_with_a_shared_service_leaves_no_image_or_container(
    tmp_path: Path, podman_service: PodmanServiceHandle, base_image: str
) -> None:
    """The user's own service cannot be stopped: the RUN step ends, then podman drops the build."""
    run_id = uuid.uuid4().hex
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_image}\nRUN X={run_id} && echo started-$X && sleep 2\n"
    )
    before = _external_containers()
    images_before = _all_images()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.podman.interrupt_driver", str(tmp_path), podman_service.url],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        assert child.stdout is not None
        assert json.loads(child.stdout.readline()) == {"pid": None, "dir": None}
        assert _wait_for_line(child.stdout, f"started-{run_id}", seen, timeout=60), seen
        child.send_signal(signal.SIGINT)
        assert child.wait(30) == 130, seen
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # The step finishes inside the service (~2 s), then podman discards the build.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _external_containers() - before:
        time.sleep(0.5)
    assert _external_containers() - before == set()
    assert _all_images() == images_before
