"""Check the platform's training command against the options the script accepts.

The backend answers an upload-key request with the command the platform will
run (docs/platform-contract.md, e.g. ``python train.py --learning_rate 0.001``); it spells
every option ``--<name>``. A script that declares ``--learning-rate`` (typer
always does for multi-word parameters) or ``--no-flip`` with ``dest="flip"``
does not accept that spelling, and the training job would stop with a usage
error after the image was pulled and the GPU reserved. Catching it at push
time costs nothing: the extractor already knows every option string.

Beyond spellings and sub-commands, :func:`value_problems` uses the
descriptor to explain values the script would reject or misread: a flag
given a value (``--amp True`` for ``store_true``, ``BooleanOptionalAction``,
click ``is_flag``, typer bools), a list written as a literal
(``--milestones [30, 60]``), and a negative value without ``=`` (argparse
reads ``--lr -1e-05`` as two options).
"""

from __future__ import annotations

import re
import shlex
from typing import Literal, NamedTuple

from keynet_train.extraction.families import hints_for
from keynet_train.extraction.model import Argument, ExtractionResult, ParserType

_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_BOOL_WORDS = frozenset(("true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"))


#: What a :class:`CommandProblem` is about.
ProblemKind = Literal["flag_value", "list_literal", "negative_value"]


class CommandProblem(NamedTuple):
    """Something in the platform's command the script would reject or misread."""

    kind: ProblemKind
    option: str  # as the command spells it, e.g. "--learning_rate" or "--amp True"
    argument: Argument  # the hyperparameter it was meant for
    parser_type: ParserType
    accepted: str  # the spelling the script accepts instead

    def message(self, script: str) -> str:
        """One paragraph: what will fail, and what the script accepts instead."""
        name = f"'{self.argument.name}'"
        what = {
            "flag_value": f"but {name} is a flag that takes no value",
            "list_literal": f"but {name} takes its values as separate words, not a list literal",
            "negative_value": f"but {self.parser_type} reads a value starting with '-' "
            f"after {name}'s option as another option",
        }[self.kind]
        return (
            f"The platform's training command passes {self.option}, {what}, so the training "
            f"job would stop with a usage error. The script accepts: {self.accepted}. "
            "Fix the hyperparameter definition (or the script's declaration), then push again."
        )


class RejectedOption(NamedTuple):
    """An option of the platform's command that the script would reject."""

    option: str  # as the command spells it, e.g. "--learning_rate"
    argument: Argument  # the hyperparameter it was meant for
    parser_type: ParserType

    def message(self, script: str) -> str:
        """One paragraph: what will fail, and how to declare the option so it works."""
        declared = ", ".join(self.argument.accepted_flags())
        first = self.argument.flags[0]
        option = self.option
        if hints_for(self.parser_type).equals_only and option == first:
            return (
                f"The platform's training command passes {option} and its value as two "
                f"words, but {script} reads its options with a configurator that takes only "
                f"{first}=VALUE, so the training job would stop with an error. The command "
                f"must spell it {first}=VALUE; fix it on the platform, then push again."
            )
        return (
            f"The platform's training command passes {option}, but {script} declares "
            f"'{self.argument.name}' as {declared}, so the training job would stop with a "
            f"usage error. {self.fix()}, then push again."
        )

    def fix(self) -> str:
        """How to declare the option so the script accepts it, e.g. "Add --lr as another ..."."""
        first = self.argument.flags[0]
        option = self.option
        hints = hints_for(self.parser_type)
        if hints.equals_only and option == first:
            return f"The command must spell it {first}=VALUE (one word); fix it on the platform"
        how = hints.bool_spelling_fix if self.argument.type == "bool" else hints.spelling_fix
        return how.format(option=option, first=first, bare=option.lstrip("-"))


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
    args = script_arguments(command)
    if args is None:
        return []
    by_name = {a.name: a for a in result.arguments if a.flags}
    accepted = {flag for a in result.arguments for flag in a.accepted_flags()}
    long_flags = [flag for flag in accepted if flag.startswith("--")]
    kind = result.parser_type
    hints = hints_for(kind)
    found: list[RejectedOption] = []
    for word in args:
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
        if hints.equals_only:
            # The configurator reads --key=value only; '--key value' stops the job.
            if option in accepted and "=" in word:
                continue
        elif option in accepted or hints.accepts(option, argument):
            continue
        if hints.argparse_rules and option.startswith("--"):
            matches = [flag for flag in long_flags if flag.startswith(option)]
            if len(matches) == 1:
                continue
        found.append(RejectedOption(option, argument, kind))
    return found


