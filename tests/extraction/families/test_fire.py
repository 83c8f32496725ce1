"""fire: every reported spelling bound by fire itself; commands follow the sub-command rules."""

from __future__ import annotations

import contextlib
import io
import pathlib
from typing import Any

import pytest

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.families.library_runs import FIXTURES, load_fixture


@pytest.mark.parametrize(
    "fixture", ["fire_function.py", "fire_class.py", "fire_commands.py", "fire_class_methods.py"]
)
def test_fire_binds_every_reported_spelling(fixture: str) -> None:
    import fire

    module = load_fixture(fixture)
    result = extract_hyperparameters(FIXTURES / fixture)
    assert result.parser_type == "fire"
    component: Any = {
        "fire_function.py": lambda: module["train"],
        "fire_class.py": lambda: module["Trainer"],
        "fire_commands.py": lambda: {"train": module["train"], "eval": module["evaluate"]},
        "fire_class_methods.py": lambda: module["Runner"],
    }[fixture]()
    # The command first, then every flag (fire takes a class's flags on either side).
    prefix = [result.command] if result.command else []
    for spelling_index in range(3):
        argv = list(prefix)
        expected: dict[str, object] = {}
        for a in result.arguments:
            value = "x" if a.required else a.default
            expected[a.name] = value
            flag = a.flags[min(spelling_index, len(a.flags) - 1)]
            if a.kind == "negatable" and isinstance(value, bool):
                argv.append(flag if value else a.negative_flags[0])
            elif spelling_index == 1:
                argv.append(f"{flag}={value!r}")  # fire reads Python literals
            else:
                argv += [flag, repr(value)]
        with contextlib.redirect_stdout(io.StringIO()):
            got = fire.Fire(component, command=argv)
        if fixture == "fire_class.py":
            got = tuple(getattr(got, name) for name in expected)
        assert list(got) == list(expected.values()), argv


def test_fire_commands_follow_the_subcommand_rules(tmp_path: pathlib.Path) -> None:
    from keynet_train.errors import ExtractionError

    script = tmp_path / "run.py"
    script.write_text(
        "import fire\n"
        "def fit(lr=0.1):\n    pass\n"
        "def evaluate(path='x'):\n    pass\n"
        "fire.Fire({'fit': fit, 'evaluate': evaluate})\n"
    )
    with pytest.raises(ExtractionError, match="fit, evaluate"):
        extract_hyperparameters(script)
    chosen = extract_hyperparameters(script, command="evaluate")
    assert chosen.command == "evaluate"
    assert [(a.name, a.default, a.scope) for a in chosen.arguments] == [("path", "x", "command")]
    methods = extract_hyperparameters(FIXTURES / "fire_class_methods.py")
    assert methods.command == "train"
    assert [(a.name, a.scope) for a in methods.arguments][:3] == [
        ("workdir", "global"),
        ("seed", "global"),
        ("epochs", "command"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "    lr" + " " * 50_000 + "x",
        "    :param " + "a " * 50_000 + "x",
        "lr" + " " * 50_000 + "(",
    ],
)
def test_docstring_help_reading_is_linear(line: str, tmp_path: pathlib.Path) -> None:
    """A hostile docstring (long runs of spaces, no colon) takes no time to read."""
    script = tmp_path / "train.py"
    doc = "Train.\n\n    Args:\n" + line + "\n\n    Parameters\n    ----------\n" + line + "\n"
    script.write_text(f"import fire\ndef train(lr=0.1):\n    {doc!r}\nfire.Fire(train)\n")
    result = extract_hyperparameters(script)  # quadratic backtracking would take minutes
    assert [a.name for a in result.arguments] == ["lr"]
