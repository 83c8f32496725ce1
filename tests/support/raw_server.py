"""A raw TCP server on 127.0.0.1 that plays a script per connection (misbehaving HTTP peers).

Tests use it for what no well-behaved server does: trickle headers, never answer,
send a gzip bomb, or play a registry behind an ``HTTP_PROXY``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator

Script = Callable[[socket.socket, threading.Event], None]


@contextlib.contextmanager
def raw_server(script: Script) -> Iterator[str]:
    """Serve ``script`` to every connection on 127.0.0.1; yields ``http://host:port``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return

            def run(conn: socket.socket = conn) -> None:
                with contextlib.suppress(OSError), conn:
                    script(conn, stop)

            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(5)
        listener.close()
        for thread in threads:
            thread.join(5)


def read_request(conn: socket.socket) -> bytes | None:
    """Read up to the end of the request's headers; what was read, None if the peer closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data
