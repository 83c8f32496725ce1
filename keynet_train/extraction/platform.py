"""The platform's training command, predicted from the hyperparameters alone, and its problems.

The backend builds the job's command from the upload-key request only (the six
fields of docs/platform-contract.md, never the descriptor of
docs/cli-descriptor.md): ``python {modelName}``
followed by ``--{name} {value}`` for every hyperparameter, as in the
TECHSPEC's example ``python train.py --learning_rate 0.001 --batch_size 32``.
docs/platform-command.md writes the convention down:

- a value is written as Python's ``str()`` of the JSON value: ``0.001``,
  ``32``, ``adamw``, ``True``/``False`` for a bool, ``[30, 60]`` for a list;
- a ``null`` default and an empty list are left out (no value to write:
  an empty form field); a required argument
  without a default gets its name in capitals as a placeholder
  (``--data_dir DATA_DIR``: the user types the value in the platform's form);
- words are joined with single spaces and never quoted, so a value with a
  space or a quote becomes several words;
- a sub-command is never written (the request does not carry it), and a
  positional argument is written like an option, ``--{name} {value}``.

:func:`platform_command_problems` runs the training-command check of
:mod:`keynet_train.extraction.command_check` on such a command (the same
check the backend's actual ``command`` gets) and gives each problem with
the fix, so ``inspect``, ``push --dry-run`` and ``push`` all say the same.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import NamedTuple

from keynet_train.extraction.command_check import (
    CommandProblem,
    RejectedOption,
    rejected_options,
    script_arguments,
    subcommand_problems,
    value_problems,
)
from keynet_train.extraction.families import hints_for
from keynet_train.extraction.model import ExtractionResult


class PlatformCommand(NamedTuple):
    """The command the platform will run: the words it runs and the string it builds."""

    argv: list[str]
    text: str


class PlatformProblem(NamedTuple):
    """Something in the platform's command the script would reject, and how to fix it."""

    argument: str  # the hyperparameter (or sub-command) it is about
    sends: str  # what the platform's command writes, e.g. "--amp False"
    accepts: str  # what the script accepts instead
    fix: str  # what to change, e.g. "Add --data_root as another option string ..."

    def to_json(self) -> dict[str, object]:
        """The ``problems`` entry of ``inspect --json`` and ``push --json``."""
        return {
            "argument": self.argument,
            "sends": self.sends,
            "accepts": self.accepts,
            "fix": self.fix,
        }

    def text(self) -> str:
        """One line: ``argument: the platform sends X; the script accepts Y. Fix: Z``."""
        return (
            f"{self.argument}: the platform sends {self.sends}; the script accepts "
            f"{self.accepts}. Fix: {self.fix}"
        )


def platform_value(value: object) -> str:
    """How the platform writes one value: Python's ``str()`` (``True``, ``[30, 60]``)."""
    return str(value)


def predict_platform_command(
    result: ExtractionResult, model_name: str, values: Mapping[str, object] | None = None
) -> PlatformCommand:
    """``python {model_name} --{name} {value} ...`` for every hyperparameter, in list order.

    ``values`` override the defaults (``run --set``); a ``None`` value or an
    empty list is left out like a ``null`` default. ``argv`` is the text split as a shell would
    split it (the platform does not quote; a value with an unbalanced quote is
    split on whitespace). Raises nothing.
    """
    words = ["python", model_name]
    for argument in result.arguments:
        value = values[argument.name] if values and argument.name in values else argument.default
        if value is None or value == []:
            if not argument.required:
                continue
            text = argument.name.upper()
        else:
            text = platform_value(value)
        words += [f"--{argument.name}", text]
    text = " ".join(words)
    try:
        argv = shlex.split(text)
    except ValueError:
        argv = text.split()
    return PlatformCommand(argv, text)


def platform_command_problems(
    command: str, result: ExtractionResult, script: str
) -> list[PlatformProblem]:
    """Every problem the script would have with ``command``, each with its fix.

    ``command`` is the predicted command (:func:`predict_platform_command`)
    or the backend's actual one; ``script`` names the entrypoint in the
    fixes. Empty when the command is fine or cannot be judged (no parser).
    Raises nothing.
    """
    if result.parser_type is None:
        return []
    words = script_arguments(command)
    if words is None:
        return []
    problems: list[PlatformProblem] = []
    missing = result.command is not None and result.command not in words
    if missing:
        problems.append(_missing_subcommand(result, script))
    else:
        for paragraph in subcommand_problems(command, result, script):
            problems.append(
                PlatformProblem(
                    str(result.command), "its options in the wrong place", "", paragraph
                )
            )
    problems += [_spelling(r, result, words) for r in rejected_options(command, result)]
    problems += [_value(p) for p in value_problems(command, result)]
    problems += _positionals(result, words)
    problems += _split_values(result, words)
    return problems


class PlatformCheck(NamedTuple):
    """The predicted platform command and what the script would reject in it."""

    command: PlatformCommand
    problems: list[PlatformProblem]


def check_platform_command(result: ExtractionResult, model_name: str, script: str) -> PlatformCheck:
    """:func:`predict_platform_command` for the defaults, and its problems. Raises nothing."""
    command = predict_platform_command(result, model_name)
    return PlatformCheck(command, platform_command_problems(command.text, result, script))


