"""Rendering for humans: step lines, warnings, build logs and tables, all on stderr/stdout.

Plain text unless colour is allowed (:attr:`Environment.color`), in which case
rich is imported lazily for styling. Nothing here decides *what* to say; the
commands and the domain reporter events do.

Two guarantees hold for every line, whoever wrote it (docs/platform-contract.md):

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
import time
from collections.abc import Sequence

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TextIO

    from keynet_train.cli.environment import Environment
    from keynet_train.notices import Notice
    from keynet_train.progress import SlowCall

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

    docs/platform-contract.md: output works on any stream encoding, and a push that succeeded
    never fails while printing its summary. Never raises.
    """
    if stream_is_unicode(stream):
        return text
    encoding = str(getattr(stream, "encoding", "ascii"))
    try:
        return text.translate(_ASCII_SYMBOLS).encode(encoding, "backslashreplace").decode(encoding)
    except (LookupError, UnicodeError):
        return text.encode("ascii", "backslashreplace").decode("ascii")


def terminal_columns(stream: object) -> int | None:
    """The width of the terminal ``stream`` writes to (None: not a terminal, or unknown)."""
    import os

    try:
        columns = os.get_terminal_size(stream.fileno()).columns  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return None
    return columns if columns > 0 else None


def wrap_to_terminal(text: str, stream: object) -> str:
    """``text`` with each line wrapped at word boundaries to ``stream``'s terminal width.

    A continuation keeps the line's indentation. Unchanged when the width is
    unknown or every line fits; a word longer than the line is split.
    """
    columns = terminal_columns(stream)
    if columns is None or all(display_width(line) <= columns for line in text.split("\n")):
        return text
    out: list[str] = []
    for line in text.split("\n"):
        if display_width(line) <= columns:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        more = indent + "  " if len(indent) + 12 < columns else indent
        out.extend(wrap_words(line, columns, first=indent, more=more))
    return "\n".join(out)


