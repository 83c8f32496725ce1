"""The reference rendering (docs/cli-descriptor.md): definitions + values → argv.

The platform builds the job's command line from the hyperparameters and the
values a user picks. This module is the reference for how to do that: for
each argument its descriptor (``kind``, ``flags``, ``list_style``, ...) says
how the library wants the value written. Where the library cannot take a
value at all (an empty list for ``nargs="+"``, ``False`` for a
``store_true`` flag whose default is ``True``, a list element starting with
``-`` for argparse...), the value is *refused* with the reason instead of
producing a command that would fail on the GPU node. docs/extraction.md
lists every refusal as a limit of its library.

Order (docs/cli-descriptor.md): global options, the sub-command, its options in list
order, then positionals by position (after ``--`` when one starts with a
prefix character). A value starting with ``-`` is written ``FLAG=VALUE``
(``-xVALUE`` for a short option) so it is never mistaken for an option.
"""

from __future__ import annotations

import ast
import math
import re
import shlex
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from keynet_train.extraction.model import Argument, ExtractionResult

#: argparse takes a word starting with ``-`` as a value only if it looks like
#: a negative number (``argparse._negative_number_matcher``).
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")
_MISSING = object()


class Refusal(NamedTuple):
    """One value the script's library cannot receive from a command line."""

    argument: str
    value: object
    reason: str

    def __str__(self) -> str:
        return f"{self.argument}={self.value!r}: {self.reason}"


class UnrenderableError(ValueError):
    """Some values cannot be written on a command line the script would accept."""

    def __init__(self, refusals: list[Refusal]) -> None:
        super().__init__("; ".join(str(r) for r in refusals))
        self.refusals = refusals


class Rendering(NamedTuple):
    """The command as an argv list and as the ``shlex.join`` of it."""

    argv: list[str]

    @property
    def shell(self) -> str:
        """The argv as one POSIX shell string."""
        return shlex.join(self.argv)


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def render_command(
    result: ExtractionResult,
    values: Mapping[str, object] | None = None,
    program: Sequence[str] = ("python", "train.py"),
    explicit_defaults: bool = False,
) -> Rendering:
    """``program`` followed by :func:`render_arguments` of ``result``.

    Raises:
        UnrenderableError: a value the library cannot take (see :func:`render_arguments`).
    """
    return Rendering([*program, *render_arguments(result, values, explicit_defaults)])


def render_arguments(
    result: ExtractionResult,
    values: Mapping[str, object] | None = None,
    explicit_defaults: bool = False,
) -> list[str]:
    """The words after the script: every argument's value (its default when not in ``values``).

    A value equal to the argument's default is left out: absent is the only
    spelling guaranteed to give the script exactly its default (argparse
    keeps ``default=5`` an int but turns the word ``5`` into a string without
    ``type=``; ``append`` adds to its default). With ``explicit_defaults``
    they are written out where the library can take them (how the backend
    writes its command). ``None`` means "not given".

    Raises:
        UnrenderableError: listing every value the library cannot take (a
            required argument without a value included).
    """
    return render_parts(result, values, explicit_defaults).argv


class RenderedParts(NamedTuple):
    """The argv, and the words written for each argument (``[]``: left out)."""

    argv: list[str]
    words: dict[str, list[str]]


