"""``keynet-train push`` (placeholder)."""

from __future__ import annotations

import argparse

from keynet_train.cli.environment import Environment


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``push`` sub-command."""
    p = sub.add_parser("push", help="build and push the training image")
    p.add_argument("entrypoint")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    """Placeholder."""
    raise NotImplementedError
