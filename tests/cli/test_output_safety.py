"""Output hardening (issue 8 items 6, 9 and the table width of item 12).

Strings from outside (backend, registry, podman, the user's files) must not
drive the terminal; a non-UTF-8 stream must not make a command fail.
"""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keynet_train.cli.environment import Environment
from keynet_train.cli.output import CliReporter, display_width, format_table, neutralise
from keynet_train.config import Config
from tests.cli.conftest import CliRunner
from tests.support.fake_backend import FakeBackend, sample_projects

EVIL_TITLE = "\x1b]0;pwned\x07\x1b[2JEvil"
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def _controls(text: str, allowed: str = "\n\t") -> list[str]:
    return [c for c in text if unicodedata.category(c) == "Cc" and c not in allowed]


# ---------------------------------------------------------------------------- the function


def test_neutralise_makes_controls_visible() -> None:
    assert neutralise(EVIL_TITLE) == "\\u001b]0;pwned\\u0007\\u001b[2JEvil"
    assert neutralise("a\nb\tc\rd\x9be\x7f") == "a\nb\tc\\u000dd\\u009be\\u007f"
    assert neutralise("a\nb\tc", multiline=False) == "a\\u000ab\\u0009c"
    assert neutralise("프로젝트 ✨") == "프로젝트 ✨"  # printable text is untouched
    assert neutralise("\u202eevil") == "\\u202eevil"  # bidi override: display spoofing


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    assert _controls(neutralise(text)) == []
    assert _controls(neutralise(text, multiline=False), allowed="") == []


# ---------------------------------------------------------------------------- plain and rich


def _env(tty: bool, stream: io.TextIOBase | None = None) -> Environment:
    stderr = stream if stream is not None else io.StringIO()
    return Environment(
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        stderr=stderr,  # type: ignore[arg-type]
        environ={},
        stderr_isatty=tty,
    )


@pytest.mark.parametrize("tty", [False, True], ids=["plain", "rich"])
def test_reporter_neutralises_every_event(tty: bool) -> None:
    env = _env(tty)
    reporter = CliReporter(env)
    reporter.step_started(EVIL_TITLE)
    reporter.step_finished("Build", EVIL_TITLE)
    reporter.info(EVIL_TITLE)
    reporter.warning(EVIL_TITLE)
    reporter.log_line(EVIL_TITLE)
    assert isinstance(env.stderr, io.StringIO)
    text = ANSI_RE.sub("", env.stderr.getvalue())
    assert _controls(text) == []
    assert text.count("Evil") == 5 and "pwned" in text


@pytest.mark.parametrize("tty", [False, True], ids=["plain", "rich"])
def test_rich_markup_in_log_lines_is_shown_literally(tty: bool) -> None:
    env = _env(tty)
    reporter = CliReporter(env)
    reporter.log_line("COPY C:\\path\\")
    reporter.log_line("[bold]not bold[/] [link=x]y[/link]")
    assert isinstance(env.stderr, io.StringIO)
    text = ANSI_RE.sub("", env.stderr.getvalue())
    assert "COPY C:\\path\\\n" in text
    assert "[/]\n" not in text.split("COPY", 1)[1].split("\n", 1)[0] + "\n"
    assert "[bold]not bold[/] [link=x]y[/link]" in text


# ---------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("tty", [False, True], ids=["plain", "rich"])
def test_non_utf8_stream_falls_back_to_ascii(tty: bool) -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", write_through=True)
    env = _env(tty, stream)
    env.err("✨ Push completed successfully!")
    env.err("Project 객체 탐지 … done")
    reporter = CliReporter(env)
    reporter.step_finished("Build image", "ok")
    reporter.log_line("│ box")
    text = raw.getvalue().decode("ascii")
    assert "* Push completed successfully!" in text
    assert "Project \\uac1d\\uccb4 \\ud0d0\\uc9c0 ... done" in text
    assert "Build image" in text


