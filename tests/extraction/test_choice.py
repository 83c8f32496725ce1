"""Parser choice by data flow (pre-parsers, opaque helpers), sub-commands, other mechanisms."""

from __future__ import annotations

import io
import json
import pathlib
import textwrap

import pytest

from keynet_train.cli.environment import Environment
from keynet_train.cli.main import main
from keynet_train.errors import ExtractionError
from keynet_train.extraction import ExtractionResult, extract_hyperparameters
from keynet_train.extraction.command_check import rejected_options, subcommand_problems
from tests.extraction.agreement import assert_fields_agree, assert_same_names
from tests.extraction.oracle import runtime_extract

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
SUBCOMMANDS = FIXTURES / "subcommands"


def _extract(tmp_path: pathlib.Path, source: str, command: str | None = None) -> ExtractionResult:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(source))
    return extract_hyperparameters(path, command)


def _warnings(result: ExtractionResult) -> list[str]:
    return [d.message for d in result.diagnostics if d.severity == "warning"]


def _run(*argv: str, cwd: pathlib.Path | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=err, environ={"NO_COLOR": "1"})
    code = main(list(argv), env=env)
    return code, out.getvalue(), err.getvalue()


def _assert_agrees(path: pathlib.Path, command: str | None) -> ExtractionResult:
    expected = runtime_extract(path, command)
    result = extract_hyperparameters(path, command)
    assert result.command == expected["command"]
    exp_args: list[dict[str, object]] = expected["arguments"]  # type: ignore[assignment]
    act_args = [a.to_json() for a in result.arguments]
    assert_same_names(exp_args, act_args)
    assert_fields_agree(exp_args, act_args)
    for arg, exp in zip(result.arguments, exp_args, strict=True):
        assert sorted(arg.flags) == exp["flags"]
        assert arg.scope == exp.get("scope", "command")
    return result


# ------------------------------------------------------------------- pre-parser
def test_pre_parser_options_come_with_the_main_parser_and_are_announced() -> None:
    result = _assert_agrees(FIXTURES / "ap_preparser_config.py", None)
    assert [a.name for a in result.arguments] == ["config", "lr", "momentum", "epochs", "amp"]
    infos = [d for d in result.diagnostics if "config pre-parser" in d.message]
    assert len(infos) == 1 and infos[0].severity == "info" and infos[0].line == 20


def test_parse_known_args_alone_is_the_parse_used(tmp_path: pathlib.Path) -> None:
    result = _assert_agrees(FIXTURES / "ap_parse_known_only.py", None)
    assert [a.name for a in result.arguments] == ["lr", "workers"]
    assert not any("pre-parser" in d.message for d in result.diagnostics)


def test_a_parser_that_only_shares_sys_argv_is_not_a_pre_parser(tmp_path: pathlib.Path) -> None:
    result = _extract(
        tmp_path,
        """
        import argparse
        pre = argparse.ArgumentParser(add_help=False)
        pre.add_argument("--local_rank", type=int, default=0)
        pre.parse_known_args()
        main = argparse.ArgumentParser()
        main.add_argument("--lr", type=float, default=0.1)
        args = main.parse_args()
        """,
    )
    # The remainder does not flow into main: main alone is what the script uses.
    assert [a.name for a in result.arguments] == ["lr"]


# ----------------------------------------------------------- opaque helpers
def test_parser_passed_to_an_unresolved_helper_warns(tmp_path: pathlib.Path) -> None:
    result = _extract(
        tmp_path,
        """
        import argparse
        from somewhere_else import add_model_args
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1)
        add_model_args(parser)
        group = parser.add_argument_group("data")
        Trainer.add_argparse_args(group)
        args = parser.parse_args()
        """,
    )
    assert [a.name for a in result.arguments] == ["lr"]
    warnings = _warnings(result)
    assert any("passed to add_model_args()" in w and "may be missing" in w for w in warnings)
    assert any("passed to Trainer.add_argparse_args()" in w for w in warnings)


