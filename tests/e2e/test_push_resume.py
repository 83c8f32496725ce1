"""A push stopped after its upload key resumes with that key (docs/push.md).

The first push is a real process on a pseudo-terminal, stopped while the
fault proxy holds its blob uploads (as in tests/e2e/test_signals.py); the
second is the same push again. The fake backend's request log is the witness
that exactly one key was registered, and the registry holds the image under it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import SIMPLE_DOCKERFILE, Cli, CliResult, make_context
from tests.e2e.test_signals import Run, _assert_clean, _hold_push
from tests.support.fault_proxy import FaultProxy
from tests.support.services import RegistryHandle

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("default_stop_signals")]

UPLOAD_PREFIX = "/v1/projects/"


def _repository(key: str) -> str:
    return "kitech-model/" + re.sub(r"[_-]+", "-", key.lower()).strip("-")


def _stopped_at_push(cli: Cli, run: Run, sig: int) -> str:
    """Start a push, stop it with ``sig`` during the blob upload; return what it printed."""
    since = time.time()
    release = _hold_push(run)
    assert run.term is not None
    run.term.expect("ok Request upload key: ")
    os.killpg(run.term.process.pid, sig)
    release()
    code = run.term.wait(timeout=90)
    assert code == 128 + sig, run.term.screen
    _assert_clean(run, since)
    return " ".join(run.term.screen.split())


def _push_again(cli: Cli, run: Run) -> CliResult:
    context = run.tmp_path / "ctx"
    return cli(
        "push", str(context / "train.py"), "--context", str(context), "--project", "1", "--json"
    )


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: signal.Signals(s).name
)
def test_an_interrupted_push_resumes_with_the_same_key(
    cli: Cli,
    tmp_path: Path,
    fault_proxy: FaultProxy,
    registry: RegistryHandle,
    sig: int,
) -> None:
    cli.login()
    run = Run(cli, tmp_path, fault_proxy)
    try:
        screen = _stopped_at_push(cli, run, sig)
    finally:
        run.kill_leftovers()
    (first,) = cli.backend.requests_to(UPLOAD_PREFIX, "POST")
    match = re.search(
        r"Upload key (\S+) is registered and its image may be only partly pushed", screen
    )
    assert match, screen
    key = match.group(1)
    assert "run the same push again to finish it" in screen
    assert "Nothing was left running" not in screen

    fault_proxy.reset()
    again = _push_again(cli, run)
    assert again.code == 0, again.err
    result = json.loads(again.out)
    assert result["upload_key"] == key
    assert f"Reusing upload key {key}" in " ".join(again.err.split())
    # Exactly one record on the platform, and the image under its key.
    assert cli.backend.requests_to(UPLOAD_PREFIX, "POST") == [first]
    assert registry.manifest_digest(_repository(key), "latest") == result["digest"]

    # Finished: the next push of the same inputs registers a new key.
    third = _push_again(cli, run)
    assert third.code == 0, third.err
    assert json.loads(third.out)["upload_key"] != key
    assert len(cli.backend.requests_to(UPLOAD_PREFIX, "POST")) == 2


def test_a_failed_push_after_the_key_says_so_and_the_retry_finishes_it(
    cli: Cli, tmp_path: Path, fault_proxy: FaultProxy, registry: RegistryHandle
) -> None:
    """The registry refuses the upload (413): the key is registered; pushing again reuses it."""
    cli.login()
    cli.set_harbor(url=fault_proxy.url)
    fault_proxy.reject_uploads(413)
    context = make_context(
        tmp_path / "ctx", SIMPLE_DOCKERFILE + "COPY big.bin /big.bin\n", {"big.bin": "x" * 200_000}
    )
    args = ("push", str(context / "train.py"), "--context", str(context), "--project", "1")
    failed = cli(*args, "--json")
    assert failed.code == 1, failed.err
    error = json.loads(failed.out)["error"]
    (first,) = cli.backend.requests_to(UPLOAD_PREFIX, "POST")
    match = re.search(
        r"Upload key (\S+) is registered and its image may be only partly pushed", error["hint"]
    )
    assert match, error
    assert "run the same push again to finish it" in error["hint"]
    key = match.group(1)

    fault_proxy.reset()
    again = cli(*args, "--json")
    assert again.code == 0, again.err
    result = json.loads(again.out)
    assert result["upload_key"] == key
    assert cli.backend.requests_to(UPLOAD_PREFIX, "POST") == [first]
    assert registry.manifest_digest(_repository(key), "latest") == result["digest"]


def test_new_key_registers_a_fresh_record(
    cli: Cli, tmp_path: Path, fault_proxy: FaultProxy
) -> None:
    cli.login()
    cli.set_harbor(url=fault_proxy.url)
    fault_proxy.reject_uploads(413)
    context = make_context(
        tmp_path / "ctx", SIMPLE_DOCKERFILE + "COPY big.bin /big.bin\n", {"big.bin": "y" * 200_000}
    )
    args = ("push", str(context / "train.py"), "--context", str(context), "--project", "1")
    assert cli(*args).code == 1
    fault_proxy.reset()
    again = cli(*args, "--new-key", "--json")
    assert again.code == 0, again.err
    assert "Reusing upload key" not in again.err
    keys = {json.loads(again.out)["upload_key"]}
    assert len(cli.backend.requests_to(UPLOAD_PREFIX, "POST")) == 2
    # The fresh key finished; nothing of this push is pending any more.
    third = cli(*args, "--json")
    assert "Reusing upload key" not in third.err
    assert json.loads(third.out)["upload_key"] not in keys
