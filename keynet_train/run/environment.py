"""The job's environment, as the platform sets it (docs/run.md), and ``--env``/``--env-file``.

``JOB_ID`` (an integer), ``TRACE_ID`` (uuid4), ``BACKEND_BASE_URL`` (the
receiver as the container reaches it), ``CALLBACK_TOKEN``, ``DATASET_ID``,
``MODEL_NAME``, and ``EPOCHS``/``BATCH_SIZE``/``LEARNING_RATE``/``IMGSZ``/
``DEVICE`` from the chosen values where the script has those
hyperparameters. ``--env-file`` then ``--env`` add or replace anything except
the four variables the rehearsal depends on.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from keynet_train.errors import InputError, UsageError
from keynet_train.run.token import issue_token, new_secret
from keynet_train.secrets import is_secret_name, mask_secret

#: Hyperparameter name (lower case, ``-`` as ``_``) → the variable the platform sets from it.
HYPERPARAMETER_VARIABLES = {
    "epochs": "EPOCHS",
    "batch_size": "BATCH_SIZE",
    "learning_rate": "LEARNING_RATE",
    "imgsz": "IMGSZ",
    "device": "DEVICE",
}
#: Set by the rehearsal itself: replacing one would break the callbacks it checks.
RESERVED = ("JOB_ID", "TRACE_ID", "BACKEND_BASE_URL", "CALLBACK_TOKEN")
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_ENV_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class JobIdentity:
    """Who the job is: its id, trace id, signing secret and callback token."""

    job_id: int
    trace_id: str
    dataset_id: str
    secret: bytes
    token: str


def new_job(now: int) -> JobIdentity:
    """A fresh job: random id and trace id, a per-run secret and its 6-hour token."""
    job_id = 100000 + secrets.randbelow(900000)
    secret = new_secret()
    return JobIdentity(
        job_id=job_id,
        trace_id=str(uuid.uuid4()),
        dataset_id=str(uuid.uuid4()),
        secret=secret,
        token=issue_token(job_id, secret, now),
    )


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    return str(value)


def job_environment(
    job: JobIdentity,
    base_url: str,
    model_name: str,
    values: Mapping[str, object],
    extra: Mapping[str, str],
) -> dict[str, str]:
    """Every variable the container gets. ``values``: the hyperparameters' chosen values."""
    env = {
        "JOB_ID": str(job.job_id),
        "TRACE_ID": job.trace_id,
        "BACKEND_BASE_URL": base_url,
        "CALLBACK_TOKEN": job.token,
        "DATASET_ID": job.dataset_id,
        "MODEL_NAME": model_name,
    }
    for name, value in values.items():
        variable = HYPERPARAMETER_VARIABLES.get(name.lower().replace("-", "_"))
        if variable is not None and value is not None:
            env[variable] = _text(value)
    env.update(extra)
    return env


def masked_environment(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` for display: the token and any secret-looking variable masked."""
    return {
        name: mask_secret(value) if name == "CALLBACK_TOKEN" or is_secret_name(name) else value
        for name, value in env.items()
    }


def _assignment(item: str, environ: Mapping[str, str], where: str) -> tuple[str, str] | None:
    name, sep, value = item.partition("=")
    if not _NAME_RE.match(name):
        raise UsageError(
            f"{where}: {item!r} is not NAME=VALUE.",
            "Names are letters, digits and '_', not starting with a digit "
            "(e.g. --env WANDB_MODE=offline).",
        )
    if name in RESERVED:
        raise UsageError(
            f"{where}: {name} is set by the rehearsal and cannot be replaced.",
            f"{', '.join(RESERVED)} point the container at the local receiver; drop {name} from "
            "--env/--env-file.",
        )
    if not sep:
        # Docker's rule: a bare NAME takes the value from this environment, if set.
        return (name, environ[name]) if name in environ else None
    return name, value


def parse_env(
    items: Iterable[str], env_files: Iterable[Path], environ: Mapping[str, str]
) -> dict[str, str]:
    """``--env-file`` lines, then ``--env`` items, later ones winning.

    Lines are ``NAME=VALUE`` (the value verbatim, quotes included, as Docker
    reads them) or a bare ``NAME`` taken from this environment; blank lines
    and ``#`` comments are skipped.

    Raises:
        UsageError: a malformed item, or one of :data:`RESERVED`.
        InputError: an env file cannot be read.
    """
    result: dict[str, str] = {}
    for path in env_files:
        for number, line in enumerate(_read_env_file(path), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            pair = _assignment(stripped, environ, f"{path}:{number}")
            if pair is not None:
                result[pair[0]] = pair[1]
    for item in items:
        pair = _assignment(item, environ, "--env")
        if pair is not None:
            result[pair[0]] = pair[1]
    return result


def _read_env_file(path: Path) -> list[str]:
    from keynet_train.files import UnreadableFile, read_regular_file

    try:
        # Regular files only, capped: a FIFO, /dev/zero or a link to /proc/kmsg
        # (a "regular" file of size 0 whose read blocks) is refused, not waited on.
        raw = read_regular_file(path, MAX_ENV_FILE_BYTES)
    except UnreadableFile as e:
        raise InputError(
            f"--env-file {path}: it {e.reason}.", "Name a file of NAME=VALUE lines."
        ) from None
    try:
        return raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise InputError(
            f"Cannot read --env-file {path}: {e}", "Check the path and that it is UTF-8 text."
        ) from e
