"""Run the interpreter over a module and pick the parser the script would use."""

from __future__ import annotations

import ast
from collections.abc import Callable

from keynet_train.extraction.families import FAMILIES, family_of
from keynet_train.extraction.families.contract import Family, Site, defined_at, defined_in, describe
from keynet_train.extraction.interpreter import (
    MAX_STEPS,
    BudgetExceeded,
    Interpreter,
    Invoked,
    RefHandler,
)
from keynet_train.extraction.loader import ModuleLoader
from keynet_train.extraction.mechanisms import find_mechanisms
from keynet_train.extraction.model import Diagnostic, ExtractionResult
from keynet_train.extraction.stdlib import HANDLERS as STDLIB_HANDLERS
from keynet_train.extraction.subcommands import choose_command

_HANDLERS: dict[str, RefHandler] = dict(STDLIB_HANDLERS)
for _family in FAMILIES:
    _HANDLERS.update(_family.handlers)


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
    family = family_of(target)
    if family is not None:
        # Pre-parsers and a group's own commands are parts of the target, not rivals.
        parts = family.parts(target)
        others = [c for c in interp.candidates if c is not target and c not in parts and _is_top(c)]
        if others:
            interp.note(
                line,
                f"{len(others) + 1} parsers found; using the one invoked here "
                f"({describe(interp, target)})",
                path=where,
            )
    else:
        target, family = _largest(interp)
    if target is None or family is None:
        _note_no_parser(interp, tree)
        return ExtractionResult(None, [], interp.diagnostics)
    names = family.subcommands(target)
    if command is None and names and default_command is not None:
        command = default_command()
    chosen = choose_command(names, command, path, family.accepted_names(target))
    arguments = family.arguments(interp, target, chosen, Site(line, where))
    if not arguments:
        interp.note(
            defined_at(target),
            f"{describe(interp, target)} has no arguments that could be read statically; "
            "if code that cannot be followed adds them, they are missing",
            "warning",
            defined_in(target),
        )
    return ExtractionResult(family.parser_type, arguments, interp.diagnostics, chosen)


def _largest(interp: Interpreter) -> tuple[object, Family | None]:
    """No parse was seen: the largest parser built, with a warning saying so."""
    tops = [(c, f) for c in interp.candidates if _is_top(c) and (f := family_of(c)) is not None]
    if not tops:
        return None, None
    target, family = max(tops, key=lambda pair: pair[1].size(pair[0]))
    interp.note(
        defined_at(target),
        "no call that parses the command line was found; using "
        + describe(interp, target)
        + _opaque_suffix(interp),
        "warning",
        defined_in(target),
        partial=bool(interp.opaque_parses),
    )
    return target, family


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


def _opaque_suffix(interp: Interpreter) -> str:
    if not interp.opaque_parses:
        return ""
    line, name = interp.opaque_parses[0]
    return (
        f"; the command line is parsed at line {line} by {name}, "
        "which could not be followed statically"
    )


#: What "no parser found" means, as the user reads it.
_TITLES = [family.title or family.parser_type for family in FAMILIES]
_SUPPORTED = ", ".join(_TITLES[:-1]) + " or " + _TITLES[-1]


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


def _is_top(candidate: object) -> bool:
    """Sub-parsers are parts of their parent, never a parser of their own."""
    return not getattr(candidate, "is_subparser", False)
