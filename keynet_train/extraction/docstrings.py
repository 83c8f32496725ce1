"""Parameter descriptions in a docstring: Google ``Args:``, numpy ``Parameters``, reST ``:param:``.

fire shows these as each flag's help. Only the descriptions are read; the
types written in a docstring are ignored (the signature's annotations win).
"""

from __future__ import annotations

import re

_GOOGLE_TITLES = frozenset(
    (
        "args",
        "arguments",
        "parameters",
        "params",
        "keyword args",
        "keyword arguments",
        "kwargs",
        "other parameters",
    )
)
_NUMPY_TITLES = frozenset(("parameters", "other parameters", "keyword arguments", "arguments"))
# No two unbounded runs that can trade characters (no catastrophic backtracking).
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}(\w+)(?:\s*\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ENTRY = re.compile(r"^\*{0,2}(\w+)\s*(?::.*)?$")
_REST_ENTRY = re.compile(
    r"^:(?:param|parameter|arg|argument|key|keyword)\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$"
)
_RULE = re.compile(r"^\s*-{3,}\s*$")


def parameter_help(doc: str | None) -> dict[str, str]:
    """``{name: description}`` for the parameters ``doc`` documents (whitespace kept simple)."""
    if not doc:
        return {}
    # inspect.cleandoc; imported here, not at start-up (docs/development.md, "Start-up").
    import inspect

    lines = inspect.cleandoc(doc).splitlines()
    found: dict[str, list[str]] = {}
    _google(lines, found)
    _numpy(lines, found)
    _rest(lines, found)
    return {k: " ".join(" ".join(v).split()) for k, v in found.items() if " ".join(v).strip()}


#: Longer lines are never matched as entries (the reST pattern is quadratic in the worst case).
_MAX_ENTRY_LINE = 2_000


def _entry(pattern: re.Pattern[str], line: str) -> re.Match[str] | None:
    return pattern.match(line) if len(line) <= _MAX_ENTRY_LINE else None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _google(lines: list[str], found: dict[str, list[str]]) -> None:
    i = 0
    while i < len(lines):
        title = lines[i].strip()
        if title.endswith(":") and title[:-1].strip().lower() in _GOOGLE_TITLES:
            base = _indent(lines[i])
            i += 1
            entry_indent: int | None = None
            current: list[str] | None = None
            while i < len(lines):
                line = lines[i]
                if not line.strip():
                    i += 1
                    continue
                indent = _indent(line)
                if indent <= base:
                    break
                if entry_indent is None:
                    entry_indent = indent
                match = _entry(_GOOGLE_ENTRY, line.strip()) if indent == entry_indent else None
                if match:
                    current = found.setdefault(match.group(1), [])
                    if match.group(2):
                        current.append(match.group(2))
                elif current is not None:
                    current.append(line.strip())
                i += 1
            continue
        i += 1


def _numpy(lines: list[str], found: dict[str, list[str]]) -> None:
    i = 0
    while i + 1 < len(lines):
        if lines[i].strip().lower() in _NUMPY_TITLES and _RULE.match(lines[i + 1]):
            base = _indent(lines[i])
            i += 2
            current: list[str] | None = None
            while i < len(lines):
                line = lines[i]
                if i + 1 < len(lines) and _RULE.match(lines[i + 1]) and line.strip():
                    return  # the next section starts
                if not line.strip():
                    i += 1
                    continue
                if _indent(line) == base:
                    match = _entry(_NUMPY_ENTRY, line.strip())
                    current = found.setdefault(match.group(1), []) if match else None
                elif current is not None:
                    current.append(line.strip())
                i += 1
            return
        i += 1


def _rest(lines: list[str], found: dict[str, list[str]]) -> None:
    current: list[str] | None = None
    for line in lines:
        match = _entry(_REST_ENTRY, line.strip())
        if match:
            current = found.setdefault(match.group(1), [])
            if match.group(2):
                current.append(match.group(2))
        elif line.strip().startswith(":"):
            current = None
        elif current is not None and line.strip() and _indent(line) > 0:
            current.append(line.strip())
        else:
            current = None
