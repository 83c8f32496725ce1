"""Round trips over every fixture script: the reference rendering parses back to the same values."""

from __future__ import annotations

import pathlib
import random

import pytest

from tests.extraction.roundtrip import Stats, check_round_trips

FIXTURES = sorted((pathlib.Path(__file__).parent / "fixtures").glob("*.py"))


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_fixture_round_trips(fixture: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("EPOCHS", "LEARNING_RATE", "SEED", "LOCAL_RANK", "RANK"):
        monkeypatch.delenv(var, raising=False)
    check_round_trips(fixture, random.Random(fixture.stem))


def test_round_trips_cover_many_values(monkeypatch: pytest.MonkeyPatch) -> None:
    stats = Stats()
    for fixture in FIXTURES:
        check_round_trips(fixture, random.Random(fixture.stem), stats=stats)
    assert stats.agreed > 1000
