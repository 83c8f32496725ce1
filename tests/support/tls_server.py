"""The threaded HTTP(S) server behind every in-process fake of the test stack.

The fake backend, the fault proxy in front of the registry and Harbor's token
service all serve from a daemon thread of the test process, hand each
connection to a thread of its own, and give their handlers the object they
fake (``owner``). Standard library only (the fake backend's demo script
imports it).
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Generic, TypeVar

__all__ = ["ThreadingTLSServer"]

OwnerT = TypeVar("OwnerT")


class ThreadingTLSServer(ThreadingHTTPServer, Generic[OwnerT]):
    """A server that speaks TLS with ``tls`` = (certificate, key) files (plain HTTP without).

    Handlers reach the faked service as ``self.server.owner``. :meth:`start`
    serves in a daemon thread; :meth:`stop` shuts down and closes the socket.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        owner: OwnerT,
        tls: tuple[str | Path, str | Path | None] | None = None,
    ) -> None:
        self.owner = owner
        self.context: ssl.SSLContext | None = None
        if tls is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(*tls)
        self._thread: threading.Thread | None = None
        super().__init__(address, handler)

    @property
    def port(self) -> int:
        """The port it listens on (the one the OS chose when bound to port 0)."""
        return int(self.server_address[1])

    def start(self, name: str, poll_interval: float = 0.5) -> None:
        """Serve in a daemon thread called ``name`` (a short ``poll_interval`` stops faster)."""
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": poll_interval},
            name=name,
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        if self._thread is not None:  # shutdown() waits forever on a server never started
            self.shutdown()
            self._thread.join(5)
        self.server_close()

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.context is None:
            return sock, address
        # Handshake in the handler thread so one stalled client cannot block accept().
        return self.context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up early or time out are expected; other errors are shown.

        Tests drop connections on purpose (timeouts, cancelled pushes); a bug in a
        handler still prints its traceback (pytest shows it with the failure).
        """
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)
