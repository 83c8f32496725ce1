"""RegistryClient and its httpx.Auth flow, over httpx.MockTransport (no network)."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx

from keynet_train.config import RegistryCredentials, Secret
from keynet_train.registry.client import RegistryAuth, RegistryClient

BASE = "https://harbor.example.com"
USER, PASSWORD = "robot$ci", "s3cret-robot-password"
CREDENTIALS = RegistryCredentials(BASE, USER, Secret(PASSWORD))
IMAGE_ID = "ab" * 32
MANIFEST = json.dumps({"schemaVersion": 2, "config": {"digest": f"sha256:{IMAGE_ID}"}}).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def _jwt(actions: list[str], name: str) -> str:
    claims = {"access": [{"type": "repository", "name": name, "actions": actions}]}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{payload}.sig"


class Harbor:
    """A Bearer registry: /v2/... needs a token from /service/token."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.tokens_issued = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/service/token":
            self.tokens_issued += 1
            scope = request.url.params.get("scope", "")
            name = scope.split(":")[1] if scope else ""
            token = _jwt(["pull", "push"], name)
            return httpx.Response(200, json={"token": token})
        if request.headers.get("authorization", "").startswith("Bearer "):
            headers = {"Docker-Content-Digest": DIGEST}
            return httpx.Response(200, headers=headers, content=MANIFEST)
        challenge = f'Bearer realm="{BASE}/service/token",service="harbor-registry"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})


def test_the_auth_flow_works_with_any_httpx_client() -> None:
    harbor = Harbor()
    auth = RegistryAuth(BASE, CREDENTIALS)
    with httpx.Client(transport=httpx.MockTransport(harbor), auth=auth) as client:
        assert client.get(f"{BASE}/v2/").status_code == 200
        # The token is reused: a second request asks the token service nothing.
        assert client.get(f"{BASE}/v2/library/x/tags/list").status_code == 200
    assert harbor.tokens_issued == 1
    token_request = harbor.requests[1]
    assert token_request.url.params["account"] == USER
    assert token_request.headers["authorization"].startswith("Basic ")
    assert "authorization" not in harbor.requests[0].headers  # the first try is anonymous


def test_push_access_asks_for_push_on_the_project() -> None:
    harbor = Harbor()
    with RegistryClient(CREDENTIALS, transport=httpx.MockTransport(harbor)) as client:
        check = client.verify_push_access("kitech-model")
    assert check.credentials_checked
    [token_request] = [r for r in harbor.requests if r.url.path == "/service/token"]
    assert (
        token_request.url.params["scope"] == "repository:kitech-model/keynet-train-check:push,pull"
    )


def test_manifest_digest_asks_for_pull_on_the_repository() -> None:
    harbor = Harbor()
    with RegistryClient(CREDENTIALS, transport=httpx.MockTransport(harbor)) as client:
        assert client.manifest_digest("kitech-model/abc", "latest", IMAGE_ID) == DIGEST
    [token_request] = [r for r in harbor.requests if r.url.path == "/service/token"]
    assert token_request.url.params["scope"] == "repository:kitech-model/abc:pull"
    assert harbor.requests[-1].url.path == "/v2/kitech-model/abc/manifests/latest"


def test_the_password_never_reaches_the_debug_log() -> None:
    harbor = Harbor()
    lines: list[str] = []
    with RegistryClient(
        CREDENTIALS, transport=httpx.MockTransport(harbor), debug_log=lines.append
    ) as client:
        client.verify_push_access("kitech-model")
    log = "\n".join(lines)
    assert "/service/token" in log
    assert PASSWORD not in log
    assert base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() not in log
