"""The linear-time matcher of a translated ``.dockerignore`` regex (a Thompson NFA).

:mod:`keynet_train.build.dockerignore` translates each wildcard pattern to a
regex as moby does; :func:`compile_automaton` turns that regex into an
:class:`Automaton`, which matches in time linear in the path whatever the
pattern (Go's RE2 is linear too; Python's backtracking ``re`` is not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What an atom of a translated regex does: consume one character ("char",
# with a predicate), loop ("star" = [^/]*, "any" = .*), match zero or more
# directories ("dirs" = (.*/)?) or assert something about the position.
_ASSERTIONS = frozenset({"start", "end", "boundary", "nonboundary"})
_WORD_RE = re.compile(r"\w")
_ESCAPE_ASSERTIONS = {"b": "boundary", "B": "nonboundary", "A": "start", "Z": "end"}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}
_OCTAL = "01234567"


@dataclass(frozen=True)
class _Atom:
    op: str
    char: re.Pattern[str] | None = None  # for "char": matches exactly one character


def _escape_end(regex: str, i: int) -> int:
    """Index after the escape starting at ``regex[i] == "\\\\"`` (Python's escape grammar).

    Raises:
        re.error: a backreference (Go's regexp, and so Docker, has none).
    """
    letter = regex[i + 1]
    if letter in _HEX_DIGITS:
        return i + 2 + _HEX_DIGITS[letter]
    if letter == "N":
        return regex.index("}", i) + 1
    if letter == "0":
        end = i + 2
        while end < i + 4 and end < len(regex) and regex[end] in _OCTAL:
            end += 1
        return end
    if letter.isdigit():
        if (
            letter in _OCTAL
            and regex[i + 2 : i + 4].isdigit()
            and set(regex[i + 2 : i + 4]) <= set(_OCTAL)
        ):
            return i + 4  # a three-digit octal escape
        raise re.error(f"backreference \\{letter} is not supported")
    return i + 2


def _atoms(regex: str) -> list[_Atom]:
    """Split a translated pattern's regex (already compiled once by ``re``) into atoms.

    Only the constructs the translation (``_translate`` in
    :mod:`keynet_train.build.dockerignore`) emits can occur: its own ``[^/]*``,
    ``(.*/)?`` and ``.*``; classes; escapes; ``^`` (kept as written, an
    anchor in the regex); any other character is literal.

    Raises:
        re.error: a backreference.
    """
    body = regex[1:-1]  # the "^" and "$" the translation added
    atoms: list[_Atom] = []
    i = 0
    while i < len(body):
        if body.startswith("[^/]*", i):
            atoms.append(_Atom("star"))
            i += 5
        elif body.startswith("(.*/)?", i):
            atoms.append(_Atom("dirs"))
            i += 6
        elif body.startswith(".*", i):
            atoms.append(_Atom("any"))
            i += 2
        elif body[i] == "[":
            end = i + 1
            if body[end] == "^":
                end += 1
            end += 2 if body[end] == "\\" else 1  # the first member ("]" there is literal)
            while body[end] != "]":
                end += 2 if body[end] == "\\" else 1
            atoms.append(_Atom("char", re.compile(body[i : end + 1])))
            i = end + 1
        elif body[i] == "\\":
            end = _escape_end(body, i)
            assertion = _ESCAPE_ASSERTIONS.get(body[i + 1])
            if assertion is not None:
                atoms.append(_Atom(assertion))
            else:
                atoms.append(_Atom("char", re.compile(body[i:end])))
            i = end
        elif body[i] == "^":
            atoms.append(_Atom("start"))
            i += 1
        else:
            atoms.append(_Atom("char", re.compile(re.escape(body[i]))))
            i += 1
    return atoms


def _is_word(char: str | None) -> bool:
    return char is not None and _WORD_RE.match(char) is not None


def _assertion_holds(op: str, before: str | None, after: str | None) -> bool:
    """Whether an anchor holds between ``before`` and ``after`` (None: the path's edge)."""
    if op == "start":
        return before is None
    if op == "end":
        return after is None
    return (_is_word(before) != _is_word(after)) is (op == "boundary")


class Automaton:
    """Runs a translated regex as a Thompson NFA, one pass over the path.

    The state set after each character is at most ``2 * len(atoms) + 1``
    states, so a match costs O(path length x pattern length) whatever the
    pattern; a backtracking engine is exponential in the number of stars for
    ``*a*a*a…*b`` against ``aaaa…``. State sets are numbered and transitions
    cached, so the common case is one dict lookup per character. Patterns with
    anchors or ``\\b`` (rare) depend on the neighbouring characters and skip
    the cache.
    """

    _CACHE_LIMIT = 65536  # transitions kept; beyond it they are computed each time

    def __init__(self, atoms: list[_Atom]) -> None:
        self._atoms = atoms
        self._final = len(atoms)
        self._plain = not any(atom.op in _ASSERTIONS for atom in atoms)
        self._ids: dict[frozenset[int], int] = {}
        self._sets: list[frozenset[int]] = []
        self._steps: dict[tuple[int, str], int] = {}
        if self._plain:
            self._start = self._number(self._closure({0}, None, None))

    def _inner(self, state: int) -> int:
        # The ".*/" loop inside atom ``state``'s "(.*/)?".
        return self._final + 1 + state

    def _closure(self, states: set[int], before: str | None, after: str | None) -> frozenset[int]:
        """``states`` plus every state reachable without consuming a character."""
        todo = list(states)
        seen = set(states)
        while todo:
            state = todo.pop()
            if state >= self._final:
                continue  # the final state and the inner loops have no empty moves
            op = self._atoms[state].op
            targets: list[int] = []
            if op in ("star", "any"):
                targets.append(state + 1)
            elif op == "dirs":
                targets += [state + 1, self._inner(state)]
            elif op in _ASSERTIONS and _assertion_holds(op, before, after):
                targets.append(state + 1)
            for target in targets:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return frozenset(seen)

    def _step(self, states: frozenset[int], char: str) -> set[int]:
        """The states reached from ``states`` by consuming ``char``."""
        reached: set[int] = set()
        for state in states:
            if state > self._final:  # inside "(.*/)?": ".*" then "/"
                if char != "\n":
                    reached.add(state)
                if char == "/":
                    reached.add(state - self._final)  # = the atom after the "dirs"
                continue
            if state == self._final:
                continue
            atom = self._atoms[state]
            if atom.op == "char":
                assert atom.char is not None
                if atom.char.fullmatch(char):
                    reached.add(state + 1)
            elif (atom.op == "star" and char != "/") or (atom.op == "any" and char != "\n"):
                reached.add(state)
        return reached

    def _number(self, states: frozenset[int]) -> int:
        known = self._ids.get(states)
        if known is None:
            known = self._ids[states] = len(self._sets)
            self._sets.append(states)
        return known

    def matches(self, path: str, *, parents: bool) -> bool:
        """True if the regex matches ``path`` (with ``parents``: or a parent directory of it)."""
        if not self._plain:
            return self._matches_in_context(path, parents=parents)
        current = self._start
        for char in path:
            if parents and char == "/" and self._final in self._sets[current]:
                return True
            following = self._steps.get((current, char))
            current = self._learn(current, char) if following is None else following
            if not self._sets[current]:
                return False
        return self._final in self._sets[current]

    @property
    def resumable(self) -> bool:
        """Whether :meth:`advance` applies (no anchors: moves depend on one character only)."""
        return self._plain

    @property
    def start(self) -> int:
        """The state before any character (resumable automata only)."""
        return self._start

    def advance(self, state: int, text: str) -> int:
        """The state after ``text`` from ``state`` (resumable automata only).

        ``matches(a + b)`` is ``accepts(advance(advance(start, a), b))``: a
        walk of the context resumes each directory's state for its entries
        instead of running the whole path again.
        """
        for char in text:
            if not self._sets[state]:
                return state  # dead: nothing can match any more
            following = self._steps.get((state, char))
            state = self._learn(state, char) if following is None else following
        return state

    def _learn(self, state: int, char: str) -> int:
        """The state after ``char`` from ``state``, computed (and cached while there is room)."""
        following = self._number(self._closure(self._step(self._sets[state], char), None, None))
        if len(self._steps) < self._CACHE_LIMIT:
            self._steps[(state, char)] = following
        return following

    def alive(self, state: int) -> bool:
        """Whether some continuation of the text that led to ``state`` can still match."""
        return bool(self._sets[state])

    def accepts(self, state: int) -> bool:
        """Whether the text that led to ``state`` matches."""
        return self._final in self._sets[state]

    def _matches_in_context(self, path: str, *, parents: bool) -> bool:
        """:meth:`matches` for patterns with anchors, whose empty moves depend on neighbours."""
        current = self._closure({0}, None, path[:1] or None)
        for index, char in enumerate(path):
            before = path[index - 1] if index else None
            if parents and char == "/" and self._final in self._closure(set(current), before, None):
                return True
            after = path[index + 1] if index + 1 < len(path) else None
            current = self._closure(self._step(current, char), char, after)
            if not current:
                return False
        return self._final in current


def compile_automaton(regex: str) -> Automaton:
    """The automaton of ``regex`` (as :mod:`keynet_train.build.dockerignore` translates).

    Raises:
        re.error: an escape or construct the automaton does not support.
    """
    return Automaton(_atoms(regex))
