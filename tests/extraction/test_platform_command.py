"""The predicted platform command (docs/platform-command.md) and its check, through inspect."""

from __future__ import annotations

import io
import json
import pathlib
import shlex

import pytest

from keynet_train.cli.environment import Environment
from keynet_train.cli.main import main
from keynet_train.extraction import Argument, ExtractionResult, extract_hyperparameters
from keynet_train.extraction.platform import (
    platform_command_problems,
    predict_platform_command,
)

#: The three situations of issue 16: each one stops the platform's job with a usage error.
SPELLING = (
    "import argparse\n"
    "p = argparse.ArgumentParser()\n"
    "p.add_argument('--data-root', default='/data')\n"
    "p.add_argument('--epochs', type=int, default=3)\n"
    "p.parse_args()\n"
)
STORE_TRUE = (
    "import argparse\n"
    "p = argparse.ArgumentParser()\n"
    "p.add_argument('--amp', action='store_true')\n"
    "p.add_argument('--lr', type=float, default=0.1)\n"
    "p.parse_args()\n"
)
CLICK_GROUP = (
    "import click\n"
    "@click.group()\n"
    "def cli():\n"
    "    pass\n"
    "@cli.command()\n"
    "@click.option('--lr', type=float, default=0.0002)\n"
    "def train(lr):\n"
    "    print(lr)\n"
    "if __name__ == '__main__':\n"
    "    cli()\n"
)
#: The fixes the problems give, applied: the same scripts the platform can run.
FIXED = {
    "spelling": SPELLING.replace("'--data-root',", "'--data-root', '--data_root',"),
    "store_true": (
        "import argparse\n"
        "def str2bool(v: str) -> bool:\n"
        "    return v.lower() in ('1', 'true', 'yes')\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--amp', type=str2bool, nargs='?', const=True, default=False)\n"
        "p.add_argument('--lr', type=float, default=0.1)\n"
        "print(p.parse_args())\n"
    ),
    "click_group": CLICK_GROUP.replace("    cli()\n", "    train()\n"),
}
SITUATIONS = {
    "spelling": (SPELLING, "data_root", "--data_root /data", "--data-root", "--data_root"),
    "store_true": (STORE_TRUE, "amp", "--amp False", "--amp (sets True)", "str2bool"),
    "click_group": (CLICK_GROUP, "train", "no sub-command", "train.py train", "train()"),
}


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=err, environ={"NO_COLOR": "1"})
    code = main(list(argv), env=env)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("situation", sorted(SITUATIONS))