def problems_message(command: str, problems: list[PlatformProblem], script: str) -> str:
    """One paragraph for an error or warning: the command, then each problem and its fix."""
    items = " ".join(f"({n}) {p.text()}" for n, p in enumerate(problems, 1))
    return (
        f"The platform will run `{command}` (it writes every hyperparameter as "
        f"--name value, see docs/platform-command.md), and {script} would stop with a usage "
        f"error: {items}"
    )


# --------------------------------------------------------------------------- problems


def _missing_subcommand(result: ExtractionResult, script: str) -> PlatformProblem:
    command = str(result.command)
    assert result.parser_type is not None  # only a parser's result is judged
    fix = hints_for(result.parser_type).command_fix.format(command=command)
    return PlatformProblem(
        argument=command,
        sends=f"no sub-command (python {script} --name value ...)",
        accepts=f"python {script} {command} [options]",
        fix=fix[0].upper() + fix[1:] + " (the platform never writes a sub-command)",
    )


def _spelling(
    rejected: RejectedOption, result: ExtractionResult, words: list[str]
) -> PlatformProblem:
    argument = rejected.argument
    hints = hints_for(rejected.parser_type)
    fix = rejected.fix()
    if hints.platform_spelling_fix is not None:
        fix = hints.platform_spelling_fix
    elif argument.type == "bool" and hints.value_bool_fix is not None:
        fix = f"Declare it as a value option spelled {rejected.option}: " + (
            hints.value_bool_fix.format(option=rejected.option)
        )
    accepted = argument.accepted_flags()
    if hints.equals_only:
        accepted = tuple(f"{flag}=VALUE" for flag in accepted)
    return PlatformProblem(
        argument=argument.name,
        sends=_with_value(rejected.option, words),
        accepts=", ".join(accepted),
        fix=fix,
    )


def _value(problem: CommandProblem) -> PlatformProblem:
    argument = problem.argument
    option = argument.flags[0] if argument.flags else f"--{argument.name}"
    if problem.kind == "flag_value" and argument.kind == "count":
        fix = f"Declare {option} as an int option (type=int) instead of a counted flag"
    elif problem.kind == "flag_value":
        how = hints_for(problem.parser_type).value_bool_fix or "a type that reads True/False"
        fix = "Declare it as a bool that takes a value: " + how.format(option=option)
    elif problem.kind == "list_literal":
        fix = (
            "The platform writes a list as one Python literal, split at its spaces; make it a "
            "str hyperparameter (e.g. default '30,60') and split it in the script"
        )
    else:
        fix = (
            "argparse reads a separate word starting with '-' (other than a plain negative "
            "number) as an option; use a default that Python prints without a leading '-' or "
            "exponent, e.g. store the magnitude and negate it in the script"
        )
    return PlatformProblem(argument.name, problem.option, problem.accepted, fix)


def _positionals(result: ExtractionResult, words: list[str]) -> list[PlatformProblem]:
    """A positional argument written as ``--name value``: the script has no such option."""
    found = []
    accepted = {flag for a in result.arguments for flag in a.accepted_flags()}
    for argument in result.arguments:
        option = f"--{argument.name}"
        if argument.kind != "positional" or option not in words or option in accepted:
            continue
        assert result.parser_type is not None  # only a parser's result is judged
        declare = hints_for(result.parser_type).option_fix.format(option=option)
        found.append(
            PlatformProblem(
                argument=argument.name,
                sends=_with_value(option, words),
                accepts=f"{argument.name} as positional argument {argument.position}",
                fix=f"Declare it as an option ({declare}): the platform writes every "
                "hyperparameter as --name value",
            )
        )
    return found


def _split_values(result: ExtractionResult, words: list[str]) -> list[PlatformProblem]:
    """A default the platform writes unquoted that does not stay one word."""
    found = []
    for argument in result.arguments:
        if argument.default is None or (
            isinstance(argument.default, list) and argument.list_style != "literal"
        ):
            continue  # lists taken as words: value_problems explains them
        text = platform_value(argument.default)
        try:
            one_word = shlex.split(text) == [text]
        except ValueError:
            one_word = False
        option = f"--{argument.name}"
        if one_word or option not in words:
            continue
        after = words.index(option) + 1
        if after < len(words) and words[after] == text:
            continue  # the command quoted it (a backend that quotes)
        found.append(
            PlatformProblem(
                argument=argument.name,
                sends=f"{option} {text}",
                accepts=f"{option} VALUE (one word)",
                fix="Make it a str hyperparameter (e.g. '30,60') split in the script"
                if isinstance(argument.default, list)
                else "Use a default without spaces, quotes or shell characters (the platform "
                "does not quote values); an empty default is written as nothing",
            )
        )
    return found


def _with_value(option: str, words: list[str]) -> str:
    """``--lr 0.1``: the option and the word after it in ``words`` (when it is a value)."""
    if option not in words:
        return option
    index = words.index(option)
    if index + 1 < len(words) and not words[index + 1].startswith("--"):
        return f"{option} {words[index + 1]}"
    return option
