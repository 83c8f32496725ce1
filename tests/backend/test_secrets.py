"""Masking and redaction helpers (docs/commands.md "config", docs/platform-contract.md)."""

from __future__ import annotations

import pytest

from keynet_train.secrets import (
    FULL_MASK,
    REDACTED,
    Redactor,
    is_secret_name,
    mask_secret,
    redact,
    redact_headers,
    redact_json,
    redact_text_fields,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", FULL_MASK),
        ("short", FULL_MASK),
        ("elevenchars", FULL_MASK),  # 11 characters: still fully masked
        ("twelve-chars", "twelve...ars"),  # 12: first 6 + ... + last 3
        ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.payload.sig", "eyJhbG...sig"),
    ],
)
def test_mask_secret(value: str, expected: str) -> None:
    assert mask_secret(value) == expected


def test_mask_never_reveals_most_of_a_secret() -> None:
    secret = "abcdefghijklmnopqrstuvwxyz"
    masked = mask_secret(secret)
    assert secret not in masked
    assert len(masked.replace("...", "")) == 9


def test_redact_replaces_every_known_secret_and_its_encodings() -> None:
    token = 'tok/en+with spaces&"quote'
    text = (
        f"raw {token} json {token!r} "
        'escaped tok/en+with spaces&\\"quote '
        "urlencoded tok%2Fen%2Bwith%20spaces%26%22quote"
    )
    result = redact(text, [token, None, ""])
    assert "tok/en" not in result
    assert "tok%2Fen" not in result
    assert result.count(REDACTED) >= 3


def test_redact_longest_first() -> None:
    assert redact("secret-and-more", ["secret", "secret-and-more"]) == REDACTED


def test_redact_without_secrets_is_identity() -> None:
    assert redact("nothing to hide", []) == "nothing to hide"


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "Password",
        "accessToken",
        "access_token",
        "token",
        "harborPassword",
        "client-secret",
        "refreshToken",
        "X-Api-Key",
        "passwd",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["username", "url", "id", "modelName", "hyperParameters"])
def test_non_secret_names(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["accessTokenExpiresAt", "access_token_expires_at", "tokenExpiry", "expiresIn", "tokenType"],
)
def test_metadata_about_a_secret_is_not_secret(name: str) -> None:
    # --debug must show when the token expires: it is what explains a 401.
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", ["expiringToken", "tokenValue", "passwordHash"])
def test_secret_names_with_other_suffixes_stay_secret(name: str) -> None:
    assert is_secret_name(name)


def test_redact_json_walks_nested_structures() -> None:
    data = {
        "accessToken": "T0KEN",
        "user": {"id": "u1", "displayName": "A"},
        "harbor": {"url": "https://h", "username": "robot$x", "password": "PW"},
        "list": [{"token": "T2"}, 3, None],
    }
    redacted = redact_json(data)
    assert redacted["accessToken"] == REDACTED
    assert redacted["harbor"] == {"url": "https://h", "username": "robot$x", "password": REDACTED}
    assert redacted["list"][0] == {"token": REDACTED}
    assert redacted["user"] == data["user"]
    assert data["accessToken"] == "T0KEN"  # the input is not modified


def test_redact_text_fields() -> None:
    text = 'grant=password&password=hunter2&user=bob, {"token": "abc", "other": "x"}'
    result = redact_text_fields(text)
    assert "hunter2" not in result
    assert "abc" not in result
    assert "user=bob" in result
    assert '"other": "x"' in result


def test_redact_headers_keeps_scheme_only() -> None:
    headers = [
        ("Authorization", "Bearer abc.def"),
        ("authorization", "Basic dXNlcjpwdw=="),
        ("Cookie", "session=xyz"),
        ("X-Registry-Auth", "eyJ1c2VybmFtZSI6"),
        ("Accept", "application/json"),
    ]
    assert redact_headers(headers) == [
        ("Authorization", f"Bearer {REDACTED}"),
        ("authorization", f"Basic {REDACTED}"),
        ("Cookie", REDACTED),
        ("X-Registry-Auth", REDACTED),
        ("Accept", "application/json"),
    ]