def test_parser_wrapped_by_an_unresolved_helper_warns(tmp_path: pathlib.Path) -> None:
    result = _extract(
        tmp_path,
        """
        import argparse
        import deepspeed
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int, default=1)
        parser = deepspeed.add_config_arguments(parser)
        args = parser.parse_args()
        """,
    )
    # The helper returns the parser it got (its documented idiom): the same
    # parser is parsed at line 7, and the list says it may be partial.
    assert [a.name for a in result.arguments] == ["epochs"]
    warnings = _warnings(result)
    assert any("passed to deepspeed.add_config_arguments()" in w for w in warnings)
    assert not any("parsed at line 7 by parser" in w for w in warnings)
    assert result.complete is False


def test_parser_returned_by_an_unresolved_function_warns(tmp_path: pathlib.Path) -> None:
    result = _extract(
        tmp_path,
        """
        from utils import get_args_parser
        parser = get_args_parser()
        args = parser.parse_args()
        """,
    )
    assert result.parser_type is None and result.arguments == []
    (warning,) = _warnings(result)
    assert "line 4" not in warning and "parsed here by parser" in warning
    assert result.diagnostics[-1].line == 4


def test_harmless_consumers_do_not_warn(tmp_path: pathlib.Path) -> None:
    result = _extract(
        tmp_path,
        """
        import argparse
        import argcomplete
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1)
        argcomplete.autocomplete(parser)
        print(parser)
        args = parser.parse_args()
        """,
    )
    assert _warnings(result) == []


def test_zero_arguments_always_come_with_a_diagnostic(tmp_path: pathlib.Path) -> None:
    result = _extract(
        tmp_path,
        """
        import argparse
        parser = argparse.ArgumentParser(description="nothing here yet")
        args = parser.parse_args()
        """,
    )
    assert result.parser_type == "argparse" and result.arguments == []
    (warning,) = _warnings(result)
    assert "has no arguments that could be read statically" in warning


# ---------------------------------------------------------------- sub-commands
@pytest.mark.parametrize(
    ("fixture", "command", "names"),
    [
        ("ap_no_train.py", "finetune", ["seed", "lr", "freeze"]),
        ("ap_no_train.py", "ft", ["seed", "lr", "freeze"]),  # an alias
        ("ap_no_train.py", "pretrain", ["seed", "steps"]),
        ("click_no_train.py", "finetune", ["seed", "lr"]),
        ("typer_no_train.py", "fine-tune", ["lr", "freeze"]),
    ],
)
def test_command_chooses_the_sub_command(fixture: str, command: str, names: list[str]) -> None:
    result = _assert_agrees(SUBCOMMANDS / fixture, command)
    assert [a.name for a in result.arguments] == names
    assert result.command == command
    assert result.to_json()["command"] == command


@pytest.mark.parametrize("fixture", ["ap_no_train.py", "click_no_train.py", "typer_no_train.py"])
def test_several_sub_commands_without_train_is_an_error_listing_them(fixture: str) -> None:
    with pytest.raises(ExtractionError) as info:
        extract_hyperparameters(SUBCOMMANDS / fixture)
    message = str(info.value)
    assert "pretrain" in message and "none is named 'train'" in message
    assert "--command NAME" in (info.value.hint or "")


def test_unknown_command_lists_the_sub_commands() -> None:
    with pytest.raises(ExtractionError) as info:
        extract_hyperparameters(SUBCOMMANDS / "ap_no_train.py", "evaluate")
    assert "no sub-command 'evaluate'; its sub-commands are: pretrain, finetune" in str(info.value)


def test_command_for_a_script_without_sub_commands_is_an_error() -> None:
    with pytest.raises(ExtractionError, match="has no sub-commands"):
        extract_hyperparameters(FIXTURES / "ap_basic.py", "train")


