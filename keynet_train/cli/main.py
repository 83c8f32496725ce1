"""Entry point: global flags, sub-command dispatch and error-to-exit-code mapping.

Command modules are imported for their ``register`` function only; each one
imports its heavy dependencies inside ``run`` so ``--help``/``--version``
stay near bare-interpreter start-up time.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

from keynet_train import __version__
from keynet_train.cli.environment import Environment
from keynet_train.cli.parser import (
    ArgumentParser,
    HelpFormatter,
    add_global_flags,
    unrecognized_arguments_error,
)
from keynet_train.cli.status import ExitStatus, render_error
from keynet_train.interrupts import Stopped, StopSignals

# Annotations only (typing costs ~5 ms of every start); mypy reads this as True.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import NoReturn

PROG = "keynet-train"

DESCRIPTION = """\
Ship training code to the KeyNet training platform.

Typical use:
  keynet-train login https://api.example.com
  keynet-train push train.py
"""


def build_parser() -> argparse.ArgumentParser:
    """Build the full argparse tree (cheap: imports no heavy library)."""
    from keynet_train.cli.commands import (
        completion,
        config_cmd,
        inspect,
        login,
        projects,
        push,
        whoami,
    )

    parser = ArgumentParser(prog=PROG, description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    add_global_flags(parser, top_level=True)
    # Before the sub-command as well as after it, like --debug: `keynet-train -q push`.
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only warnings, errors and the result (no step lines or build log)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for module in (login, config_cmd, projects, whoami, inspect, push, completion):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    """Run the CLI; return the exit status instead of exiting (see :class:`ExitStatus`)."""
    env = env or Environment.from_process()
    args_list = list(sys.argv[1:] if argv is None else argv)
    # --json must shape even usage errors, so detect it before parsing.
    env.json_output = "--json" in args_list
    with StopSignals():
        try:
            return _run(args_list, env)
        except Stopped as exc:  # arrived while an earlier error was being printed
            return render_error(exc, env)


def _run(args_list: list[str], env: Environment) -> int:
    try:
        parser = build_parser()
        try:
            # argparse prints --help/--version to sys.stdout; send it to the
            # injected stream so in-process runs capture it like any result
            # (swapped by hand: contextlib is not otherwise loaded by --help).
            stdout, sys.stdout = sys.stdout, env.stdout
            try:
                args, extras = parser.parse_known_args(args_list)
            finally:
                sys.stdout = stdout
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0)
        if extras:
            # Reported by the sub-command that was reached, so the hint names
            # its --help (and the option that was probably meant).
            raise unrecognized_arguments_error(getattr(args, "_parser", parser), extras)
        env.debug = bool(args.debug)
        env.no_color = bool(args.no_color)
        env.json_output = bool(getattr(args, "json", False))
        env.quiet = bool(getattr(args, "quiet", False))
        if args.command is None:
            parser.print_help(env.stderr)
            return ExitStatus.USAGE
        handler = args.handler
        return int(handler(args, env))
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the single top-level mapping
        return int(render_error(exc, env))


def run() -> NoReturn:
    """Console-script entry point: :func:`main`, then exit with its status."""
    status = main()
    # Interpreter shutdown ends with a full garbage collection over every object
    # podman-py, httpx and pydantic created (~0.14 s). Nothing it could free
    # matters to a process that is exiting, so move them all out of its reach.
    gc.freeze()
    sys.exit(status)
