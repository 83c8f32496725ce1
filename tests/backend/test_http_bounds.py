"""Every request ends by a total deadline, and bodies are capped after decompression.

Real sockets: a raw TCP server thread plays the hostile peer (trickled
headers, trickled body, a TLS port that never handshakes, a gzip bomb).
Memory is measured in a child process (its peak RSS), time on the wall clock.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from collections.abc import Callable

import httpx
import pytest

from keynet_train import limits
from keynet_train.backend.http import (
    MAX_RESPONSE_BYTES,
    RequestDeadlineError,
    ResponseTooLargeError,
    create_http_client,
    describe_transport_error,
)
from tests.support.fake_backend import gzip_bomb
from tests.support.raw_server import Script, raw_server, read_request


def trickle_headers(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(0.2):
        conn.sendall(b"X")  # an endless header name, one byte at a time


def trickle_body(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    while not stop.wait(0.2):
        conn.sendall(b" ")


def silent(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(30)  # accepts, then never says anything (not even a TLS hello)


def _answer(body: bytes, encoding: str | None) -> Script:
    def script(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        if encoding:
            head += f"Content-Encoding: {encoding}\r\n"
        conn.sendall(head.encode() + b"\r\n" + body)

    return script


@pytest.mark.parametrize("script", [trickle_headers, trickle_body], ids=["headers", "body"])
def test_a_trickling_server_is_cut_off_at_the_deadline(script: Script) -> None:
    with raw_server(script) as url, create_http_client(deadline=1.5) as client:
        started = time.monotonic()
        with pytest.raises(RequestDeadlineError) as info:
            client.get(url + "/v1/projects")
        elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 5, elapsed  # the 60 s read timeout never fired; the deadline did
    assert "within 1.5 s" in describe_transport_error(info.value)


def test_a_reused_connection_that_trickles_is_cut_off_at_the_deadline() -> None:
    """Keep-alive stays on: the second request reuses the connection, then trickles."""
    connections = []

    def fast_then_trickle(conn: socket.socket, stop: threading.Event) -> None:
        connections.append(conn)
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        trickle_headers(conn, stop)

    with raw_server(fast_then_trickle) as url, create_http_client(deadline=1.5) as client:
        assert client.get(url).json() == {}
        started = time.monotonic()
        with pytest.raises(RequestDeadlineError):
            client.get(url)
        assert time.monotonic() - started < 5
    assert len(connections) == 1


def test_a_tls_port_that_never_answers_is_cut_off_at_the_deadline() -> None:
    with raw_server(silent) as url, create_http_client(deadline=1.5) as client:
        started = time.monotonic()
        with pytest.raises(RequestDeadlineError):
            client.get(url.replace("http://", "https://") + "/v2/")
        assert time.monotonic() - started < 5


def test_the_default_deadline_is_60_seconds_and_a_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert limits.DEFAULT_REQUEST_DEADLINE == limits.REQUEST_DEADLINE == 60.0
    monkeypatch.setattr(limits, "REQUEST_DEADLINE", 1.0)
    with raw_server(trickle_body) as url, create_http_client() as client:
        started = time.monotonic()
        with pytest.raises(RequestDeadlineError):
            client.get(url)
        assert time.monotonic() - started < 4


def test_fast_answers_are_not_affected_by_the_deadline() -> None:
    body = json.dumps({"ok": True}).encode()
    with raw_server(_answer(body, None)) as url, create_http_client(deadline=1.0) as client:
        for _ in range(3):
            assert client.get(url).json() == {"ok": True}
        time.sleep(1.2)  # no timer of an earlier request fires into a later one
        assert client.get(url).json() == {"ok": True}


# ------------------------------------------------------------------ decoded size cap


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
        ("identity", lambda data: data),
    ],
    ids=["gzip", "deflate-zlib", "deflate-raw", "identity"],
)
def test_compressed_answers_are_decoded(encoding: str, encode: Callable[[bytes], bytes]) -> None:
    payload = {"content": ["x" * 50] * 2000}
    with (
        raw_server(_answer(encode(json.dumps(payload).encode()), encoding)) as url,
        create_http_client() as client,
    ):
        response = client.get(url)
        assert response.json() == payload
        assert response.request.headers["accept-encoding"] == "gzip, deflate"


def test_a_decoded_body_over_the_cap_is_refused_though_small_on_the_wire() -> None:
    body = gzip.compress(b"[" + b" " * (MAX_RESPONSE_BYTES + 10) + b"]")
    assert len(body) < 100_000
    with (
        raw_server(_answer(body, "gzip")) as url,
        create_http_client() as client,
        pytest.raises(ResponseTooLargeError, match="once decompressed"),
    ):
        client.get(url)


@pytest.mark.parametrize("encoding", ["gzip, gzip", "br", "zstd", "compress"])
def test_other_or_stacked_encodings_are_refused(encoding: str) -> None:
    body = gzip.compress(gzip.compress(b"{}"))
    with (
        raw_server(_answer(body, encoding)) as url,
        create_http_client() as client,
        pytest.raises(httpx.TransportError, match="Content-Encoding"),
    ):
        client.get(url)


def test_a_corrupt_gzip_body_is_a_transport_error() -> None:
    with (
        raw_server(_answer(b"\x1f\x8bnot gzip at all", "gzip")) as url,
        create_http_client() as client,
        pytest.raises(httpx.TransportError, match="corrupt"),
    ):
        client.get(url)


# The child's own peak: VmHWM is the high-water mark of this program's address
# space. ru_maxrss is not: an exec carries the replaced address space's peak
# into it, so a child of a 350 MB pytest process "used" 350 MB (the unit tests
# after tests/extraction in scripts/python-matrix; tests/hostile/launcher.py).
_BOMB_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from keynet_train.backend.http import create_http_client
    started = time.monotonic()
    try:
        with create_http_client() as client:
            client.get(sys.argv[1])
        outcome = "read"
    except Exception as exc:
        outcome = type(exc).__name__ + ": " + str(exc)
    with open("/proc/self/status", encoding="ascii") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({
        "outcome": outcome,
        "seconds": time.monotonic() - started,
        "peak_mib": peak_kib / 1024,
    }))
    """
)


def test_a_gzip_bomb_fails_fast_in_bounded_memory() -> None:
    bomb = gzip_bomb(2048)  # 2 GiB inflated
    assert len(bomb) < 3 * 1024 * 1024
    with raw_server(_answer(bomb, "gzip")) as url:
        done = subprocess.run(
            [sys.executable, "-c", _BOMB_CHILD, url],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    report = json.loads(done.stdout)
    assert report["outcome"].startswith("ResponseTooLargeError"), report
    assert report["seconds"] < 10, report
    assert report["peak_mib"] < 200, report