def render_parts(
    result: ExtractionResult,
    values: Mapping[str, object] | None = None,
    explicit_defaults: bool = False,
) -> RenderedParts:
    """:func:`render_arguments`, also saying which words belong to which argument.

    Raises:
        UnrenderableError: as :func:`render_arguments`.
    """
    values = values or {}
    family = result.parser_type or ""
    prefixes = "".join(sorted({f[0] for a in result.arguments for f in a.accepted_flags()})) or "-"
    negative_like = any(
        _NEGATIVE_NUMBER.match(f) for a in result.arguments for f in a.accepted_flags()
    )
    from keynet_train.extraction.families import hints_for

    hints = hints_for(result.parser_type) if result.parser_type else None
    context = _Context(
        family,
        prefixes,
        negative_like,
        argparse=hints is not None and hints.argparse_rules,
        literal=hints is not None and hints.literal_values,
    )
    refusals: list[Refusal] = []
    words: dict[str, list[str]] = {}
    for argument in result.arguments:
        value = values.get(argument.name, argument.default)
        try:
            words[argument.name] = _render_one(argument, value, context, explicit_defaults)
        except _Refused as refused:
            refusals.append(Refusal(argument.name, value, refused.reason))
    refusals += _exclusive_conflicts(result.arguments, words)
    # With a sub-command, the parent's positionals come before its name.
    before = _positionals(result, "global") if result.command else []
    positionals = _positionals(result, "command" if result.command else None)
    # The sub-command's name follows the parent's positionals: none may be left out.
    refusals += _place_positionals(before, values, words, context, True, followed=True)
    refusals += _place_positionals(positionals, values, words, context, explicit_defaults)
    refusals += _refusals_before_command(before, values, words, prefixes)
    if refusals:
        raise UnrenderableError(refusals)
    return RenderedParts(_ordered(result, before, positionals, words, prefixes), words)


def _refusals_before_command(
    before: list[Argument],
    values: Mapping[str, object],
    words: dict[str, list[str]],
    prefixes: str,
) -> list[Refusal]:
    """The parent's positionals that would swallow or hide the sub-command's name."""
    refusals: list[Refusal] = []
    for argument in before:
        if argument.nargs in ("*", "+"):
            refusals.append(
                Refusal(
                    argument.name,
                    values.get(argument.name, argument.default),
                    "a variable-length positional before the sub-command would take its name",
                )
            )
        elif any(word[:1] and word[0] in prefixes for word in words.get(argument.name, [])):
            refusals.append(
                Refusal(
                    argument.name,
                    values.get(argument.name, argument.default),
                    "a positional before the sub-command cannot start with '-' ('--' would "
                    "end the options before the sub-command)",
                )
            )
    return refusals


def _ordered(
    result: ExtractionResult,
    before: list[Argument],
    positionals: list[Argument],
    words: dict[str, list[str]],
    prefixes: str,
) -> list[str]:
    """The words in the order the parser reads them.

    The parent's options and positionals, the sub-command, its options, then
    its positionals (after ``--`` where they could be read as options or
    option values). Raises nothing.
    """
    argv: list[str] = []
    for argument in result.arguments:
        if argument.scope == "global" and argument.kind != "positional":
            argv += words[argument.name]
    argv += [word for a in before for word in words[a.name]]
    if result.command:
        argv.append(result.command)
    for argument in result.arguments:
        if argument.scope != "global" and argument.kind != "positional":
            argv += words[argument.name]
    tail = [word for a in positionals for word in words[a.name]]
    # A variable-length option list would take the positionals as more values.
    greedy = any(
        a.kind == "list" and a.list_style == "space" and not isinstance(a.nargs, int)
        for a in result.arguments
        if words[a.name]
    )
    if tail and (greedy or any(word[:1] and word[0] in prefixes for word in tail)):
        argv.append("--")
    return argv + tail


def _positionals(result: ExtractionResult, scope: str | None) -> list[Argument]:
    """The positionals of one scope (None: all), by position."""
    return sorted(
        (
            a
            for a in result.arguments
            if a.kind == "positional" and (scope is None or a.scope == scope)
        ),
        key=lambda a: a.position if a.position is not None else 0,
    )


class _Context(NamedTuple):
    family: str
    prefixes: str
    negative_like: bool  # some option looks like a negative number (argparse then refuses -1)
    #: argparse's actions read the values (argparse, HfArgumentParser: CommandHints.argparse_rules).
    argparse: bool = False
    #: Values are Python literals written ``--name=VALUE`` (CommandHints.literal_values).
    literal: bool = False


