"""Live progress on a terminal: a byte bar for the context upload, a spinner while a push
is silent; logs keep the periodic lines."""

from __future__ import annotations

import io
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from keynet_train.build import context as bc
from keynet_train.cli.environment import Environment
from keynet_train.cli.output import CliReporter
from keynet_train.config import RegistryCredentials, Secret
from keynet_train.podman import builder as podman_builder
from keynet_train.podman import client as pc
from keynet_train.podman.service import connect
from keynet_train.progress import RecordingReporter
from tests.support.fault_proxy import FaultProxy
from tests.support.services import PodmanServiceHandle, RegistryHandle


class FakeTask:
    def __init__(self, log: list[tuple[str, object]], kind: str, label: str) -> None:
        self.log = log
        log.append((f"{kind}-start", label))

    def advance(self, done: int) -> None:
        self.log.append(("advance", done))

    def describe(self, text: str) -> None:
        self.log.append(("describe", text))

    def close(self) -> None:
        self.log.append(("close", None))


class FakeLive:
    def __init__(self) -> None:
        self.log: list[tuple[str, object]] = []

    def transfer(self, label: str, total: int | None) -> FakeTask:
        self.log.append(("total", total))
        return FakeTask(self.log, "transfer", label)

    def activity(self, label: str) -> FakeTask:
        return FakeTask(self.log, "activity", label)


class LiveRecordingReporter(RecordingReporter):
    """A recording reporter that, like the CLI's on a terminal, has a live display."""

    def __init__(self) -> None:
        super().__init__()
        self.live = FakeLive()


def test_context_upload_drives_a_byte_bar_instead_of_lines() -> None:
    reporter = LiveRecordingReporter()
    chunks = [b"a" * 10, b"b" * 20, b"c" * 5]

    sent = b"".join(podman_builder._upload_progress(iter(chunks), 35, reporter, interval=0.0))

    assert sent == b"a" * 10 + b"b" * 20 + b"c" * 5
    assert reporter.live.log == [
        ("total", 35),
        ("transfer-start", "Sending build context"),
        ("advance", 10),
        ("advance", 30),
        ("advance", 35),
        ("close", None),
    ]
    assert not [t for k, t in reporter.events if "Sending build context:" in t]


def test_without_a_terminal_the_upload_reports_lines() -> None:
    reporter = RecordingReporter()
    list(podman_builder._upload_progress(iter([b"x" * 4]), 4, reporter, interval=0.0))
    assert ("info", "Sending build context: 4 B of about 4 B") in reporter.events


def _env(**overrides: object) -> Environment:
    options: dict[str, object] = {"stderr_isatty": True, "environ": {}}
    options.update(overrides)
    return Environment(io.StringIO(), io.StringIO(), io.StringIO(), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "live"),
    [
        ({}, True),
        ({"stderr_isatty": False}, False),
        ({"stderr_isatty": False, "environ": {"FORCE_COLOR": "1"}}, False),  # a log file
        ({"quiet": True}, False),
        ({"no_color": True}, False),
        ({"environ": {"GITHUB_ACTIONS": "true"}}, False),
    ],
)
def test_only_a_real_terminal_gets_a_live_display(overrides: dict[str, object], live: bool) -> None:
    assert (CliReporter(_env(**overrides)).live is not None) is live


def test_rich_display_shows_bytes_and_rate() -> None:
    env = _env(environ={"FORCE_COLOR": "1"})
    reporter = CliReporter(env)
    assert reporter.live is not None
    task = reporter.live.transfer("Sending build context", 3 * 1024 * 1024)
    task.advance(1024 * 1024)
    task.describe("Sending build context [1/3]")
    task.close()
    spinner = reporter.live.activity("Pushing r:v1")
    spinner.close()
    screen = env.stderr.getvalue()  # type: ignore[attr-defined]
    assert "Sending build context [1/3]" in screen
    assert "3.1 MB" in screen or "3.1/3.1 MB" in screen or "/3.1 MB" in screen
    assert "Pushing r:v1" in screen


# ----------------------------------------------------------------------------- push


@pytest.fixture
def client(podman_service: PodmanServiceHandle) -> Iterator[pc.PodmanClient]:
    with connect(podman_service.url) as podman:
        yield podman


@pytest.mark.integration
def test_silent_push_on_a_terminal_shows_a_spinner_not_still_pushing_lines(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle, fault_proxy: FaultProxy
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY payload /payload\n")
    (tmp_path / "payload").write_text(uuid.uuid4().hex)
    image_id = client.build(bc.scan_context(tmp_path, tmp_path / "Dockerfile")).image_id
    reference = client.tag(
        image_id, f"{fault_proxy.host}/keynet-test/live-{uuid.uuid4().hex[:8]}", "v1"
    )
    reporter = LiveRecordingReporter()
    fault_proxy.slow_uploads(1.0)
    credentials = RegistryCredentials(
        f"https://{registry.host}", registry.username, Secret(registry.password)
    )
    try:
        client.push(reference, credentials, reporter=reporter, heartbeat=0.3)
    finally:
        subprocess.run(["podman", "rmi", "-f", image_id], capture_output=True, check=False)

    assert not [t for _, t in reporter.events if "Still pushing" in t]
    log = reporter.live.log
    assert log[0] == ("activity-start", f"Pushing {reference}")
    assert log[-1] == ("close", None)
    # podman reports no bytes, but each blob it starts: the spinner counts them.
    assert ("describe", f"Pushing blob 1/1 of {reference}") in log
