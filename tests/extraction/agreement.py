"""Static extraction against the runtime oracle, argument by argument and key by key.

Shared by the fixture corpus, the multi-module projects and the parser-choice
tests. Values are compared as JSON text: ``json.dumps`` tells 1 from 1.0 and
True from 1, which ``==`` does not.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

#: The six fields of each argument (what the platform stores).
FIELDS = ("name", "type", "default", "required", "help", "choices")
#: The descriptor (docs/cli-descriptor.md), key by key (absent keys compare as absent).
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

Arguments = Sequence[dict[str, Any]]


def assert_same_names(expected: Arguments, actual: Arguments) -> None:
    """The same argument names in the same order."""
    assert [a["name"] for a in actual] == [a["name"] for a in expected]


def assert_fields_agree(expected: Arguments, actual: Arguments) -> None:
    """Every one of the six fields of every argument is the same (same number of arguments)."""
    for exp, act in zip(expected, actual, strict=True):
        for field in FIELDS:
            assert json.dumps(act[field]) == json.dumps(exp[field]), (exp["name"], field)


def assert_descriptor_agrees(expected: Arguments, actual: Arguments) -> None:
    """Every descriptor key of every argument is the same, absent as absent."""
    for exp, act in zip(expected, actual, strict=True):
        for key in DESCRIPTOR:
            assert json.dumps(act.get(key, "<absent>")) == json.dumps(exp.get(key, "<absent>")), (
                exp["name"],
                key,
            )
