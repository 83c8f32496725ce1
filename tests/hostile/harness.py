"""Run the installed ``keynet-train`` on hostile input, bounded in time and memory.

Every case of ``tests/hostile`` runs the CLI as a child process (the console
script installed next to the test interpreter, so what is tested is what a
user runs) and asserts, beside its own expectations:

- it ended within :data:`WALL_LIMIT` seconds (else it is killed, with its
  whole process group, and the case fails as a hang);
- its peak resident memory (``ru_maxrss`` of the program alone, measured by
  ``tests/hostile/launcher.py``) stayed under
  :data:`MEMORY_LIMIT`; an address-space limit of :data:`ADDRESS_SPACE_BACKSTOP`
  keeps a runaway child from taking the machine down before that is measured;
- its output is a clean message: no traceback, no "Unexpected internal error",
  nothing past :data:`OUTPUT_LIMIT` bytes.

Adding a case: use the ``hostile`` fixture (``tests/hostile/conftest.py``):

    def test_fifo_config(hostile: Hostile) -> None:
        os.mkfifo(hostile.home / "cfg")
        result = hostile.run("config", "show", env={"KEYNET_CONFIG": str(hostile.home / "cfg")})
        hostile.expect(result, exit_code=1, says="not a regular file")

``hostile.marker`` is a path that a case's payload creates if it ever runs;
``expect`` fails if it exists.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

WALL_LIMIT = 10.0
"""Seconds a hostile case may take, start-up included."""
MEMORY_LIMIT = 200 * 1024 * 1024
"""Peak resident memory a hostile case may use (bytes)."""
ADDRESS_SPACE_BACKSTOP = 2 * 1024 * 1024 * 1024
LAUNCHER = Path(__file__).with_name("launcher.py")
"""RLIMIT_AS of the child: not the bound asserted (virtual memory is much larger than
resident for threads and mapped libraries), only a guard for the machine."""
OUTPUT_LIMIT = 1024 * 1024
"""Bytes of stdout/stderr kept per stream; more is a failure (endless output)."""

FORBIDDEN_OUTPUT = ("Traceback (most recent call last)", "Unexpected internal error")


def keynet_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m keynet_train``."""
    script = Path(sys.executable).parent / "keynet-train"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "keynet_train"]


@dataclass
class HostileResult:
    """What one bounded run produced."""

    argv: list[str]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_bytes: int
    timed_out: bool = False
    output_overflow: bool = False

    def describe(self) -> str:
        """A summary for assertion messages."""
        return (
            f"argv={self.argv}\nexit={self.exit_code} seconds={self.seconds:.1f} "
            f"rss={self.max_rss_bytes / 1e6:.0f} MB timed_out={self.timed_out}\n"
            f"--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"
        )


def _drain(stream: object, sink: bytearray, overflow: list[bool]) -> None:
    read = stream.read1  # type: ignore[attr-defined]
    while True:
        chunk = read(65536)
        if not chunk:
            return
        if len(sink) < OUTPUT_LIMIT:
            sink += chunk[: OUTPUT_LIMIT - len(sink)]
        else:
            overflow[0] = True  # keep reading, so the child is never blocked on a full pipe


