"""Subprocess driver for the Ctrl-C test: build through a private service until SIGINT.

Usage: python -m tests.podman.interrupt_driver CONTEXT_DIR [PODMAN_URL]
Without a URL it forces a private service and prints one JSON line
{"pid": ..., "dir": ...} about it; with one it uses that service and prints
{"pid": null, "dir": null}. Then the build log lines; exits 130 on
KeyboardInterrupt.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from keynet_train.build import context as build_context
from keynet_train.podman import connection as podman_connection
from keynet_train.podman import service as podman_service


class PrintingReporter:
    """Print log lines immediately so the parent can time its SIGINT."""

    def step_started(self, title: str) -> None:
        """Ignore."""

    def step_finished(self, title: str, detail: str = "") -> None:
        """Ignore."""

    def info(self, message: str) -> None:
        """Ignore."""

    def warning(self, message: str) -> None:
        """Ignore."""

    def notice(self, notice: object) -> None:
        """Ignore."""

    def log_line(self, line: str) -> None:
        """Print."""
        print(line, flush=True)


def main() -> int:
    """Run one build through a private service; 130 on Ctrl-C."""
    # A shell starting us in the background may have set SIGINT to "ignore".
    signal.signal(signal.SIGINT, signal.default_int_handler)
    context = Path(sys.argv[1])
    url = sys.argv[2] if len(sys.argv) > 2 else None
    # Force the private-service path even where a default socket exists.
    podman_connection.default_socket_url = lambda environ=None: f"unix://{context}/no-such.sock"
    try:
        with podman_service.connect(url) as client:
            service = client.private_service
            if service is None:
                print(json.dumps({"pid": None, "dir": None}), flush=True)
            else:
                assert service.process is not None
                info = {"pid": service.process.pid, "dir": str(service.directory)}
                print(json.dumps(info), flush=True)
            summary = build_context.scan_context(context, context / "Dockerfile")
            client.build(
                summary, tag="localhost/keynet-interrupt:test", reporter=PrintingReporter()
            )
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
