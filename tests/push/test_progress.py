"""HeldReporter and Background: the pieces that let the build overlap the backend calls."""

from __future__ import annotations

import threading
import time

import pytest

from keynet_train.errors import BuildError
from keynet_train.progress import Background, HeldReporter, RecordingReporter


def test_held_events_replay_in_order_then_pass_through() -> None:
    target = RecordingReporter()
    held = HeldReporter(target)
    held.log_line("a")
    held.info("b")
    assert target.events == []
    target.step_started("Build image")
    held.release()
    held.warning("c")
    assert target.events == [
        ("step_started", "Build image"),
        ("log", "a"),
        ("info", "b"),
        ("warning", "c"),
    ]


def test_events_from_another_thread_never_overtake_the_backlog() -> None:
    target = RecordingReporter()
    held = HeldReporter(target)
    stop = threading.Event()

    def produce() -> None:
        n = 0
        while not stop.is_set():
            held.log_line(str(n))
            n += 1

    thread = threading.Thread(target=produce)
    thread.start()
    time.sleep(0.05)
    held.release()
    time.sleep(0.05)
    stop.set()
    thread.join()
    numbers = [int(line) for _, line in target.events]
    assert numbers == list(range(len(numbers)))


def test_background_returns_the_value_and_reraises_errors() -> None:
    assert Background(lambda: "image-id").result() == "image-id"

    def fail() -> str:
        raise BuildError("Container image build failed at step 2: RUN false")

    job = Background(fail)
    with pytest.raises(BuildError, match="step 2"):
        job.result()
    assert job.failed()


def test_background_reports_not_failed_while_running() -> None:
    gate = threading.Event()

    def wait() -> str:
        gate.wait(5)
        return "done"

    job = Background(wait)
    assert not job.failed()
    gate.set()
    assert job.result() == "done"
    assert not job.failed()
