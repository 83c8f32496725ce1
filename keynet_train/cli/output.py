"""Rendering for humans: step lines, warnings, build logs and tables, all on stderr/stdout.

Plain text unless colour is allowed (:attr:`Environment.color`), in which case
rich is imported lazily for styling. Nothing here decides *what* to say; the
commands and the domain reporter events do.

Two guarantees hold for every line, whoever wrote it (SPEC §7):

* :func:`neutralise` turns terminal control characters into visible
  ``\\uXXXX`` text, so a project title, a registry message or a build log
  line cannot move the cursor, retitle the window or clear the screen.
  :meth:`Environment.out`/:meth:`Environment.err` apply it to everything,
  and the rich paths here apply it before rich's own markup escaping.
* :func:`fit_stream` degrades to ASCII symbols (and ``\\uXXXX`` for the
  rest) on a stream that cannot encode Unicode, so printing never fails.
"""

from __future__ import annotations

import codecs
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keynet_train.cli.environment import Environment

# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI on many terminals), and
# the bidirectional overrides/isolates that make text display in another order
# than it reads ("Trojan Source").
_CONTROL_POINTS = (
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
)
_SINGLE_LINE = {point: f"\\u{point:04x}" for point in _CONTROL_POINTS}
_MULTILINE = {point: text for point, text in _SINGLE_LINE.items() if point not in (0x09, 0x0A)}

_ASCII_SYMBOLS = str.maketrans(
    {"✨": "*", "✓": "ok", "✗": "x", "│": "|", "─": "-", "…": "...", "—": "-", "–": "-", "→": "->"}
)


def neutralise(text: str, *, multiline: bool = True) -> str:
    """``text`` with every terminal control character shown as ``\\uXXXX``.

    Newline and tab are kept when ``multiline`` (messages, tracebacks); a
    single-line field (a table cell, a log line, a step title) shows them too.
    Idempotent; never raises.
    """
    return text.translate(_MULTILINE if multiline else _SINGLE_LINE)


@functools.lru_cache(maxsize=8)
def _is_unicode(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False


def stream_is_unicode(stream: object) -> bool:
    """True when ``stream`` takes any text (in-memory streams have no encoding: they do)."""
    encoding = getattr(stream, "encoding", None)
    return not isinstance(encoding, str) or _is_unicode(encoding)


def fit_stream(text: str, stream: object) -> str:
    """``text`` made writable to ``stream``: ASCII symbols and ``\\uXXXX`` where needed.

    SPEC §7: output works on any stream encoding, and a push that succeeded
    never fails while printing its summary. Never raises.
    """
    if stream_is_unicode(stream):
        return text
    encoding = str(getattr(stream, "encoding", "ascii"))
    try:
        return text.translate(_ASCII_SYMBOLS).encode(encoding, "backslashreplace").decode(encoding)
    except (LookupError, UnicodeError):
        return text.encode("ascii", "backslashreplace").decode("ascii")


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: East Asian wide/fullwidth characters (Hangul,
    CJK, most emoji) take two, combining marks and zero-width format characters none."""
    import unicodedata

    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _markup(text: str, *, multiline: bool = False) -> str:
    """``text`` safe inside rich markup: controls neutralised, then rich's own escape."""
    from rich.markup import escape

    return escape(neutralise(text, multiline=multiline))


class CliReporter:
    """A :class:`keynet_train.progress.Reporter` that writes to stderr."""

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._console: Any = None
        # rich only where it can print its symbols; otherwise plain ASCII lines.
        if env.color and stream_is_unicode(env.stderr):
            from rich.console import Console

            self._console = Console(file=env.stderr, highlight=False, soft_wrap=True)

    def _line(self, plain: str, styled: str | None = None) -> None:
        if self._console is not None and styled is not None:
            self._console.print(styled)
        else:
            self._env.err(plain)

    # Every event may carry outside text (titles with project names, registry
    # and podman messages): the one-line parts are neutralised with newlines
    # shown, so a log line cannot fake a "==>" step line either.
    def step_started(self, title: str) -> None:
        """Print a step's start line."""
        plain = neutralise(title, multiline=False)
        self._line(f"==> {plain} ...", f"[bold cyan]==>[/] [bold]{_markup(title)}[/] ...")

    def step_finished(self, title: str, detail: str = "") -> None:
        """Print a step's finish line."""
        suffix = f": {detail}" if detail else ""
        plain = neutralise(title + suffix, multiline=False)
        self._line(f" ok {plain}", f" [green]✓[/] {_markup(title + suffix)}")

    def info(self, message: str) -> None:
        """Print an informational line."""
        self._line(f"    {message}", f"    {_markup(message, multiline=True)}")

    def warning(self, message: str) -> None:
        """Print a warning line."""
        self._line(f"Warning: {message}", f"[yellow]Warning:[/] {_markup(message, multiline=True)}")

    def log_line(self, line: str) -> None:
        """Print one streamed podman output line, indented."""
        plain = neutralise(line, multiline=False)
        self._line(f"    | {plain}", f"    [dim]│ {_markup(line)}[/]")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Format an aligned plain-text table (no trailing spaces).

    Cells are neutralised (one line each) and padded by display width, so
    Korean titles and emoji keep the columns aligned.
    """
    cells_of = [[neutralise(c, multiline=False) for c in row] for row in (headers, *rows)]
    widths = [0] * len(headers)
    for row in cells_of:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))

    def fmt(cells: Sequence[str]) -> str:
        padded = (c + " " * (w - display_width(c)) for c, w in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    lines = [fmt(cells_of[0]), fmt(["-" * w for w in widths])]
    lines.extend(fmt(r) for r in cells_of[1:])
    return "\n".join(lines)


def print_table(env: Environment, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a table to stdout: rich on a colour TTY, aligned plain text otherwise."""
    if env.color and env.stdout_isatty and stream_is_unicode(env.stdout):
        from rich.console import Console
        from rich.table import Table

        table = Table(*headers, header_style="bold")
        for row in rows:
            table.add_row(*(_markup(c) for c in row))
        Console(file=env.stdout).print(table)
    else:
        env.out(format_table(headers, rows))