def value_problems(command: str, result: ExtractionResult) -> list[CommandProblem]:
    """Values in ``command`` the script would reject or misread, in command order.

    Judged only for options that belong to an extracted argument (by option
    string, argparse prefix, or the ``--name`` spelling the backend uses), so
    anything the extractor could not see is never reported; spellings and
    sub-commands are :func:`rejected_options` and :func:`subcommand_problems`.
    A command that does not run a ``.py`` file, or cannot be split like a
    shell would, is not judged. Raises nothing.
    """
    if result.parser_type is None:
        return []
    args = script_arguments(command)
    return [] if args is None else _Checker(result).run(args)


def subcommand_problems(command: str, result: ExtractionResult, script: str) -> list[str]:
    """Where the platform's command puts the sub-command and its options wrongly.

    A script with sub-commands needs ``python train.py [global options]
    SUBCOMMAND [its options]``: without the sub-command name it stops with a
    usage error (or runs another command); a parent option after the name,
    or a sub-command option before it, is rejected by argparse, click and
    typer alike. One paragraph per problem; empty when the command is fine
    or cannot be judged. Raises nothing.
    """
    if result.command is None or result.parser_type is None:
        return []
    rest = script_arguments(command)
    if rest is None:
        return []
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


def script_arguments(command: str) -> list[str] | None:
    """The words after the ``.py`` script in ``command``, split like a shell would.

    A model name without ``.py`` (``--model-name yolo-v9``) is still the word
    after ``python``: the platform runs ``python {modelName} ...``
    (docs/platform-command.md). None when the command runs neither or cannot
    be split (it is then not judged). Raises nothing.
    """
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    end = next((i + 1 for i, word in enumerate(words) if word.endswith(".py")), None)
    if (
        end is None
        and len(words) >= 2
        and words[0].rsplit("/", 1)[-1].startswith("python")
        and not words[1].startswith("-")  # python -m package: not a model file
    ):
        end = 2
    return None if end is None else words[end:]


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


