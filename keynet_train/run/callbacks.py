"""How the platform answers one callback, and what it would silently accept (docs/run.md).

The three endpoints of the callback contract (``POST
/v1/jobs/{job_id}/heartbeat|event|done``) with the platform's status codes:
401 for a missing or invalid token (or one for another job), 403 for a wrong
scope, 404 for an unknown job or endpoint, 422 for a body that fails the
schema (the pydantic models below), 400 for a heartbeat whose ``trace_id``
is not the job's. Beyond the schema, each callback is checked for what a
backend would store without complaint: ``progress`` outside 0-100, an
unknown ``level`` or ``status``, ``NaN``/``Infinity``, artifacts that are
local paths, a second ``done``, anything after ``done``.

Pure: :func:`judge` takes the request and the job's state and returns the
answer; the HTTP server is :mod:`keynet_train.run.receiver`.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from keynet_train.run.token import TokenRejected, verify_token

ENDPOINTS = ("heartbeat", "event", "done")
LEVELS = ("info", "warning", "error")
STATUSES = ("succeeded", "failed")
#: Object-store URL schemes an artifact may use; anything else is a path on the node.
ARTIFACT_SCHEMES = ("s3", "gs", "gcs", "minio", "http", "https", "mlflow-artifacts", "runs")
#: A body larger than this is refused (413) unread.
MAX_BODY_BYTES = 1024 * 1024
_PATH_RE = re.compile(r"^/v1/jobs/([^/]+)/([^/?]+)/?$")
_URL_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class HeartbeatBody(BaseModel):
    """``POST .../heartbeat``: where training is."""

    trace_id: str
    epoch: int | None = None
    total_epochs: int | None = None
    step: int | None = None
    total_steps: int | None = None
    progress: float | None = None
    metrics: dict[str, Any]


class EventBody(BaseModel):
    """``POST .../event``: something worth showing in the job's timeline."""

    trace_id: str
    level: str
    event_type: str
    message: str
    data: dict[str, Any] | None = None


class DoneBody(BaseModel):
    """``POST .../done``: the job's outcome, sent once, last."""

    trace_id: str
    status: str
    error: str | None = None
    final_metrics: dict[str, Any]
    artifacts: dict[str, Any]
    mlflow_run_id: str | None = None
    training_time_seconds: float | None = None


_MODELS: dict[str, type[BaseModel]] = {
    "heartbeat": HeartbeatBody,
    "event": EventBody,
    "done": DoneBody,
}


@dataclass(frozen=True)
class Problem:
    """One thing a callback did wrong, under the name of the check it fails."""

    check: str
    message: str

    def to_json(self) -> dict[str, str]:
        """``{check, message}``."""
        return {"check": self.check, "message": self.message}


