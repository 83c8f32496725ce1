"""``keynet-train projects`` (placeholder)."""

from __future__ import annotations

import argparse

from keynet_train.cli.environment import Environment


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``projects``."""
    p = sub.add_parser("projects", help="list trainable projects")
    p.add_argument("server_url", nargs="?")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    """Placeholder."""
    raise NotImplementedError
