"""The platform's training command vs the options the script accepts."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from keynet_train.extraction import extract_hyperparameters
from keynet_train.extraction.command_check import rejected_options


def _result(tmp_path: pathlib.Path, source: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(source))
    return extract_hyperparameters(path)


ARGPARSE = """
    import argparse
    p = argparse.ArgumentParser()
    p.add_argument("--learning-rate", type=float, default=0.1)
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--no-flip", dest="flip", action="store_false")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--warmup-steps", dest="warmup", type=int, default=3)
    p.parse_args()
"""


def test_argparse_spellings(tmp_path: pathlib.Path) -> None:
    # --warmup is accepted: argparse takes a unique prefix of --warmup-steps.
    result = _result(tmp_path, ARGPARSE)
    command = (
        "python train.py --learning_rate 0.1 --batch_size 8 --flip --amp --no-amp "
        "--warmup 3 --unknown 1 -5"
    )
    rejected = rejected_options(command, result)
    assert [(r.option, r.argument.name) for r in rejected] == [
        ("--learning_rate", "learning_rate"),
        ("--flip", "flip"),
    ]
    alias, flag = (r.message("train.py") for r in rejected)
    assert "declares 'learning_rate' as --learning-rate" in alias
    assert "add_argument('--learning-rate', '--learning_rate', ...)" in alias
    assert "argparse.BooleanOptionalAction" in flag and "--no-flip" in flag


def test_accepted_command_and_option_equals_value(tmp_path: pathlib.Path) -> None:
    result = _result(tmp_path, ARGPARSE)
    command = "python -u train.py --learning-rate=0.1 --batch_size 8 --no-flip -- --flip"
    assert rejected_options(command, result) == []


def test_typer_multiword_parameters_are_dashed(tmp_path: pathlib.Path) -> None:
    result = _result(
        tmp_path,
        """
        import typer
        def main(learning_rate: float = 0.1, fp16: bool = False, epochs: int = 3):
            pass
        typer.run(main)
        """,
    )
    rejected = rejected_options("python train.py --learning_rate 0.1 --fp16 --epochs 3", result)
    assert [r.option for r in rejected] == ["--learning_rate"]
    assert "typer.Option('--learning-rate', '--learning_rate')" in rejected[0].message("t.py")


def test_click_declared_names(tmp_path: pathlib.Path) -> None:
    result = _result(
        tmp_path,
        """
        import click
        @click.command()
        @click.option("--lr", "learning_rate", type=float, default=0.1)
        @click.option("--shuffle/--no-shuffle", default=True)
        def main(learning_rate, shuffle):
            pass
        main()
        """,
    )
    rejected = rejected_options("python train.py --learning_rate 0.1 --shuffle", result)
    assert [r.option for r in rejected] == ["--learning_rate"]
    assert "@click.option('--lr', '--learning_rate', ...)" in rejected[0].message("t.py")


@pytest.mark.parametrize(
    "command",
    [
        "",
        "python -m trainer --learning_rate 1",  # not a script: not judged
        "python train.py 'unbalanced",  # not shell-splittable
        "bash run.sh --learning_rate 1",
    ],
)
def test_commands_that_are_not_judged(tmp_path: pathlib.Path, command: str) -> None:
    assert rejected_options(command, _result(tmp_path, ARGPARSE)) == []


def test_no_parser_means_nothing_to_check(tmp_path: pathlib.Path) -> None:
    result = _result(tmp_path, "print('no parser')\n")
    assert rejected_options("python train.py --learning_rate 1", result) == []


FAMILIES = pathlib.Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("fixture", "command", "rejected"),
    [
        # HfArgumentParser: --x and --x-y; --no_x only for bools defaulting to True.
        (
            "hf_finetune.py",
            "python hf_finetune.py --learning_rate 1e-4 --max-seq-length 64 --fp16 "
            "--no_use_fast_tokenizer --no_fp16 --task_name x --output_dir o",
            ["--no_fp16"],
        ),
        # fire: any dashes, '-' or '_', --noflag for bools.
        (
            "fire_function.py",
            "python fire_function.py --lr=0.1 --batch-size 8 -epochs 3 --nouse_amp "
            "--no-use-amp --data_dir d",
            ["--no-use-amp"],
        ),
        # tyro: hyphenated flags; tyro 1.0 also reads underscores.
        (
            "tyro_dataclass.py",
            "python tyro_dataclass.py --exp-name a --total_timesteps 5 --no-cuda --nocuda "
            "--optim.lr 0.1",
            ["--nocuda"],
        ),
        # globals: only --key=value.
        (
            "globals_configurator.py",
            "python globals_configurator.py --batch_size=8 --learning_rate 0.1 --compile=False",
            ["--learning_rate"],
        ),
    ],
)
def test_family_spellings(fixture: str, command: str, rejected: list[str]) -> None:
    result = extract_hyperparameters(FAMILIES / fixture)
    found = rejected_options(command, result)
    assert [r.option for r in found] == rejected
    for r in found:
        message = r.message(fixture)
        assert r.option in message and "push again" in message


def test_globals_message_says_key_equals_value() -> None:
    result = extract_hyperparameters(FAMILIES / "globals_configurator.py")
    (found,) = rejected_options("python globals_configurator.py --dropout 0.1", result)
    assert "--dropout=VALUE" in found.message("train.py")
