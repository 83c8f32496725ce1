"""Rendering for humans: step lines, warnings, build logs and tables, all on stderr/stdout.

Plain text unless colour is allowed (:attr:`Environment.color`), in which case
rich is imported lazily for styling. Nothing here decides *what* to say; the
commands and the domain reporter events do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keynet_train.cli.environment import Environment


class CliReporter:
    """A :class:`keynet_train.progress.Reporter` that writes to stderr."""

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._console: Any = None
        if env.color:
            from rich.console import Console

            self._console = Console(file=env.stderr, highlight=False, soft_wrap=True)

    def _line(self, plain: str, styled: str | None = None) -> None:
        if self._console is not None and styled is not None:
            self._console.print(styled)
        else:
            self._env.err(plain)

    def step_started(self, title: str) -> None:
        """Print a step's start line."""
        self._line(f"==> {title} ...", f"[bold cyan]==>[/] [bold]{_esc(title)}[/] ...")

    def step_finished(self, title: str, detail: str = "") -> None:
        """Print a step's finish line."""
        suffix = f": {detail}" if detail else ""
        self._line(f" ok {title}{suffix}", f" [green]✓[/] {_esc(title)}{_esc(suffix)}")

    def info(self, message: str) -> None:
        """Print an informational line."""
        self._line(f"    {message}", f"    {_esc(message)}")

    def warning(self, message: str) -> None:
        """Print a warning line."""
        self._line(f"Warning: {message}", f"[yellow]Warning:[/] {_esc(message)}")

    def log_line(self, line: str) -> None:
        """Print one streamed podman output line, indented."""
        self._line(f"    | {line}", f"    [dim]│ {_esc(line)}[/]")


def _esc(text: str) -> str:
    # rich markup would eat "[...]" in user text (e.g. build logs).
    return text.replace("[", r"\[")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Format an aligned plain-text table (no trailing spaces)."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    lines = [fmt(headers), fmt(["-" * w for w in widths])]
    lines.extend(fmt(r) for r in rows)
    return "\n".join(lines)


def print_table(env: Environment, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a table to stdout: rich on a colour TTY, aligned plain text otherwise."""
    if env.color and env.stdout_isatty:
        from rich.console import Console
        from rich.table import Table

        table = Table(*headers, header_style="bold")
        for row in rows:
            table.add_row(*(_esc(c) for c in row))
        Console(file=env.stdout).print(table)
    else:
        env.out(format_table(headers, rows))
