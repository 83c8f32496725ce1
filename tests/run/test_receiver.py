"""The receiver over real loopback HTTP: status codes, bodies and the beyond-schema checks."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from keynet_train.run.callbacks import JobState
from keynet_train.run.receiver import Receiver
from keynet_train.run.token import SCOPE, TokenRejected, issue_token, new_secret, verify_token
from keynet_train.run.verdict import Outcome, evaluate, passed

JOB = 4242
TRACE = "0b0e5a8e-3c43-4b53-8d4c-1f1a7e2b9f00"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = JobState(JOB, TRACE, new_secret(), cancel_after=None)
    with Receiver(state) as r:
        yield r


def token(r: Receiver, job: int = JOB, scope: str = SCOPE, lifetime: int = 3600) -> str:
    return issue_token(job, r.state.secret, int(time.time()), scope=scope, lifetime=lifetime)


def post(
    r: Receiver,
    endpoint: str,
    body: object,
    *,
    auth: str | None = "",
    job: int = JOB,
    raw: bytes | None = None,
) -> tuple[int, dict[str, object]]:
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{r.port}/v1/jobs/{job}/{endpoint}", data=data, method="POST"
    )
    request.add_header("Content-Type", "application/json")
    if auth == "":
        auth = f"Bearer {token(r)}"
    if auth is not None:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


HEARTBEAT = {
    "trace_id": TRACE,
    "epoch": 1,
    "total_epochs": 2,
    "progress": 50.0,
    "metrics": {"loss": 0.5},
}
DONE = {
    "trace_id": TRACE,
    "status": "succeeded",
    "final_metrics": {"loss": 0.1},
    "artifacts": {"model": "s3://b/m.pt"},
}


def checks_of(r: Receiver, exit_code: int = 0) -> dict[str, str]:
    outcome = Outcome(exit_code=exit_code, deadline=100, deadline_exceeded=False, runtime=1.0)
    return {c.name: c.status for c in evaluate(r.callbacks, outcome)}


def test_a_correct_job_passes_every_check(receiver: Receiver) -> None:
    assert post(receiver, "heartbeat", HEARTBEAT) == (
        200,
        {"status": "ok", "should_continue": True},
    )
    event = {"trace_id": TRACE, "level": "info", "event_type": "epoch_end", "message": "ok"}
    assert post(receiver, "event", event) == (200, {"status": "ok"})
    assert post(receiver, "done", DONE) == (200, {"status": "ok"})
    outcome = Outcome(exit_code=0, deadline=100, deadline_exceeded=False, runtime=1.0)
    checks = evaluate(receiver.callbacks, outcome)
    assert passed(checks), [c for c in checks if c.status == "fail"]
    assert [c.number for c in receiver.callbacks] == [1, 2, 3]


@pytest.mark.parametrize(
    ("auth", "status", "check"),
    [
        (None, 401, "token"),
        ("Basic abc", 401, "token"),
        ("Bearer not.a.jwt", 401, "token"),
    ],
)
def test_missing_or_invalid_token_is_401(
    receiver: Receiver, auth: str | None, status: int, check: str
) -> None:
    assert post(receiver, "heartbeat", HEARTBEAT, auth=auth)[0] == status
    assert receiver.callbacks[0].problems[0].check == check
    assert checks_of(receiver)["token"] == "fail"


def test_token_signed_with_another_secret_is_401(receiver: Receiver) -> None:
    forged = issue_token(JOB, new_secret(), int(time.time()))
    assert post(receiver, "heartbeat", HEARTBEAT, auth=f"Bearer {forged}")[0] == 401


def test_expired_token_is_401_and_wrong_scope_403(receiver: Receiver) -> None:
    expired = issue_token(JOB, receiver.state.secret, int(time.time()) - 7 * 3600)
    assert post(receiver, "heartbeat", HEARTBEAT, auth=f"Bearer {expired}")[0] == 401
    assert (
        post(receiver, "heartbeat", HEARTBEAT, auth=f"Bearer {token(receiver, scope='admin')}")[0]
        == 403
    )


def test_another_jobs_token_is_401_and_unknown_job_404(receiver: Receiver) -> None:
    assert post(receiver, "heartbeat", HEARTBEAT, auth=f"Bearer {token(receiver, job=7)}")[0] == 401
    assert post(receiver, "heartbeat", HEARTBEAT, job=JOB + 1)[0] == 404
    assert checks_of(receiver)["job_id"] == "fail"


def test_schema_failures_are_422_and_missing_trace_id_is_its_own_check(receiver: Receiver) -> None:
    status, body = post(receiver, "heartbeat", {"metrics": {}})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "trace_id"]  # type: ignore[index]
    assert post(receiver, "event", {"trace_id": TRACE})[0] == 422
    assert post(receiver, "done", b"", raw=b"{not json")[0] == 422
    checks = checks_of(receiver)
    assert checks["trace_id"] == "fail" and checks["schema"] == "fail"


def test_heartbeat_with_another_trace_id_is_400(receiver: Receiver) -> None:
    assert post(receiver, "heartbeat", {**HEARTBEAT, "trace_id": "other"})[0] == 400
    assert checks_of(receiver)["trace_id"] == "fail"


@pytest.mark.parametrize(
    ("endpoint", "body", "check"),
    [
        ("heartbeat", {**HEARTBEAT, "progress": 150}, "progress"),
        (
            "event",
            {"trace_id": TRACE, "level": "debug", "event_type": "x", "message": "m"},
            "level",
        ),
        ("done", {**DONE, "status": "completed"}, "status"),
        ("done", {**DONE, "artifacts": {"model": "/workspace/model.pt"}}, "artifacts"),
    ],
)
def test_what_a_backend_silently_accepts_fails_its_check(
    receiver: Receiver, endpoint: str, body: dict[str, object], check: str
) -> None:
    assert post(receiver, endpoint, body)[0] == 200
    assert [p.check for p in receiver.callbacks[0].problems] == [check]


def test_nan_and_infinity_are_answered_but_fail_finite_numbers(receiver: Receiver) -> None:
    raw = json.dumps({**HEARTBEAT, "metrics": {"loss": float("nan")}}).encode()
    assert b"NaN" in raw
    assert post(receiver, "heartbeat", None, raw=raw)[0] == 200
    raw = b'{"trace_id": "%s", "metrics": {"loss": 1e999}}' % TRACE.encode()
    assert post(receiver, "heartbeat", None, raw=raw)[0] == 200
    assert [c.problems[0].check for c in receiver.callbacks] == ["finite_numbers"] * 2
    # callbacks.jsonl must stay valid JSON: non-finite numbers are recorded as strings.
    json.dumps(receiver.callbacks[0].to_json(), allow_nan=False)


def test_done_twice_and_callbacks_after_done(receiver: Receiver) -> None:
    post(receiver, "heartbeat", HEARTBEAT)
    post(receiver, "done", DONE)
    post(receiver, "heartbeat", HEARTBEAT)
    post(receiver, "done", DONE)
    checks = checks_of(receiver)
    assert checks["done"] == "fail" and checks["done_last"] == "fail"


def test_no_done_no_heartbeat_and_exit_code_disagreeing(receiver: Receiver) -> None:
    assert checks_of(receiver)["done"] == "fail"
    assert checks_of(receiver)["heartbeat"] == "fail"
    post(receiver, "heartbeat", HEARTBEAT)
    post(receiver, "done", DONE)
    assert checks_of(receiver, exit_code=1)["exit_code"] == "fail"
    assert checks_of(receiver, exit_code=0)["exit_code"] == "pass"


def test_cancel_after_answers_should_continue_false_from_the_nth_heartbeat() -> None:
    state = JobState(JOB, TRACE, new_secret(), cancel_after=2)
    with Receiver(state) as r:
        answers = [post(r, "heartbeat", HEARTBEAT)[1].get("should_continue") for _ in range(3)]
        assert answers == [True, False, False]
        post(r, "done", {**DONE, "status": "failed"})
        outcome = Outcome(
            1, 100, False, 1.0, cancel_after=2, cancelled_at=state.cancelled_at, grace=30
        )
        assert {c.name: c.status for c in evaluate(r.callbacks, outcome)}["cancellation"] == "pass"
        ignored = Outcome(0, 100, False, 1.0, cancel_after=2, cancelled_at=state.cancelled_at)
        r.callbacks[-1].body = DONE
        assert {c.name: c.status for c in evaluate(r.callbacks, ignored)}["cancellation"] == "fail"


def test_peers_outside_loopback_and_the_bridge_are_refused() -> None:
    r = Receiver(JobState(JOB, TRACE, b"k"), allowed_networks=["10.88.0.0/16"])
    assert r.allowed("127.0.0.1") and r.allowed("10.88.0.7") and r.allowed("::ffff:10.88.0.2")
    assert not r.allowed("192.168.1.5") and not r.allowed("10.89.0.1")


def test_token_round_trip_and_claims() -> None:
    secret = new_secret()
    now = int(time.time())
    claims = verify_token(f"Bearer {issue_token(9, secret, now)}", secret, now)
    assert claims.job_id == 9 and claims.scope == SCOPE and claims.exp - claims.iat == 6 * 3600
    with pytest.raises(TokenRejected):
        verify_token(f"Bearer {issue_token(9, secret, now)}x", secret, now)


def test_a_body_over_the_cap_is_refused_unread(receiver: Receiver) -> None:
    from keynet_train.run.callbacks import MAX_BODY_BYTES

    raw = b"x" * (MAX_BODY_BYTES + 1)
    # The answer may come before the body is sent, and the connection close under
    # the sender (as a proxy with a body limit does): then the record tells.
    with contextlib.suppress(urllib.error.URLError, ConnectionError):
        assert post(receiver, "heartbeat", None, raw=raw)[0] == 413
    assert receiver.callbacks[0].status == 413
    assert receiver.callbacks[0].problems[0].check == "schema"


def test_a_long_silence_between_heartbeats_fails_heartbeat_gaps(receiver: Receiver) -> None:
    from keynet_train.run.verdict import MAX_HEARTBEAT_GAP

    post(receiver, "heartbeat", HEARTBEAT)
    post(receiver, "heartbeat", HEARTBEAT)
    post(receiver, "done", DONE)
    assert checks_of(receiver)["heartbeat_gaps"] == "pass"
    receiver.callbacks[1].at = receiver.callbacks[0].at + MAX_HEARTBEAT_GAP + 1
    checks = evaluate(receiver.callbacks, Outcome(0, 10_000, False, 1.0))
    gap = next(c for c in checks if c.name == "heartbeat_gaps")
    assert gap.status == "fail" and gap.callback == 2
