"""Run the interpreter over a module and pick the parser the script would use."""

from __future__ import annotations

import ast

from keynet_train.extraction.argparse_ext import HANDLERS as ARGPARSE_HANDLERS
from keynet_train.extraction.argparse_ext import ParserValue, parser_arguments
from keynet_train.extraction.click_ext import HANDLERS as CLICK_HANDLERS
from keynet_train.extraction.click_ext import ClickCommand, command_arguments
from keynet_train.extraction.interpreter import (
    MAX_STEPS,
    BudgetExceeded,
    Interpreter,
    Invoked,
    RefHandler,
)
from keynet_train.extraction.model import Argument, ExtractionResult
from keynet_train.extraction.stdlib import HANDLERS as STDLIB_HANDLERS
from keynet_train.extraction.typer_ext import HANDLERS as TYPER_HANDLERS
from keynet_train.extraction.typer_ext import TyperApp, app_arguments

_HANDLERS: dict[str, RefHandler] = {
    **STDLIB_HANDLERS,
    **ARGPARSE_HANDLERS,
    **CLICK_HANDLERS,
    **TYPER_HANDLERS,
}

_PARSER_TYPES = (ParserValue, ClickCommand, TyperApp)


def extract_from_tree(
    tree: ast.Module, path: str, *, max_steps: int = MAX_STEPS
) -> ExtractionResult:
    """Extract from an already parsed module (``path`` is only used in diagnostics).

    ``max_steps`` is the evaluation-step budget; past it the result holds what
    was found so far plus a warning saying where the analysis stopped.
    """
    interp = Interpreter(tree, path, _HANDLERS, max_steps=max_steps)
    target: object = None
    line = 0
    try:
        try:
            interp.run()
            # Nothing parsed the command line at module level: look inside
            # functions nobody called (e.g. a console-script entry point).
            interp.run_uncalled_functions()
        except Invoked as inv:
            target, line = inv.target, inv.line
    except BudgetExceeded:
        interp.note(
            interp.line,
            f"analysis stopped here: the budget of {interp.max_steps} evaluation steps "
            "was spent; arguments defined after this point are missing",
            "warning",
        )
    if target is not None and not isinstance(target, _PARSER_TYPES):
        target = None
    if target is not None:
        others = [c for c in interp.candidates if c is not target and _is_top(c)]
        if others:
            interp.note(
                line,
                f"{len(others) + 1} parsers found; using the one invoked here "
                f"({_describe(target)})",
            )
    else:
        tops = [c for c in interp.candidates if _is_top(c)]
        if tops:
            target = max(tops, key=_size)
            interp.note(
                _line(target),
                f"no call that parses the command line was found; using {_describe(target)}",
                "warning",
            )
    if target is None:
        interp.note(1, "no argparse, click or typer parser found; no hyperparameters", "warning")
        return ExtractionResult(None, [], interp.diagnostics)
    arguments = _arguments(interp, target)
    return ExtractionResult(
        str(getattr(target, "parser_type", None)), arguments, interp.diagnostics
    )


def _arguments(interp: Interpreter, target: object) -> list[Argument]:
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


def _describe(candidate: object) -> str:
    kind = getattr(candidate, "parser_type", "?")
    return f"the {kind} parser defined at line {_line(candidate)}"