def test_inspect_json_names_the_problem_and_its_fix(tmp_path: pathlib.Path, situation: str) -> None:
    script, argument, sends, accepts, fix = SITUATIONS[situation]
    path = tmp_path / "train.py"
    path.write_text(script)
    code, out, _ = _run("inspect", str(path), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["platform_command"].startswith("python train.py")
    [problem] = doc["problems"]
    assert set(problem) == {"argument", "sends", "accepts", "fix"}
    assert problem["argument"] == argument
    assert sends in problem["sends"]
    assert accepts in problem["accepts"]
    assert fix in problem["fix"]


@pytest.mark.parametrize("situation", sorted(SITUATIONS))
def test_inspect_table_prints_the_command_and_the_fix(
    tmp_path: pathlib.Path, situation: str
) -> None:
    script, argument, sends, _, fix = SITUATIONS[situation]
    path = tmp_path / "train.py"
    path.write_text(script)
    code, out, _ = _run("inspect", str(path))
    assert code == 0
    assert "Platform command (defaults): python train.py" in out
    assert "Platform command check: 1 problem;" in out
    assert f"1. {argument}: the platform sends" in out and sends in out
    assert "fix: " in out and fix in out


@pytest.mark.parametrize("situation", sorted(FIXED))
def test_the_fix_clears_the_problem(tmp_path: pathlib.Path, situation: str) -> None:
    """Applying the fix given makes the check pass, and the real script takes the command."""
    path = tmp_path / "train.py"
    path.write_text(FIXED[situation])
    code, out, _ = _run("inspect", str(path), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["problems"] == [], doc["problems"]
    code, out, _ = _run("inspect", str(path))
    assert code == 0 and "Platform command check: ok" in out
    # Our own fixture: running it is fine (the product never runs user code).
    import subprocess
    import sys

    argv = shlex.split(doc["platform_command"])
    ran = subprocess.run(
        [sys.executable, str(path), *argv[2:]], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr


def test_the_unfixed_scripts_really_fail_under_the_predicted_command(
    tmp_path: pathlib.Path,
) -> None:
    """The check is not a style rule: each predicted command stops the real script."""
    import subprocess
    import sys

    for situation, (script, *_rest) in SITUATIONS.items():
        path = tmp_path / f"{situation}.py"
        path.write_text(script)
        doc = json.loads(_run("inspect", str(path), "--json")[1])
        argv = shlex.split(doc["platform_command"])
        ran = subprocess.run(
            [sys.executable, str(path), *argv[2:]], capture_output=True, text=True, check=False
        )
        assert ran.returncode == 2, (situation, ran.stdout, ran.stderr)


def test_convention_for_bool_list_null_required_and_quotes() -> None:
    result = ExtractionResult(
        "argparse",
        [
            Argument("lr", "float", 1e-05, flags=("--lr",)),
            Argument("amp", "bool", False, flags=("--amp",), kind="flag", flag_value=True),
            Argument("ms", "int", [30, 60], flags=("--ms",), kind="list", list_style="space"),
            Argument("resume", "str", None, flags=("--resume",)),
            Argument("tags", "str", [], flags=("--tags",), kind="list", list_style="space"),
            Argument("data", "str", None, required=True, flags=("--data",)),
            Argument("name", "str", "my run", flags=("--name",)),
        ],
    )
    command = predict_platform_command(result, "train.py")
    assert command.text == (
        "python train.py --lr 1e-05 --amp False --ms [30, 60] --data DATA --name my run"
    )
    assert command.argv == shlex.split(command.text)
    overridden = predict_platform_command(result, "t.py", {"amp": True, "data": "/d", "lr": None})
    assert overridden.text == "python t.py --amp True --ms [30, 60] --data /d --name my run"


def test_positional_and_unquoted_values_are_problems() -> None:
    result = ExtractionResult(
        "argparse",
        [
            Argument("data_dir", "str", "/data", kind="positional", position=0),
            Argument("name", "str", "my run", flags=("--name",)),
        ],
    )
    command = predict_platform_command(result, "train.py")
    problems = platform_command_problems(command.text, result, "train.py")
    assert [(p.argument, p.sends) for p in problems] == [
        ("data_dir", "--data_dir /data"),
        ("name", "--name my run"),
    ]
    assert "add_argument('--data_dir', ...)" in problems[0].fix
    # A backend that quotes the value is fine.
    assert platform_command_problems("python train.py /data --name 'my run'", result, "x") == []


def test_a_model_name_without_py_is_still_judged() -> None:
    result = ExtractionResult(
        "argparse", [Argument("lr", "float", 0.1, flags=("--learning-rate",))]
    )
    command = predict_platform_command(result, "yolo-v9")
    assert command.text == "python yolo-v9 --lr 0.1"
    [problem] = platform_command_problems(command.text, result, "train.py")
    assert problem.argument == "lr" and "--lr" in problem.fix


def test_hf_training_arguments_have_no_warnings_and_no_problems(tmp_path: pathlib.Path) -> None:
    """HfArgumentParser bools take a value (string_to_bool): no BooleanOptionalAction advice."""
    pytest.importorskip("transformers")
    path = tmp_path / "train.py"
    path.write_text(
        "from transformers import HfArgumentParser, TrainingArguments\n"
        "parser = HfArgumentParser((TrainingArguments,))\n"
        "(training_args,) = parser.parse_args_into_dataclasses()\n"
    )
    code, out, err = _run("inspect", str(path), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["parser_type"] == "hfargparser"
    by_name = {a["name"]: a for a in doc["arguments"]}
    assert by_name["bf16"]["type"] == "bool"
    assert doc["warnings"] == []
    assert "warning" not in err and "BooleanOptionalAction" not in err
    # --bf16 False is what HF accepts: the platform's command is fine (and an
    # empty list default such as include_for_metrics is not written).
    assert "--bf16 False" in doc["platform_command"]
    assert doc["problems"] == []
    # And HfArgumentParser really takes it (our own fixture: running it is fine).
    import subprocess
    import sys

    probe = tmp_path / "probe.py"
    probe.write_text(
        "from transformers import HfArgumentParser, TrainingArguments\n"
        "(args,) = HfArgumentParser((TrainingArguments,)).parse_args_into_dataclasses()\n"
        "print(args.bf16, args.include_for_metrics)\n"
    )
    argv = shlex.split(doc["platform_command"])
    ran = subprocess.run(
        [sys.executable, str(probe), *argv[2:]], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split()[-2:] == ["False", "[]"]


def test_plain_argparse_type_bool_still_warns(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import argparse\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--amp', type=bool, default=False)\n"
        "p.parse_args()\n"
    )
    doc = json.loads(_run("inspect", str(path), "--json")[1])
    [warning] = doc["warnings"]
    assert warning["code"] == "extraction" and warning["line"] == 3
    # Not BooleanOptionalAction: the platform writes --amp False, which it rejects.
    assert "type=str2bool" in warning["message"]
    assert "BooleanOptionalAction" not in warning["message"]


def test_extracted_result_round_trip(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(SPELLING)
    result = extract_hyperparameters(path)
    command = predict_platform_command(result, "train.py")
    assert command.argv == ["python", "train.py", "--data_root", "/data", "--epochs", "3"]


def test_a_partial_list_is_a_warning_with_its_own_code(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import argparse\n"
        "import somelib\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--lr', type=float, default=0.1)\n"
        "p = somelib.wrap(p)\n"
        "p.parse_args()\n"
    )
    code, out, err = _run("inspect", str(path), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["complete"] is False
    assert [(w["code"], w["line"]) for w in doc["warnings"]] == [
        ("extraction", 5),
        ("incomplete-extraction", None),
    ]
    # Printed on stderr too: one line per warning.
    assert err.count("warning: ") + err.count("Warning: ") == len(doc["warnings"])


def test_every_code_is_documented() -> None:
    from keynet_train import notices

    docs = (pathlib.Path(__file__).parents[2] / "docs" / "json-output.md").read_text()
    for code in notices.CODES:
        assert f"| `{code}` |" in docs, code


def _problems(tmp_path: pathlib.Path, script: str) -> list[dict[str, str]]:
    path = tmp_path / "train.py"
    path.write_text(script)
    doc = json.loads(_run("inspect", str(path), "--json")[1])
    return doc["problems"]  # type: ignore[no-any-return]


def test_tyro_bool_flags_and_their_fix(tmp_path: pathlib.Path) -> None:
    script = (
        "import dataclasses\n"
        "import tyro\n"
        "@dataclasses.dataclass\n"
        "class Args:\n"
        "    use_amp: bool = False\n"
        "args = tyro.cli(Args)\n"
    )
    [problem] = _problems(tmp_path, script)
    assert problem["sends"] == "--use_amp False"
    assert "tyro.conf.FlagConversionOff" in problem["fix"]
    fixed = script.replace("import tyro\n", "import tyro\nfrom typing import Annotated\n").replace(
        "use_amp: bool", "use_amp: Annotated[bool, tyro.conf.FlagConversionOff]"
    )
    assert _problems(tmp_path, fixed) == []


def test_fire_list_literal_is_split_by_the_platform(tmp_path: pathlib.Path) -> None:
    script = "import fire\ndef main(milestones=[30, 60], lr=0.1):\n    pass\nfire.Fire(main)\n"
    [problem] = _problems(tmp_path, script)
    assert (problem["argument"], problem["sends"]) == ("milestones", "--milestones [30, 60]")


def test_globals_configurator_fix_is_in_the_script(tmp_path: pathlib.Path) -> None:
    fixture = pathlib.Path(__file__).parent / "fixtures" / "globals_configurator.py"
    problems = _problems(tmp_path, fixture.read_text())
    first = problems[0]
    assert first["accepts"].endswith("=VALUE")
    assert "argparse" in first["fix"] and "on the platform" not in first["fix"]


def test_a_projects_string_bool_default_is_noted_not_warned(tmp_path: pathlib.Path) -> None:
    """'no' reads as False through string_to_bool: the script's own field gets an info line."""
    pytest.importorskip("transformers")
    path = tmp_path / "train.py"
    path.write_text(
        "from dataclasses import dataclass\n"
        "from transformers import HfArgumentParser\n"
        "@dataclass\n"
        "class Args:\n"
        "    seen: bool = 'no'\n"
        "(args,) = HfArgumentParser((Args,)).parse_args_into_dataclasses()\n"
    )
    code, out, err = _run("inspect", str(path), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["warnings"] == []
    [seen] = doc["arguments"]
    assert seen["default"] is False
    assert "train.py:5" in err and "string_to_bool reads as False" in err
