"""Robustness: any input yields a result or a KeynetError, quickly, and nothing is executed."""

from __future__ import annotations

import contextlib
import os
import pathlib
import stat
import tempfile
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keynet_train.errors import EntrypointError, KeynetError
from keynet_train.extraction import extract_hyperparameters

FIXTURES = sorted((pathlib.Path(__file__).parent / "fixtures").glob("*.py"))
# A hang guard, not a speed check: the interpreter's budget counts steps, so
# the same input ends the same way on any machine; speed is measured by
# benchmarks/bench_inspect.py. A 1 s limit here failed on a loaded CI machine.
HANG_GUARD_SECONDS = 30.0
SETTINGS = settings(
    max_examples=int(os.environ.get("KEYNET_FUZZ_EXAMPLES", "400")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _extract_bounded(path: pathlib.Path) -> None:
    start = time.perf_counter()
    with contextlib.suppress(KeynetError):
        extract_hyperparameters(path)
    elapsed = time.perf_counter() - start
    assert elapsed < HANG_GUARD_SECONDS, f"took {elapsed:.2f}s: a loop escapes the step budget"


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "f.py"
        path.write_bytes(data)
        _extract_bounded(path)


_TOKENS = [
    "import argparse\n",
    "import click\n",
    "import typer\n",
    "p = argparse.ArgumentParser()\n",
    "p.add_argument('--x', default=",
    "type=int",
    ")\n",
    "p.parse_args()\n",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "**",
    "*",
    "+",
    "-",
    "10",
    "9999999",
    "'a'",
    "x",
    "p",
    "def f(a=1):\n",
    "    return p\n",
    "f()\n",
    "for i in range(10**9):\n",
    "    p.add_argument(str(i))\n",
    "while True:\n    pass\n",
    "@click.command()\n",
    "@click.option('--y', default=2)\n",
    "def g(y): pass\n",
    "g()\n",
    "typer.run(g)\n",
    "class E(enum.Enum):\n    a = 1\n",
    "lambda: 0",
    ",",
    ":",
    "\n",
    " ",
    "'a' * 10**8",
    "2 ** 10 ** 8",
    "f(f(f(f(",
    "p.parents",
]


@SETTINGS
@given(st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join))
def test_token_soup(source: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "f.py"
        path.write_text(source, encoding="utf-8")
        _extract_bounded(path)


@SETTINGS
@given(
    st.sampled_from(FIXTURES),
    st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.integers(0, 40),
            st.sampled_from(
                ["", "(", ")", "\n", "    ", "#", "'", "x", "**", "0", ".", "=", ":", "None"]
            ),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_fixtures(fixture: pathlib.Path, edits: list[tuple[int, int, str]]) -> None:
    text = fixture.read_bytes().decode("utf-8", errors="replace")
    for pos, length, insert in edits:
        pos %= len(text) + 1
        text = text[:pos] + insert + text[pos + length :]
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "f.py"
        path.write_text(text, encoding="utf-8")
        _extract_bounded(path)


PATHOLOGICAL = {
    "deep_parens": "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "deep_unary": "x = " + "-" * 100_000 + "1\n",
    "long_sum": "x = " + " + ".join(["1"] * 50_000) + "\n",
    "deep_lists": "x = " + "[" * 3000 + "]" * 3000 + "\n",
    "deep_blocks": "".join("    " * i + "if x:\n" for i in range(120)) + "    " * 120 + "pass\n",
    "huge_pow": "import argparse\np = argparse.ArgumentParser()\n"
    "p.add_argument('--x', default=10 ** 10 ** 10)\np.parse_args()\n",
    "huge_repeat": "import argparse\np = argparse.ArgumentParser()\n"
    "p.add_argument('--x', default='a' * 10 ** 12)\np.parse_args()\n",
    "recursion": "def f(n):\n    return f(n + 1)\nf(0)\n",
    "mutual_recursion": "def a():\n    b()\ndef b():\n    a()\na()\n",
    "big_loop": "import argparse\np = argparse.ArgumentParser()\n"
    "for i in range(10 ** 12):\n    p.add_argument(f'--a{i}')\np.parse_args()\n",
    "nested_loops": "for i in range(1000):\n    for j in range(1000):\n"
    "        for k in range(1000):\n            x = i + j + k\n",
    "format_bomb": "x = '{:>999999999}'.format(1)\ny = '%999999999d' % 1\n",
    "replace_bomb": "s = 'a' * 100000\nt = s.replace('a', s)\n",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_inputs(name: str, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "f.py"
    path.write_text(PATHOLOGICAL[name], encoding="utf-8")
    _extract_bounded(path)


def test_nothing_is_executed(tmp_path: pathlib.Path) -> None:
    marker = tmp_path / "executed.txt"
    source = f"""
import argparse, socket, os
open({str(marker)!r}, "w").write("ran")
socket.socket().connect(("127.0.0.1", 9))
os.system("touch {marker}")
__import__("os").remove(__file__)
exec("open({str(marker)!r}, 'w')")
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=open({str(marker)!r}, "w").write("x"))
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()
"""
    path = tmp_path / "evil.py"
    path.write_text(source, encoding="utf-8")
    result = extract_hyperparameters(path)
    assert not marker.exists()
    assert path.exists()
    assert [a.name for a in result.arguments] == ["lr", "epochs"]
    assert result.arguments[0].default is None  # open(...).write() is not evaluated
    assert result.arguments[1].default == 3


# ------------------------------------------------------------------ validator
def _err(path: pathlib.Path) -> str:
    with pytest.raises(EntrypointError) as info:
        extract_hyperparameters(path)
    return info.value.message


def test_missing_file(tmp_path: pathlib.Path) -> None:
    assert "not found" in _err(tmp_path / "nope.py")


def test_directory(tmp_path: pathlib.Path) -> None:
    assert "directory" in _err(tmp_path)


def test_fifo_is_refused_without_blocking(tmp_path: pathlib.Path) -> None:
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert "not a regular file" in _err(fifo)


def test_empty_and_whitespace(tmp_path: pathlib.Path) -> None:
    (tmp_path / "e.py").write_text("")
    (tmp_path / "w.py").write_text("  \n\n\t\n")
    assert "empty" in _err(tmp_path / "e.py")
    assert "empty" in _err(tmp_path / "w.py")


def test_binary(tmp_path: pathlib.Path) -> None:
    (tmp_path / "b.py").write_bytes(b"\x7fELF\x02\x01\x00\x00binary")
    assert "binary" in _err(tmp_path / "b.py")


def test_too_large(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "big.py"
    with open(path, "wb") as f:
        f.truncate(5 * 1024 * 1024 + 1)
    assert "too large" in _err(path)


def test_undecodable(tmp_path: pathlib.Path) -> None:
    (tmp_path / "u.py").write_bytes(b"x = 1\ny = '\xff\xfe'\n")
    msg = _err(tmp_path / "u.py")
    assert "u.py:2" in msg and "decode" in msg


def test_unknown_coding(tmp_path: pathlib.Path) -> None:
    (tmp_path / "c.py").write_bytes(b"# -*- coding: klingon -*-\nx = 1\n")
    assert "unknown encoding" in _err(tmp_path / "c.py")


def test_cp949_and_bom_decode(tmp_path: pathlib.Path) -> None:
    fixtures = pathlib.Path(__file__).parent / "fixtures"
    r = extract_hyperparameters(fixtures / "ap_coding_cp949.py")
    assert r.arguments[0].help == "학습률"
    assert r.arguments[1].default == "모델"
    r = extract_hyperparameters(fixtures / "ap_utf8_bom.py")
    assert r.arguments[0].help == "학습률 (BOM)"


def test_syntax_error_format(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "s.py"
    path.write_text(
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('--x' type=int)\n"
    )
    msg = _err(path)
    lines = msg.splitlines()
    assert lines[0].startswith(f"{path}:3:")
    assert lines[1].strip() == "p.add_argument('--x' type=int)"
    caret_col = lines[2].index("^")
    col = int(lines[0].split(":")[2])
    assert caret_col - 4 == col - 1


def test_indentation_error_is_a_syntax_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "i.py"
    path.write_text("def f():\nreturn 1\n")
    assert f"{path}:2:" in _err(path)


def test_pathological_nesting_is_entrypoint_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "n.py"
    path.write_text("x = " + "(" * 300 + ")" * 300 + "\n")
    _err(path)
