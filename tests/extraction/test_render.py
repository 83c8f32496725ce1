"""The reference rendering (docs/cli-descriptor.md): spellings, order, quoting, refusals."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from keynet_train.extraction import Argument, ExtractionResult, extract_hyperparameters
from keynet_train.extraction.render import UnrenderableError, render_arguments, render_command

ARGPARSE = """
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--amp", action="store_true")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--milestones", nargs="+", type=int, default=[30, 60])
    p.add_argument("--gpu", action="append", type=int)
    p.add_argument("-v", action="count", default=0)
    p.add_argument("--name", default="run")
    p.parse_args()
"""


def _result(tmp_path: pathlib.Path, source: str) -> ExtractionResult:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(source))
    return extract_hyperparameters(path)


def test_each_kind_is_written_as_its_library_wants(tmp_path: pathlib.Path) -> None:
    result = _result(tmp_path, ARGPARSE)
    values = {
        "data": "my data",
        "lr": -1e-05,
        "amp": True,
        "flip": False,
        "milestones": [10, 20, 30],
        "gpu": [0, 1],
        "v": 2,
        "name": "-odd",
    }
    rendering = render_command(result, values)
    assert rendering.argv == [
        *("python", "train.py", "--lr=-1e-05", "--amp", "--no-flip"),
        *("--milestones", "10", "20", "30", "--gpu", "0", "--gpu", "1", "-v", "-v"),
        *("--name=-odd", "--", "my data"),
    ]
    assert rendering.shell.endswith("--name=-odd -- 'my data'")


def test_defaults_are_left_out_unless_asked(tmp_path: pathlib.Path) -> None:
    result = _result(tmp_path, ARGPARSE)
    assert render_arguments(result, {"data": "d"}) == ["d"]
    assert render_arguments(result, {"data": "d"}, explicit_defaults=True) == [
        *("--lr", "0.1", "--flip", "--milestones", "30", "60", "--name", "run", "--", "d"),
    ]


def test_values_the_library_cannot_take_are_refused(tmp_path: pathlib.Path) -> None:
    result = _result(tmp_path, ARGPARSE)
    with pytest.raises(UnrenderableError) as info:
        render_arguments(result, {"milestones": [], "amp": "yes", "v": -1})
    reasons = {r.argument: r.reason for r in info.value.refusals}
    assert reasons["data"] == "required, and no value was given"
    assert "nargs='+'" in reasons["milestones"]
    assert "a flag that only sets True" in reasons["amp"]
    assert "a count cannot go below 0" in reasons["v"]
    # argparse takes a negative number after an option, not other words starting with '-'.
    assert render_arguments(result, {"data": "d", "milestones": [1, -2]}) == [
        *("--milestones", "1", "-2", "--", "d"),
    ]
    with pytest.raises(UnrenderableError, match="not an integer"):
        render_arguments(result, {"data": "d", "milestones": [1, "-x"]})


def test_click_values_starting_with_a_dash_use_equals(tmp_path: pathlib.Path) -> None:
    result = _result(
        tmp_path,
        """
        import click
        @click.command()
        @click.option("--name", default="a")
        @click.option("-s", "shift", type=float, default=0.0)
        @click.option("--size", nargs=2, type=int, default=(1, 2))
        def main(name, shift, size):
            pass
        main()
        """,
    )
    assert render_arguments(result, {"name": "-x", "shift": -2.5}) == ["--name=-x", "-s-2.5"]
    with pytest.raises(UnrenderableError, match="reads a list value starting with '-'"):
        render_arguments(result, {"size": [-1, 2]})
    with pytest.raises(UnrenderableError, match="takes exactly 2 values"):
        render_arguments(result, {"size": [1]})


def test_global_options_then_sub_command_then_its_options() -> None:
    result = ExtractionResult(
        "click",
        [
            Argument("seed", "int", 0, flags=("--seed",), scope="global"),
            Argument("lr", "float", 0.1, flags=("--lr",)),
            Argument("data", "str", None, True, kind="positional", position=0),
        ],
        command="train",
    )
    rendering = render_command(result, {"lr": 0.2, "seed": 3, "data": "-d"}, ("python", "t.py"))
    assert rendering.shell == "python t.py --seed 3 train --lr 0.2 -- -d"


def test_the_reference_rendering_of_the_defaults(tmp_path: pathlib.Path) -> None:
    result = _result(tmp_path, ARGPARSE)
    with pytest.raises(UnrenderableError) as info:
        render_command(result, program=("python", "src/train.py"))
    assert [str(r) for r in info.value.refusals] == ["data=None: required, and no value was given"]
    result.arguments[0] = result.arguments[0]._replace(required=False, default="d")
    rendering = render_command(result, program=("python", "src/train.py"))
    assert rendering.shell == "python src/train.py d"


def test_descriptor_survives_the_label_json(tmp_path: pathlib.Path) -> None:
    result = _result(tmp_path, ARGPARSE)
    for argument in result.arguments:
        assert Argument.from_json(argument.to_json()) == argument


def test_hfargparser_values_are_read_by_argparse(tmp_path: pathlib.Path) -> None:
    # HfArgumentParser is an argparse parser: a negative number after an option is
    # a value there too (its family record's argparse_rules), and '--' is dropped.
    result = _result(
        tmp_path,
        """
        from dataclasses import dataclass, field
        from transformers import HfArgumentParser

        @dataclass
        class Args:
            offsets: list[int] = field(default_factory=lambda: [0])
            name: str = "a"

        (args,) = HfArgumentParser(Args).parse_args_into_dataclasses()
        """,
    )
    assert result.parser_type == "hfargparser"
    assert render_arguments(result, {"offsets": [1, -2]}) == ["--offsets", "1", "-2"]
    with pytest.raises(UnrenderableError, match="argparse drops the word '--'"):
        render_arguments(result, {"name": "--"})