def _render_one(
    argument: Argument, value: object, context: _Context, explicit_defaults: bool
) -> list[str]:
    """The words for one argument; raises _Refused with the library's limit."""
    default = argument.default
    leave_out = not explicit_defaults and not argument.required and _same(value, default)
    if leave_out and argument.kind != "positional":
        return []  # positionals: only trailing ones may be left out (render_parts)
    if value is None:
        if argument.required:
            raise _Refused("required, and no value was given")
        if default is None or argument.kind in ("flag", "count"):
            return []
        raise _Refused("absent gives the default; no command line sets it to null")
    if argument.exclusive_group is not None and _same(value, default):
        # argparse counts any explicitly given member as used; leave defaults out.
        return []
    try:
        return _RENDERERS[argument.kind](argument, value, context)
    except _Refused:
        if _same(value, default) and not argument.required:
            return []  # the library cannot spell it, but leaving it out gives it
        raise


def _same(a: object, b: object) -> bool:
    """Equal as JSON values (1 is not True; 1.0 equals 1 only for numbers)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b and (isinstance(a, (int, float)) == isinstance(b, (int, float)))


def _text(argument: Argument, value: object) -> str:
    """One value as the word the library converts back to it."""
    kind = argument.type
    if isinstance(value, (list, tuple, dict)):
        raise _Refused("a list or mapping where one value is expected")
    if kind == "bool":
        if not isinstance(value, bool):
            raise _Refused("not a bool")
        return "true" if value else "false"
    if kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Refused("not an integer")
        text = str(value)
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Refused("not a number")
        if not math.isfinite(value):
            raise _Refused("not a finite number")
        text = repr(float(value)) if isinstance(value, float) else str(value)
    else:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _Refused("not a string")
        text = value if isinstance(value, str) else str(value)
    _check_bounds(argument, value)
    if argument.choices is not None and text not in argument.choices:
        raise _Refused(f"not one of the choices {', '.join(argument.choices)}")
    return text


def _check_bounds(argument: Argument, value: object) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    low, high = argument.min, argument.max
    if low is not None and (value < low or (argument.min_open and value == low)):
        raise _Refused(f"below the range's minimum {low}")
    if high is not None and (value > high or (argument.max_open and value == high)):
        raise _Refused(f"above the range's maximum {high}")


def _option_value(argument: Argument, text: str, context: _Context) -> list[str]:
    """``FLAG VALUE``, or ``FLAG=VALUE`` / ``-fVALUE`` when the value starts like an option."""
    if not argument.flags:
        raise _Refused("the script declares no option string for it")
    flag = argument.flags[0]
    if text == "--" and context.argparse:
        raise _Refused("argparse drops the word '--' from an option's values, even after '='")
    if not (text[:1] and text[0] in context.prefixes):
        return [flag, text]
    if len(flag) > 2 and flag[1] == flag[0]:
        return [f"{flag}={text}"]
    return [flag + text]  # argparse, click and typer all read -xVALUE as one option and value


def _as_value(argument: Argument, value: object, context: _Context) -> list[str]:
    text = _text(argument, value)
    if context.literal and argument.flags:
        return [f"{argument.flags[0]}={_python_word(argument, value, text)}"]
    return _option_value(argument, text, context)


def _python_word(argument: Argument, value: object, text: str) -> str:
    """The word ``ast.literal_eval`` (fire, a configurator) turns back into ``value``.

    A bool is ``True``/``False``; a string that would read as another literal
    (``"123"``, ``"None"``) is quoted; anything else is the text itself (a
    word that is not a literal is kept as a string by both).
    """
    if isinstance(value, bool):
        return repr(value)
    if argument.type == "str":
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return text
        if not isinstance(parsed, str) or parsed != text:
            return repr(text)
    return text


def _as_flag(argument: Argument, value: object, context: _Context) -> list[str]:
    if _same(value, argument.default):
        return []
    if _same(value, argument.flag_value):
        return [argument.flags[0]]
    raise _Refused(
        f"a flag that only sets {argument.flag_value!r} when present (absent: {argument.default!r})"
    )


def _as_negatable(argument: Argument, value: object, context: _Context) -> list[str]:
    if not isinstance(value, bool):
        raise _Refused("not a bool")
    spelling = argument.flags if value else argument.negative_flags
    if not spelling:
        raise _Refused(f"the script has no option that sets {value}")
    return [spelling[0]]


def _as_count(argument: Argument, value: object, context: _Context) -> list[str]:
    flag = argument.flags[0]
    default = argument.default
    if argument.flag_value is not None:
        # argparse append_const: each repetition appends flag_value to a copy of the default.
        prefix = list(default) if isinstance(default, list) else []
        if not isinstance(value, list) or not _same(value[: len(prefix)], prefix):
            raise _Refused(f"each {flag} appends {argument.flag_value!r} to the default")
        added = value[len(prefix) :]
        if not added and default is None:
            raise _Refused("absent gives null, not an empty list")
        if not all(_same(v, argument.flag_value) for v in added):
            raise _Refused(f"each {flag} appends {argument.flag_value!r}; nothing else")
        return [flag] * len(added)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Refused("not a count (an integer)")
    # argparse counts up from the default; click and typer count from zero.
    start = default if context.argparse and isinstance(default, int) else 0
    times = value - start
    if times < 0:
        raise _Refused(f"a count cannot go below {start}")
    if times == 0 and not _same(value, default):
        raise _Refused(f"absent gives {default!r}, not {value}")
    return [flag] * times


def _list_items(argument: Argument, value: object) -> list[object]:
    if not isinstance(value, (list, tuple)):
        raise _Refused("not a list")
    items = list(value)
    nargs = argument.nargs
    if isinstance(nargs, int) and len(items) != nargs:
        raise _Refused(f"takes exactly {nargs} values")
    if nargs == "+" and not items:
        raise _Refused("takes at least one value (nargs='+'): an empty list cannot be written")
    if nargs == "?" and len(items) > 1:
        raise _Refused("takes at most one value")
    return items


def _as_list(argument: Argument, value: object, context: _Context) -> list[str]:
    items = _list_items(argument, value)
    flag = argument.flags[0]
    style = argument.list_style
    if style == "literal":
        return [f"{flag}={_literal(argument, items)}"]
    default = argument.default
    if context.argparse and style == "repeat" and default is not None:
        if not isinstance(default, list):
            raise _Refused("argparse appends to the default, which is not a list (a script bug)")
        # append adds to a copy of the default: it can only grow.
        if not _same(items[: len(default)], default):
            raise _Refused("argparse appends to the default list; it cannot remove its items")
        items = items[len(default) :]
    elif not items and not (default is None or default == []):
        raise _Refused("absent gives the default; an empty list cannot be written")
    if not items and context.argparse and default is None:
        if style == "repeat" or argument.nargs != "*":
            raise _Refused("absent gives null, not an empty list")
        return [flag]
    texts = [_text(argument, item) for item in items]
    if style == "repeat":
        return [word for text in texts for word in _option_value(argument, text, context)]
    if not texts:
        return [flag] if argument.nargs == "*" else []
    for text in texts:
        _check_free_word(text, context, "a list value")
    return [flag, *texts]


def _check_free_word(text: str, context: _Context, what: str) -> None:
    """Refuse a word that follows an option without ``=`` but would be read as an option."""
    if text == "--":
        raise _Refused(f"{context.family or 'the library'} reads '--' as the end of options")
    if not (text[:1] and text[0] in context.prefixes) or text in context.prefixes:
        return
    if context.argparse:
        if _NEGATIVE_NUMBER.match(text) and not context.negative_like:
            return
        raise _Refused(f"argparse reads {what} starting with {text[0]!r} as an option")
    raise _Refused(f"{context.family or 'the library'} reads {what} starting with '-' as an option")


def _literal(argument: Argument, items: list[object]) -> str:
    for item in items:
        _text(argument, item)
    return repr(items)


def _as_positional(argument: Argument, value: object, context: _Context) -> list[str]:
    nargs = argument.nargs
    if nargs is None or nargs == "?":
        if isinstance(value, list) and nargs == "?":
            value = value[0] if value else None
        return [_positional_word(argument, value)]
    items = _list_items(argument, value)
    if not items and argument.default not in (None, []):
        raise _Refused("absent gives the default; an empty list cannot be written")
    return [_positional_word(argument, item) for item in items]


def _positional_word(argument: Argument, value: object) -> str:
    text = _text(argument, value)
    if text == "--":
        raise _Refused("a positional value '--' is read as the end of options")
    return text


def _exclusive_conflicts(arguments: list[Argument], words: dict[str, list[str]]) -> list[Refusal]:
    used: dict[str, list[str]] = {}
    for argument in arguments:
        if argument.exclusive_group and words.get(argument.name):
            used.setdefault(argument.exclusive_group, []).append(argument.name)
    return [
        Refusal(names[1], None, f"mutually exclusive with {names[0]}: only one may be given")
        for names in used.values()
        if len(names) > 1
    ]


def _place_positionals(
    positionals: list[Argument],
    values: Mapping[str, object],
    words: dict[str, list[str]],
    context: _Context,
    explicit_defaults: bool,
    followed: bool = False,
) -> list[Refusal]:
    """Choose which positionals equal to their default to leave out, so that the library
    hands every word to the positional it is meant for (``words`` is updated).

    Positionals are always rendered in ``words`` (defaults too); leaving one out
    in the middle can shift the later words into it, so each layout is checked
    against how the library assigns words: argparse matches greedy regular
    expressions left to right, click fills the ones after ``nargs=-1`` from
    the end.
    """
    if not positionals or any(a.name not in words for a in positionals):
        return []
    optional = [
        a for a in positionals if not a.required and _same(values.get(a.name, a.default), a.default)
    ]
    full = {a.name: words[a.name] for a in positionals}
    left_out = {a.name: [] if a in optional else full[a.name] for a in positionals}
    layouts = [full, left_out] if explicit_defaults else [left_out, full]
    if followed:
        layouts = [full]
    for layout in layouts:
        counts = [len(layout[a.name]) for a in positionals]
        if _assigned(context.argparse, positionals, counts) == counts:
            words.update(layout)
            return []
    given = [a.name for a in positionals if full[a.name]]
    return [
        Refusal(
            positionals[-1].name,
            None,
            f"{context.family or 'the library'} would not hand each of the positionals "
            f"{', '.join(given)} its own words (variable-length positionals around it)",
        )
    ]


def _assigned(argparse: bool, positionals: list[Argument], counts: list[int]) -> list[int] | None:
    """How many of ``sum(counts)`` words the library gives each positional (None: an error)."""
    total = sum(counts)
    if argparse:
        pattern = "".join(
            _ARGPARSE_PATTERNS.get(str(a.nargs), f"(A{{{a.nargs}}})") for a in positionals
        )
        match = re.fullmatch(pattern, "A" * total)
        return None if match is None else [len(g) for g in match.groups()]
    # click (and typer): left to right up to a nargs=-1 one; the positionals
    # after it are filled from the end, and it takes what is left.
    specs = [_click_count(a.nargs) for a in positionals]
    if specs.count(-1) > 1:
        return None
    split = specs.index(-1) if -1 in specs else len(specs)
    out: list[int] = []
    left = total
    for n in specs[:split]:
        out.append(min(n, left))
        left -= out[-1]
    back: list[int] = []
    for n in reversed(specs[split + 1 :]):
        back.append(min(n, left))
        left -= back[-1]
    if split < len(specs):
        out.append(left)
    return out + list(reversed(back))


def _click_count(nargs: int | str | None) -> int:
    if nargs in ("*", "+"):
        return -1
    return nargs if isinstance(nargs, int) else 1


_ARGPARSE_PATTERNS = {"None": "(A)", "?": "(A?)", "*": "(A*)", "+": "(A+)"}


_RENDERERS = {
    "value": _as_value,
    "flag": _as_flag,
    "negatable": _as_negatable,
    "count": _as_count,
    "list": _as_list,
    "positional": _as_positional,
}
