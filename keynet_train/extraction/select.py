"""Run the interpreter over a module and pick the parser the script would use."""

from __future__ import annotations

import ast
from collections.abc import Callable

from keynet_train.extraction.argparse_ext import HANDLERS as ARGPARSE_HANDLERS
from keynet_train.extraction.argparse_ext import ParserValue, parser_arguments
from keynet_train.extraction.click_ext import HANDLERS as CLICK_HANDLERS
from keynet_train.extraction.click_ext import ClickCommand, command_arguments
from keynet_train.extraction.families import FAMILY_HANDLERS, FAMILY_TARGETS, family_arguments
from keynet_train.extraction.interpreter import (
    MAX_STEPS,
    BudgetExceeded,
    Interpreter,
    Invoked,
    RefHandler,
)
from keynet_train.extraction.loader import ModuleLoader
from keynet_train.extraction.mechanisms import find_mechanisms
from keynet_train.extraction.model import Argument, Diagnostic, ExtractionResult
from keynet_train.extraction.stdlib import HANDLERS as STDLIB_HANDLERS
from keynet_train.extraction.subcommands import (
    accepted_names,
    choose_command,
    command_arguments_of,
    subcommand_names,
)
from keynet_train.extraction.typer_ext import HANDLERS as TYPER_HANDLERS
from keynet_train.extraction.typer_ext import TyperApp, app_arguments

_HANDLERS: dict[str, RefHandler] = {
    **STDLIB_HANDLERS,
    **ARGPARSE_HANDLERS,
    **CLICK_HANDLERS,
    **TYPER_HANDLERS,
    **FAMILY_HANDLERS,
}

_PARSER_TYPES = (ParserValue, ClickCommand, TyperApp, *FAMILY_TARGETS)


def extract_from_tree(
    tree: ast.Module,
    path: str,
    command: str | None = None,
    default_command: Callable[[], str | None] | None = None,
    *,
    max_steps: int = MAX_STEPS,
    loader: ModuleLoader | None = None,
) -> ExtractionResult:
    """Extract from an already parsed module (``path`` is only used in diagnostics).

    ``command`` names the sub-command to train with (``--command``); when
    None and the script has sub-commands, ``default_command()`` (the project
    file's ``command``) is asked, then the default rule of
    docs/extraction-rules.md applies.
    ``max_steps`` is the evaluation-step budget; past it the result holds what
    was found so far plus a warning saying where the analysis stopped.
    ``loader`` follows the script's imports into the project and installed
    libraries; without it imported names stay opaque.

    Raises:
        ExtractionError: the sub-command cannot be chosen (see
            :func:`~keynet_train.extraction.subcommands.choose_command`).
    """
    interp = Interpreter(tree, path, _HANDLERS, max_steps=max_steps, loader=loader)
    result = _extract(interp, tree, path, command, default_command)
    summary = loader.summary() if loader is not None else None
    if summary is not None:
        result.diagnostics.append(Diagnostic(path, 1, summary))
    return result


def _extract(
    interp: Interpreter,
    tree: ast.Module,
    path: str,
    command: str | None,
    default_command: Callable[[], str | None] | None,
) -> ExtractionResult:
    target, line, where = _run(interp)
    if target is not None and not isinstance(target, _PARSER_TYPES):
        target = None
    if target is not None:
        # Pre-parsers and a group's own commands are parts of the target, not rivals.
        parts: list[object] = list(_feeders(target)) if isinstance(target, ParserValue) else []
        if isinstance(target, ClickCommand):
            parts.extend(target.commands.values())
        others = [c for c in interp.candidates if c is not target and c not in parts and _is_top(c)]
        if others:
            interp.note(
                line,
                f"{len(others) + 1} parsers found; using the one invoked here "
                f"({_describe(interp, target)})",
                path=where,
            )
    else:
        tops = [c for c in interp.candidates if _is_top(c)]
        if tops:
            target = max(tops, key=_size)
            interp.note(
                _line(target),
                "no call that parses the command line was found; using "
                + _describe(interp, target)
                + _opaque_suffix(interp),
                "warning",
                _path(target),
                partial=bool(interp.opaque_parses),
            )
    if target is None:
        _note_no_parser(interp, tree)
        return ExtractionResult(None, [], interp.diagnostics)
    names = subcommand_names(target)
    if command is None and names and default_command is not None:
        command = default_command()
    chosen = choose_command(names, command, path, accepted_names(target))
    if chosen is None:
        arguments = _arguments(interp, target)
    else:
        arguments = command_arguments_of(interp, target, chosen)
    if isinstance(target, ParserValue):
        arguments = _with_pre_parsers(interp, target, line, where, arguments, chosen is not None)
    if not arguments:
        interp.note(
            _line(target),
            f"{_describe(interp, target)} has no arguments that could be read statically; "
            "if code that cannot be followed adds them, they are missing",
            "warning",
            _path(target),
        )
    return ExtractionResult(
        str(getattr(target, "parser_type", None)),
        arguments,
        interp.diagnostics,
        chosen,
    )


