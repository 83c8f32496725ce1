"""Evaluation paths that branch coverage showed no other test reached (docs/testing.md,
"Dead conditionals"): unary operators, walrus, starred and ``**`` displays, slices,
``enum.auto()``, enum lookups, a few builtins, and module-level statements.

Every expected value is a literal written by hand (what Python itself gives).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from keynet_train.errors import ExtractionError
from keynet_train.extraction import extract_hyperparameters

EXPRESSIONS = """
import argparse
import enum

DEBUG = False
N = 3
ITEMS = [1, 2, 3]
BASE = {"a": 1}


class Color(enum.Enum):
    RED = enum.auto()
    GREEN = enum.auto()


class Mode(enum.StrEnum):
    FAST = enum.auto()


def build():
    p = argparse.ArgumentParser()
    p.add_argument("--verbose", default=not DEBUG)
    p.add_argument("--plus", default=+N)
    p.add_argument("--invert", default=~0)
    p.add_argument("--neg-bool", default=-True)
    p.add_argument("--pos-bool", default=+True)
    p.add_argument("--walrus", default=(k := 4) + k)
    p.add_argument("--star", default=[0, *ITEMS])
    p.add_argument("--merged", default=sorted({**BASE, "b": 2}))
    p.add_argument("--rstr", default=f"{'x'!r}")
    p.add_argument("--tail", default=ITEMS[1:])
    p.add_argument("--backwards", default=ITEMS[::-1])
    p.add_argument("--color", default=Color.GREEN.value)
    p.add_argument("--color-by-name", default=Color["RED"].value)
    p.add_argument("--color-by-value", default=Color(2).name)
    p.add_argument("--mode", default=Mode.FAST.value)
    p.add_argument("--setcomp", default=sorted({i % 2 for i in ITEMS}))
    p.add_argument("--abs", default=abs(-3))
    p.add_argument("--round", default=round(2.567, 2))
    p.add_argument("--zip", default=list(zip(ITEMS, "ab")))
    p.add_argument("--reversed", default=list(reversed(ITEMS)))
    p.add_argument("--enumerate", default=list(enumerate("ab", 1)))
    return p


build().parse_args()
"""

STATEMENTS = """
import argparse
import os

LR = 0.1
SIZES = []
for size in [8, 16, 32, 64]:
    if size > 16:
        break
    SIZES.append(size)

TMP = 1
del TMP


def configure():
    global LR
    LR = 0.5


configure()

match LR:
    case _:
        pass

p = argparse.ArgumentParser()
p.add_argument("--lr", default=LR)
p.add_argument("--sizes", default=SIZES)
p.add_argument("--home", default=os.environ["HOME"])
p.add_argument("--tmp", default=TMP)
p.parse_args()
"""


def _defaults(tmp_path: Path, source: str) -> tuple[dict[str, object], list[str]]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(source))
    result = extract_hyperparameters(script)
    diagnostics = [str(d).split(": ", 1)[1] for d in result.diagnostics]
    return {a.name: a.default for a in result.arguments}, diagnostics


def test_expressions(tmp_path: Path) -> None:
    defaults, diagnostics = _defaults(tmp_path, EXPRESSIONS)
    assert defaults == {
        "verbose": True,
        "plus": 3,
        "invert": -1,
        "neg_bool": -1,
        "pos_bool": 1,
        "walrus": 8,
        "star": [0, 1, 2, 3],
        "merged": ["a", "b"],
        "rstr": "'x'",
        "tail": [2, 3],
        "backwards": [3, 2, 1],
        "color": 2,
        "color_by_name": 1,
        "color_by_value": "GREEN",
        "mode": "fast",
        "setcomp": [0, 1],
        "abs": 3,
        "round": 2.57,
        "zip": [[1, "a"], [2, "b"]],
        "reversed": [3, 2, 1],
        "enumerate": [[1, "a"], [2, "b"]],
    }
    assert diagnostics == []


def test_statements(tmp_path: Path) -> None:
    defaults, diagnostics = _defaults(tmp_path, STATEMENTS)
    # break ends the loop, global rebinds the module's LR, del unbinds TMP.
    assert defaults == {"lr": 0.5, "sizes": [8, 16], "home": None, "tmp": None}
    assert diagnostics == [
        "info: match statements are not followed statically",
        "info: os.environ[...] is only known at runtime; value unresolved",
        "warning: default of 'home' could not be resolved statically; sent as null",
        "warning: default of 'tmp' could not be resolved statically; sent as null",
    ]


ASYNC_AND_TRY_STAR = """
import argparse
import asyncio


