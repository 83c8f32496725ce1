"""A training loop that reports to the KeyNet platform with the standard library only.

The platform runs it as ``python train.py --epochs 3 --batch_size 16
--learning_rate 0.01`` with JOB_ID, TRACE_ID, BACKEND_BASE_URL and
CALLBACK_TOKEN in the environment, and expects three callbacks (no SDK
needed, urllib is enough):

- ``POST {BACKEND_BASE_URL}/v1/jobs/{JOB_ID}/heartbeat`` while training;
  the answer's ``should_continue: false`` means the job was cancelled;
- ``POST .../event`` for things worth showing in the job's timeline;
- ``POST .../done`` exactly once, last, with ``succeeded`` or ``failed``,
  and an exit code that agrees (0 for succeeded).

Every body carries ``trace_id`` = TRACE_ID and the header
``Authorization: Bearer {CALLBACK_TOKEN}``. SIGTERM (the Job's deadline, or
a node draining) is answered with ``done: failed`` before exiting.

Rehearse it locally: ``keynet-train run train.py`` (docs/run.md).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request

# Set by SIGTERM. As PID 1 of its container the trainer gets no default
# SIGTERM handling: without a handler the signal is ignored until SIGKILL.
stopping = threading.Event()


def post(endpoint: str, fields: dict) -> dict:
    """POST one callback; return the JSON answer ({} when the platform refused it)."""
    url = f"{os.environ['BACKEND_BASE_URL']}/v1/jobs/{os.environ['JOB_ID']}/{endpoint}"
    body = json.dumps({"trace_id": os.environ["TRACE_ID"], **fields}).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - http(s) only
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {os.environ['CALLBACK_TOKEN']}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as e:
        # A lost callback must not kill the training: report it and go on.
        print(f"callback {endpoint} failed: {e}", file=sys.stderr)
        return {}


def main() -> int:
    parser = argparse.ArgumentParser(description="stdlib example trainer")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--learning_rate", type=float, default=0.01)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    started = time.monotonic()
    post("event", {"level": "info", "event_type": "started", "message": f"{args.epochs} epochs"})
    loss = 1.0
    for epoch in range(1, args.epochs + 1):
        time.sleep(0.2)  # the "training" of one epoch
        loss *= 1.0 - min(args.learning_rate * 10, 0.9)
        answer = post(
            "heartbeat",
            {
                "epoch": epoch,
                "total_epochs": args.epochs,
                "progress": round(100.0 * epoch / args.epochs, 2),
                "metrics": {"loss": round(loss, 6), "batch_size": args.batch_size},
            },
        )
        print(f"epoch {epoch}/{args.epochs} loss {loss:.4f}", flush=True)
        if stopping.is_set() or answer.get("should_continue") is False:
            reason = "SIGTERM" if stopping.is_set() else "cancelled by the platform"
            failed = {"status": "failed", "error": reason, "final_metrics": {}, "artifacts": {}}
            post("done", failed)
            return 143 if stopping.is_set() else 1
    final = {"loss": round(loss, 6)} if math.isfinite(loss) else {}
    post(
        "done",
        {
            "status": "succeeded",
            "final_metrics": final,
            "artifacts": {"model": f"s3://models/{os.environ['JOB_ID']}/model.pt"},
            "training_time_seconds": round(time.monotonic() - started, 3),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