# Exact outputs, written to kill the mutants scripts/mutation found surviving.


def test_redact_every_spelling_exactly() -> None:
    secret = 'pä"ss/wörd'
    spellings = [
        secret,
        'p\\u00e4\\"ss/w\\u00f6rd',  # JSON, ASCII-escaped
        'pä\\"ss/wörd',  # JSON, UTF-8 kept
        "p%C3%A4%22ss%2Fw%C3%B6rd",  # URL-encoded, nothing safe
        "p%C3%A4%22ss/w%C3%B6rd",  # URL-encoded, "/" kept
    ]
    text = " | ".join(spellings)
    assert redact(text, [secret]) == " | ".join([REDACTED] * len(spellings))


def test_redact_again_when_a_replacement_rebuilds_the_secret() -> None:
    assert redact("xx***", ["x***"]) == REDACTED


def test_redact_a_secret_shorter_than_the_mask_terminates() -> None:
    assert redact("a*b", ["*"]) == f"a{REDACTED}b"


def test_redactor_remembers_each_value_once() -> None:
    redactor = Redactor(["alpha-secret", None, ""])
    redactor.add("alpha-secret", "beta-secret")
    assert redactor.secrets == ["alpha-secret", "beta-secret"]
    assert redactor("alpha-secret beta-secret gamma") == f"{REDACTED} {REDACTED} gamma"


def _nested(depth: int, leaf: object) -> object:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def test_redactor_learns_secret_fields_down_to_the_depth_limit() -> None:
    redactor = Redactor()
    redactor.learn(_nested(100, {"accessToken": "deep-token-100", "note": "not a secret"}))
    redactor.learn({"a": {"b": [{"refresh_token": "nested-token"}]}, "token": 42})
    assert redactor.secrets == ["deep-token-100", "nested-token"]
    too_deep = Redactor()
    too_deep.learn(_nested(101, {"accessToken": "deep-token-101"}))
    too_deep.learn({"x": _nested(100, {"password": "dict-then-lists"})})
    assert too_deep.secrets == []


def test_redact_text_fields_exactly() -> None:
    text = 'token=abc&user=bob {"password": "p\\"w", "n": 1} secret=;'
    assert redact_text_fields(text) == (
        f'token={REDACTED}&user=bob {{"password": "{REDACTED}", "n": 1}} secret=;'
    )
    padding = "x" * 300
    assert redact_text_fields(padding + " password=&x") == padding + " password=&x"
    assert redact_text_fields(padding + " password=hunter2") == padding + f" password={REDACTED}"


def test_redact_headers_without_a_recognised_scheme() -> None:
    headers = [
        ("Authorization", "Bearer"),
        ("Cookie", "session=abc def"),
        ("Proxy-Authorization", "Token t0k"),
    ]
    assert redact_headers(headers) == [
        ("Authorization", REDACTED),
        ("Cookie", REDACTED),
        ("Proxy-Authorization", f"Token {REDACTED}"),
    ]


def test_redact_skips_empty_entries_anywhere_in_the_list() -> None:
    assert redact("key s3cret-value", [None, "", "s3cret-value"]) == f"key {REDACTED}"


def test_an_empty_secret_value_is_left_alone_and_scanning_goes_on() -> None:
    padding = "x" * 300  # positions past 256: compared by value, not identity
    text = padding + ' password="" token=abc'
    assert redact_text_fields(text) == padding + f' password="" token={REDACTED}'


def _dicts(depth: int, leaf: dict[str, object]) -> dict[str, object]:
    value = leaf
    for _ in range(depth):
        value = {"child": value}
    return value


def test_redactor_depth_limit_through_nested_objects() -> None:
    learned = Redactor()
    learned.learn(_dicts(100, {"apiKey": "dict-depth-100"}))
    assert learned.secrets == ["dict-depth-100"]
    cut = Redactor()
    cut.learn(_dicts(101, {"apiKey": "dict-depth-101"}))
    assert cut.secrets == []
