"""``keynet-train config`` (placeholder)."""

from __future__ import annotations

import argparse

from keynet_train.cli.environment import Environment


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``config``."""
    p = sub.add_parser("config", help="show or change the stored configuration")
    p.add_argument("action", nargs="?")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    """Placeholder."""
    raise NotImplementedError
