"""Property tests for parser choice by data flow: random pre-parsers and sub-commands.

Each generated argparse script has a main parser, optionally a config
pre-parser whose ``parse_known_args`` remainder the main parser parses (or
not), and optionally sub-commands (one named ``train`` or not). The static
result, with the sub-command the test picks, must equal the runtime oracle
(argparse's own dispatch of that sub-command), field by field, scope included.
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.oracle import normalise_help, runtime_extract

EXAMPLES = int(os.environ.get("KEYNET_PROPERTY_EXAMPLES", "1000")) // 4
SETTINGS = settings(
    max_examples=max(EXAMPLES, 10),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_NAMES = ["lr", "epochs", "seed", "config", "data", "amp", "batch_size", "warmup", "out"]
_COMMANDS = ["train", "fit", "eval", "export", "pretrain"]


@st.composite
def _options(draw: st.DrawFn, target: str) -> list[str]:
    lines = []
    for name in draw(st.lists(st.sampled_from(_NAMES), max_size=4, unique=True)):
        flag = "--" + name.replace("_", draw(st.sampled_from(["_", "-"])))
        kind = draw(st.sampled_from(["int", "float", "str", "flag", "choice"]))
        if kind == "flag":
            lines.append(f"{target}.add_argument({flag!r}, action='store_true')")
        elif kind == "choice":
            lines.append(f"{target}.add_argument({flag!r}, choices=['a', 'b'], default='a')")
        else:
            value = {"int": draw(st.integers(-5, 500)), "float": 0.5, "str": "x"}[kind]
            lines.append(f"{target}.add_argument({flag!r}, type={kind}, default={value!r})")
    return lines


@st.composite
def dataflow_scripts(draw: st.DrawFn) -> tuple[str, str | None]:
    """(source, command to ask for or None)."""
    lines = ["import argparse"]
    pre = draw(st.sampled_from(["none", "feeds", "feeds-keyword", "shares-argv"]))
    if pre != "none":
        lines.append("pre = argparse.ArgumentParser(add_help=False)")
        lines += draw(_options("pre"))
        lines.append("known, rest = pre.parse_known_args()")
    lines.append("parser = argparse.ArgumentParser()")
    lines += draw(_options("parser"))
    command = None
    commands = draw(st.lists(st.sampled_from(_COMMANDS), max_size=3, unique=True))
    if commands:
        lines.append("sub = parser.add_subparsers(dest='cmd')")
        for i, name in enumerate(commands):
            lines.append(f"c{i} = sub.add_parser({name!r})")
            lines += draw(_options(f"c{i}"))
        # Several without "train" need a choice; otherwise sometimes ask anyway.
        needs_choice = len(commands) > 1 and "train" not in commands
        if needs_choice or draw(st.booleans()):
            command = draw(st.sampled_from(commands))
    call = {"feeds": "parser.parse_args(rest)", "feeds-keyword": "parser.parse_args(args=rest)"}
    lines.append("args = " + call.get(pre, "parser.parse_args()"))
    if draw(st.booleans()):
        body = ["def main():", *("    " + line for line in lines[1:]), "", "main()"]
        lines = [lines[0], *body]
    return "\n".join(lines) + "\n", command


@SETTINGS
@given(dataflow_scripts())
def test_pre_parsers_and_sub_commands_agree_with_runtime(case: tuple[str, str | None]) -> None:
    source, command = case
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "script.py"
        path.write_text(source, encoding="utf-8")
        expected = normalise_help(runtime_extract(path, command))
        result = extract_hyperparameters(path, command)
        actual = normalise_help(result.to_json())
    assert json.dumps(actual, sort_keys=True) == json.dumps(expected, sort_keys=True), source
    if "rest)" in source:
        assert any("config pre-parser" in d.message for d in result.diagnostics), source


@st.composite
def _params(draw: st.DrawFn, style: str) -> list[str]:
    """click decorators or typer parameters for a few options."""
    out = []
    for name in draw(st.lists(st.sampled_from(_NAMES), max_size=3, unique=True)):
        kind = draw(st.sampled_from(["int", "float", "str", "bool"]))
        value = {"int": draw(st.integers(-5, 500)), "float": 0.25, "str": "x", "bool": False}[kind]
        if style == "click":
            flag = "--" + name.replace("_", "-")
            extra = ", is_flag=True" if kind == "bool" else f", type={kind}"
            out.append(f"@click.option({flag!r}, default={value!r}{extra})")
        else:
            out.append(f"{name}: {kind} = {value!r}")
    return out


def _click_params(decos: list[str]) -> str:
    return ", ".join(d.split("'--", 1)[1].split("'", 1)[0].replace("-", "_") for d in decos)


@st.composite
def group_scripts(draw: st.DrawFn) -> tuple[str, str | None]:
    """A click group or a typer app with one to three commands: (source, command)."""
    commands = draw(st.lists(st.sampled_from(_COMMANDS), min_size=1, max_size=3, unique=True))
    lines: list[str]
    if draw(st.booleans()):
        parent = draw(_params("click"))
        lines = ["import click", "", "@click.group()", *parent]
        lines += [f"def cli({_click_params(parent)}):", "    pass", ""]
        for name in commands:
            own = draw(_params("click"))
            lines += [f"@cli.command({name!r})", *own]
            lines += [f"def cmd_{name}({_click_params(own)}):", "    pass", ""]
        lines.append("cli()")
    else:
        callback = draw(st.booleans())
        lines = ["import typer", "", "app = typer.Typer()", ""]
        if callback:
            lines += ["@app.callback()", f"def common({', '.join(draw(_params('typer')))}):"]
            lines += ["    pass", ""]
        for name in commands:
            # typer names a command after its function: fit_run -> fit-run
            lines += ["@app.command()", f"def {name}({', '.join(draw(_params('typer')))}):"]
            lines += ["    pass", ""]
        lines.append("app()")
    needs_choice = len(commands) > 1 and "train" not in commands
    command = draw(st.sampled_from(commands)) if needs_choice or draw(st.booleans()) else None
    if command is not None and lines[0] == "import typer":
        single = len(commands) == 1 and "@app.callback()" not in lines
        command = None if single else command  # a lone command without callback is no group
    return "\n".join(lines) + "\n", command


@SETTINGS
@given(group_scripts())
def test_click_groups_and_typer_apps_agree_with_runtime(case: tuple[str, str | None]) -> None:
    source, command = case
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "script.py"
        path.write_text(source, encoding="utf-8")
        expected = normalise_help(runtime_extract(path, command))
        actual = normalise_help(extract_hyperparameters(path, command).to_json())
    assert json.dumps(actual, sort_keys=True) == json.dumps(expected, sort_keys=True), source
