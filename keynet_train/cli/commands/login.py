"""``keynet-train login`` and ``logout`` (placeholder)."""

from __future__ import annotations

import argparse

from keynet_train.cli.environment import Environment


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``login`` and ``logout``."""
    p = sub.add_parser("login", help="sign in and store credentials")
    p.add_argument("server_url", nargs="?")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    """Placeholder."""
    raise NotImplementedError
