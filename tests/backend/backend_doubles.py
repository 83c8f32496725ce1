"""The canned backend answers and helpers the BackendClient tests share (pytest-httpx).

The fixtures (``client``, ``sleeps``, ``debug_lines``) are in ``conftest.py``.
"""

from __future__ import annotations

import re
from typing import Any

from keynet_train.backend.client import (
    BackendClient,
)
from keynet_train.errors import (
    KeynetError,
)
from keynet_train.extraction.model import Argument

SERVER = "https://api.example.com"
TOKEN = "tok-CANARY-1a2b3c4d5e6f7a8b9c0d"
NEW_TOKEN = "tok-CANARY-NEW-ffeeddccbbaa99"
PASSWORD = "pw-CANARY-Qm4!zT9#vL2"
HARBOR_PASSWORD = "hp-CANARY-robot-77aa66bb55"
SECRETS = (TOKEN, NEW_TOKEN, PASSWORD, HARBOR_PASSWORD)

SIGN_IN_URL = f"{SERVER}/v1/auth/sign-in/one-time"
PROJECTS_URL = re.compile(re.escape(f"{SERVER}/v1/projects/trainable") + r"(\?.*)?$")
UPLOAD_URL = f"{SERVER}/v1/projects/7/trains/images"
UPLOAD_KEY = "abc123xyz456789012345"

SIGN_IN_BODY = {
    "accessToken": NEW_TOKEN,
    "accessTokenExpiresAt": "2025-11-04T12:00:00Z",
    "user": {
        "id": "550e8400-e29b-41d4-a716-446655440000",
        "email": "user@example.com",
        "displayName": "User Name",
        "role": "GENERAL",
    },
    "harbor": {
        "url": "https://harbor.example.com",
        "username": "robot$550e8400e29b41d4a716446655440000",
        "password": HARBOR_PASSWORD,
    },
}
PROJECTS_BODY = {
    "content": [
        {
            "id": 1,
            "title": "Object detection",
            "summary": "...",
            "taskType": "OBJECT_DETECTION",
            "author": {"id": "uuid", "displayName": "Hong Gildong"},
        },
        {"id": 2, "title": "Future", "taskType": "POSE_ESTIMATION"},
    ],
    "meta": {"total": 42, "page": 0, "limit": 20, "maxPage": 2},
}
ARGUMENTS: list[dict[str, Any]] = [
    {
        "name": "learning_rate",
        "type": "float",
        "default": 0.001,
        "required": False,
        "help": "Learning rate",
        "choices": None,
    },
    {"name": "optimizer", "type": "str", "default": "adam", "required": False,
     "help": None, "choices": ["adam", "sgd"]},
    {"name": "amp", "type": "bool", "default": False, "required": False,
     "help": None, "choices": None},
]  # fmt: skip
#: The same arguments as the extractor hands them to the client (typed, not dicts).
HYPERPARAMETERS = [Argument(**a) for a in ARGUMENTS]
UPLOAD_BODY = {"id": 123, "uploadKey": UPLOAD_KEY, "command": "python train.py --lr 0.001"}


def assert_no_secrets(*texts: str | None) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in (text or ""), f"secret leaked into: {text}"


def assert_clean_error(error: KeynetError) -> None:
    assert_no_secrets(error.message, error.hint, str(error), repr(error.__cause__))


def call(client: BackendClient, endpoint: str) -> Any:
    if endpoint == "sign_in":
        return client.sign_in("alice", PASSWORD)
    if endpoint == "projects":
        return client.fetch_trainable_projects()
    return client.request_upload_key(7, "train.py", HYPERPARAMETERS)


def url_of(endpoint: str) -> str | re.Pattern[str]:
    urls: dict[str, str | re.Pattern[str]] = {
        "sign_in": SIGN_IN_URL,
        "projects": PROJECTS_URL,
        "upload": UPLOAD_URL,
    }
    return urls[endpoint]


ENDPOINTS = ["sign_in", "projects", "upload"]
