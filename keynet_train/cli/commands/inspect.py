"""``keynet-train inspect ENTRYPOINT [--json]`` (owned by the extraction work)."""

from __future__ import annotations

import argparse

from keynet_train.cli.environment import Environment


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``inspect`` sub-command."""
    p = sub.add_parser("inspect", help="show the hyperparameters push would send")
    p.add_argument("entrypoint")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    """Placeholder."""
    raise NotImplementedError