def wrap_words(text: str, width: int, first: str = "", more: str = "") -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns, broken between words.

    Counted in display width (:func:`display_width`), so Hangul and CJK text
    (two columns a character) fits too; textwrap counts characters. A word
    wider than a line is split. ``first``/``more`` indent the first and the
    following lines. Never returns an empty list.
    """
    lines: list[str] = []
    current, used = first, display_width(first)
    started = False  # whether ``current`` holds a word yet
    for whole in text.split():
        word, size = whole, display_width(whole)
        if started and used + 1 + size <= width:
            current, used = f"{current} {word}", used + 1 + size
            continue
        if started:
            lines.append(current)
            current, used = more, display_width(more)
        while used + size > width and width - used > 0:  # longer than a whole line
            room, cut = width - used, 0
            while cut < len(word) and display_width(word[: cut + 1]) <= room:
                cut += 1
            if cut == 0:
                break
            lines.append(current + word[:cut])
            word, size = word[cut:], display_width(word[cut:])
            current, used = more, display_width(more)
        current, used, started = current + word, used + size, True
    lines.append(current)
    return lines


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


def make_console(env: Environment, file: TextIO) -> Any:
    """A rich Console on ``file`` that obeys our colour decision, not rich's own env reading.

    rich reads ``os.environ``; the CLI's environment is injected (tests), and
    FORCE_COLOR must style output that is not a terminal.
    """
    from rich.console import Console

    isatty = env.stderr_isatty if file is env.stderr else env.stdout_isatty
    columns = terminal_columns(file) if isatty else None
    on_terminal = columns is not None
    return Console(
        file=file,
        width=columns,
        highlight=False,
        # On a terminal rich wraps at word boundaries to its width (a long
        # podman log line or hint otherwise wraps mid-word, or overflows a
        # live display); a log file gets each message on one line.
        soft_wrap=not on_terminal,
        force_terminal=True if env.force_color else None,
        no_color=False,
    )


def print_labelled(env: Environment, style: str, label: str, text: str) -> None:
    """``label text`` on stderr, the label in ``style`` when colour is on.

    ``Error:`` is red as ``Warning:`` is yellow; without colour the line is
    the same plain text.
    """
    if env.color and stream_is_unicode(env.stderr):
        make_console(env, env.stderr).print(f"[{style}]{label}[/] {_markup(text, multiline=True)}")
    else:
        env.err(f"{label} {text}")


class CliReporter:
    """A :class:`keynet_train.progress.Reporter` that writes to stderr.

    With ``--quiet`` only warnings pass (errors and the result are printed by
    the command). On GitHub Actions or GitLab CI each step's podman log is
    folded into a collapsible section, so a job log shows the steps and
    opens the build log on demand. On a real terminal it has a live display
    (:attr:`live`) for progress bars and spinners.
    """

    def __init__(self, env: Environment) -> None:
        self._env = env
        #: Every warning printed, in order: the ``warnings`` of a ``--json`` result.
        self.notices: list[Notice] = []
        self._console: Any = None
        self._quiet = env.quiet
        self._folding = env.ci_folding
        self._step = ""
        self._section: str | None = None
        self._sections = 0
        # A live display (progress bars, spinners) only on a real terminal:
        # FORCE_COLOR into a log file, --quiet and CI logs get plain lines.
        self.live: RichLiveProgress | None = None
        # rich only where it can print its symbols; otherwise plain ASCII lines.
        if env.color and stream_is_unicode(env.stderr):
            self._console = make_console(env, env.stderr)
            if env.stderr_isatty and not env.quiet and env.ci_folding is None:
                self.live = RichLiveProgress(self._console)

    def _line(self, plain: str, styled: str) -> None:
        if self._console is not None:
            self._console.print(styled)
        else:
            self._env.err(plain)

    def _open_section(self) -> None:
        if self._folding is None or self._section is not None:
            return
        self._sections += 1
        self._section = f"keynet_step_{self._sections}"
        title = neutralise(f"{self._step or 'podman'} log", multiline=False)
        if self._folding == "github":
            self._raw(f"::group::{title}")
        else:
            stamp = int(time.time())
            self._raw(
                f"\x1b[0Ksection_start:{stamp}:{self._section}[collapsed=true]\r\x1b[0K{title}"
            )

    def _raw(self, text: str) -> None:
        # GitLab's section markers are control sequences of our own (the title
        # in them is neutralised): env.err would neutralise them too.
        self._env.stderr.write(text + "\n")
        self._env.stderr.flush()

    def _close_section(self) -> None:
        section, self._section = self._section, None
        if section is None:
            return
        if self._folding == "github":
            self._raw("::endgroup::")
        else:
            self._raw(f"\x1b[0Ksection_end:{int(time.time())}:{section}\r\x1b[0K")

    # Every event may carry outside text (titles with project names, registry
    # and podman messages): the one-line parts are neutralised with newlines
    # shown, so a log line cannot fake a "==>" step line either.
    def step_started(self, title: str) -> None:
        """Print a step's start line."""
        self._close_section()
        self._step = title
        if self._quiet:
            return
        plain = neutralise(title, multiline=False)
        self._line(f"==> {plain} ...", f"[bold cyan]==>[/] [bold]{_markup(title)}[/] ...")

    def step_finished(self, title: str, detail: str = "") -> None:
        """Print a step's finish line."""
        self._close_section()
        if self._quiet:
            return
        suffix = f": {detail}" if detail else ""
        plain = neutralise(title + suffix, multiline=False)
        self._line(f" ok {plain}", f" [green]✓[/] {_markup(title + suffix)}")

    def info(self, message: str) -> None:
        """Print an informational line."""
        if self._quiet:
            return
        self._line(f"    {message}", f"    {_markup(message, multiline=True)}")

    def warning(self, message: str) -> None:
        """Print a warning line (also with ``--quiet``); listed in ``notices`` as code ``other``."""
        from keynet_train.notices import OTHER, Notice

        self.notice(Notice(OTHER, message))

    def notice(self, notice: Notice) -> None:
        """Print a warning line (also with ``--quiet``) and keep it for the ``--json`` result."""
        self.notices.append(notice)
        message = notice.text()
        self._close_section()  # a warning must not hide in a folded log
        self._line(f"Warning: {message}", f"[yellow]Warning:[/] {_markup(message, multiline=True)}")

    def log_line(self, line: str) -> None:
        """Print one streamed podman output line, indented."""
        if self._quiet:
            return
        self._open_section()
        plain = neutralise(line, multiline=False)
        self._line(f"    | {plain}", f"    [dim]│ {_markup(line)}[/]")

    def close(self) -> None:
        """End an open CI section (the command is over, maybe by an error)."""
        self._close_section()


