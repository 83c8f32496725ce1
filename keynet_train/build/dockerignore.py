"""Docker's ``.dockerignore`` semantics: parsing the file and matching paths.

``.containerignore`` (preferred) or ``.dockerignore`` is applied with Docker's
semantics (moby/patternmatcher + the docker CLI's context walk):

* lines starting with ``#`` are comments (only at column 0, as in Docker);
  surrounding whitespace is trimmed; blank lines are skipped;
* each pattern is cleaned like Go's ``filepath.Clean`` and a leading ``/`` is
  dropped, so ``/foo`` and ``foo`` are the same pattern;
* a pattern without wildcards is compared exactly, ``prefix**`` by prefix,
  ``**suffix`` by suffix (``**.log`` leaves out every ``.log`` file), the
  rest as a regex: ``*`` and ``?`` never match ``/``; ``**`` matches any
  number of directories (also zero); ``[...]`` is a character class (RE2's
  ``[[:digit:]]`` classes too); ``\\`` passes the next char to the regex;
* a pattern Go's ``filepath.Match`` rejects (``[]a]``, a trailing ``\\``) is
  an error, as in Docker;
* a pattern that matches a directory excludes everything below it;
* ``!pattern`` re-includes; the last matching pattern wins;
* an excluded directory is only descended into when an exception pattern
  starts with that directory's path (Docker's rule, moby#30018), so
  ``!**/keep.txt`` does not pull files back out of an excluded directory;
* the Dockerfile and the ignore file are always sent (the builder needs them),
  exactly as the docker CLI does.

Where podman's own matcher differs from Docker's, and which one wins in the
image, see docs/dockerignore.md.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from keynet_train.build.ignore_automaton import Automaton, compile_automaton
from keynet_train.errors import BuildError

# --------------------------------------------------------------------------- patterns


def _go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` for slash paths (posixpath.normpath keeps ``//``)."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


def parse_ignore_lines(text: str) -> list[str]:
    """Turn ignore-file text into patterns, as Docker's ``ignorefile.ReadAll`` does."""
    patterns: list[str] = []
    for number, raw in enumerate(text.splitlines()):
        line = raw.removeprefix("\ufeff") if number == 0 else raw
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = _go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append("!" + pattern if invert else pattern)
    return patterns


@dataclass(frozen=True)
class IgnorePattern:
    """One compiled ignore pattern.

    Matched as moby's patternmatcher does: a pattern with no wildcard is
    compared exactly, ``prefix**`` by prefix, ``**suffix`` by suffix (so
    ``**.txt`` matches ``a/b.txt``), anything else by a regex.
    """

    text: str  # as cleaned, without the leading "!"
    exclusion: bool
    kind: str  # "exact", "prefix", "suffix" or "regex"
    regex: re.Pattern[str] | None = None  # what the automaton runs (kept for reference)
    automaton: Automaton | None = field(default=None, compare=False, repr=False)

    def matches(self, path: str) -> bool:
        """True if ``path`` (slash-separated, relative) matches this pattern."""
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        assert self.automaton is not None
        return self.automaton.matches(path, parents=False)

    def matches_or_parent(self, path: str) -> bool:
        """True if ``path`` or one of its parent directories matches."""
        if self.automaton is not None:
            return self.automaton.matches(path, parents=True)
        if self.matches(path):
            return True
        parts = path.split("/")[:-1]
        return any(self.matches("/".join(parts[: i + 1])) for i in range(len(parts)))


# Characters that are special in regexps but literal in filepath.Match; moby
# escapes exactly these and passes the rest through.
_REGEX_ONLY_SPECIALS = ".+()|{}$"

# Go's regexp (RE2) knows POSIX classes inside brackets; Python's re does not.
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_POSIX_CLASS_RE = re.compile(r"\[:(\^?)([a-z]+):\]")


