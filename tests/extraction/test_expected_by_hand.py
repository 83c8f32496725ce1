"""Hand-written expected results (tests/extraction/expected/*.json) for a dozen fixtures.

The oracle and the extractor both follow docs/extraction.md, so a misreading
they share would pass the differential tests. These results were written by
hand from the libraries' documented behaviour, not produced by either; the
extractor and the runtime oracle must both equal them exactly.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.oracle import runtime_extract

HERE = pathlib.Path(__file__).parent
EXPECTED = sorted((HERE / "expected").glob("*.json"))


def test_a_dozen_fixtures_have_hand_written_results() -> None:
    assert len(EXPECTED) >= 12


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.stem)
def test_extractor_matches_hand_written_result(expected: pathlib.Path) -> None:
    want = json.loads(expected.read_text(encoding="utf-8"))
    fixture = HERE / "fixtures" / f"{expected.stem}.py"
    got = extract_hyperparameters(fixture).to_json()
    assert got.pop("complete") is True  # each of these scripts is followed everywhere
    assert json.dumps(got, sort_keys=True, indent=1) == json.dumps(want, sort_keys=True, indent=1)


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.stem)
def test_oracle_matches_hand_written_result(expected: pathlib.Path) -> None:
    want = json.loads(expected.read_text(encoding="utf-8"))
    got = runtime_extract(HERE / "fixtures" / f"{expected.stem}.py")
    assert json.dumps(got, sort_keys=True, indent=1) == json.dumps(want, sort_keys=True, indent=1)