class RichLiveProgress:
    """:class:`keynet_train.progress.LiveProgress` drawn with rich on the reporter's console.

    Lines printed through the same console while a task is live appear above
    it (rich moves the live region down), so the build log and step lines stay
    readable. Each task is transient: it disappears when closed.
    """

    def __init__(self, console: Any) -> None:
        self._console = console

    def transfer(self, label: str, total: int | None) -> _RichTask:
        """A bar with bytes, rate and elapsed time; only the label is cut to fit the width."""
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TimeElapsedColumn,
            TransferSpeedColumn,
        )

        progress = Progress(
            _label_column("    {task.description}"),
            BarColumn(bar_width=10),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeElapsedColumn(),
            console=self._console,
            transient=True,
            expand=True,  # lets the label column's ratio take only the width left
        )
        return _RichTask(progress, progress.add_task(_markup(label), total=total))

    def activity(self, label: str, already: float = 0.0) -> _RichTask:
        """A spinner with elapsed time; only the label is cut to fit the width.

        ``already``: seconds the work has been going on before the spinner
        appears (counted in the elapsed time it shows).
        """
        from rich.progress import Progress, SpinnerColumn, TimeElapsedColumn

        progress = Progress(
            SpinnerColumn(),
            _label_column("{task.description}"),
            TimeElapsedColumn(),
            console=self._console,
            transient=True,
            expand=True,  # lets the label column's ratio take only the width left
        )
        task = progress.add_task(_markup(label), total=None)
        if already > 0:
            for shown in progress.tasks:
                if shown.id == task and shown.start_time is not None:
                    shown.start_time -= already
        return _RichTask(progress, task)


def _label_column(template: str) -> Any:
    """A text column that takes the width left and is cut with "…" to fit it.

    At 60 columns a push's label (registry, 21-character key, podman's
    "Copying blob sha256:...") is wider than the line: rich then dropped the
    spinner and the timer, and the line looked frozen. The label gives way
    instead; the moving parts always fit.
    """
    from rich.progress import TextColumn
    from rich.table import Column

    return TextColumn(
        template, table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis", min_width=8)
    )