def test_default_command_is_asked_only_when_there_are_sub_commands() -> None:
    asked: list[int] = []

    def project_command() -> str:
        asked.append(1)
        return "pretrain"

    result = extract_hyperparameters(FIXTURES / "ap_basic.py", None, project_command)
    assert asked == [] and result.command is None
    result = extract_hyperparameters(SUBCOMMANDS / "ap_no_train.py", None, project_command)
    assert asked == [1] and result.command == "pretrain"
    # --command wins over the project file.
    result = extract_hyperparameters(SUBCOMMANDS / "ap_no_train.py", "finetune", project_command)
    assert result.command == "finetune" and asked == [1]


def test_inspect_command_flag_json_and_error(tmp_path: pathlib.Path) -> None:
    path = SUBCOMMANDS / "click_no_train.py"
    code, out, err = _run("inspect", str(path), "--command", "pretrain", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["command"] == "pretrain"
    assert [a["name"] for a in payload["arguments"]] == ["seed", "steps"]
    code, out, err = _run("inspect", str(path))
    assert code == 1 and out == ""
    assert "Traceback" not in err and "pretrain, finetune" in err and "--command" in err
    code, out, err = _run("inspect", str(path), "--json")
    assert code == 1
    assert json.loads(out)["error"]["type"] == "validation"


def test_inspect_reads_command_from_the_project_file(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "cli.py"
    script.write_text((SUBCOMMANDS / "ap_no_train.py").read_text())
    (tmp_path / "keynet.toml").write_text('command = "pretrain"\n')
    code, out, err = _run("inspect", str(script), "--json")
    assert code == 0, err
    assert json.loads(out)["command"] == "pretrain"
    code, out, err = _run("inspect", str(script), "--json", "--command", "finetune")
    assert json.loads(out)["command"] == "finetune"
    code, out, err = _run("inspect", str(script))
    assert out.splitlines()[0] == "Parser: argparse (2 arguments, sub-command pretrain)"


def test_project_file_command_must_be_a_string(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "cli.py"
    script.write_text((SUBCOMMANDS / "ap_no_train.py").read_text())
    (tmp_path / "keynet.toml").write_text("command = 3\n")
    code, _out, err = _run("inspect", str(script))
    assert code == 1 and "command" in err and "keynet.toml" in err and "Traceback" not in err


# ------------------------------------------------------- the training command
def test_training_command_needs_the_sub_command_in_its_place() -> None:
    result = extract_hyperparameters(FIXTURES / "ap_subparsers.py")  # parent + train
    assert result.command == "train"
    assert [(a.name, a.scope) for a in result.arguments] == [
        ("config", "global"),
        ("verbose", "global"),
        ("lr", "command"),
    ]
    good = "python train.py --config c.yaml --verbose train --lr 0.1"
    assert subcommand_problems(good, result, "train.py") == []
    assert rejected_options(good, result) == []
    (missing,) = subcommand_problems("python train.py --config c.yaml --lr 0.1", result, "train.py")
    assert "without its sub-command 'train'" in missing
    problems = subcommand_problems("python train.py --lr 0.1 train --config x", result, "train.py")
    assert len(problems) == 2
    assert "--lr before the sub-command" in problems[0]
    assert "--config after the sub-command" in problems[1]


def test_no_sub_command_means_nothing_to_check() -> None:
    result = extract_hyperparameters(FIXTURES / "ap_basic.py")
    assert subcommand_problems("python train.py --lr 1", result, "train.py") == []


# ------------------------------------------------------------ other mechanisms
@pytest.mark.parametrize(
    ("source", "mechanism", "line"),
    [
        (
            """
            import hydra
            from omegaconf import DictConfig

            @hydra.main(config_path="conf", config_name="config", version_base=None)
            def main(cfg: DictConfig) -> None:
                print(cfg.lr)

            if __name__ == "__main__":
                main()
            """,
            "Hydra",
            2,
        ),
        (
            """
            from lightning.pytorch.cli import LightningCLI

            def cli_main():
                LightningCLI(MyModel, MyData)

            if __name__ == "__main__":
                cli_main()
            """,
            "LightningCLI",
            2,
        ),
        (
            """
            import os
            from jsonargparse import CLI

            def fit(lr: float = 0.1):
                pass

            if __name__ == "__main__":
                CLI(fit)
            """,
            "jsonargparse",
            3,
        ),
        (
            """
            from absl import app
            from absl import flags

            FLAGS = flags.FLAGS
            flags.DEFINE_float("lr", 0.1, "learning rate")

            def main(argv):
                print(FLAGS.lr)

            if __name__ == "__main__":
                app.run(main)
            """,
            "absl.flags",
            3,
        ),
        (
            '''
            """Usage: train.py [--lr=<x>]"""
            from docopt import docopt

            if __name__ == "__main__":
                args = docopt(__doc__)
            ''',
            "docopt",
            3,
        ),
    ],
    ids=["hydra", "lightningcli", "jsonargparse", "absl", "docopt"],
)
def test_other_mechanisms_are_named(
    tmp_path: pathlib.Path, source: str, mechanism: str, line: int
) -> None:
    result = _extract(tmp_path, source)
    assert result.parser_type is None and result.arguments == []
    (diag,) = result.diagnostics[-1:]
    assert diag.severity == "warning" and diag.line == line
    assert f"configured with {mechanism}" in diag.message
    assert "argparse" in diag.message  # what to do
    assert not any("no parser found" in d.message for d in result.diagnostics)


def test_inspect_names_the_mechanism(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import hydra\n@hydra.main(config_path='c')\ndef main(cfg):\n    pass\nmain()\n"
    )
    code, _out, err = _run("inspect", str(path))
    assert code == 0
    assert "configured with Hydra (@hydra.main)" in err


def test_a_typer_command_that_cannot_be_read_is_named_and_warned(tmp_path: pathlib.Path) -> None:
    result = _extract(
        tmp_path,
        """
        import typer
        from mypackage.run.train import train

        app = typer.Typer()
        app.command(help="Train a model")(train)

        @app.command()
        def version():
            print("1.0")

        if __name__ == "__main__":
            app()
        """,
    )
    # Two commands (one unreadable): "train" is chosen, and its options are
    # reported missing rather than the other command's being used silently.
    assert result.command == "train" and result.arguments == []
    warnings = _warnings(result)
    assert any(
        "typer command 'train' is defined in code that cannot be followed" in w for w in warnings
    )
    assert any("has no arguments" in w for w in warnings)


def test_a_lone_unreadable_typer_command_is_warned(tmp_path: pathlib.Path) -> None:
    result = _extract(
        tmp_path,
        """
        import typer
        from elsewhere import main
        app = typer.Typer()
        app.command()(main)
        app()
        """,
    )
    assert result.command is None and result.arguments == []
    assert any("typer command 'main'" in w for w in _warnings(result))


def test_training_code_after_parse_known_args_does_not_count_as_missing_arguments(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        textwrap.dedent(
            """
            import argparse
            parser = argparse.ArgumentParser()
            parser.add_argument("--lr", type=float, default=0.1)
            args, unknown = parser.parse_known_args()
            total = 0
            for epoch in range(1000):
                for step in range(1000):
                    total = total + step
            """
        )
    )
    from keynet_train.extraction.select import extract_from_tree
    from keynet_train.extraction.source import load_source

    source = load_source(path)
    result = extract_from_tree(source.tree, source.display_path, max_steps=5_000)
    assert [a.name for a in result.arguments] == ["lr"]
    assert _warnings(result) == []
    assert any("after the parse_known_args at line 5" in d.message for d in result.diagnostics)


def test_parse_of_a_fixed_list_is_not_the_command_line(tmp_path: pathlib.Path) -> None:
    """``parse_args([])`` (Lightning's nondefault_trainer_args idiom) does not end the reading."""
    result = _extract(
        tmp_path,
        """
        import argparse
        def helper_defaults():
            helper = argparse.ArgumentParser()
            helper.add_argument("--accelerator", default="gpu")
            return vars(helper.parse_args([]))
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1)
        known = helper_defaults()
        parser.add_argument("--epochs", type=int, default=3)
        args = parser.parse_args()
        """,
    )
    assert [a.name for a in result.arguments] == ["lr", "epochs"]
