"""``keynet-train login`` and ``keynet-train logout``."""

from __future__ import annotations

import argparse

from keynet_train.cli.common import ca_bundle, debug_logger, open_store, prompt_secret, prompt_text
from keynet_train.cli.environment import Environment
from keynet_train.cli.parser import add_command
from keynet_train.errors import InputError, KeynetError

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from keynet_train.auth import LoginResult
    from keynet_train.cli.parser import Subparsers
    from keynet_train.config import Config

LOGIN_EPILOG = """\
examples:
  keynet-train login https://api.example.com
  keynet-train login https://api.example.com -u alice
  echo "$KEYNET_PASSWORD" | keynet-train login https://api.example.com -u ci-bot --password-stdin

environment:
  KEYNET_SERVER_URL   server URL when SERVER_URL is not given
  KEYNET_USERNAME     username when -u is not given
  KEYNET_PASSWORD     password (prefer --password-stdin: env vars can leak via /proc)
  KEYNET_CA_BUNDLE    PEM file trusted in addition to the system CAs (backend and registry)
  KEYNET_CONFIG       where credentials are stored (default ~/.config/keynet/config.json)

The stored server URL and username are the defaults: re-login after the
token expired needs no arguments (`keynet-train login`; in CI only -u and
--password-stdin, or the password alone). Logging in to another server asks
before replacing the stored login. Without a terminal, every other missing
value must come from a flag or variable; login then fails at once instead of
waiting for input.
"""


