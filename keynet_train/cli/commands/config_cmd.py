"""``keynet-train config show|path|clear|set``."""

from __future__ import annotations

import argparse

from keynet_train.cli.common import open_store
from keynet_train.cli.environment import Environment
from keynet_train.cli.parser import ArgumentParser, add_command
from keynet_train.errors import ConfigError

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from keynet_train.cli.parser import Subparsers

PREFERENCE_KEYS = ("project_id", "harbor_project", "podman_url")


def register(sub: Subparsers) -> None:
    """Add ``config`` with its four actions."""
    p = add_command(
        sub,
        "config",
        description="Inspect or change the stored configuration. Secrets are always masked.",
        epilog="examples:\n  keynet-train config show\n  keynet-train config set project_id 123\n"
        "  keynet-train config path",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=ArgumentParser)
    actions.required = True
    show = add_command(
        actions,
        "show",
        help="print the stored config (secrets masked)",
        description="Print the stored config. api_token and harbor.password are masked "
        "(first 6 + '...' + last 3 characters); no flag reveals them.",
        epilog="example:\n  keynet-train config show --json",
    )
    show.add_argument("--json", action="store_true", help="print as JSON")
    show.set_defaults(handler=run_show)
    path = add_command(
        actions,
        "path",
        help="print the config file path",
        description="Print where the config file is (KEYNET_CONFIG, XDG_CONFIG_HOME or ~/.config).",
        epilog="example:\n  keynet-train config path",
    )
    path.set_defaults(handler=run_path)
    clear = add_command(
        actions,
        "clear",
        help="delete stored credentials (same as: logout)",
        description="Delete the config file and the podman registry login made by 'login'. "
        "Idempotent.",
        epilog="example:\n  keynet-train config clear",
    )
    clear.set_defaults(handler=lambda args, env: clear_credentials(env))
    set_ = add_command(
        actions,
        "set",
        help="store a preference: " + ", ".join(PREFERENCE_KEYS),
        description="Store a non-secret preference. Keys: project_id (integer), "
        "harbor_project (Harbor project name), podman_url (unix://, tcp:// or ssh:// URL; "
        "'null' to unset).",
        epilog="examples:\n  keynet-train config set project_id 123\n"
        "  keynet-train config set harbor_project kitech-model\n"
        "  keynet-train config set podman_url unix:///run/user/1000/podman/podman.sock",
    )
    # Not choices=: an unknown key is the store's error, which lists the valid
    # ones (exit 1). Completion offers the keys, and no file names for either.
    set_.add_argument("key", metavar="KEY").completes = PREFERENCE_KEYS  # type: ignore[attr-defined]
    set_.add_argument("value", metavar="VALUE").completes = ()  # type: ignore[attr-defined]
    set_.set_defaults(handler=run_set)


def run_path(args: argparse.Namespace, env: Environment) -> int:
    """Print the config path (no file access beyond resolving it)."""
    from keynet_train.locations import config_path

    env.out(str(config_path(env.environ)))
    return 0


def run_show(args: argparse.Namespace, env: Environment) -> int:
    """Print the stored config with secrets masked.

    Raises:
        ConfigError: the file is missing or corrupt.
    """
    import json
    from datetime import datetime, timezone

    store = open_store(env)
    config = store.load()
    if config is None:
        raise ConfigError(
            f"No config file at {store.path}.",
            "Run: keynet-train login <url>",
        )
    data = config.to_json_dict(reveal=False)
    if args.json:
        env.out(json.dumps(data, indent=2, default=str))
        return 0
    env.out(f"# {store.path}")
    for key, value in data.items():
        if isinstance(value, dict):
            for sub_key, sub_value in value.items():
                env.out(f"{key}.{sub_key}: {_show(sub_value)}")
        else:
            env.out(f"{key}: {_show(value)}")
    if config.api_token is not None and config.token_expired(datetime.now(timezone.utc)):
        env.err("Warning: the API token has expired; run keynet-train login again.")
    return 0


def _show(value: object) -> str:
    return "null" if value is None else str(value)


def run_set(args: argparse.Namespace, env: Environment) -> int:
    """Store one preference.

    Raises:
        ConfigError: unknown key (the message lists the valid ones) or invalid value.
    """
    store = open_store(env)
    store.set_preference(args.key, args.value)
    env.err(f"Saved {args.key} in {store.path}.")
    return 0


def clear_credentials(env: Environment) -> int:
    """Delete the config file and, best effort, podman's login to the stored registry
    and the registry CA that login installed into podman's certs.d.

    A corrupt file is deleted too: clearing is the documented way out of it.

    Raises:
        ConfigError: the file exists but cannot be deleted.
    """
    store = open_store(env)
    removed, config = store.remove()
    harbor_host = config.harbor_host if config is not None and config.harbor is not None else None
    if harbor_host:
        from keynet_train.podman.trust import logout as podman_logout
        from keynet_train.podman.trust import remove_registry_ca

        if podman_logout(harbor_host):
            env.err(f"podman logged out of {harbor_host}.")
        removed_ca = remove_registry_ca(harbor_host)
        if removed_ca is not None:
            env.err(f"Removed the registry CA installed at login ({removed_ca}).")
    if removed:
        env.err(f"Removed stored credentials ({store.path}).")
    else:
        env.err(f"No stored credentials at {store.path}; nothing to do.")
    return 0