class _Checker:
    def __init__(self, result: ExtractionResult) -> None:
        self.result = result
        assert result.parser_type is not None  # value_problems judges only a parser's result
        self.family: ParserType = result.parser_type
        self.hints = hints_for(result.parser_type)
        self.by_flag = {f: a for a in result.arguments for f in a.accepted_flags()}
        self.by_name = {a.name: a for a in result.arguments if a.flags}
        self.negative_like = any(_NEGATIVE_NUMBER.match(f) for f in self.by_flag)
        self.problems: list[CommandProblem] = []
        # "--amp True": True may also be a positional value; decided at the end.
        self.pending: list[CommandProblem] = []
        self.free_words = 0

    def problem(self, kind: ProblemKind, option: str, argument: Argument, accepted: str) -> None:
        self.problems.append(CommandProblem(kind, option, argument, self.family, accepted))

    def run(self, words: list[str]) -> list[CommandProblem]:
        command = self.result.command
        i = 0
        while i < len(words):
            word = words[i]
            i += 1
            if word == "--":
                break
            if word == command:
                continue
            if not word.startswith("-") or len(word) == 1 or _NUMBER.match(word):
                self.free_words += 1
                continue
            option, eq, inline = word.partition("=")
            argument = self._argument(option)
            if argument is not None:
                i = self._value(argument, option, eq, inline, words, i)
        if self.pending and self._positionals_can_take(self.free_words + len(self.pending)):
            # The words after the flags may be the script's positionals: not judged.
            self.problems = [p for p in self.problems if p not in self.pending]
        return self.problems

    def _positionals_can_take(self, count: int) -> bool:
        """Whether the script's positionals could take ``count`` words."""
        capacity = 0
        for argument in self.result.arguments:
            if argument.kind != "positional":
                continue
            if argument.nargs in ("*", "+"):
                return True
            capacity += argument.nargs if isinstance(argument.nargs, int) else 1
        return count <= capacity

    def _argument(self, option: str) -> Argument | None:
        if option in self.by_flag:
            return self.by_flag[option]
        if self.hints.argparse_rules and option.startswith("--"):
            matches = {a for f, a in self.by_flag.items() if f.startswith(option)}
            if len(matches) == 1:
                return matches.pop()
        stem = option.lstrip("-").replace("-", "_")
        argument = self.by_name.get(stem)
        if argument is None and stem.startswith("no_"):
            argument = self.by_name.get(stem[3:])
            if argument is not None and argument.kind != "negatable":
                argument = None if argument.type != "bool" else argument
        return argument

    def _value(
        self, argument: Argument, option: str, eq: str, inline: str, words: list[str], i: int
    ) -> int:
        """Judge the value(s) after ``option``; return the index of the next word."""
        kind = argument.kind
        if kind in ("flag", "negatable", "count"):
            if not self.hints.bare_flags:
                return i  # their bools take values (HfArgumentParser --x True, fire, tyro)
            if eq:
                self.problem("flag_value", f"{option}={inline}", argument, _accepted(argument))
            elif i < len(words) and (
                words[i].lower() in _BOOL_WORDS or (kind == "count" and words[i].isdigit())
            ):
                shown = f"{option} {words[i]}"
                problem = CommandProblem("flag_value", shown, argument, self.family, "")
                self.pending.append(problem._replace(accepted=_accepted(argument)))
                self.problems.append(self.pending[-1])
                return i + 1
            return i
        if eq:
            if inline.startswith(("[", "(")) and argument.list_style in ("space", "repeat"):
                shown = f"{option}={inline}"
                self.problem("list_literal", shown, argument, _accepted(argument))
            return i
        if i >= len(words):
            return i
        value = words[i]
        if value.startswith(("[", "(")) and argument.list_style != "literal":
            literal = [value]
            while not literal[-1].endswith(("]", ")")) and i + len(literal) < len(words):
                literal.append(words[i + len(literal)])
            if argument.kind == "list" or _looks_like_list(literal):
                shown = f"{option} {' '.join(literal)}"
                self.problem("list_literal", shown, argument, _accepted(argument))
                return i + len(literal)
        if (
            self.hints.argparse_rules
            and _NUMBER.match(value)
            and value.startswith("-")
            and (self.negative_like or not _NEGATIVE_NUMBER.match(value))
        ):
            flag = argument.flags[0] if argument.flags else option
            self.problem("negative_value", f"{option} {value}", argument, f"{flag}={value}")
            return i + 1
        variable = not isinstance(argument.nargs, int)
        if kind == "list" and argument.list_style == "space" and variable:
            while i < len(words) and not words[i].startswith("-"):
                i += 1
            return i
        return i + 1


def _looks_like_list(words: list[str]) -> bool:
    # The caller has seen the first word start with "[" or "(".
    text = " ".join(words)
    return text[-1:] in "])" and ("," in text or len(text) > 2)


def _accepted(argument: Argument) -> str:
    """How the script takes this argument, e.g. ``--amp / --no-amp`` or ``--gpu V --gpu V``."""
    flag = argument.flags[0] if argument.flags else f"<{argument.name}>"
    kind = argument.kind
    if kind == "flag":
        return f"{flag} (sets {argument.flag_value!r}) or nothing (leaves {argument.default!r})"
    if kind == "negatable":
        negative = argument.negative_flags[0] if argument.negative_flags else "nothing"
        return f"{flag} (true) or {negative} (false)"
    if kind == "count":
        return f"{flag} repeated N times"
    if kind == "list" and argument.list_style == "repeat":
        return f"{flag} V1 {flag} V2 ... (the option once per value)"
    # A list written as a literal ("literal" style) is never explained here:
    # nothing is wrong with "--ls [1, 2]" for it.
    if kind == "list":
        return f"{flag} V1 V2 ... (separate words)"
    return f"{flag} VALUE (or {flag}=VALUE)" if flag.startswith("--") else f"{flag} VALUE"