@dataclass
class Callback:
    """One request the container sent to the receiver, and the answer it got."""

    number: int
    at: float
    method: str
    path: str
    endpoint: str | None
    status: int
    response: dict[str, object]
    body: object
    problems: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """One line of ``callbacks.jsonl`` (the token is never recorded)."""
        return {
            "number": self.number,
            "at": round(self.at, 3),
            "method": self.method,
            "path": self.path,
            "endpoint": self.endpoint,
            "status": self.status,
            "response": self.response,
            "body": self.body,
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass
class JobState:
    """The job the receiver answers for, and what it has seen so far (thread-safe)."""

    job_id: int
    trace_id: str
    secret: bytes
    cancel_after: int | None = None
    heartbeats: int = 0
    dones: int = 0
    cancelled_at: float | None = None
    """Seconds since start when ``should_continue: false`` was first answered."""
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Answer:
    """What :func:`judge` decided: the status, the JSON body, and the callback's record fields."""

    status: int
    response: dict[str, object]
    endpoint: str | None
    body: object
    problems: list[Problem]


def _error(
    status: int, detail: str, endpoint: str | None, body: object, *problems: Problem
) -> Answer:
    return Answer(status, {"detail": detail}, endpoint, body, list(problems))


def judge(
    method: str,
    path: str,
    authorization: str | None,
    raw: bytes,
    state: JobState,
    *,
    now: int,
    at: float,
) -> Answer:
    """Answer one request the way the platform would, and list its problems.

    ``now`` is the wall clock (token expiry), ``at`` the seconds since the
    container started. Raises nothing: every failure is an answer.
    """
    route = _route(method, path, state)
    if isinstance(route, Answer):
        return route
    job, endpoint = route
    parsed, nonfinite, parse_error = _parse(raw)
    # Recorded with NaN/Infinity as strings, so callbacks.jsonl stays valid JSON.
    body = _finite(parsed)
    refused = _refuse_caller(authorization, job, endpoint, body, state, now)
    if refused is not None:
        return refused
    if parse_error is not None:
        return _error(
            422, parse_error, endpoint, body, Problem("schema", f"{endpoint}: {parse_error}")
        )
    try:
        model = _MODELS[endpoint].model_validate(parsed)
    except ValidationError as e:
        return _schema_error(endpoint, body, e)
    problems = [Problem("finite_numbers", f"{endpoint}: {text} in the JSON") for text in nonfinite]
    return _accept(endpoint, body, model, problems, state, at)


def _route(method: str, path: str, state: JobState) -> tuple[str, str] | Answer:
    """(the job id in the path, the endpoint), or the 404/405 of a path that is not a callback."""
    match = _PATH_RE.match(path.split("?", 1)[0])
    endpoint = match.group(2) if match else None
    if match is None or endpoint not in ENDPOINTS:
        return _error(
            404,
            "Not Found",
            None,
            None,
            Problem(
                "job_id",
                f"{method} {path}: no such endpoint "
                f"(expected /v1/jobs/{state.job_id}/heartbeat|event|done)",
            ),
        )
    if method != "POST":
        return _error(
            405,
            "Method Not Allowed",
            endpoint,
            None,
            Problem("schema", f"{method} {path}: callbacks are POST"),
        )
    return match.group(1), endpoint


def _refuse_caller(
    authorization: str | None,
    job: str,
    endpoint: str,
    body: object,
    state: JobState,
    now: int,
) -> Answer | None:
    """The 401/404 of a bad token or another job's id, else None (the caller is this job)."""
    try:
        claims = verify_token(authorization, state.secret, now)
    except TokenRejected as e:
        return _error(e.status, e.reason, endpoint, body, Problem("token", e.reason))
    if job != str(state.job_id):
        return _error(
            404,
            "Job not found",
            endpoint,
            body,
            Problem("job_id", f"job {job!r} is unknown: this job is JOB_ID={state.job_id}"),
        )
    if claims.job_id != state.job_id:
        return _error(
            401,
            "Token is for another job",
            endpoint,
            body,
            Problem("token", f"the token is for job {claims.job_id}, not {state.job_id}"),
        )
    return None


def _schema_error(endpoint: str, body: object, error: ValidationError) -> Answer:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "body"
        check = "trace_id" if where == "trace_id" else "schema"
        problems.append(Problem(check, f"{endpoint}: {where}: {item['msg']}"))
    detail = [
        {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in error.errors()
    ]
    return Answer(422, {"detail": detail}, endpoint, body, problems)


def _accept(
    endpoint: str,
    body: object,
    model: BaseModel,
    problems: list[Problem],
    state: JobState,
    at: float,
) -> Answer:
    trace_id = getattr(model, "trace_id", "")
    wrong_trace = trace_id != state.trace_id
    if wrong_trace:
        message = f"{endpoint}: trace_id {trace_id!r} is not the job's TRACE_ID {state.trace_id!r}"
        if endpoint == "heartbeat":
            return _error(
                400,
                "trace_id does not match the job",
                endpoint,
                body,
                Problem("trace_id", message),
                *problems,
            )
        problems.append(Problem("trace_id", message))
    with state.lock:
        if state.dones:
            problems.append(
                Problem(
                    "done_last" if endpoint != "done" else "done",
                    f"{endpoint} after done: done must be sent once, last",
                )
            )
        if isinstance(model, HeartbeatBody):
            state.heartbeats += 1
            if (
                model.progress is not None
                and math.isfinite(model.progress)
                and not 0 <= model.progress <= 100
            ):
                problems.append(
                    Problem("progress", f"heartbeat: progress {model.progress:g} is outside 0-100")
                )
            cancel = state.cancel_after is not None and state.heartbeats >= state.cancel_after
            if cancel and state.cancelled_at is None:
                state.cancelled_at = at
            return Answer(
                200, {"status": "ok", "should_continue": not cancel}, endpoint, body, problems
            )
        if isinstance(model, EventBody) and model.level not in LEVELS:
            problems.append(
                Problem("level", f"event: level {model.level!r} is not one of {', '.join(LEVELS)}")
            )
        if isinstance(model, DoneBody):
            state.dones += 1
            if model.status not in STATUSES:
                problems.append(
                    Problem("status", f"done: status {model.status!r} is not succeeded or failed")
                )
            problems.extend(_artifact_problems(model.artifacts))
    return Answer(200, {"status": "ok"}, endpoint, body, problems)


def _artifact_problems(artifacts: dict[str, Any]) -> list[Problem]:
    problems = []
    for name, value in artifacts.items():
        scheme = _URL_SCHEME_RE.match(value) if isinstance(value, str) else None
        if scheme is None or scheme.group(1).lower() not in ARTIFACT_SCHEMES:
            problems.append(
                Problem(
                    "artifacts",
                    f"done: artifact {name!r} is {value!r}, not an object-store URL "
                    "(files on the training node are gone when the job ends)",
                )
            )
    return problems


def _parse(raw: bytes) -> tuple[object, list[str], str | None]:
    """The JSON body, the non-finite numbers in it, and why it is not JSON (None if it is)."""
    constants: list[str] = []

    def constant(name: str) -> float:
        constants.append(name)
        return float(name.replace("Infinity", "inf"))

    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=constant)
    except (UnicodeDecodeError, ValueError) as e:
        text = raw[:200].decode("utf-8", "replace")
        return text, [], f"the body is not JSON ({e.__class__.__name__})"
    found = list(dict.fromkeys(constants))
    if not constants and _has_nonfinite(body):
        found.append("a number too large for a float (Infinity)")
    return body, found, None


def _has_nonfinite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_nonfinite(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nonfinite(v) for v in value)
    return False


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