def register(sub: Subparsers) -> None:
    """Add ``login``."""
    p = add_command(
        sub,
        "login",
        description="Sign in to the KeyNet platform, verify the Harbor robot credentials "
        "against the registry and store them with the API token (mode 0600). podman is not "
        "logged in: push passes the credentials to podman itself.",
        epilog=LOGIN_EPILOG,
    )
    p.add_argument("server_url", nargs="?", metavar="SERVER_URL", help="KeyNet API server URL")
    p.add_argument("-u", "--username", help="account name (or KEYNET_USERNAME)")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.add_argument(
        "--insecure-registry",
        action="store_true",
        help="do not verify the registry's TLS certificate, and allow a plain http:// "
        "registry on another host (prefer KEYNET_CA_BUNDLE)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.set_defaults(handler=run_login)


def register_logout(sub: Subparsers) -> None:
    """Add ``logout``."""
    q = add_command(
        sub,
        "logout",
        description="Delete the stored credentials, the registry CA login installed for "
        "podman, and any podman login to the registry (older versions made one). Safe to "
        "run when not logged in.",
        epilog="example:\n  keynet-train logout",
    )
    q.set_defaults(handler=run_logout)


def _missing(what: str, flag: str, var: str) -> InputError:
    return InputError(
        f"No {what} given and no terminal to ask for it.",
        f"Pass {flag} or set {var}.",
    )


def _stored_login(env: Environment) -> Config | None:
    """The stored config whose server URL and username are login's defaults (None: none).

    A corrupt or unreadable file gives no defaults; login rewrites it.
    """
    from keynet_train.errors import ConfigError

    try:
        return open_store(env).load()
    except ConfigError:
        return None


def _ask(env: Environment, question: str, default: str | None) -> str:
    """Prompt for a value; an empty answer takes ``default`` (shown in brackets)."""
    if not default:
        return prompt_text(env, f"{question}: ")
    return prompt_text(env, f"{question} [{default}]: ") or default


def _gather(args: argparse.Namespace, env: Environment) -> tuple[str, str, str]:
    """Server URL, username and password from flags, env vars, the stored login or prompts.

    The stored server URL and username are the defaults (docs/login.md): shown
    in the prompt on a terminal and used as they are without one, so re-login
    after the token expired needs no arguments. The stored username is a
    default only for the stored server. Logging in to another server than the
    stored one asks before replacing its credentials on a terminal.

    Raises:
        InputError: a value is missing and there is no terminal to prompt, or
            the user declined to replace the stored login.
    """
    from keynet_train.auth import normalize_server_url

    stored = _stored_login(env)
    stored_server = stored.server_url if stored is not None else None
    server = args.server_url or env.environ.get("KEYNET_SERVER_URL", "")
    if not server:
        if env.interactive:
            server = _ask(env, "KeyNet server URL", stored_server)
        elif stored_server:
            server = stored_server
        else:
            raise _missing("server URL", "SERVER_URL", "KEYNET_SERVER_URL")
    server = normalize_server_url(server)
    same_server = stored_server is not None and server == stored_server.rstrip("/")
    if stored is not None and stored.is_logged_in and not same_server and env.interactive:
        _confirm_replace(env, stored, server)

    stored_user = stored.username if stored is not None and same_server else None
    username = args.username or env.environ.get("KEYNET_USERNAME", "")
    password = ""
    if args.password_stdin:
        if env.stdin_isatty:
            raise InputError(
                "--password-stdin needs the password piped in, not typed.",
                'Use: echo "$PASSWORD" | keynet-train login ... --password-stdin, '
                "or drop the flag to be prompted.",
            )
        password = env.stdin.read().rstrip("\r\n")
        if not password:
            raise InputError("--password-stdin was given but standard input was empty.")
    if not username:
        if env.interactive and not args.password_stdin:
            username = _ask(env, "Username", stored_user)
        elif stored_user:
            username = stored_user
        else:
            raise _missing("username", "-u USERNAME", "KEYNET_USERNAME")
    if not password:
        password = env.environ.get("KEYNET_PASSWORD", "")
    if not password:
        if not env.interactive:
            raise _missing("password", "--password-stdin", "KEYNET_PASSWORD")
        password = prompt_secret(env, "Password: ")
    if not username or not password:
        raise InputError("Username and password must not be empty.")
    return server, username, password


def _confirm_replace(env: Environment, stored: Config, server: str) -> None:
    """Ask before a login to ``server`` replaces the stored login to another server.

    Raises:
        InputError: the answer was not yes (nothing is sent or stored).
    """
    who = f" as {stored.username}" if stored.username else ""
    env.err(f"You are logged in to {stored.server_url}{who}.")
    answer = prompt_text(env, f"Replace that login with one to {server}? [y/N]: ")
    if answer.lower() not in ("y", "yes"):
        raise InputError(
            f"Login cancelled; the stored login to {stored.server_url} is unchanged.",
            "To use two servers, keep the other login in its own file: set "
            "KEYNET_CONFIG=<path> for the commands that use it.",
        )


def _harbor_project(env: Environment) -> str | None:
    """KEYNET_HARBOR_PROJECT, checked like every project name (None when unset).

    Raises:
        ConfigError: the variable holds an invalid Harbor project name.
    """
    from keynet_train.config import validate_harbor_project

    value = env.environ.get("KEYNET_HARBOR_PROJECT", "").strip()
    return validate_harbor_project(value) if value else None


def run_login(args: argparse.Namespace, env: Environment) -> int:
    """Sign in and store credentials.

    Raises:
        InputError: a value is missing and there is no terminal to prompt.
        KeynetError: any failure of :func:`keynet_train.auth.login`.
    """
    from keynet_train.auth import login
    from keynet_train.urls import is_cleartext_remote

    server, username, password = _gather(args, env)
    store = open_store(env)
    bundle = ca_bundle(env)

    if is_cleartext_remote(server):
        # Said before anything is sent: the user can still stop here.
        env.err(
            f"Warning: {server} uses plain http:// to a host that is not this machine: "
            "your password and the returned tokens cross the network unencrypted. "
            "Use https:// unless this network is trusted."
        )
    if args.insecure_registry:
        env.err("Warning: --insecure-registry: the registry's TLS certificate is NOT verified.")
    env.err(f"Signing in to {server} as {username} ...")
    from keynet_train.cli.output import waiting

    with waiting(env, "the server and the registry"):
        result = login(
            server,
            username,
            password,
            store=store,
            ca_bundle=bundle,
            debug_log=debug_logger(env),
            harbor_project=_harbor_project(env),
            insecure_registry=args.insecure_registry,
        )
    for warning in result.warnings:
        env.err(f"Warning: {warning}")
    _prepare_podman(result, bundle, env)
    _report_login(result, server, username, env)
    return 0


def _prepare_podman(result: LoginResult, bundle: str | None, env: Environment) -> None:
    """Install the CA for podman and warn when podman is missing (warnings only)."""
    import shutil
    from pathlib import Path

    from keynet_train.podman.trust import install_registry_ca
    from keynet_train.urls import host_of

    if bundle:
        # podman verifies the registry's TLS itself (push installs it too):
        # trusted from the start, and removed again by logout.
        try:
            install_registry_ca(host_of(result.harbor_url), Path(bundle))
        except KeynetError as exc:
            env.err(f"Warning: {exc.message} {exc.hint or ''}".rstrip())
    if shutil.which("podman") is None:  # found as push finds it
        from keynet_train.podman.connection import INSTALL_HINT

        env.err(
            f"Warning: podman is not installed: push needs podman to build and push images. "
            f"{INSTALL_HINT}"
        )


def _report_login(result: LoginResult, server: str, username: str, env: Environment) -> None:
    """Who is logged in, what was verified and where it is stored; the ``--json`` object."""
    import json

    who = f"{result.display_name} ({username})" if result.display_name else username
    expires = (
        f", token valid until {result.token_expires_at:%Y-%m-%d %H:%M} UTC"
        if result.token_expires_at
        else ""
    )
    env.err(f"Logged in as {who}{expires}.")
    if result.registry_verified:
        env.err(f"Harbor registry {result.harbor_url} verified for {result.harbor_username}.")
    else:
        env.err(
            f"Harbor registry {result.harbor_url} answered without asking for credentials: "
            f"the robot credentials of {result.harbor_username} were NOT verified (they were "
            "not sent); a push will find out whether they work."
        )
    env.err(f"Credentials stored in {result.config_path} (mode 0600).")
    if env.json_output:
        env.out(
            json.dumps(
                {
                    "server_url": server,
                    "username": username,
                    "config_path": str(result.config_path),
                    "harbor_url": result.harbor_url,
                    "token_expires_at": result.token_expires_at.isoformat()
                    if result.token_expires_at
                    else None,
                    "registry_verified": result.registry_verified,
                }
            )
        )


def run_logout(args: argparse.Namespace, env: Environment) -> int:
    """Delete stored credentials and the podman registry login; idempotent.

    Raises:
        ConfigError: the config file exists but cannot be read or deleted.
    """
    from keynet_train.cli.commands.config_cmd import clear_credentials

    return clear_credentials(env)
