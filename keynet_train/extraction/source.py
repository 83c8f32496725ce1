"""Entrypoint validation (docs/extraction-rules.md): read, decode and parse, never execute.

Every failure becomes an :class:`~keynet_train.errors.EntrypointError` whose
message names the file; syntax errors are rendered compiler-style as
``file:line:col: message`` followed by the offending line and a caret.
"""

from __future__ import annotations

import ast
import codecs
import os
import re
import stat
import warnings
from pathlib import Path

from keynet_train.errors import EntrypointError
from keynet_train.files import UnreadableFile, read_regular_file

#: Larger files are refused: no real training script is this big, and parsing
#: a multi-megabyte file would make ``inspect`` slow and memory hungry.
MAX_SOURCE_BYTES = 5 * 1024 * 1024

# PEP 263, the same pattern the tokenize module uses.
_CODING_RE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
_BLANK_RE = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)", re.ASCII)


class Source:
    """A validated entrypoint: its display path, decoded text and AST."""

    def __init__(self, display_path: str, text: str, tree: ast.Module) -> None:
        self.display_path = display_path
        self.text = text
        self.tree = tree

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (
            self.display_path,
            self.text,
            self.tree,
        ) == (
            other.display_path,
            other.text,
            other.tree,
        )

    def __hash__(self) -> int:
        return hash(
            (
                self.display_path,
                self.text,
                self.tree,
            )
        )

    def __repr__(self) -> str:
        return f"Source({self.display_path!r}, {self.text!r}, {self.tree!r})"


def load_source(path: Path) -> Source:
    """Validate ``path`` and return its decoded text and AST.

    Raises:
        EntrypointError: missing, not a regular file, unreadable, larger than
            5 MiB, empty, binary, undecodable, a syntax error, or nesting so
            deep that the parser runs out of stack or memory.
    """
    shown = str(path)
    data = _read_bytes(path, shown)
    text = _decode(data, shown)
    tree = _parse(text, shown)
    return Source(display_path=shown, text=text, tree=tree)


def _read_bytes(path: Path, shown: str) -> bytes:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise EntrypointError(
            f"Entrypoint not found: {shown}",
            "Check the path; it is relative to the current directory.",
        ) from None
    except OSError as e:
        raise EntrypointError(f"Cannot access entrypoint {shown}: {e.strerror or e}") from None
    except ValueError:  # a NUL character in the path
        raise EntrypointError(f"Entrypoint path holds a NUL character: {shown!r}") from None
    if stat.S_ISDIR(st.st_mode):
        raise EntrypointError(
            f"Entrypoint is a directory: {shown}",
            "Pass the training script itself, e.g. train.py.",
        )
    if not stat.S_ISREG(st.st_mode):
        # Never open FIFOs or devices: reading them can block forever.
        raise EntrypointError(
            f"Entrypoint is not a regular file: {shown}", "Pass a Python source file."
        )
    if st.st_size > MAX_SOURCE_BYTES:
        raise EntrypointError(
            f"Entrypoint is too large: {shown} ({st.st_size} bytes, limit {MAX_SOURCE_BYTES})",
            "Pass the training script, not a data or bundled file.",
        )
    try:
        # Regular files only, at most MAX_SOURCE_BYTES (+1 catches a file that grew
        # after the stat): never blocks on a FIFO swapped in or on /proc/kmsg.
        data = read_regular_file(path, MAX_SOURCE_BYTES + 1)
    except UnreadableFile as e:
        if e.missing:
            raise EntrypointError(f"Entrypoint not found: {shown}") from None
        raise EntrypointError(f"Cannot read entrypoint {shown}: it {e.reason}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise EntrypointError(f"Entrypoint is too large: {shown} (over {MAX_SOURCE_BYTES} bytes)")
    if not data.strip():
        raise EntrypointError(
            f"Entrypoint is empty: {shown}", "Pass the training script that parses its arguments."
        )
    if b"\x00" in data:
        raise EntrypointError(
            f"Entrypoint looks like a binary file (it contains NUL bytes): {shown}",
            "Pass a Python source file (UTF-8 or with a PEP 263 coding line).",
        )
    return data


def _declared_encoding(data: bytes) -> str | None:
    """The PEP 263 coding cookie of the first or second line, if any."""
    lines = data.split(b"\n", 2)
    for i, line in enumerate(lines[:2]):
        m = _CODING_RE.match(line)
        if m:
            return m.group(1).decode("ascii")
        # The cookie may only sit on line 2 when line 1 is blank or a comment.
        if i == 0 and not _BLANK_RE.match(line):
            return None
    return None


def _decode(data: bytes, shown: str) -> str:
    bom = data.startswith(codecs.BOM_UTF8)
    declared = _declared_encoding(data)
    encoding = "utf-8"
    if declared is not None:
        try:
            encoding = codecs.lookup(declared).name
        except LookupError:
            raise EntrypointError(
                f"{shown}: unknown encoding {declared!r} in the coding line",
                "Fix the '# -*- coding: ... -*-' line or save the file as UTF-8.",
            ) from None
        if bom and encoding != "utf-8":
            raise EntrypointError(
                f"{shown}: the file starts with a UTF-8 BOM but declares coding {declared!r}",
                "Remove the BOM or the coding line.",
            )
    try:
        text = data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise EntrypointError(
            f"{shown}:{line}: cannot decode byte {data[e.start : e.start + 1]!r} as {encoding}",
            "Save the file as UTF-8, or declare its encoding with a PEP 263 line such as "
            "'# -*- coding: cp949 -*-'.",
        ) from None
    if "\x00" in text:  # e.g. a UTF-16 text declared as some 8-bit codec
        raise EntrypointError(f"Entrypoint looks like a binary file: {shown}")
    return text


def _parse(text: str, shown: str) -> ast.Module:
    try:
        # The compiler's SyntaxWarnings (e.g. "invalid escape sequence") are the
        # user's business at runtime, not noise for inspect/push to print.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=shown)
    except SyntaxError as e:
        raise EntrypointError(format_syntax_error(e, shown, text)) from None
    except (RecursionError, MemoryError):
        raise EntrypointError(
            f"{shown}: the code is nested too deeply for the Python parser",
            "Simplify the deeply nested expression or block.",
        ) from None
    except (ValueError, OverflowError) as e:
        raise EntrypointError(f"{shown}: cannot parse: {e}") from None


def format_syntax_error(e: SyntaxError, shown: str, text: str) -> str:
    """``file:line:col: message`` plus the source line and a caret line under the column."""
    lineno = e.lineno or 1
    col = e.offset or 1
    header = f"{shown}:{lineno}:{col}: {e.msg}"
    lines = text.splitlines()
    if not 1 <= lineno <= len(lines):
        return header
    src = lines[lineno - 1].rstrip()
    width = 1
    if e.end_lineno == lineno and e.end_offset and e.end_offset > col:
        width = e.end_offset - col
    col = max(1, min(col, len(src) + 1))
    width = max(1, min(width, len(src) + 1 - col))
    # Keep tabs so the caret lines up under the same column in a terminal.
    pad = "".join(ch if ch == "\t" else " " for ch in src[: col - 1])
    return f"{header}\n    {src}\n    {pad}{'^' * width}"