def _run(interp: Interpreter) -> tuple[object, int, str | None]:
    """Interpret the module: the parser whose result the script uses, and where it is parsed.

    The place is a line and the file holding it (None: the file being read
    at the end, the entrypoint).
    """
    try:
        try:
            interp.run()
            if not interp.known_parses:
                # Nothing parsed the command line at module level: look inside
                # functions nobody called (e.g. a console-script entry point).
                interp.run_uncalled_functions()
        except Invoked as inv:
            return inv.target, inv.line, inv.path or None
    except BudgetExceeded:
        if interp.known_parses:
            # The command line was already parsed (parse_known_args): what the
            # budget cut short is the training code after it, not arguments.
            interp.note(
                interp.line,
                f"analysis stopped here (budget of {interp.max_steps} evaluation steps), after "
                f"the parse_known_args at line {interp.known_parses[-1][1]}; a parser that "
                "parses its remainder later, if any, was not seen",
            )
        else:
            # The innermost statement being run names the place (in its own file).
            where, line = interp.stopped_at or (interp.path, interp.line)
            interp.note(
                line,
                f"analysis stopped here: the budget of {interp.max_steps} evaluation steps "
                "was spent; arguments defined after this point are missing",
                "warning",
                where,
                partial=True,
            )
    if interp.known_parses:
        # parse_known_args was the last parse: its parser is the one used.
        return interp.known_parses[-1]
    return None, 0, None


def _with_pre_parsers(
    interp: Interpreter,
    target: ParserValue,
    line: int,
    where: str | None,
    arguments: list[Argument],
    has_command: bool,
) -> list[Argument]:
    """Prepend the options of pre-parsers whose remainder ``target`` parses."""
    seen = {a.name for a in arguments}
    added: list[Argument] = []
    for pre in _feeders(target):
        for arg in parser_arguments(interp, pre):
            if arg.name not in seen:
                seen.add(arg.name)
                added.append(arg._replace(scope="global") if has_command else arg)
        interp.note(
            line,
            f"config pre-parser: {_describe(interp, pre)[4:]} reads its options with "
            f"parse_known_args and hands the rest to {_describe(interp, target)}; "
            "both parsers' options are reported",
            path=where,
        )
    return added + arguments


def _feeders(target: ParserValue) -> list[ParserValue]:
    """Pre-parsers of ``target``, and theirs (a chain of pre-parsers), each once."""
    order: list[ParserValue] = []
    stack = list(target.fed_by)
    while stack:
        pre = stack.pop(0)
        if pre is not target and pre not in order:
            order.append(pre)
            stack.extend(pre.fed_by)
    return order


def _opaque_suffix(interp: Interpreter) -> str:
    if not interp.opaque_parses:
        return ""
    line, name = interp.opaque_parses[0]
    return (
        f"; the command line is parsed at line {line} by {name}, "
        "which could not be followed statically"
    )


#: What "no parser found" means, as the user reads it.
_SUPPORTED = "argparse, click, typer, HfArgumentParser, fire, tyro or configurator globals"


def _note_no_parser(interp: Interpreter, tree: ast.Module) -> None:
    mechanisms = find_mechanisms(tree)
    for mech in mechanisms:
        interp.note(
            mech.line,
            f"this script is configured with {mech.name}, which is not extracted statically; "
            f"no hyperparameters. {mech.advice}.",
            "warning",
            partial=True,
        )
    if mechanisms:
        return
    if interp.opaque_parses:
        line, name = interp.opaque_parses[0]
        interp.note(
            line,
            f"the command line is parsed here by {name}, a parser built by code that cannot be "
            "followed statically; its arguments are missing",
            "warning",
            partial=True,
        )
        return
    interp.note(1, f"no parser found ({_SUPPORTED}); no hyperparameters", "warning")


def _arguments(interp: Interpreter, target: object) -> list[Argument]:
    family = family_arguments(interp, target)
    if family is not None:
        return family
    if isinstance(target, ParserValue):
        return parser_arguments(interp, target)
    if isinstance(target, ClickCommand):
        return command_arguments(interp, target)
    if isinstance(target, TyperApp):
        return app_arguments(interp, target)
    return []


def _is_top(candidate: object) -> bool:
    return not (isinstance(candidate, ParserValue) and candidate.is_subparser)


def _size(candidate: object) -> int:
    if isinstance(candidate, ParserValue):
        return len(candidate.actions)
    if isinstance(candidate, ClickCommand):
        return len(candidate.params) + len(candidate.subcommands)
    if isinstance(candidate, TyperApp):
        return len(candidate.commands)
    return 0


def _line(candidate: object) -> int:
    return int(getattr(candidate, "line", 1))


def _path(candidate: object) -> str | None:
    """The file ``candidate`` was created in (None: the one being read)."""
    return str(getattr(candidate, "defined_in", "")) or None


def _describe(interp: Interpreter, candidate: object) -> str:
    kind = getattr(candidate, "parser_type", "?")
    path = _path(candidate)
    where = f"{path}:" if path and path != interp.entry_path else "line "
    return f"the {kind} parser defined at {where}{_line(candidate)}"
