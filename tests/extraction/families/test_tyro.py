"""tyro: the reported spellings parsed back to the defaults by tyro itself."""

from __future__ import annotations

from typing import Any

import pytest

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.families.library_runs import FIXTURES, load_fixture, word


@pytest.mark.parametrize("fixture", ["tyro_dataclass.py", "tyro_function.py"])
def test_tyro_parses_the_reported_spellings_back_to_the_defaults(fixture: str) -> None:
    import tyro

    module = load_fixture(fixture)
    result = extract_hyperparameters(FIXTURES / fixture)
    assert result.parser_type == "tyro"
    argv: list[str] = []
    for a in result.arguments:
        value = "x" if a.required else a.default
        if a.kind == "negatable" and isinstance(value, bool):
            argv.append(a.flags[0] if value else a.negative_flags[0])
        elif isinstance(value, list):
            argv += [a.flags[0], *(word(v) for v in value)]
        else:
            argv += [a.flags[0], word(value)]
    seen: dict[str, object] = {}
    if fixture == "tyro_function.py":
        target = module["main"]

        def record(**kwargs: object) -> None:
            seen.update(kwargs)

        record.__signature__ = __import__("inspect").signature(target)  # type: ignore[attr-defined]
        record.__annotations__ = target.__annotations__
        tyro.cli(record, args=argv)
    else:
        instance = tyro.cli(module["Args"], args=argv)
        for a in result.arguments:
            obj: Any = instance
            for part in a.name.split("."):
                obj = getattr(obj, part)
            seen[a.name] = obj
    for a in result.arguments:
        got = seen[a.name]
        got = got.name if hasattr(got, "name") and not isinstance(got, str) else got
        got = list(got) if isinstance(got, tuple) else got
        assert got == ("x" if a.required else a.default), a.name
