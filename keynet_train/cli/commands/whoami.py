"""``keynet-train whoami [--json]``: who is logged in where, and which podman service is used."""

from __future__ import annotations

import argparse

from keynet_train.cli.common import open_store
from keynet_train.cli.environment import Environment
from keynet_train.cli.parser import add_command
from keynet_train.errors import NotLoggedInError

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from keynet_train.cli.parser import Subparsers
    from keynet_train.podman.connection import ServiceChoice

EPILOG = """\
examples:
  keynet-train whoami
  keynet-train whoami --podman-url ssh://core@127.0.0.1:2222/run/podman/podman.sock
  keynet-train whoami --json | jq .podman

The podman service is chosen as push chooses it: --podman-url > CONTAINER_HOST >
config podman_url > podman's default connection (podman system connection
list; CONTAINER_CONNECTION picks one by name) > the default socket > a private
service started for the command (when podman is installed).
"""


def register(sub: Subparsers) -> None:
    """Add ``whoami``."""
    p = add_command(
        sub,
        "whoami",
        description="Show the stored login (user, server, token expiry, Harbor registry and "
        "robot account) and which podman service push would use, and why. Sends no request "
        "to the backend; it only checks whether the podman service answers.",
        epilog=EPILOG,
    )
    p.add_argument("--podman-url", help="podman service URL to check instead of the default")
    p.add_argument("--json", action="store_true", help="print as JSON on stdout")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    """Print the login and podman facts.

    Raises:
        NotLoggedInError: nothing is stored.
        ConfigError: the config file is unreadable.
        UsageError: CONTAINER_CONNECTION names an unknown podman connection.
    """
    import json
    from datetime import datetime, timezone

    from keynet_train.podman.connection import INSTALL_HINT

    config = open_store(env).load()
    if config is None or not config.is_logged_in:
        raise NotLoggedInError(
            "Not logged in.", "Run: keynet-train login https://<your-keynet-api-server>"
        )
    assert config.harbor is not None  # is_logged_in
    now = datetime.now(timezone.utc)
    expires = config.api_token_expires_at
    service, answers = _podman_service(args.podman_url, env, config.podman_url)
    facts = {
        "username": config.username,
        "server_url": config.server_url,
        "token_expires_at": expires.isoformat() if expires else None,
        "token_expired": config.token_expired(now),
        "registry": config.harbor.url,
        "registry_username": config.harbor.username,
        "project_id": config.project_id,
        "harbor_project": config.harbor_project,
        "podman": {**service.to_json(), "answers": answers},
    }
    if env.json_output:
        env.out(json.dumps(facts))
        return 0
    if expires is None:
        validity = "no recorded expiry"
    elif facts["token_expired"]:
        validity = f"EXPIRED at {expires:%Y-%m-%d %H:%M} UTC (run keynet-train login)"
    else:
        validity = f"valid until {expires:%Y-%m-%d %H:%M} UTC"
    env.out(f"User:      {config.username}")
    env.out(f"Server:    {config.server_url}")
    env.out(f"Token:     {validity}")
    env.out(f"Registry:  {config.harbor.url} (robot account {config.harbor.username})")
    state = "" if answers or service.source in ("private", "missing") else " - NOT ANSWERING"
    env.out(f"Podman:    {service.describe()}{state}")
    if service.source == "missing":
        env.out(f"           push needs podman. {INSTALL_HINT}")
    return 0


def _podman_service(
    flag: str | None, env: Environment, configured: str | None
) -> tuple[ServiceChoice, bool]:
    """The podman service push would use, and whether it answers.

    Raises:
        UsageError: CONTAINER_CONNECTION names an unknown podman connection.
    """
    from keynet_train.podman.api import ping
    from keynet_train.podman.connection import choose_podman_url, explicit_source
    from keynet_train.podman.service import choose_service

    url = choose_podman_url(flag, env.environ, configured)
    service = choose_service(url, explicit_source(flag, env.environ), env.environ)
    if service.source in ("socket", "machine", "private", "missing"):
        return service, service.url is not None  # choose_service pinged it already
    assert service.url is not None
    return service, ping(service.url, identity=service.identity)
