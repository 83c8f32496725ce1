"""Differential test: static extraction == runtime oracle, field by field, for every fixture."""

from __future__ import annotations

import pathlib

import pytest

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.agreement import (
    assert_descriptor_agrees,
    assert_fields_agree,
    assert_same_names,
)
from tests.extraction.oracle import normalise_help, runtime_extract

FIXTURES = sorted((pathlib.Path(__file__).parent / "fixtures").glob("*.py"))


def test_corpus_is_large_enough() -> None:
    assert len(FIXTURES) >= 60


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_static_matches_runtime(fixture: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("EPOCHS", "LEARNING_RATE", "SEED", "LOCAL_RANK", "RANK"):
        monkeypatch.delenv(var, raising=False)
    expected = normalise_help(runtime_extract(fixture))
    actual = normalise_help(extract_hyperparameters(fixture).to_json())
    assert actual["parser_type"] == expected["parser_type"]
    assert_same_names(expected["arguments"], actual["arguments"])  # type: ignore[arg-type]
    assert_fields_agree(expected["arguments"], actual["arguments"])  # type: ignore[arg-type]


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_descriptor_matches_runtime(fixture: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The descriptor: how each argument is spelled, as the library itself would accept it."""
    for var in ("EPOCHS", "LEARNING_RATE", "SEED", "LOCAL_RANK", "RANK"):
        monkeypatch.delenv(var, raising=False)
    expected = runtime_extract(fixture)
    actual = extract_hyperparameters(fixture).to_json()
    assert actual["command"] == expected["command"]
    assert_descriptor_agrees(expected["arguments"], actual["arguments"])  # type: ignore[arg-type]
