"""The extraction budget counts evaluation steps, not seconds (issue 10 item 4)."""

from __future__ import annotations

import ast
import itertools
import pathlib
import time

import pytest

from keynet_train.extraction import ExtractionResult, extract_hyperparameters
from keynet_train.extraction.interpreter import MAX_STEPS
from keynet_train.extraction.select import extract_from_tree

# Two arguments, then ~2 million steps of busy work, then a third argument.
_SLOW = """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--epochs", type=int, default=3)
total = 0
for i in range(1000):
    for j in range(1000):
        total = total + i * j
parser.add_argument("--late", default="x")
args = parser.parse_args()
"""


def _key(result: ExtractionResult) -> tuple[object, ...]:
    return (result.parser_type, result.arguments, result.diagnostics)


def _budget_warnings(result: object) -> list[str]:
    return [
        f"{d.line}:{d.message}"
        for d in getattr(result, "diagnostics", [])
        if "evaluation steps" in d.message
    ]


def test_budget_exceeded_keeps_what_was_found_and_says_where(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(_SLOW, encoding="utf-8")
    result = extract_hyperparameters(path)
    assert [a.name for a in result.arguments] == ["lr", "epochs"]
    [warning] = [d for d in result.diagnostics if "evaluation steps" in d.message]
    assert warning.severity == "warning"
    assert warning.line == 8  # the busy loop's body, where the steps ran out
    assert f"budget of {MAX_STEPS} evaluation steps" in warning.message
    assert "arguments defined after this point are missing" in warning.message


def test_result_does_not_depend_on_the_clock(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine so slow that each clock read is an hour later gives the same result."""
    path = tmp_path / "train.py"
    path.write_text(_SLOW.replace("range(1000)", "range(100)"), encoding="utf-8")
    fast = extract_hyperparameters(path)
    hours = itertools.count(0, 3600.0)
    monkeypatch.setattr(time, "monotonic", lambda: next(hours))
    monkeypatch.setattr(time, "perf_counter", lambda: next(hours))
    slow = extract_hyperparameters(path)
    assert _key(slow) == _key(fast)
    assert [a.name for a in slow.arguments] == ["lr", "epochs", "late"]
    assert not _budget_warnings(slow)


def test_budget_is_an_exact_step_count() -> None:
    """Some budget B finishes; B - 1 stops: the cut-off is a count, not a race."""
    tree = ast.parse(_SLOW.replace("range(1000)", "range(20)"))
    lo, hi = 1, MAX_STEPS
    while lo < hi:  # the smallest budget that finishes
        mid = (lo + hi) // 2
        if _budget_warnings(extract_from_tree(tree, "t.py", max_steps=mid)):
            lo = mid + 1
        else:
            hi = mid
    enough = extract_from_tree(tree, "t.py", max_steps=lo)
    short = extract_from_tree(tree, "t.py", max_steps=lo - 1)
    assert [a.name for a in enough.arguments] == ["lr", "epochs", "late"]
    assert _budget_warnings(short)
    for _ in range(3):
        assert _key(extract_from_tree(tree, "t.py", max_steps=lo - 1)) == _key(short)


def test_copying_large_values_costs_steps(tmp_path: pathlib.Path) -> None:
    """Each copy of a 10,000-item dict costs 10,000 steps, so 20 copies exceed the budget."""
    source = (
        "d = {i: i for i in range(10000)}\n"
        "for k in range(1000):\n"
        "    e = d.copy()\n"
        "import argparse\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--x')\n"
        "p.parse_args()\n"
    )
    path = tmp_path / "train.py"
    path.write_text(source, encoding="utf-8")
    result = extract_hyperparameters(path)
    assert result.arguments == []
    assert [d.line for d in result.diagnostics if "evaluation steps" in d.message] == [3]
