"""Check the platform's training command against the options the script accepts.

The backend answers an upload-key request with the command the platform will
run (SPEC §4.3, e.g. ``python train.py --learning_rate 0.001``); it spells
every option ``--<name>``. A script that declares ``--learning-rate`` (typer
always does for multi-word parameters) or ``--no-flip`` with ``dest="flip"``
does not accept that spelling, and the training job would stop with a usage
error after the image was pulled and the GPU reserved. Catching it at push
time costs nothing: the extractor already knows every option string.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from keynet_train.extraction.model import Argument, ExtractionResult


@dataclass(frozen=True)
class RejectedOption:
    """An option of the platform's command that the script would reject."""

    option: str  # as the command spells it, e.g. "--learning_rate"
    argument: Argument  # the hyperparameter it was meant for
    parser_type: str  # "argparse" | "click" | "typer" | "hfargparser" | "fire" | "tyro" | "globals"

    def message(self, script: str) -> str:
        """One paragraph: what will fail, and how to declare the option so it works."""
        declared = ", ".join(self.argument.accepted_flags())
        first = self.argument.flags[0]
        option = self.option
        if self.parser_type == "globals" and option == first:
            return (
                f"The platform's training command passes {option} and its value as two "
                f"words, but {script} reads its options with a configurator that takes only "
                f"{first}=VALUE, so the training job would stop with an error. The command "
                f"must spell it {first}=VALUE; fix it on the platform, then push again."
            )
        if self.parser_type in _FAMILY_FIXES:
            how = _FAMILY_FIXES[self.parser_type].format(option=option, first=first)
        elif self.argument.type == "bool":
            fix = {
                "argparse": f"add_argument({option!r}, action=argparse.BooleanOptionalAction)",
                "click": f"@click.option('{option}/--no-{option.lstrip('-')}')",
                "typer": f"a bool parameter, which typer spells {option}/--no-{option.lstrip('-')}",
            }[self.parser_type]
            how = f"Declare it as an on/off pair that accepts {option} ({fix})"
        else:
            fix = {
                "argparse": f"add_argument({first!r}, {option!r}, ...)",
                "click": f"@click.option({first!r}, {option!r}, ...)",
                "typer": f"typer.Option({first!r}, {option!r})",
            }[self.parser_type]
            how = f"Add {option} as another option string of that argument ({fix})"
        return (
            f"The platform's training command passes {option}, but {script} declares "
            f"'{self.argument.name}' as {declared}, so the training job would stop with a "
            f"usage error. {how}, then push again."
        )


def rejected_options(command: str, result: ExtractionResult) -> list[RejectedOption]:
    """Options in ``command`` meant for a known hyperparameter that the script would reject.

    Only options whose name matches an extracted argument are judged (the
    command's ``--learning_rate`` ~ argument ``learning_rate``), so anything
    the extractor could not see is never reported. argparse's unique-prefix
    abbreviations count as accepted. A command that does not run a ``.py``
    file, or cannot be split like a shell would, is not judged. Raises nothing.
    """
    if result.parser_type is None:
        return []
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    start = _script_end(words)
    if start is None:
        return []
    by_name = {a.name: a for a in result.arguments if a.flags}
    accepted = {flag for a in result.arguments for flag in a.accepted_flags()}
    long_flags = [flag for flag in accepted if flag.startswith("--")]
    kind = result.parser_type
    found: list[RejectedOption] = []
    for word in words[start:]:
        if word == "--":
            break
        if not word.startswith("-") or _is_number(word):
            continue
        option = word.split("=", 1)[0]
        key = option.lstrip("-").replace("-", "_")
        argument = by_name.get(key)
        if argument is None and key.startswith("no"):
            # A negative spelling (--no_x, --no-x, fire's --nox) meant for bool x.
            negated = by_name.get(key[3:] if key.startswith("no_") else key[2:])
            argument = negated if negated is not None and negated.type == "bool" else None
        if argument is None:
            continue
        if kind == "globals":
            # The configurator reads --key=value only; '--key value' stops the job.
            if option in accepted and "=" in word:
                continue
        elif option in accepted or _family_accepts(kind, option, argument):
            continue
        if kind in ("argparse", "hfargparser") and option.startswith("--"):
            matches = [flag for flag in long_flags if flag.startswith(option)]
            if len(matches) == 1:
                continue
        found.append(RejectedOption(option, argument, kind))
    return found


