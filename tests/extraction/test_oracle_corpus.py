"""Differential test: static extraction == runtime oracle, field by field, for every fixture."""

from __future__ import annotations

import json
import pathlib

import pytest

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.oracle import normalise_help, runtime_extract

FIXTURES = sorted((pathlib.Path(__file__).parent / "fixtures").glob("*.py"))
FIELDS = ("name", "type", "default", "required", "help", "choices")
#: The SPEC §6.1 descriptor, key by key (absent keys compare as absent).
DESCRIPTOR = (
    "flags",
    "kind",
    "flag_value",
    "negative_flags",
    "list_style",
    "nargs",
    "position",
    "min",
    "max",
    "min_open",
    "max_open",
    "scope",
    "exclusive_group",
)


def test_corpus_is_large_enough() -> None:
    assert len(FIXTURES) >= 60


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_static_matches_runtime(fixture: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("EPOCHS", "LEARNING_RATE", "SEED", "LOCAL_RANK", "RANK"):
        monkeypatch.delenv(var, raising=False)
    expected = normalise_help(runtime_extract(fixture))
    actual = normalise_help(extract_hyperparameters(fixture).to_json())
    assert actual["parser_type"] == expected["parser_type"]
    exp_args = expected["arguments"]
    act_args = actual["arguments"]
    assert [a["name"] for a in act_args] == [a["name"] for a in exp_args]  # type: ignore[index,union-attr]
    for exp, act in zip(exp_args, act_args, strict=True):  # type: ignore[call-overload]
        for field in FIELDS:
            # json.dumps distinguishes 1 from 1.0 and True from 1.
            assert json.dumps(act[field]) == json.dumps(exp[field]), (exp["name"], field)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_descriptor_matches_runtime(fixture: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SPEC §6.1: how each argument is spelled, as the library itself would accept it."""
    for var in ("EPOCHS", "LEARNING_RATE", "SEED", "LOCAL_RANK", "RANK"):
        monkeypatch.delenv(var, raising=False)
    expected = runtime_extract(fixture)
    actual = extract_hyperparameters(fixture).to_json()
    assert actual["command"] == expected["command"]
    for exp, act in zip(expected["arguments"], actual["arguments"], strict=True):  # type: ignore[call-overload]
        for key in DESCRIPTOR:
            assert json.dumps(act.get(key, "<absent>")) == json.dumps(exp.get(key, "<absent>")), (
                exp["name"],
                key,
            )