async def add_more(p):
    async with lock() as held:
        p.add_argument("--held", default=held)
    async for item in stream():
        p.add_argument("--item", default=item)
    p.add_argument("--after-async", type=int, default=2)


def build():
    p = argparse.ArgumentParser()
    try:
        p.add_argument("--in-try", default="t")
    except* ValueError:
        pass
    else:
        p.add_argument("--in-else", default="e")
    finally:
        p.add_argument("--in-finally", default="f")
    assert p
    asyncio.run(add_more(p))
    return p


build().parse_args()
"""


@pytest.mark.skipif(sys.version_info < (3, 11), reason="except* is Python 3.11 syntax")
def test_async_and_try_star_statements_run_like_their_plain_forms(tmp_path: Path) -> None:
    defaults, diagnostics = _defaults(tmp_path, ASYNC_AND_TRY_STAR)
    # The async bodies are read as code; what the context manager and the
    # stream give is not known; assert is skipped.
    assert defaults == {
        "in_try": "t",
        "in_else": "e",
        "in_finally": "f",
        "held": None,
        "item": None,
        "after_async": 2,
    }
    assert diagnostics == [
        "info: loop over a value not known statically; body read once",
        "warning: default of 'held' could not be resolved statically; sent as null",
        "warning: default of 'item' could not be resolved statically; sent as null",
    ]


CHOICES = """
import argparse
import pathlib

p = argparse.ArgumentParser()
p.add_argument("--from-dict", choices={"sgd": 1, "adam": 2})
p.add_argument("--from-str", choices="abc")
p.add_argument("--from-set", choices={3, 1, 2})
p.add_argument("--mixed-set", choices={1, "a"})
p.add_argument("--paths", choices=[pathlib.Path("a"), pathlib.Path("b")])
p.add_argument("--too-many", choices=list(range(5000)))
p.add_argument("--nested", choices=[[1]])
p.parse_args()
"""


def test_choices_of_every_container(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(CHOICES))
    result = extract_hyperparameters(script)
    # argparse checks membership with ``in``: a dict's keys, a string's
    # characters, a set in sorted order; what cannot be listed is no list.
    assert {a.name: a.choices for a in result.arguments} == {
        "from_dict": ["sgd", "adam"],
        "from_str": ["a", "b", "c"],
        "from_set": ["1", "2", "3"],
        "mixed_set": None,
        "paths": ["a", "b"],
        "too_many": None,
        "nested": None,
    }
    assert [str(d).split(": ", 1)[1] for d in result.diagnostics] == [
        f"warning: choices of '{name}' could not be resolved statically"
        for name in ("mixed_set", "too_many", "nested")
    ]


TYPER_GROUPS = """
import typer

app = typer.Typer()
db = typer.Typer()


@app.command()
def train(lr: float = 0.1):
    pass


@app.command()
def evaluate(split: str = "val"):
    pass


app.add_typer(db, name="db")
app.add_typer(db)
app()
"""


def test_typer_sub_apps_are_sub_commands(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(TYPER_GROUPS))
    # The sub-app added without name= is not listed: its name is not known statically.
    with pytest.raises(ExtractionError, match=r"its sub-commands are: train, evaluate, db\.$"):
        extract_hyperparameters(script, command="nope")
    result = extract_hyperparameters(script, command="db")
    assert result.arguments == []
    assert "warning: sub-command 'db' is a nested typer app, not extracted" in [
        str(d).split(": ", 1)[1] for d in result.diagnostics
    ]
