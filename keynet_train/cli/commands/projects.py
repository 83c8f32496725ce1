"""``keynet-train projects [--page N] [--limit N] [--json]``."""

from __future__ import annotations

import argparse

from keynet_train.cli.common import ca_bundle, debug_logger, open_store
from keynet_train.cli.environment import Environment
from keynet_train.cli.output import print_table
from keynet_train.cli.parser import add_command

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from keynet_train.backend.client import BackendClient, ProjectsPage
    from keynet_train.cli.parser import Subparsers
    from keynet_train.config import Config


def _whole_number(text: str) -> int:
    # argparse names the type function in "invalid <name> value" when it
    # raises ValueError; an ArgumentTypeError's own text is shown instead.
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _page_number(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        # Pages count from 1, as the project picker shows them ("Page 1/3").
        raise argparse.ArgumentTypeError(
            f"pages count from 1 (the first page is --page 1), not {value}"
        )
    return value


def _limit(text: str) -> int:
    value = _whole_number(text)
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"must be between 1 and 100, not {value}")
    return value


def register(sub: Subparsers) -> None:
    """Add ``projects``."""
    p = add_command(
        sub,
        "projects",
        description="List the projects you can push training images to "
        "(GET /v1/projects/trainable).",
        epilog="examples:\n  keynet-train projects\n  keynet-train projects --page 2 --limit 50\n"
        "  keynet-train projects --json | jq '.content[].id'",
    )
    p.add_argument("--page", type=_page_number, default=1, help="page number, from 1 (default 1)")
    p.add_argument("--limit", type=_limit, default=20, help="projects per page (default 20)")
    p.add_argument("--json", action="store_true", help="print the backend's page as JSON")
    p.add_argument(
        "--wide", action="store_true", help="do not fit the table to the terminal's width"
    )
    p.set_defaults(handler=run)


def backend_client(env: Environment) -> BackendClient:
    """A backend client authenticated with the stored, unexpired token.

    Raises:
        NotLoggedInError: no credentials or expired token.
        ConfigError: corrupt config file.
    """
    from datetime import datetime, timezone

    from keynet_train.auth import require_credentials

    return backend_for_config(
        require_credentials(open_store(env).load(), datetime.now(timezone.utc)), env
    )


def backend_for_config(config: Config, env: Environment) -> BackendClient:
    """A backend client for a config already checked by ``require_credentials``.

    Raises:
        ConfigError: KEYNET_CA_BUNDLE is unusable.
    """
    from keynet_train.backend.client import BackendClient

    assert config.api_token is not None  # guaranteed by require_credentials
    return BackendClient(
        config.server_url or "",
        config.api_token,
        ca_bundle=ca_bundle(env),
        debug_log=debug_logger(env),
    )


def project_rows(page: ProjectsPage) -> list[list[str]]:
    """Table rows (id, title, task type, author) for a page of projects."""
    return [
        [str(p.id), p.title, str(p.task_type), (p.author.display_name if p.author else None) or "-"]
        for p in page.content
    ]


PROJECT_HEADERS = ("ID", "TITLE", "TASK TYPE", "AUTHOR")


def run(args: argparse.Namespace, env: Environment) -> int:
    """Fetch and print one page of trainable projects.

    Raises:
        NotLoggedInError, AuthenticationError, BackendError: see BackendClient.
    """
    import json

    from keynet_train.cli.output import waiting

    with backend_client(env) as client, waiting(env, "GET /v1/projects/trainable"):
        # The backend's pages count from 0 (docs/platform-contract.md).
        page = client.fetch_trainable_projects(page=args.page - 1, limit=args.limit)
    if args.json:
        # snake_case like every other --json (the backend's camelCase stays on the wire).
        env.out(json.dumps(page.model_dump(mode="json")))
        return 0
    if not page.content:
        env.err("No trainable projects on this page.")
        return 0
    print_table(env, PROJECT_HEADERS, project_rows(page), wide=args.wide)
    meta = page.meta
    # Pages count from 1 like --page and the picker; a single page needs no
    # page talk, and a "--page N" hint on the last page would point nowhere.
    last = max(meta.max_page, 0)
    footer = f"{meta.total} projects."
    if last > 0:
        footer = f"Page {meta.page + 1} of {last + 1} ({meta.total} projects)."
    if meta.page < last:
        footer += f" Next page: --page {meta.page + 2}"
    env.err(footer)
    return 0