class _RichTask:
    def __init__(self, progress: Any, task: Any) -> None:
        self._progress = progress
        self._task = task
        progress.start()

    def advance(self, done: int) -> None:
        self._progress.update(self._task, completed=done)

    def describe(self, text: str) -> None:
        self._progress.update(self._task, description=_markup(text))

    def close(self) -> None:
        self._progress.stop()


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None = None,
    optional: Sequence[str] = (),
) -> str:
    """Format an aligned plain-text table (no trailing spaces).

    Cells are neutralised (one line each) and padded by display width, so
    Korean titles and emoji keep the columns aligned. With ``width`` (a
    terminal's columns) the table is made to fit it: the ``optional``
    columns (e.g. help) are dropped first, then the widest columns are
    narrowed and their cells wrapped at words onto more lines. Without
    ``width`` (a pipe, ``--wide``) every cell stays on one line.
    """
    cells_of = [[neutralise(c, multiline=False) for c in row] for row in (headers, *rows)]
    widths = _column_widths(cells_of, len(headers))
    if width is not None and _table_width(widths) > width:
        keep = [i for i, name in enumerate(headers) if name not in optional]
        if len(keep) < len(headers):
            cells_of = [[row[i] for i in keep] for row in cells_of]
            widths = [widths[i] for i in keep]
        # Words stay whole while they can; only then are the longest split.
        words = [
            max(display_width(word) for row in cells_of for word in (row[i].split() or [""]))
            for i in range(len(widths))
        ]
        widths = _narrowed(widths, words, width)
        widths = _narrowed(widths, [6] * len(widths), width)

    def fmt(cells: Sequence[str]) -> list[str]:
        wrapped = [_wrap_cell(c, w) for c, w in zip(cells, widths, strict=True)]
        height = max(len(lines) for lines in wrapped)
        out: list[str] = []
        for n in range(height):
            parts = ((lines[n] if n < len(lines) else "") for lines in wrapped)
            padded = (c + " " * (w - display_width(c)) for c, w in zip(parts, widths, strict=True))
            out.append("  ".join(padded).rstrip())
        return out

    lines = [*fmt(cells_of[0]), *fmt(["-" * w for w in widths])]
    for row in cells_of[1:]:
        lines.extend(fmt(row))
    return "\n".join(lines)


def _column_widths(cells_of: list[list[str]], count: int) -> list[int]:
    widths = [0] * count
    for row in cells_of:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))
    return widths


def _table_width(widths: Sequence[int]) -> int:
    return sum(widths) + 2 * (len(widths) - 1)


def _narrowed(widths: list[int], minimums: list[int], width: int) -> list[int]:
    """Narrow the widest columns, one column at a time, until the table fits ``width``."""
    widths = list(widths)
    floor = [min(max(m, 6), w) for m, w in zip(minimums, widths, strict=True)]
    while _table_width(widths) > width:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floor[i])
        if widths[widest] <= floor[widest]:
            break  # as narrow as it gets: the terminal wraps the rest
        widths[widest] -= 1
    return widths


def _wrap_cell(cell: str, width: int) -> list[str]:
    if display_width(cell) <= width:
        return [cell]
    # Long words split only where the column is narrower than a word.
    return wrap_words(cell, width)


def table_width(env: Environment, stream: object, wide: bool = False) -> int | None:
    """The width a table on ``stream`` must fit: the terminal's, or None (pipe, ``--wide``)."""
    if wide or env.json_output:
        return None
    isatty = env.stdout_isatty if stream is env.stdout else env.stderr_isatty
    return terminal_columns(stream) if isatty else None


def print_table(
    env: Environment, headers: Sequence[str], rows: Sequence[Sequence[str]], wide: bool = False
) -> None:
    """Print a table to stdout: rich on a colour TTY, aligned plain text otherwise.

    Both fit the terminal (rich wraps cells to its width); ``wide`` prints
    every cell on one line however wide the table gets.
    """
    if not wide and env.color and env.stdout_isatty and stream_is_unicode(env.stdout):
        from rich.table import Table

        table = Table(*headers, header_style="bold")
        for row in rows:
            table.add_row(*(_markup(c) for c in row))
        make_console(env, env.stdout).print(table)
    else:
        env.out(
            format_table(headers, rows, width=table_width(env, env.stdout, wide)), wrap=not wide
        )


def waiting(env: Environment, label: str) -> SlowCall:
    """A :class:`keynet_train.progress.SlowCall` drawn on this run's stderr.

    On a terminal a spinner naming ``label`` once the call took a second;
    in a log a "Still waiting" line every 30 s; nothing with ``--quiet``.
    """
    from keynet_train.progress import SlowCall

    live = CliReporter(env).live if not env.quiet else None
    return SlowCall(live, (lambda message: None) if env.quiet else env.err, label)