def subcommand_problems(command: str, result: ExtractionResult, script: str) -> list[str]:
    """Where the platform's command puts the sub-command and its options wrongly (SPEC §6).

    A script with sub-commands needs ``python train.py [global options]
    SUBCOMMAND [its options]``: without the sub-command name it stops with a
    usage error (or runs another command); a parent option after the name,
    or a sub-command option before it, is rejected by argparse, click and
    typer alike. One paragraph per problem; empty when the command is fine
    or cannot be judged. Raises nothing.
    """
    if result.command is None or result.parser_type is None:
        return []
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    start = _script_end(words)
    if start is None:
        return []
    rest = words[start:]
    if result.command not in rest:
        return [
            f"The platform's training command runs {script} without its sub-command "
            f"{result.command!r}, so the training job would stop with a usage error. Push an "
            f"entry script that runs {result.command!r} directly (or make it the script's "
            "default), or ask the platform to put the sub-command in the command, then push again."
        ]
    split = rest.index(result.command)
    scope_of = {flag: a.scope for a in result.arguments for flag in a.flags}
    problems: list[str] = []
    for position, word in enumerate(rest):
        if word == "--":
            break
        scope = scope_of.get(word.split("=", 1)[0])
        if scope == "global" and position > split:
            problems.append(
                f"The platform's training command passes {word.split('=', 1)[0]} after the "
                f"sub-command {result.command!r}, but {script} declares it on the parent parser, "
                "which only accepts it before the sub-command; the training job would stop with "
                "a usage error. Declare it on the sub-command too, then push again."
            )
        elif scope == "command" and position < split:
            problems.append(
                f"The platform's training command passes {word.split('=', 1)[0]} before the "
                f"sub-command {result.command!r}, but {script} declares it on the sub-command, "
                "which only accepts it after its name; the training job would stop with a usage "
                "error. Declare it on the parent parser too, then push again."
            )
    return problems


def _script_end(words: list[str]) -> int | None:
    """The index just after the ``.py`` script in a command's words, None without one."""
    return next((i + 1 for i, word in enumerate(words) if word.endswith(".py")), None)


#: How to make each family accept an option (the argparse/click/typer cases are above).
_FAMILY_FIXES = {
    "hfargparser": (
        "HfArgumentParser spells a field --name and --name-with-dashes, and adds --no_name "
        "only for a bool field that defaults to True; add {option} to the field's "
        'metadata={{"aliases": [...]}} or pass the value as {first} VALUE'
    ),
    "fire": "fire accepts {first}=VALUE or {first} VALUE for that parameter; use that spelling",
    "tyro": "tyro accepts {first} VALUE for that field; use that spelling",
    "globals": (
        "The configurator reads only --key=VALUE, so write {first}=VALUE (no space, one word)"
    ),
}


def _family_accepts(kind: str, option: str, argument: Argument) -> bool:
    """fire and tyro also take spellings their parsers do not list as option strings."""
    key = option.lstrip("-").replace("-", "_")
    if kind == "fire":
        # fire strips any number of leading dashes and reads '-' as '_'.
        return key == argument.name or (argument.type == "bool" and key == f"no{argument.name}")
    if kind == "tyro" and option.startswith("--"):
        # tyro 1.0 reads --exp_name as --exp-name.
        return any(key == flag[2:].replace("-", "_") for flag in argument.accepted_flags())
    return False


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
