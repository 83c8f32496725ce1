"""The platform's training command vs the options the script accepts."""

from __future__ import annotations

import pathlib
import shlex
import textwrap

import pytest

from keynet_train.extraction import Argument, ExtractionResult, extract_hyperparameters
from keynet_train.extraction.command_check import (
    rejected_options,
    subcommand_problems,
    value_problems,
)
from keynet_train.extraction.render import render_command
from tests.extraction.oracle import ParseFailed, runtime_parser


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


# ---------------------------------------------------------------- wrong commands, table
# Backend-style commands built to be wrong. Each row: the script, the command,
# the problems the check must report (kind, option), and what the library
# itself does with the command (tests/extraction/oracle.py): it must reject it
# or misread the value, so every warning is about a real failure.
SCRIPTS = {
    "argparse": """
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--learning-rate", type=float, default=0.1)
        p.add_argument("--amp", action="store_true")
        p.add_argument("--pretrained", action="store_true")
        p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=True)
        p.add_argument("--milestones", nargs="+", type=int, default=[30, 60])
        p.add_argument("--gpu", action="append", type=int)
        p.add_argument("--shift", type=float, default=0.0)
        p.add_argument("-v", "--verbose", action="count", default=0)
        p.parse_args()
    """,
    "click": """
        import click
        @click.command()
        @click.option("--learning-rate", type=float, default=0.1)
        @click.option("--amp", is_flag=True)
        @click.option("--flip/--no-flip", default=True)
        @click.option("--gpu", multiple=True, type=int)
        @click.option("--shift", type=float, default=0.0)
        def main(learning_rate, amp, flip, gpu, shift):
            pass
        main()
    """,
    "typer": """
        from typing import List
        import typer
        def main(learning_rate: float = 0.1, amp: bool = False,
                 gpu: List[int] = typer.Option([0])):
            pass
        typer.run(main)
    """,
}

WRONG = [
    # bool flags given a value (issue 8 item 13)
    ("argparse", "--amp True", [("flag_value", "--amp True")], {"amp": True}),
    (
        "argparse",
        "--pretrained False",
        [("flag_value", "--pretrained False")],
        {"pretrained": False},
    ),
    ("argparse", "--flip False", [("flag_value", "--flip False")], {"flip": False}),
    ("argparse", "--amp=true", [("flag_value", "--amp=true")], {"amp": True}),
    ("argparse", "--verbose 2", [("flag_value", "--verbose 2")], {"verbose": 2}),
    ("click", "--amp True", [("flag_value", "--amp True")], {"amp": True}),
    ("click", "--flip false", [("flag_value", "--flip false")], {"flip": False}),
    ("typer", "--amp True", [("flag_value", "--amp True")], {"amp": True}),
    # lists written as literals
    (
        "argparse",
        "--milestones [30, 60, 90]",
        [("list_literal", "--milestones [30, 60, 90]")],
        {"milestones": [30, 60, 90]},
    ),
    (
        "argparse",
        "--milestones [30,60]",
        [("list_literal", "--milestones [30,60]")],
        {"milestones": [30, 60]},
    ),
    ("argparse", "--gpu [0, 1]", [("list_literal", "--gpu [0, 1]")], {"gpu": [0, 1]}),
    ("click", "--gpu '[0, 1]'", [("list_literal", "--gpu [0, 1]")], {"gpu": [0, 1]}),
    ("typer", "--gpu [0,1]", [("list_literal", "--gpu [0,1]")], {"gpu": [0, 1]}),
    # negative values without '='
    ("argparse", "--shift -1e-05", [("negative_value", "--shift -1e-05")], {"shift": -1e-05}),
    (
        "argparse",
        "--learning-rate -2.5e-3",
        [("negative_value", "--learning-rate -2.5e-3")],
        {"learning_rate": -2.5e-3},
    ),
    # wrong spellings: _ vs -, negative forms
    ("argparse", "--learning_rate 0.1", [("spelling", "--learning_rate")], {"learning_rate": 0.1}),
    ("argparse", "--no_flip", [("spelling", "--no_flip")], {"flip": False}),
    ("click", "--learning_rate 0.1", [("spelling", "--learning_rate")], {"learning_rate": 0.1}),
    ("click", "--no_flip", [("spelling", "--no_flip")], {"flip": False}),
    ("typer", "--learning_rate 0.1", [("spelling", "--learning_rate")], {"learning_rate": 0.1}),
    ("typer", "--no_amp", [("spelling", "--no_amp")], {"amp": False}),
    # several at once, in command order
    (
        "argparse",
        "--learning_rate 0.1 --amp True --milestones [1, 2]",
        [
            ("spelling", "--learning_rate"),
            ("flag_value", "--amp True"),
            ("list_literal", "--milestones [1, 2]"),
        ],
        {"learning_rate": 0.1, "amp": True, "milestones": [1, 2]},
    ),
]


