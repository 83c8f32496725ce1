"""The result types: the descriptor read back from JSON (an image label) is validated."""

from __future__ import annotations

import pytest

from keynet_train.extraction.model import KINDS, LIST_STYLES, SCOPES, Argument


def test_every_descriptor_value_round_trips() -> None:
    for kind in KINDS:
        for style in (None, *LIST_STYLES):
            for scope in SCOPES:
                arg = Argument("lr", "float", kind=kind, list_style=style, scope=scope)
                assert Argument.from_json(arg.to_json()) == arg


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("kind", "switch", "the kind of 'lr' is 'switch', not one of: value, flag,"),
        ("kind", None, "the kind of 'lr' is None"),
        ("list_style", "comma", "the list style of 'lr' is 'comma', not one of: space,"),
        ("scope", 3, "the scope of 'lr' is 3, not one of: global, command"),
    ],
)
def test_from_json_names_a_value_outside_its_literal(
    field: str, value: object, expected: str
) -> None:
    doc = Argument("lr", "float").to_json()
    doc[field] = value
    with pytest.raises(ValueError) as info:
        Argument.from_json(doc)
    assert expected in str(info.value)


def test_from_json_defaults_what_an_older_label_lacks() -> None:
    arg = Argument.from_json({"name": "lr", "type": "float"})
    assert (arg.kind, arg.list_style, arg.scope) == ("value", None, "command")
