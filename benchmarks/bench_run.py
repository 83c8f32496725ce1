"""``keynet-train run``: container start latency vs ``podman run``, and receiver cost per callback.

Start: the example trainer (examples/callbacks) is built once on an offline
Python image; then, interleaved in the same run against the same private
podman service, ``keynet-train run --json`` reports ``start_seconds`` (create
+ start through the API, from the image being ready to the container
running) and ``podman --url ... run -d`` of the same image with the same
limits is timed (it returns once the container runs). Target: run starts the
container within 1 s of the image being ready.

Receiver: N callbacks POSTed over one keep-alive connection to the receiver
(token check, pydantic, every beyond-schema check, the record) and to a bare
``http.server`` that answers ``{"status": "ok"}``; the difference per
callback is what the receiver adds. Target: under 1 ms.

    .venv/bin/python benchmarks/bench_run.py [--rounds N] [--callbacks N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from keynet_train.run.callbacks import JobState  # noqa: E402
from keynet_train.run.receiver import Receiver  # noqa: E402
from keynet_train.run.token import issue_token, new_secret  # noqa: E402
from tests.support.python_image import ensure_python_image  # noqa: E402
from tests.support.services import (  # noqa: E402
    isolated_storage,
    remove_storage,
    start_podman_service,
)

KEYNET = [sys.executable, "-m", "keynet_train"]
TRACE = "3f0e6c1a-8a55-4b8e-9c55-1a2b3c4d5e6f"


class _Bare(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The receiver's socket settings, so only its judging and recording differ.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _post_many(port: int, count: int, path: str, headers: dict[str, str], body: bytes) -> float:
    """Seconds per request for ``count`` POSTs over one connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    start = time.perf_counter()
    for _ in range(count):
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed / count


def receiver_overhead(count: int, rounds: int) -> tuple[float, float]:
    """(median s per callback through the receiver, through a bare http.server)."""
    secret = new_secret()
    state = JobState(7, TRACE, secret)
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {issue_token(7, secret, int(time.time()))}",
    }
    body = json.dumps(
        {"trace_id": TRACE, "epoch": 1, "progress": 50.0, "metrics": {"loss": 0.5, "acc": 0.9}}
    ).encode()
    bare = ThreadingHTTPServer(("127.0.0.1", 0), _Bare)
    Thread(target=bare.serve_forever, daemon=True).start()
    ours: list[float] = []
    theirs: list[float] = []
    with Receiver(state) as receiver:
        for _ in range(rounds):
            ours.append(_post_many(receiver.port, count, "/v1/jobs/7/heartbeat", headers, body))
            theirs.append(
                _post_many(bare.server_address[1], count, "/v1/jobs/7/heartbeat", headers, body)
            )
            receiver.callbacks.clear()
    bare.shutdown()
    bare.server_close()
    return statistics.median(ours), statistics.median(theirs)


def start_latency(rounds: int) -> tuple[list[float], list[float]]:
    """(keynet-train run's start_seconds, podman run -d wall seconds) per round."""
    workdir = Path(tempfile.mkdtemp(prefix="keynet-bench-run-"))
    service = None
    try:
        service = start_podman_service(
            workdir / "podman", extra_env=isolated_storage(workdir / "storage")
        )
        env = {
            **os.environ,
            **service.env,
            "CONTAINER_HOST": service.url,
            "XDG_CACHE_HOME": str(workdir / "cache"),
            "KEYNET_CONFIG": str(workdir / "k.json"),
        }
        python = ensure_python_image(service.url, "localhost/keynet-bench-python:latest", env)
        project = workdir / "project"
        shutil.copytree(ROOT / "examples" / "callbacks", project)
        args = [
            "run",
            "train.py",
            "--build-arg",
            f"BASE_IMAGE={python}",
            "--set",
            "epochs=1",
            "--json",
            "--output-dir",
            str(workdir / "out"),
        ]
        ours: list[float] = []
        theirs: list[float] = []
        image = None
        for round_ in range(rounds + 1):
            done = subprocess.run(
                KEYNET + args, cwd=project, env=env, capture_output=True, text=True, check=False
            )
            report = json.loads(done.stdout)
            assert report["passed"], done.stderr[-2000:]
            image = report["image"]
            flags = report["podman_run"].split(" --env ")[0].split()[3:]  # podman run --rm <limits>
            start = time.perf_counter()
            started = subprocess.run(
                [
                    "podman",
                    "--url",
                    service.url,
                    "run",
                    "-d",
                    *flags,
                    image,
                    "python",
                    "-c",
                    "pass",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            elapsed = time.perf_counter() - start
            assert started.returncode == 0, started.stderr
            subprocess.run(
                ["podman", "--url", service.url, "rm", "-f", started.stdout.strip()],
                env=env,
                capture_output=True,
                check=False,
            )
            if round_:  # the first round builds; not counted
                ours.append(float(report["start_seconds"]))
                theirs.append(elapsed)
        return ours, theirs
    finally:
        if service is not None:
            service.stop()
        remove_storage(workdir / "storage")
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--callbacks", type=int, default=500)
    args = parser.parse_args()
    ours, bare = receiver_overhead(args.callbacks, args.rounds)
    print(
        f"receiver: {ours * 1000:.3f} ms per callback; bare http.server {bare * 1000:.3f} ms; "
        f"added {(ours - bare) * 1000:.3f} ms (target < 1 ms)"
    )
    run_start, podman_start = start_latency(args.rounds)
    print(
        f"container start: keynet-train run median {statistics.median(run_start):.3f} s "
        f"(max {max(run_start):.3f}); podman run -d median {statistics.median(podman_start):.3f} s "
        f"(target: run < 1 s after the image is ready)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
