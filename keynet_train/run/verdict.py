"""The verdict of a run: every check, pass or fail, with the reason and the callback number.

Per-callback problems (:mod:`keynet_train.run.callbacks`) are gathered under
their check; the sequence checks (a heartbeat at all, exactly one ``done``,
sent last, heartbeat gaps), the exit code against ``done.status``, the
cancellation rehearsal and the deadline are decided here, from the record.
The names are stable: they appear in ``report.json`` and in ``--json``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.run.callbacks import Callback

if TYPE_CHECKING:
    from keynet_train.run.plan import RunPlan

#: Check names in the order the verdict table lists them.
CHECKS = (
    "token",
    "job_id",
    "schema",
    "trace_id",
    "progress",
    "level",
    "status",
    "finite_numbers",
    "artifacts",
    "heartbeat",
    "heartbeat_gaps",
    "done",
    "done_last",
    "exit_code",
    "cancellation",
    "deadline",
    "outcome",
)
#: The longest silence between heartbeats that passes (docs/run.md: a decision, not a seed fact).
MAX_HEARTBEAT_GAP = 600.0


@dataclass(frozen=True)
class Check:
    """One line of the verdict: ``status`` is ``pass``, ``fail`` or ``skip``."""

    name: str
    status: str
    reason: str
    callback: int | None = None

    def to_json(self) -> dict[str, object]:
        """``{name, status, reason, callback}``."""
        return {
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "callback": self.callback,
        }


@dataclass(frozen=True)
class Outcome:
    """How the container ended."""

    exit_code: int | None
    """None when it never exited on its own (killed after the deadline counts as exited)."""
    deadline: float
    deadline_exceeded: bool
    runtime: float
    cancel_after: int | None = None
    cancelled_at: float | None = None
    grace: float = 30.0


@dataclass
class RunResult:
    """A finished rehearsal."""

    run_id: str
    folder: Path
    plan: RunPlan
    exit_code: int | None
    checks: list[Check]
    callbacks: list[Callback]
    runtime: float
    start_seconds: float
    """From the image being ready to the container running (create + start)."""

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return passed(self.checks)

    def to_json(self) -> dict[str, object]:
        """``report.json`` and the ``--json`` object."""
        return {
            "run_id": self.run_id,
            "folder": str(self.folder),
            "passed": self.passed,
            "exit_code": self.exit_code,
            "runtime_seconds": round(self.runtime, 3),
            "start_seconds": round(self.start_seconds, 3),
            "checks": [c.to_json() for c in self.checks],
            "callbacks": [c.to_json() for c in self.callbacks],
            **self.plan.to_json(),
        }


def evaluate(callbacks: Sequence[Callback], outcome: Outcome) -> list[Check]:
    """Every check of :data:`CHECKS` for a finished run. Raises nothing."""
    checks: dict[str, Check] = {}
    for callback in callbacks:
        for problem in callback.problems:
            checks.setdefault(
                problem.check,
                Check(
                    problem.check,
                    "fail",
                    f"callback {callback.number}: {problem.message}",
                    callback.number,
                ),
            )
    heartbeats = [c for c in callbacks if c.endpoint == "heartbeat" and c.status == 200]
    dones = [c for c in callbacks if c.endpoint == "done" and c.status == 200]
    if not heartbeats:
        reason = "no heartbeat was accepted"
        if not callbacks:
            # Nothing arrived at all: more often the network than the script.
            reason += (
                " (no callback reached the receiver: does the script post to "
                "BACKEND_BASE_URL, and can the container reach it past this host's firewall?)"
            )
        checks.setdefault("heartbeat", Check("heartbeat", "fail", reason))
    else:
        checks.setdefault("heartbeat", Check("heartbeat", "pass", f"{len(heartbeats)} heartbeats"))
    checks.setdefault("heartbeat_gaps", _gaps(heartbeats))
    if not dones:
        checks.setdefault("done", Check("done", "fail", "the job never sent an accepted done"))
    elif len(dones) > 1:
        checks["done"] = Check(
            "done",
            "fail",
            f"done sent {len(dones)} times (callbacks "
            + ", ".join(str(c.number) for c in dones)
            + ")",
            dones[1].number,
        )
    else:
        checks.setdefault("done", Check("done", "pass", f"callback {dones[0].number}"))
    checks.setdefault(
        "done_last",
        Check(
            "done_last", "pass" if dones else "skip", "nothing after done" if dones else "no done"
        ),
    )
    status = _done_status(dones[0]) if dones else None
    checks["exit_code"] = _exit_code(outcome, status, dones[0].number if dones else None)
    checks["cancellation"] = _cancellation(callbacks, outcome, status)
    checks["deadline"] = _deadline(outcome)
    checks["outcome"] = _outcome(outcome, status)
    for name in CHECKS:
        checks.setdefault(name, Check(name, "pass", "every callback"))
    return [checks[name] for name in CHECKS]


def passed(checks: Sequence[Check]) -> bool:
    """True when no check failed."""
    return all(check.status != "fail" for check in checks)


def _done_status(done: Callback) -> str | None:
    body = done.body
    status = body.get("status") if isinstance(body, dict) else None
    return status if isinstance(status, str) else None


def _gaps(heartbeats: Sequence[Callback]) -> Check:
    if len(heartbeats) < 2:
        return Check("heartbeat_gaps", "skip", "fewer than two heartbeats")
    gap, after = max((b.at - a.at, b.number) for a, b in itertools.pairwise(heartbeats))
    if gap > MAX_HEARTBEAT_GAP:
        return Check(
            "heartbeat_gaps",
            "fail",
            f"{gap:.0f} s without a heartbeat before callback {after} "
            f"(at most {MAX_HEARTBEAT_GAP:.0f} s)",
            after,
        )
    return Check("heartbeat_gaps", "pass", f"longest gap {gap:.1f} s")


def _exit_code(outcome: Outcome, status: str | None, number: int | None) -> Check:
    code = outcome.exit_code
    if code is None or status is None:
        return Check(
            "exit_code",
            "skip",
            "no done to compare the exit code with"
            if status is None
            else "the container did not exit on its own",
        )
    if status == "succeeded" and code != 0:
        return Check(
            "exit_code", "fail", f"done said succeeded but the container exited with {code}", number
        )
    if status == "failed" and code == 0:
        return Check(
            "exit_code",
            "fail",
            "done said failed but the container exited with 0 "
            "(the platform marks the Job succeeded)",
            number,
        )
    return Check("exit_code", "pass", f"exit code {code} agrees with done {status}")


def _cancellation(callbacks: Sequence[Callback], outcome: Outcome, status: str | None) -> Check:
    if outcome.cancel_after is None:
        return Check("cancellation", "skip", "no --cancel-after")
    if outcome.cancelled_at is None:
        return Check(
            "cancellation",
            "fail",
            f"the job never sent heartbeat {outcome.cancel_after}: cancellation was not rehearsed",
        )
    late = [
        c
        for c in callbacks
        if c.endpoint == "heartbeat" and c.at > outcome.cancelled_at and c.status == 200
    ]
    if status != "failed":
        return Check(
            "cancellation",
            "fail",
            f"told should_continue=false at {outcome.cancelled_at:.1f} s, the job sent "
            + (f"done {status!r}" if status else "no done")
            + " instead of done 'failed'",
        )
    limit = outcome.cancelled_at + outcome.grace
    if outcome.exit_code is None or outcome.runtime > limit:
        return Check(
            "cancellation",
            "fail",
            f"told should_continue=false at {outcome.cancelled_at:.1f} s, the job did not "
            f"exit within the {outcome.grace:.0f} s grace period",
        )
    extra = f" ({len(late)} heartbeats after it)" if late else ""
    return Check(
        "cancellation",
        "pass",
        f"stopped {outcome.runtime - outcome.cancelled_at:.1f} s after "
        f"should_continue=false{extra}",
    )


def _deadline(outcome: Outcome) -> Check:
    if outcome.deadline_exceeded:
        return Check(
            "deadline",
            "fail",
            f"still running at the deadline ({outcome.deadline:g} s): stopped with SIGTERM "
            "then SIGKILL; the platform marks the Job failed",
        )
    return Check(
        "deadline", "pass", f"finished in {outcome.runtime:.1f} s (deadline {outcome.deadline:g} s)"
    )


def _outcome(outcome: Outcome, status: str | None) -> Check:
    if outcome.cancel_after is not None:
        return Check("outcome", "skip", "cancelled on purpose")
    if status == "succeeded" and outcome.exit_code == 0:
        return Check("outcome", "pass", "training succeeded")
    return Check(
        "outcome",
        "fail",
        f"training did not succeed (done {status or 'missing'}, "
        f"exit code {outcome.exit_code if outcome.exit_code is not None else 'none'})",
    )