@pytest.mark.parametrize(("family", "args", "problems", "intended"), WRONG)
def test_wrong_commands_are_explained(
    tmp_path: pathlib.Path,
    family: str,
    args: str,
    problems: list[tuple[str, str]],
    intended: dict[str, object],
) -> None:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(SCRIPTS[family]))
    result = extract_hyperparameters(path)
    command = f"python train.py {args}"
    spelling = [("spelling", r.option) for r in rejected_options(command, result)]
    values = value_problems(command, result)
    assert sorted(spelling + [(p.kind, p.option) for p in values]) == sorted(problems)
    for problem in values:
        text = problem.message("train.py")
        assert f"'{problem.argument.name}'" in text and "The script accepts:" in text
    # The library agrees the command is wrong: it rejects it or misreads a value.
    parse = runtime_parser(path)
    try:
        parsed = parse(shlex.split(args))
    except ParseFailed:
        return
    assert any(parsed.get(k) != v for k, v in intended.items()), parsed


def test_flag_messages_say_what_the_script_accepts(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(SCRIPTS["argparse"]))
    result = extract_hyperparameters(path)
    found = value_problems(
        "python train.py --pretrained False --flip False --shift -1e-05 --gpu [0, 1]", result
    )
    pretrained, flip, shift, gpu = (p.message("train.py") for p in found)
    assert "'pretrained' is a flag that takes no value" in pretrained
    assert "--pretrained (sets True) or nothing (leaves False)" in pretrained
    assert "--flip (true) or --no-flip (false)" in flip
    assert "The script accepts: --shift=-1e-05" in shift
    assert "--gpu V1 --gpu V2 ... (the option once per value)" in gpu


def test_missing_subcommand_and_global_option_order(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        textwrap.dedent(
            """
            import argparse
            p = argparse.ArgumentParser()
            p.add_argument("--seed", type=int, default=0)
            sub = p.add_subparsers(dest="cmd", required=True)
            t = sub.add_parser("train")
            t.add_argument("--lr", type=float, default=0.1)
            p.parse_args()
            """
        )
    )
    # The descriptor h-choice's sub-command selection produces for `--command train`.
    result = ExtractionResult(
        "argparse",
        [
            Argument("seed", "int", 0, flags=("--seed",), scope="global"),
            Argument("lr", "float", 0.1, flags=("--lr",)),
        ],
        command="train",
    )
    parse = runtime_parser(path)
    missing = subcommand_problems("python train.py --seed 1 --lr 0.2", result, "train.py")
    assert len(missing) == 1 and "without its sub-command 'train'" in missing[0]
    with pytest.raises(ParseFailed):
        parse(["--seed", "1", "--lr", "0.2"])
    late = subcommand_problems("python train.py train --lr 0.2 --seed 1", result, "train.py")
    assert len(late) == 1 and "passes --seed after the sub-command 'train'" in late[0]
    with pytest.raises(ParseFailed):
        parse(["train", "--lr", "0.2", "--seed", "1"])
    good = render_command(result, {"seed": 1, "lr": 0.2}).shell
    assert good == "python train.py --seed 1 train --lr 0.2"
    assert subcommand_problems(good, result, "train.py") == []
    assert value_problems(good, result) == []
    assert parse(shlex.split(good)[2:]) == {"seed": 1, "cmd": "train", "lr": 0.2}


def test_accepted_values_are_not_reported(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(SCRIPTS["argparse"]))
    result = extract_hyperparameters(path)
    command = (
        "python train.py --learning-rate=-1e-05 --amp --no-flip --milestones 1 2 "
        "--gpu 0 --gpu 1 --shift -1 -vv --learn 0.2"
    )
    assert value_problems(command, result) == []
    assert rejected_options(command, result) == []
