"""What the fake backend serves and accepts: sample data and the upload-key contract.

:func:`validate_upload_request` is the backend's check of an upload-key request
body and :func:`build_command` the training command it answers with
(docs/platform-contract.md); :func:`sample_projects`, :func:`new_nanoid` and
:func:`gzip_bomb` make the data :class:`tests.support.fake_backend.FakeBackend`
serves. Standard library only, and no pytest import.
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

NANOID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


ARGUMENT_TYPES = ("str", "int", "float", "bool")


ARGUMENT_KEYS = ("name", "type", "default", "required", "help", "choices")


_MIB = 1024 * 1024


def gzip_bomb(inflated_mib: int = 2048) -> bytes:
    """A gzip body of ``inflated_mib`` MiB of zeros, about 1 KB on the wire per MiB.

    One deflate block of 1 MiB of zeros, ended by a full flush so it stands
    alone, repeated; then the final block and a trailer. The trailer's CRC is
    not computed (2 GiB of work): a client that respects a size cap stops long
    before it, and one that does not is the failure under test anyway.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(b"\0" * _MIB) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = compressor.flush(zlib.Z_FINISH)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = b"\0\0\0\0" + ((inflated_mib * _MIB) % 2**32).to_bytes(4, "little")
    return header + block * inflated_mib + final + trailer


def sample_projects(count: int = 3) -> list[dict[str, Any]]:
    """``count`` trainable projects in wire format (ids 1..count), task types cycled."""
    task_types = ("OBJECT_DETECTION", "SEGMENTATION", "OBJECT_CLASSIFICATION")
    return [
        {
            "id": index,
            "title": f"Project {index}",
            "summary": f"Sample project number {index}",
            "taskType": task_types[(index - 1) % len(task_types)],
            "author": {
                "id": f"00000000-0000-0000-0000-{index:012d}",
                "displayName": "Hong Gildong",
            },
        }
        for index in range(1, count + 1)
    ]


def new_nanoid() -> str:
    """A fresh 21-character NanoID."""
    return "".join(secrets.choice(NANOID_ALPHABET) for _ in range(21))


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def validate_upload_request(body: Any) -> str | None:
    """The 400 message for an invalid upload-key body, or None if valid."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    unknown = set(body) - {"modelName", "hyperParameters"}
    if unknown:
        return f"Unknown fields: {', '.join(sorted(unknown))}"
    if not isinstance(body.get("modelName"), str) or not body["modelName"].strip():
        return "modelName is required"
    params = body.get("hyperParameters")
    if not isinstance(params, list):
        return "hyperParameters must be a list"
    seen: set[str] = set()
    for index, item in enumerate(params):
        where = f"hyperParameters[{index}]"
        if not isinstance(item, dict):
            return f"{where} must be an object"
        unknown = set(item) - set(ARGUMENT_KEYS)
        if unknown:
            return f"{where}: unknown fields {', '.join(sorted(unknown))}"
        name = item.get("name")
        if not isinstance(name, str) or not name:
            return f"{where}.name is required"
        if name in seen:
            return f"{where}.name {name!r} is duplicated"
        seen.add(name)
        if item.get("type") not in ARGUMENT_TYPES:
            return f"{where}.type must be one of {', '.join(ARGUMENT_TYPES)}"
        if "required" in item and not isinstance(item["required"], bool):
            return f"{where}.required must be a boolean"
        if item.get("help") is not None and not isinstance(item["help"], str):
            return f"{where}.help must be a string or null"
        choices = item.get("choices")
        if choices is not None and (
            not isinstance(choices, list) or not all(isinstance(c, str) for c in choices)
        ):
            return f"{where}.choices must be a list of strings or null"
        default = item.get("default")
        if default is not None and not isinstance(default, (str, int, float, bool, list)):
            return f"{where}.default must be a JSON scalar, list or null"
    return None


def build_command(model_name: str, arguments: Sequence[dict[str, Any]]) -> str:
    """``python train.py --learning_rate 0.001 ...``: the platform's run command.

    Built as a backend that sees only the request builds it
    (docs/platform-command.md): ``--{name} {value}`` for every argument with a
    default, the value as Python's ``str()`` (``True``/``False``, ``[30, 60]``),
    ``null`` and ``[]`` left out, nothing quoted, no sub-command.
    """
    parts = ["python", model_name]
    for argument in arguments:
        default = argument.get("default")
        if default is None or default == []:
            continue
        parts += [f"--{argument['name']}", str(default)]
    return " ".join(parts)


DEFAULT_MESSAGES = {
    400: "Invalid request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    422: "Unprocessable entity",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