def run_bounded(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    stdin: bytes = b"",
    wall_limit: float = WALL_LIMIT,
    program: Sequence[str] | None = None,
) -> HostileResult:
    """Run ``keynet-train *args`` (or ``program *args``); kill it if it passes ``wall_limit``.

    Raises nothing for the child's failures: they are in the result.
    """
    argv = [*(keynet_command() if program is None else program), *args]
    handle, report = tempfile.mkstemp(prefix="keynet-hostile-rss-")
    os.close(handle)
    started = time.monotonic()
    # Through a small launcher interpreter, which measures the program's own
    # peak memory and limits its address space (see tests/hostile/launcher.py).
    launcher = [sys.executable, "-I", "-S", str(LAUNCHER), report]
    proc = subprocess.Popen(
        [*launcher, str(ADDRESS_SPACE_BACKSTOP), *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=dict(env),
        start_new_session=True,  # its own process group: a hang is killed with its children
    )
    out, err = bytearray(), bytearray()
    overflow = [False]
    readers = [
        threading.Thread(target=_drain, args=(proc.stdout, out, overflow), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr, err, overflow), daemon=True),
    ]
    for reader in readers:
        reader.start()
    assert proc.stdin is not None
    try:
        proc.stdin.write(stdin)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    timed_out = False
    while True:
        pid, status = os.waitpid(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > wall_limit:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status = os.waitpid(proc.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    # Grandchildren left behind (a payload's background job) may still hold the pipes open.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for reader in readers:
        reader.join(5)
    # ru_maxrss is in KiB on Linux, bytes on macOS; 0 when the launcher was killed.
    scale = 1 if sys.platform == "darwin" else 1024
    try:
        max_rss = int(Path(report).read_text(encoding="ascii") or 0)
    finally:
        os.unlink(report)
    return HostileResult(
        argv=argv,
        exit_code=proc.returncode,
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        seconds=seconds,
        max_rss_bytes=max_rss * scale,
        timed_out=timed_out,
        output_overflow=overflow[0],
    )


def assert_bounded(result: HostileResult) -> None:
    """The bounds every hostile case must meet: time, memory, output size, no traceback."""
    assert not result.timed_out, f"hung past {WALL_LIMIT:.0f} s\n{result.describe()}"
    assert result.max_rss_bytes <= MEMORY_LIMIT, (
        f"used {result.max_rss_bytes / 1e6:.0f} MB (limit {MEMORY_LIMIT / 1e6:.0f})\n"
        f"{result.describe()}"
    )
    assert not result.output_overflow, f"printed over {OUTPUT_LIMIT} bytes\n{result.describe()}"
    for text in FORBIDDEN_OUTPUT:
        assert text not in result.stdout + result.stderr, f"{text!r}\n{result.describe()}"


class Hostile:
    """One case's sandbox: a private ``HOME``, config and cache, a marker path, bounded runs.

    ``env`` has no ``VIRTUAL_ENV``, ``KEYNET_*``, ``CONTAINER_HOST`` or proxy
    variables from the outer environment, so a case sees only what it sets.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.home.mkdir(mode=0o700)
        self.marker = root / "PAYLOAD-RAN"
        keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "CONTAINERS_STORAGE_CONF")
        self.env: dict[str, str] = {k: os.environ[k] for k in keep if k in os.environ}
        self.env.update(
            {
                "HOME": str(self.home),
                "KEYNET_CONFIG": str(self.home / ".config" / "keynet" / "config.json"),
                "XDG_CACHE_HOME": str(self.home / ".cache"),
                "XDG_CONFIG_HOME": str(self.home / ".config"),
                "XDG_RUNTIME_DIR": str(self.home / "run"),
                "NO_COLOR": "1",
            }
        )

    @property
    def config_file(self) -> Path:
        """Where ``KEYNET_CONFIG`` points."""
        return Path(self.env["KEYNET_CONFIG"])

    def log_in(self, **extra: object) -> Path:
        """Write a logged-in config (fake server, token valid for a day) plus ``extra`` keys."""
        import json
        from datetime import datetime, timedelta, timezone

        expires = datetime.now(timezone.utc) + timedelta(days=1)
        data = {
            "schema_version": 1,
            "server_url": "http://127.0.0.1:9",
            "username": "alice",
            "api_token": "tok-hostile-0123456789",
            "api_token_expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "harbor": {
                "url": "https://127.0.0.1:9",
                "username": "robot$hostile",
                "password": "pw-hostile-0123456789",
            },
            **extra,
        }
        self.config_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        return self.config_file

    def payload(self, path: Path) -> Path:
        """An executable shell script at ``path`` that creates :attr:`marker` if it ever runs."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"#!/bin/sh\ntouch '{self.marker}'\necho '[]'\n", encoding="utf-8")
        path.chmod(0o755)
        return path

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        stdin: bytes = b"",
    ) -> HostileResult:
        """``keynet-train *args`` in ``cwd`` (default: the sandbox), bounds asserted."""
        result = run_bounded(
            args, env={**self.env, **(env or {})}, cwd=cwd or self.root, stdin=stdin
        )
        assert_bounded(result)
        return result

    def expect(
        self,
        result: HostileResult,
        *,
        exit_code: int,
        says: str | Sequence[str] = (),
        never_says: Sequence[str] = (),
    ) -> None:
        """The exit status, the phrases stderr must hold, and that no payload ran."""
        assert result.exit_code == exit_code, result.describe()
        for phrase in [says] if isinstance(says, str) else says:
            assert phrase in result.stderr, f"missing {phrase!r}\n{result.describe()}"
        for phrase in never_says:
            assert phrase not in result.stdout + result.stderr, result.describe()
        assert not self.marker.exists(), f"the payload ran\n{result.describe()}"