def _translate(pattern: str) -> tuple[str, str | None]:
    """Classify a cleaned pattern as moby does and give its regex (None unless "regex")."""
    out = ["^"]
    kind = "exact"
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                first = i == 0
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1  # "**/" behaves like "**"
                if i >= n:
                    # "**" at the end matches everything below.
                    if kind == "exact":
                        kind = "prefix"
                    else:
                        out.append(".*")
                        kind = "regex"
                else:
                    out.append("(.*/)?")  # any number of directories, also none
                    kind = "regex"
                if first:
                    kind = "suffix"
                continue
            out.append("[^/]*")
            kind = "regex"
        elif ch == "?":
            out.append("[^/]")
            kind = "regex"
        elif ch in _REGEX_ONLY_SPECIALS:
            out.append("\\" + ch)
        elif ch == "\\":
            # Passed to the regex as written, as moby does: "\\d" is a digit.
            # Never the last character: _check_glob refuses a trailing "\\".
            i += 1
            out.append("\\" + pattern[i])
            kind = "regex"
        elif ch in "[]":
            out.append(ch)
            kind = "regex"
        else:
            out.append(ch)
        i += 1
    if kind != "regex":
        return kind, None
    return kind, _python_classes("".join(out) + "$")


def _python_classes(regex: str) -> str:
    """Rewrite RE2's ``[[:alpha:]]`` bracket classes into ranges Python understands.

    Raises:
        re.error: a negated (``[:^alpha:]``) or unknown POSIX class.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(regex):
        ch = regex[i]
        if ch == "\\":
            out.append(regex[i : i + 2])
            i += 2
            continue
        if in_class and regex.startswith("[:", i):
            found = _POSIX_CLASS_RE.match(regex, i)
            if found is not None:
                ranges = _POSIX_CLASSES.get(found.group(2))
                if ranges is None or found.group(1):
                    raise re.error(f"unsupported character class {found.group(0)}")
                out.append(ranges)
                i = found.end()
                continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            # Never the class's first member: _check_glob refuses "[]" and "[^]".
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


def _check_glob(pattern: str) -> None:
    """Reject what Go's ``filepath.Match`` calls a bad pattern (moby checks it first).

    Raises:
        ValueError: an unclosed or empty ``[...]``, a ``-`` or ``]`` where a class
            needs a character, or a trailing ``\\``.
    """
    i, n = 0, len(pattern)

    def class_char(j: int) -> int:
        # One (possibly escaped) character of a class; returns the index after it.
        if j >= n or pattern[j] in "-]":
            raise ValueError("bad character class")
        if pattern[j] == "\\":
            j += 1
            if j >= n:
                raise ValueError("trailing backslash in a character class")
        if j + 1 >= n:
            raise ValueError("unclosed character class")
        return j + 1

    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                raise ValueError("trailing backslash")
            i += 2
        elif ch == "[":
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            members = False  # "]" closes the class only after a first member
            while True:
                if i < n and pattern[i] == "]" and members:
                    i += 1
                    break
                i = class_char(i)
                if i < n and pattern[i] == "-":
                    i = class_char(i + 1)
                members = True
        else:
            i += 1


def compile_patterns(patterns: list[str], source: str = ".dockerignore") -> list[IgnorePattern]:
    """Compile patterns as Docker's ``patternmatcher.New`` does.

    Raises:
        BuildError: a pattern is ``!`` alone or not a valid glob (e.g. an
            unclosed ``[``), naming ``source``.
    """
    compiled: list[IgnorePattern] = []
    for original in patterns:
        text = original.strip()
        if not text:
            continue
        text = _go_clean(text)
        exclusion = text.startswith("!")
        if exclusion:
            if len(text) == 1:
                raise BuildError(
                    f'Illegal exclusion pattern "!" in {source}',
                    hint=f"Remove the lone '!' line from {source}.",
                )
            text = text[1:]
        try:
            _check_glob(text)
            kind, regex = _translate(text)
            compiled.append(
                IgnorePattern(
                    text,
                    exclusion,
                    kind,
                    re.compile(regex) if regex else None,  # validates the regex as before
                    compile_automaton(regex) if regex else None,
                )
            )
        except (ValueError, re.error) as e:
            raise BuildError(
                f"Invalid pattern {original!r} in {source}: {e}",
                hint=f"Fix or remove the pattern in {source}.",
            ) from e
    return compiled


class IgnoreMatcher:
    """Decides whether a context path is excluded (Docker semantics)."""

    def __init__(self, patterns: list[str], source: str = ".dockerignore") -> None:
        self.source = source
        self.patterns = compile_patterns(patterns, source)
        self.has_exclusions = any(p.exclusion for p in self.patterns)

    def deciding_pattern(self, path: str) -> IgnorePattern | None:
        """The last pattern that changed the verdict for ``path`` (None: never matched)."""
        matched = False
        decider: IgnorePattern | None = None
        for pattern in self.patterns:
            # As in patternmatcher: an inclusion pattern cannot change an
            # already-excluded path, and an exception only matters once excluded.
            if pattern.exclusion != matched:
                continue
            if pattern.matches_or_parent(path):
                matched = not pattern.exclusion
                decider = pattern
        return decider

    def excluded(self, path: str) -> bool:
        """True if ``path`` (relative, slash-separated) is excluded."""
        decider = self.deciding_pattern(path)
        return decider is not None and not decider.exclusion

    def walk_root(self) -> WalkState:
        """The state of a walk at the context's root (see :meth:`excluded_entry`)."""
        return WalkState(
            matched=(False,) * len(self.patterns),
            states=tuple(
                p.automaton.start if p.automaton is not None and p.automaton.resumable else None
                for p in self.patterns
            ),
            live=tuple(range(len(self.patterns))),
        )

    def excluded_entry(self, directory: WalkState, name: str, path: str) -> bool:
        """:meth:`excluded` of ``path``, the entry ``name`` of the directory at ``directory``.

        The same verdict, cheaper in a walk: only the patterns that can match
        something in the directory are tried, one known to match the
        directory is not tried again, and an automaton resumes from the
        directory's state instead of reading the whole path.
        """
        matched = False
        decider: IgnorePattern | None = None
        for index in directory.live:
            pattern = self.patterns[index]
            if pattern.exclusion != matched:
                continue
            if directory.matched[index] or self._entry_matches(directory, index, name, path):
                matched = not pattern.exclusion
                decider = pattern
        return decider is not None and not decider.exclusion

    def enter(self, directory: WalkState, name: str, path: str) -> WalkState:
        """The walk's state inside the subdirectory ``name`` (at ``path``) of ``directory``."""
        matched = [False] * len(self.patterns)
        states = list(directory.states)
        live = []
        below = path + "/"
        for index in directory.live:
            pattern, state = self.patterns[index], directory.states[index]
            matched[index] = directory.matched[index] or self._entry_matches(
                directory, index, name, path
            )
            if state is not None:
                assert pattern.automaton is not None
                state = states[index] = pattern.automaton.advance(state, name + "/")
            if matched[index] or _may_match_below(pattern, state, below):
                live.append(index)
        return WalkState(tuple(matched), tuple(states), tuple(live))

    def _entry_matches(self, directory: WalkState, index: int, name: str, path: str) -> bool:
        """Whether pattern ``index`` matches ``path`` itself (its parents are ``directory``'s)."""
        state = directory.states[index]
        pattern = self.patterns[index]
        if state is None:
            return pattern.matches(path)
        automaton = pattern.automaton
        assert automaton is not None
        return automaton.accepts(automaton.advance(state, name))

    def may_reinclude_below(self, directory: str) -> bool:
        """True if an exception pattern could re-include something under ``directory``.

        Docker's literal prefix test: only exceptions whose text starts with
        ``directory/`` count.
        """
        prefix = directory + "/"
        return any(p.exclusion and (p.text + "/").startswith(prefix) for p in self.patterns)


@dataclass(frozen=True)
class WalkState:
    """Where each pattern stands at one directory of a walk of the context.

    ``matched[i]``: pattern ``i`` matches the directory or one of its
    parents (so it matches everything below). ``states[i]``: pattern ``i``'s
    automaton state after reading ``"<directory>/"`` (None: the pattern is
    not an automaton that can resume, and is tried on the whole path).
    ``live``: the patterns that match or may match an entry below; the others
    cannot change a verdict there.
    """

    matched: tuple[bool, ...]
    states: tuple[int | None, ...]
    live: tuple[int, ...]


def _may_match_below(pattern: IgnorePattern, state: int | None, below: str) -> bool:
    """Whether ``pattern`` may match a path starting with ``below`` (a directory and "/").

    ``state`` is its automaton's state after ``below`` (None: not an automaton
    that resumes). False only when that is certain: a dead automaton, an
    exact name elsewhere, a literal prefix that diverges.
    """
    if state is not None:
        assert pattern.automaton is not None
        return pattern.automaton.alive(state)
    if pattern.kind == "exact":
        return pattern.text.startswith(below)
    if pattern.kind == "prefix":
        literal = pattern.text[:-2]
        return below.startswith(literal) or literal.startswith(below)
    return True