def test_push_summary_on_an_ascii_stdout(tmp_path: object) -> None:
    from keynet_train.cli.commands.push import _render_push
    from keynet_train.push.results import PushResult

    raw = io.BytesIO()
    env = _env(False)
    env.stdout = io.TextIOWrapper(raw, encoding="ascii", write_through=True)
    result = PushResult("k" * 21, "h/p/k", ["latest"], None, 1, "학습.py", None, [], "python x")
    _render_push(env, result)
    text = raw.getvalue().decode("ascii")
    assert "* Push completed successfully!" in text
    assert "Model" not in text or "\\ud559" in text


# ---------------------------------------------------------------------------- through the CLI


def test_backend_strings_in_the_projects_table(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config
) -> None:
    offline_backend.projects = sample_projects()  # fresh dicts: the backend is shared
    offline_backend.projects[0]["title"] = EVIL_TITLE
    offline_backend.projects[0]["taskType"] = "SEG\x1b[31mMENT"
    offline_backend.projects[0]["author"]["displayName"] = "Hong\x9b2J"
    for tty in (False, True):
        result = cli("projects", tty=tty)
        assert result.exit_code == 0, result
        assert _controls(ANSI_RE.sub("", result.output)) == [], result
        assert "Evil" in result.stdout


def test_wide_characters_keep_the_table_aligned() -> None:
    table = format_table(
        ("ID", "TITLE", "AUTHOR"),
        [["1", "객체 탐지 프로젝트", "홍길동"], ["22", "Object detection 🚀", "Hong"]],
    )
    lines = table.splitlines()
    # The AUTHOR column starts at the same display column on every line.
    author_columns = [display_width(line[: line.rindex("  ") + 2]) for line in lines]
    assert len(set(author_columns)) == 1, table
    assert display_width("객체") == 4 and display_width("🚀") == 2 and display_width("ab") == 2


# ----------------------------------------------------------------------------- width


def test_a_table_too_wide_for_the_terminal_drops_help_then_wraps_cells() -> None:
    headers = ("name", "type", "choices", "help")
    rows = [
        ["learning_rate", "float", "-", "the learning rate of the optimizer, per step"],
        ["optimizer", "str", "sgd, adam, adamw, lion", "which optimizer to use"],
    ]

    full = format_table(headers, rows)
    fitted = format_table(headers, rows, width=40, optional=("help",))
    narrow = format_table(headers, rows, width=30, optional=("help",))

    assert max(display_width(line) for line in full.splitlines()) > 40
    assert "help" not in fitted and max(display_width(x) for x in fitted.splitlines()) <= 40
    assert fitted.splitlines()[0].split() == ["name", "type", "choices"]
    # Narrower still: cells wrap at words, names stay whole, nothing is lost.
    assert max(display_width(line) for line in narrow.splitlines()) <= 30
    assert "learning_rate" in narrow and "lion" in narrow
    assert format_table(headers, rows, width=None, optional=("help",)) == full


def test_wrapping_counts_display_columns_so_hangul_fits() -> None:
    from keynet_train.cli.output import wrap_words

    title = "객체 탐지 프로젝트 이름이 아주 길어서 줄바꿈이 필요합니다"
    lines = wrap_words(title, 20, more="  ")

    assert max(display_width(line) for line in lines) <= 20
    assert " ".join(" ".join(lines).split()) == title  # nothing lost or reordered
    # A word wider than the line is split, never left overflowing.
    assert max(display_width(x) for x in wrap_words("가" * 25, 20)) <= 20


def test_a_table_of_korean_titles_fits_the_width() -> None:
    rows = [["1", "객체 탐지 프로젝트 이름이 아주 길어서 줄바꿈이 필요합니다", "홍길동"]]

    table = format_table(("ID", "TITLE", "AUTHOR"), rows, width=30)

    assert max(display_width(line) for line in table.splitlines()) <= 30
