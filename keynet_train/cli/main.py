"""Entry point: global flags, sub-command dispatch and error-to-exit-code mapping.

The commands come from the command table (:mod:`keynet_train.cli.commands`):
``--help`` lists them from it, and only the chosen command's module is
imported and given its options (docs/development.md, "Start-up").
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

from keynet_train import __version__
from keynet_train.cli.commands import COMMANDS
from keynet_train.cli.environment import Environment
from keynet_train.cli.parser import (
    ArgumentParser,
    HelpFormatter,
    add_global_flags,
    prose,
    unrecognized_arguments_error,
)
from keynet_train.cli.status import ExitStatus, render_error
from keynet_train.interrupts import Stopped, StopSignals

# typing is imported for mypy only (docs/development.md, "Start-up").
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


def build_parser(command: str | None = None) -> ArgumentParser:
    """The argparse tree; only ``command``'s module is imported and given its options.

    Every other command is listed with its summary from the command table and
    no options (``command=""``: none is imported). ``command=None`` imports
    every command and builds the whole tree (the completion scripts read it).

    Raises:
        ImportError: a command module in the table is missing (a packaging bug).
    """
    parser = ArgumentParser(
        prog=PROG, description=prose(DESCRIPTION), formatter_class=HelpFormatter
    )
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
    for name, (target, summary) in COMMANDS.items():
        if command is None or name == command:
            module, _, function = target.partition(":")
            getattr(importlib.import_module(module), function or "register")(sub)
        else:
            sub.add_parser(name, help=summary, add_help=False)
    return parser


def chosen_command(args: Sequence[str]) -> str | None:
    """The command named on the command line, if any: the first word that is not an option.

    The top-level options take no values, so the first other word is the command.
    """
    for arg in args:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


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
        parser = build_parser(chosen_command(args_list) or "")
        try:
            args, extras = _parse(parser, args_list, env)
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
        from keynet_train import limits

        with limits.from_environment(env.environ):
            return int(handler(args, env))
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the single top-level mapping
        return int(render_error(exc, env))


def _parse(
    parser: ArgumentParser, args_list: list[str], env: Environment
) -> tuple[argparse.Namespace, list[str]]:
    # argparse prints --help/--version to sys.stdout; send it to the injected
    # stream so in-process runs capture it like any result.
    stdout, sys.stdout = sys.stdout, env.stdout
    try:
        return parser.parse_known_args(args_list)
    finally:
        sys.stdout = stdout


def run() -> NoReturn:
    """Console-script entry point: :func:`main`, then exit with its status."""
    status = main()
    # Interpreter shutdown ends with a full garbage collection over every object
    # podman-py, httpx and pydantic created (~0.14 s). Nothing it could free
    # matters to a process that is exiting, so move them all out of its reach.
    gc.freeze()
    sys.exit(status)
