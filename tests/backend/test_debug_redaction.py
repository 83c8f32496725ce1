"""--debug never shows a secret (issue 8 item 7): large bodies, every special character,
broken JSON, and a property test over the redactor and the output sanitiser together."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpx import HTTPXMock

from keynet_train.backend.client import BackendClient
from keynet_train.cli.output import neutralise
from keynet_train.errors import BackendError
from keynet_train.secrets import Redactor, redact_text_fields

SERVER = "https://api.example.com"
SIGN_IN_URL = f"{SERVER}/v1/auth/sign-in/one-time"
# Every character the old regex fallback stopped at, and then some.
SPECIAL = ",;\"&} '=:/+%\\<>[]{}#?!$*()|`~^"
TOKEN = "tok-CANARY-" + SPECIAL + "-REST-OF-TOKEN-9f8e7d"
ROBOT_PASSWORD = "robot-CANARY-" + SPECIAL + "-tail-5a4b3c"
PASSWORD = "user-CANARY-" + SPECIAL + "-pw-1z2y3x"


def _fragments(text: str, secret: str, window: int = 10) -> list[str]:
    return sorted(
        {secret[i : i + window] for i in range(len(secret) - window + 1)} & _windows(text, window)
    )


def _windows(text: str, window: int) -> set[str]:
    return {text[i : i + window] for i in range(len(text) - window + 1)}


def _sign_in_body(padding: int) -> dict[str, object]:
    return {
        "accessToken": TOKEN,
        "accessTokenExpiresAt": "2030-01-01T00:00:00Z",
        "user": {"id": "u", "email": "a@example.com", "displayName": "x" * padding, "role": "G"},
        "harbor": {
            "url": "https://harbor.example.com",
            "username": "robot$x",
            "password": ROBOT_PASSWORD,
        },
    }


@pytest.mark.parametrize("padding", [0, 7_990, 20_000, 200_000])
@pytest.mark.parametrize("late", [False, True], ids=["secrets-first", "secrets-last"])
def test_large_sign_in_bodies_never_leak(httpx_mock: HTTPXMock, padding: int, late: bool) -> None:
    body = _sign_in_body(padding)
    if late:  # the secrets after the padding: beyond any truncation point
        body = {"user": body.pop("user"), **body}
    httpx_mock.add_response(url=SIGN_IN_URL, content=json.dumps(body).encode())
    lines: list[str] = []
    with BackendClient(SERVER, None, debug_log=lines.append) as client:
        client.sign_in("alice", PASSWORD)
    log = "\n".join(lines)
    for secret in (TOKEN, ROBOT_PASSWORD, PASSWORD):
        assert _fragments(log, secret) == [], log[:3000]
    assert "REST-OF-TOKEN" not in log and "tail-5a4b3c" not in log
    if padding < 1000:
        assert "robot$x" in log  # what is not secret stays readable
    assert len(log) < 10_000  # still truncated for display


def test_broken_json_redacts_to_the_closing_quote(httpx_mock: HTTPXMock) -> None:
    escaped = json.dumps(TOKEN)  # quotes and backslashes escaped, as a server would send
    body = '{"accessToken": ' + escaped + ', "harbor": {"password": "' + "p" * 30 + '"'  # no end
    httpx_mock.add_response(url=SIGN_IN_URL, status_code=500, content=body.encode())
    lines: list[str] = []
    with BackendClient(SERVER, None, debug_log=lines.append) as client, pytest.raises(BackendError):
        client.sign_in("alice", "irrelevant-password")
    log = "\n".join(lines)
    assert _fragments(log, TOKEN) == [], log
    assert "p" * 30 not in log


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ('{"accessToken": "a,b;c d&e}f\\"g", "x": 1}', ["a,b;c", "d&e}f", '\\"g'], ['"x": 1']),
        ("{'password': 'a,b c', 'user': 'bob'}", ["a,b c"], ["'user': 'bob'"]),
        ('{"token": "cut-off-in-the-midd', ["cut-off"], []),
        ("grant=password&password=a;b&user=bob", ["a;b"], ["user=bob"]),
    ],
)
def test_redact_text_fields_takes_the_whole_value(
    text: str, gone: list[str], kept: list[str]
) -> None:
    result = redact_text_fields(text)
    for fragment in gone:
        assert fragment not in result, result
    for fragment in kept:
        assert fragment in result, result


def test_redactor_learns_secrets_from_parsed_bodies() -> None:
    redactor = Redactor(["known-password-123"])
    redactor.learn({"data": [{"refresh_token": "learned-token-456"}], "name": "n"})
    assert redactor("a known-password-123 b learned-token-456 c n") == "a *** b *** c n"


# ---------------------------------------------------------------------------- property


_secret = st.text(min_size=8, max_size=40).filter(lambda s: s.strip() != "")


@settings(max_examples=200, deadline=None)
@given(secret=_secret, prefix=st.text(max_size=50), suffix=st.text(max_size=50))
def test_no_secret_and_no_control_character_comes_out(
    secret: str, prefix: str, suffix: str
) -> None:
    redactor = Redactor([secret])
    for text in (
        prefix + secret + suffix,
        prefix + json.dumps({"k": secret}) + suffix,
        prefix + json.dumps({"k": secret}, ensure_ascii=False) + suffix,
        secret + secret + prefix,
    ):
        shown = neutralise(redactor(text))
        assert secret not in shown
        assert not [c for c in shown if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0]
