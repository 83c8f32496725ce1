"""``keynet-train inspect ENTRYPOINT [--json]``: show the hyperparameters push would send.

Runs push steps 2–3 (validate + extract, docs/commands.md) with no login, network or
podman. Kept import-light on purpose: the plain and ``--json`` paths import
only the standard library and the extractor, so ``inspect`` on a big script
costs little more than parsing it.
"""

from __future__ import annotations

import argparse

from keynet_train.cli.environment import Environment
from keynet_train.cli.parser import add_command, add_python_option

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from keynet_train.cli.parser import Subparsers
    from keynet_train.extraction import Argument, ExtractionResult
    from keynet_train.extraction.model import ParserType
    from keynet_train.extraction.platform import PlatformCheck, PlatformProblem
    from keynet_train.notices import Notice

EXAMPLE = """\
examples:
  keynet-train inspect train.py
  keynet-train inspect train.py --json | jq '.arguments[].name'
  keynet-train inspect cli.py --command finetune
"""


def register(sub: Subparsers) -> None:
    """Add the ``inspect`` sub-command."""
    p = add_command(
        sub,
        "inspect",
        description="Validate ENTRYPOINT and list the hyperparameters extracted statically "
        "from its parser: argparse, click, typer, HfArgumentParser dataclasses, fire, "
        "tyro, or module globals overridden by a configurator (the code is never run).",
        epilog=EXAMPLE,
    )
    p.add_argument("entrypoint", metavar="ENTRYPOINT", help="the training script, e.g. train.py")
    add_python_option(p)
    p.add_argument(
        "--command",
        # "command" is the dest of keynet-train's own sub-command.
        dest="script_command",
        metavar="NAME",
        help="the script's sub-command to train with (default: the project file's 'command', "
        "else the only one, else 'train')",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print exactly the extractor's JSON object on stdout (diagnostics on stderr)",
    )
    p.add_argument(
        "--wide",
        action="store_true",
        help="every column on one line (default on a terminal: fit its width, dropping help)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, env: Environment) -> int:
    """Validate and extract; print a table (or JSON) on stdout, diagnostics on stderr.

    Raises:
        EntrypointError: the entrypoint is missing, unreadable or does not parse.
        ConfigError: the project file that applies is malformed.
        ExtractionError: the sub-command cannot be chosen, --python names no
            interpreter, or extraction failed unexpectedly.
    """
    import json
    from pathlib import Path

    from keynet_train.extraction import extract_hyperparameters
    from keynet_train.extraction.platform import check_platform_command

    def project_command() -> str | None:
        # Read only for a script with sub-commands: keeps plain inspect import-light.
        from keynet_train.push.project_file import find_project_settings

        return find_project_settings(Path(args.entrypoint)).command

    entry = Path(args.entrypoint)
    context, project_python, project_model = _project_file_settings(entry)
    result = extract_hyperparameters(
        entry,
        args.script_command,
        project_command,
        # push's default build context is the current directory, so inspect
        # resolves the project's imports from it too (a script in a sub-folder
        # importing a module at the repository's top, run from there).
        context=context if context is not None else Path.cwd(),
        # --python/KEYNET_PYTHON may be run (-I -S); the project file's python
        # is only read as a virtualenv layout (docs/security.md).
        python=args.python or env.environ.get("KEYNET_PYTHON") or None,
        project_python=project_python,
        environ=env.environ,
    )
    # The platform runs `python {modelName}`; push's default model name is the file name.
    check = check_platform_command(result, project_model or entry.name, args.entrypoint)
    notices = extraction_notices(result, args.entrypoint)
    if args.json:
        doc = result.to_json()
        doc["platform_command"] = check.command.text
        doc["problems"] = [p.to_json() for p in check.problems]
        doc["warnings"] = [n.to_json() for n in notices]
        env.out(json.dumps(doc))
    elif result.parser_type is not None:
        _print_table(result, result.parser_type, check, args.wide, env)
    for diag in result.diagnostics:
        env.err(str(diag))
    if result.parser_type is None or not result.complete:
        env.err(f"Warning: {notices[-1].message}")
    return 0


def format_platform_check(command: str, problems: list[PlatformProblem]) -> str:
    """The lines ``inspect`` and ``push --dry-run`` print about the platform's command."""
    lines = [f"Platform command (defaults): {command}"]
    if not problems:
        lines.append("Platform command check: ok (the script accepts every option)")
        return "\n".join(lines)
    count = len(problems)
    lines.append(
        f"Platform command check: {count} problem{'s' if count != 1 else ''}; the training job "
        "would stop with a usage error (push refuses it; see docs/platform-command.md):"
    )
    for number, problem in enumerate(problems, 1):
        lines.append(f"  {number}. {problem.argument}: the platform sends {problem.sends}")
        if problem.accepts:
            lines.append(f"     the script accepts: {problem.accepts}")
        lines.append(f"     fix: {problem.fix}")
    return "\n".join(lines)


def extraction_notices(result: ExtractionResult, entrypoint: str) -> list[Notice]:
    """The extractor's warnings as data (keynet_train/notices.py), in the order printed."""
    from keynet_train.notices import EXTRACTION, INCOMPLETE, NO_HYPERPARAMETERS, Notice

    notices = [
        Notice(EXTRACTION, d.message, d.path, d.line or None)
        for d in result.diagnostics
        if d.severity == "warning"
    ]
    if result.parser_type is None:
        notices.append(
            Notice(
                NO_HYPERPARAMETERS,
                f"no hyperparameters could be extracted from {entrypoint} "
                "(the diagnostics above say why); push would send none.",
                entrypoint,
            )
        )
    elif not result.complete:
        notices.append(
            Notice(
                INCOMPLETE,
                "the list may be partial: code that may add arguments could not be "
                "followed at the places warned about above (complete: false).",
                entrypoint,
            )
        )
    return notices


def _project_file_settings(entry: Path) -> tuple[Path | None, Path | None, str | None]:
    """The project file's ``context``, ``python`` and ``model_name``, used as push uses them.

    The project-file reader (and its imports) loads only when a candidate file
    exists, so ``inspect`` stays close to a bare ``ast.parse`` otherwise.

    Raises:
        ConfigError: the project file that applies is invalid.
    """
    from keynet_train.locations import project_file_candidates

    for candidate in project_file_candidates(entry):
        if candidate.name == "pyproject.toml" and not _mentions_tool_table(candidate):
            continue
        from keynet_train.push.project_file import find_project_settings

        project = find_project_settings(entry)
        return project.context, project.python, project.model_name
    return None, None, None


def _mentions_tool_table(pyproject: Path) -> bool:
    """A cheap pre-check (the reader parses it properly); an unreadable file says yes."""
    from keynet_train.files import UnreadableFile, read_regular_file

    try:
        return b"tool.keynet-train" in read_regular_file(pyproject, 1024 * 1024)
    except UnreadableFile:
        return True  # let the reader report it


_COLUMNS = ("name", "type", "default", "required", "choices", "spelling", "help")


def format_arguments(
    arguments: Sequence[Argument], parser_type: ParserType | None, width: int | None = None
) -> str:
    """A plain, aligned text table of the arguments (no colours: safe for pipes).

    With ``width`` it fits a terminal that wide: help goes first, then long
    cells wrap (see :func:`keynet_train.cli.output.format_table`).
    """
    import json

    from keynet_train.cli.output import format_table
    from keynet_train.extraction.families import hints_for

    # fire and the globals configurator are written --name=VALUE (their hints say so).
    joined = parser_type is not None and hints_for(parser_type).literal_values
    rows = [
        [
            arg.name,
            arg.type,
            "-" if arg.default is None else json.dumps(arg.default),
            "yes" if arg.required else "no",
            "-" if arg.choices is None else ", ".join(arg.choices),
            spelling(arg, joined=joined),
            " ".join((arg.help or "-").split()),
        ]
        for arg in arguments
    ]
    return format_table(_COLUMNS, rows, width=width, optional=("help",))


def spelling(arg: Argument, *, joined: bool = False) -> str:
    """How the command line writes the argument (docs/cli-descriptor.md), e.g. ``--lr VALUE``."""
    import json

    flag = arg.flags[0] if arg.flags else "?"
    kind = arg.kind
    if kind == "positional":
        text = f"{arg.name} (positional {arg.position})"
    elif kind == "flag":
        text = f"{flag} (sets {json.dumps(arg.flag_value)})"
    elif kind == "negatable":
        text = f"{flag} | {arg.negative_flags[0] if arg.negative_flags else '?'}"
    elif kind == "count":
        text = f"{flag} {flag}... (count)"
    elif kind == "list" and arg.list_style == "repeat":
        text = f"{flag} V1 {flag} V2..."
    elif kind == "list" and arg.list_style == "literal":
        text = f"{flag}=[V1, V2...]"
    elif kind == "list":
        text = f"{flag} V1 V2..." if not isinstance(arg.nargs, int) else f"{flag} x{arg.nargs}"
    else:
        text = f"{flag}=VALUE" if joined else f"{flag} VALUE"
    if arg.scope == "global":
        text += " (before the sub-command)"
    if arg.exclusive_group:
        text += f" (exclusive: {arg.exclusive_group})"
    return text


def _print_table(
    result: ExtractionResult, parser_type: str, check: PlatformCheck, wide: bool, env: Environment
) -> None:
    """The parser line, the arguments table and the platform command, on stdout."""
    count = len(result.arguments)
    sub = f", sub-command {result.command}" if result.command else ""
    env.out(f"Parser: {parser_type} ({count} argument{'s' if count != 1 else ''}{sub})")
    if result.arguments:
        from keynet_train.cli.output import table_width

        env.out(
            format_arguments(
                result.arguments, result.parser_type, table_width(env, env.stdout, wide)
            ),
            wrap=not wide,
        )
    env.out("")
    env.out(format_platform_check(check.command.text, check.problems))
