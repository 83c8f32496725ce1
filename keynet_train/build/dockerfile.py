"""Which images a Dockerfile builds on: every ``FROM`` and ``--from=`` outside the file.

Build reuse (:mod:`keynet_train.build.fingerprint`) must notice when a base image
is re-tagged or re-pulled, so it needs the external images a build reads:

* ``FROM image`` of every stage, after substituting the ``ARG`` values
  declared before the first ``FROM`` (``--build-arg`` wins over the default);
  a ``FROM`` naming an earlier stage is internal; ``scratch`` is no image;
* ``COPY --from=image`` / ``ADD --from=image`` and
  ``RUN --mount=...,from=image`` that name neither a stage nor a stage index.

The reader follows the Dockerfile syntax the builder uses: a leading
``# escape=`` directive, line continuations, comment lines inside
continuations, and here-documents (``<<EOF``) whose bodies are skipped.
Anything it cannot decide for certain (a variable it cannot expand, an
unsupported ``${...}`` form, a ``--from`` built from variables) makes it
return ``None``: the caller then builds instead of guessing.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping

SCRATCH = "scratch"

_DIRECTIVE_RE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC_RE = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
# $NAME, ${NAME}, ${NAME:-word}, ${NAME:+word}: what the builder's shell lexer
# substitutes in FROM. Other ${...} forms make the result "unknown".
_VARIABLE_RE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:[-+])(?P<word>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class _Unknown(Exception):
    """The Dockerfile uses a construct whose image this reader cannot determine."""


def _instructions(text: str) -> Iterator[str]:
    """Logical instructions of a Dockerfile: continuations joined, comments and heredocs dropped."""
    lines = text.splitlines()
    escape = "\\"
    start = 0
    # Parser directives are only recognised at the very top of the file.
    for start, line in enumerate(lines):  # noqa: B007 - the loop index is the result
        directive = _DIRECTIVE_RE.match(line.strip())
        if directive is None:
            break
        if directive.group(1).lower() == "escape" and directive.group(2) in ("`", "\\"):
            escape = directive.group(2)
    else:
        start = len(lines)
    pending: list[str] = []
    index = start
    while index < len(lines):
        line = lines[index]
        index += 1
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continuation are removed
        if stripped.endswith(escape):
            pending.append(stripped[: -len(escape)])
            continue
        pending.append(stripped)
        instruction = " ".join(part for part in pending if part)
        pending = []
        for heredoc in _HEREDOC_RE.finditer(instruction):
            end, strip_tabs = heredoc.group(3), heredoc.group(1) == "-"
            while index < len(lines):
                body = lines[index].lstrip("\t") if strip_tabs else lines[index]
                index += 1
                if body == end:
                    break
        yield instruction
    if pending:
        yield " ".join(part for part in pending if part)


def _expand(word: str, values: Mapping[str, str | None]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("bare")
        value = values.get(name)
        op = match.group("op")
        if op == ":-":
            return value if value else match.group("word")
        if op == ":+":
            return match.group("word") if value else ""
        if value is None and name not in values:
            raise _Unknown(f"${name} is not a declared ARG")
        return value or ""

    expanded = _VARIABLE_RE.sub(substitute, word)
    if "$" in expanded:
        raise _Unknown(f"cannot expand {word!r}")
    return expanded


def _split(arguments: str) -> list[str]:
    try:
        return shlex.split(arguments, posix=True)
    except ValueError as e:
        raise _Unknown(str(e)) from e


def _arg_declarations(arguments: str) -> Iterator[tuple[str, str | None]]:
    for token in _split(arguments):
        name, sep, default = token.partition("=")
        yield name, default if sep else None


def _leading_flags(arguments: str) -> Iterator[str]:
    for token in arguments.split():
        if not token.startswith("--"):
            return
        yield token


def _flag_values(tokens: list[str], flag: str) -> Iterator[str]:
    for token in tokens:
        if token.startswith(f"--{flag}="):
            yield token.split("=", 1)[1]


def _mount_sources(tokens: list[str]) -> Iterator[str]:
    for mount in _flag_values(tokens, "mount"):
        for option in mount.split(","):
            key, _, value = option.partition("=")
            if key.strip() == "from" and value:
                yield value.strip()


def external_images(text: str, build_args: Mapping[str, str]) -> list[str] | None:
    """The images a build of this Dockerfile reads, in order, without duplicates.

    ``scratch`` is reported as :data:`SCRATCH` (it is no image but changes the
    result). Returns None when a reference cannot be determined statically.
    Never raises.
    """
    global_args: dict[str, str | None] = {}
    stages: list[str] = []
    images: list[str] = []
    seen_from = False
    try:
        for instruction in _instructions(text):
            keyword, _, arguments = instruction.partition(" ")
            keyword = keyword.upper()
            if keyword == "ARG" and not seen_from:
                for name, default in _arg_declarations(arguments):
                    global_args[name] = build_args.get(name, default)
            elif keyword == "FROM":
                seen_from = True
                tokens = [t for t in _split(arguments) if not t.startswith("--")]
                if not tokens:
                    return None
                reference = _expand(tokens[0], global_args)
                if reference.lower() not in stages:
                    images.append(SCRATCH if reference.lower() == SCRATCH else reference)
                if len(tokens) >= 3 and tokens[1].lower() == "as":
                    stages.append(tokens[2].lower())
                else:
                    stages.append(f"\0{len(stages)}")  # unnamed: reachable by index only
            elif keyword in ("COPY", "ADD", "RUN"):
                # Only the leading flags matter; the rest is a command or paths.
                flags = list(_leading_flags(arguments))
                sources = list(_flag_values(flags, "from")) if keyword != "RUN" else []
                sources += list(_mount_sources(flags))
                for source in sources:
                    if "$" in source:
                        return None
                    if source.lower() in stages or (source.isdigit() and int(source) < len(stages)):
                        continue
                    images.append(source)
    except _Unknown:
        return None
    if not seen_from:
        return None
    return list(dict.fromkeys(images))
