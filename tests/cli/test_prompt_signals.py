"""A stop signal stops a prompt even when another thread of the process received it."""

from __future__ import annotations

import io
import os
import signal
import threading
import time

import pytest

from keynet_train.cli.common import prompt_text
from keynet_train.cli.environment import Environment
from keynet_train.interrupts import Stopped, StopSignals


def test_a_signal_taken_by_a_background_thread_still_stops_the_prompt() -> None:
    """The kernel may hand SIGTERM to any thread (the build runs during the project picker).

    A main thread blocked in ``read`` would then wait for the next line before
    Python's handler ran: the answer typed later must stay unread.
    """
    master, slave = os.openpty()
    stdin = os.fdopen(slave, "r", encoding="utf-8")
    env = Environment(stdin, io.StringIO(), io.StringIO(), {}, stdin_isatty=True)
    worker = threading.Thread(target=time.sleep, args=(3,), daemon=True)
    worker.start()
    assert worker.ident is not None
    worker_id = worker.ident

    def signal_the_worker_then_type() -> None:
        time.sleep(0.3)
        signal.pthread_kill(worker_id, signal.SIGTERM)
        time.sleep(2.0)
        os.write(master, b"1\n")

    typist = threading.Thread(target=signal_the_worker_then_type, daemon=True)
    typist.start()
    try:
        with StopSignals(), pytest.raises(Stopped):
            prompt_text(env, "Project ID: ")
        typist.join()
        time.sleep(0.2)
        os.set_blocking(slave, False)
        assert os.read(slave, 16) == b"1\n"  # the stopped prompt never read it
    finally:
        stdin.close()
        os.close(master)
