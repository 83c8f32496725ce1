"""``keynet-train inspect`` run in-process: stdout, stderr and exit status."""

from __future__ import annotations

import io
import json
import pathlib

import pytest

from keynet_train.cli.environment import Environment
from keynet_train.cli.main import main

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=err, environ={"NO_COLOR": "1"})
    code = main(list(argv), env=env)
    return code, out.getvalue(), err.getvalue()


def test_table() -> None:
    code, out, err = _run("inspect", str(FIXTURES / "ap_basic.py"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Parser: argparse (3 arguments)"
    assert lines[1].split() == [
        "name",
        "type",
        "default",
        "required",
        "choices",
        "spelling",
        "help",
    ]
    assert lines[3].split() == [
        *("lr", "float", "0.001", "no", "-"),
        *("--lr", "VALUE", "Learning", "rate"),
    ]
    assert lines[5].split()[:3] == ["name", "str", '"run"']
    assert err == ""


def test_table_lists_diagnostics_on_stderr() -> None:
    path = FIXTURES / "ap_subparsers.py"
    code, out, err = _run("inspect", str(path))
    assert code == 0
    assert "config" in out
    assert f"{path}:6: info: training with sub-command 'train'" in err


def test_json_is_exactly_the_spec_object() -> None:
    path = FIXTURES / "ap_env_defaults.py"
    code, out, err = _run("inspect", str(path), "--json")
    assert code == 0
    doc = json.loads(out)
    # The extractor's object, plus the platform's command check and the warnings
    # (docs/json-output.md).
    assert set(doc) == {
        "parser_type",
        "command",
        "complete",
        "arguments",
        "platform_command",
        "problems",
        "warnings",
    }
    assert doc["parser_type"] == "argparse"
    assert doc["command"] is None
    first = doc["arguments"][0]
    assert first == {
        "name": "epochs",
        "type": "int",
        "default": 5,
        "required": False,
        "help": None,
        "choices": None,
        "flags": ["--epochs"],
        "kind": "value",
        "scope": "command",
    }
    assert out.count("\n") == 1
    assert f"{path}:4: info: environment variable EPOCHS" in err


def test_no_parser_warns_and_exits_zero() -> None:
    code, out, err = _run("inspect", str(FIXTURES / "none_no_parser.py"), "--json")
    assert code == 0
    doc = json.loads(out)
    assert {k: doc[k] for k in ("parser_type", "command", "complete", "arguments")} == {
        "parser_type": None,
        "command": None,
        "complete": True,
        "arguments": [],
    }
    assert doc["problems"] == []
    # Every warning printed is in --json, with a stable code.
    codes = [w["code"] for w in doc["warnings"]]
    assert codes == ["extraction", "no-hyperparameters"]
    assert doc["warnings"][0]["line"] == 1
    assert doc["warnings"][0]["path"].endswith("none_no_parser.py")
    assert "no parser found (argparse, click, typer, HfArgumentParser, fire, tyro or" in err
    code, out, err = _run("inspect", str(FIXTURES / "none_no_parser.py"))
    assert code == 0 and out == ""
    assert "Warning: no hyperparameters could be extracted from" in err


def test_syntax_error(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text("import argparse\nx = (1,\n")
    code, out, err = _run("inspect", str(path))
    assert code == 1
    assert out == ""
    assert f"Error: {path}:2:5: '(' was never closed" in err
    assert "    x = (1,\n        ^" in err


def test_syntax_error_json(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text("def f(:\n")
    code, out, _err = _run("inspect", str(path), "--json")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["type"] == "validation"
    assert error["message"].startswith(f"{path}:1:")


def test_missing_file(tmp_path: pathlib.Path) -> None:
    code, out, err = _run("inspect", str(tmp_path / "missing.py"))
    assert code == 1
    assert out == ""
    assert f"Error: Entrypoint not found: {tmp_path / 'missing.py'}" in err
    code, out, _ = _run("inspect", str(tmp_path / "missing.py"), "--json")
    assert code == 1
    assert json.loads(out)["error"]["type"] == "validation"


def test_inspect_does_not_import_heavy_libraries() -> None:
    import subprocess
    import sys

    code = (
        "import sys, io\n"
        "from keynet_train.cli.main import main\n"
        "from keynet_train.cli.environment import Environment\n"
        "env = Environment(io.StringIO(), io.StringIO(), io.StringIO(), {})\n"
        f"assert main(['inspect', {str(FIXTURES / 'click_basic.py')!r}, '--json'], env=env) == 0\n"
        "heavy = [m for m in ('rich', 'pydantic', 'httpx', 'podman', 'click', 'typer')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_table_shows_how_each_value_is_spelled(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(
        "import argparse\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('data')\n"
        "p.add_argument('-l', '--lr', type=float, default=0.1)\n"
        "p.add_argument('--amp', action=argparse.BooleanOptionalAction, default=False)\n"
        "p.add_argument('--fp16', action='store_true')\n"
        "p.add_argument('--milestones', nargs='+', type=int, default=[30, 60])\n"
        "p.add_argument('--gpu', action='append', type=int)\n"
        "p.add_argument('-v', action='count', default=0)\n"
        "p.parse_args()\n"
    )
    code, out, _ = _run("inspect", str(path))
    assert code == 0
    table = out.split("\n\n")[0]
    rows = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert "data (positional 0)" in rows["data"]
    assert "--lr VALUE" in rows["lr"]
    assert "--amp | --no-amp" in rows["amp"]
    assert "--fp16 (sets true)" in rows["fp16"]
    assert "--milestones V1 V2..." in rows["milestones"]
    assert "--gpu V1 --gpu V2..." in rows["gpu"]
    assert "-v -v... (count)" in rows["v"]


def _lib_venv(root: pathlib.Path) -> pathlib.Path:
    """A virtualenv layout whose site-packages holds a parser factory (our own code)."""
    site = root / "venv" / "lib" / "python3.11" / "site-packages" / "hplib"
    site.mkdir(parents=True)
    (root / "venv" / "bin").mkdir()
    (root / "venv" / "bin" / "python").write_text("")
    (root / "venv" / "pyvenv.cfg").write_text("home = /nonexistent\n")
    (site / "__init__.py").write_text(
        "import argparse\ndef make():\n    p = argparse.ArgumentParser()\n"
        "    p.add_argument('--warmup', type=int, default=100)\n    return p\n"
    )
    script = root / "proj" / "train.py"
    script.parent.mkdir()
    script.write_text("from hplib import make\nmake().parse_args()\n")
    return script


def test_python_option_reads_that_environment(tmp_path: pathlib.Path) -> None:
    script = _lib_venv(tmp_path)
    code, out, err = _run("inspect", str(script), "--python", str(tmp_path / "venv"), "--json")
    assert code == 0
    assert [a["name"] for a in json.loads(out)["arguments"]] == ["warmup"]
    assert "read 1 file of installed libraries" in err
    assert "hplib/__init__.py" in err
    # without it, the library is not found: a warning, not an error
    code, out, err = _run("inspect", str(script), "--json")
    assert code == 0
    assert json.loads(out)["arguments"] == []


def test_project_file_python_key(tmp_path: pathlib.Path) -> None:
    script = _lib_venv(tmp_path)
    (tmp_path / "proj" / "keynet.toml").write_text('python = "../venv/bin/python"\n')
    code, out, _ = _run("inspect", str(script), "--json")
    assert code == 0
    assert [a["name"] for a in json.loads(out)["arguments"]] == ["warmup"]


def test_bad_python_is_one_paragraph_and_exit_1(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("import argparse\n")
    code, out, err = _run("inspect", str(script), "--python", str(tmp_path / "nope"))
    assert code == 1
    assert out == ""
    assert "no such file" in err
    assert "Traceback" not in err


def test_imports_resolve_from_the_current_directory_like_push_context(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A script in a sub-folder package importing a module at the repository's
    # top, with no project marker (no .git, no pyproject.toml) and an
    # __init__.py at the top too, so the package root is above it: python runs
    # it from the top (PYTHONPATH=.), and push's default context is that folder.
    (tmp_path / "repo").mkdir()
    tmp_path = tmp_path / "repo"
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "common.py").write_text(
        "import argparse\n"
        "def make_parser():\n"
        "    p = argparse.ArgumentParser()\n"
        "    p.add_argument('--lr', type=float, default=0.1)\n"
        "    return p\n"
    )
    (tmp_path / "trainer").mkdir()
    (tmp_path / "trainer" / "__init__.py").write_text("")
    (tmp_path / "trainer" / "train.py").write_text(
        "import common\nargs = common.make_parser().parse_args()\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = _run("inspect", "trainer/train.py", "--json")
    assert code == 0, err
    arguments = json.loads(out)["arguments"]
    assert [(a["name"], a["default"]) for a in arguments] == [("lr", 0.1)]
