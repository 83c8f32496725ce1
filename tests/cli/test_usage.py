"""Global behaviour: --help of every command, --version, usage errors, the --json error object."""

from __future__ import annotations

import pytest

from keynet_train import __version__
from tests.cli.conftest import CliRunner

COMMANDS = [
    [],
    ["login"],
    ["logout"],
    ["config"],
    ["config", "show"],
    ["config", "path"],
    ["config", "clear"],
    ["config", "set"],
    ["projects"],
    ["inspect"],
    ["push"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_help_exits_0_and_shows_an_example(cli: CliRunner, command: list[str]) -> None:
    result = cli(*command, "--help")

    assert result.exit_code == 0, result
    assert result.stdout.startswith("usage: keynet-train")
    assert "example" in result.stdout.lower()
    assert "keynet-train " + " ".join(command) in result.stdout.split("usage:", 2)[-1]
    assert not cli.config_path.exists()


def test_version(cli: CliRunner) -> None:
    result = cli("--version")

    assert result.exit_code == 0
    assert result.stdout == f"keynet-train {__version__}\n"


def test_no_command_prints_help_and_exits_2(cli: CliRunner) -> None:
    result = cli()

    assert result.exit_code == 2
    assert "usage: keynet-train" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["login", "--bogus"],
        ["login", "a", "b"],
        ["config"],
        ["config", "set", "project_id"],
        ["config", "show", "extra"],
        ["projects", "--page", "-1"],
        ["projects", "--page", "x"],
        ["projects", "--limit", "0"],
        ["projects", "--limit", "101"],
        ["--debug"],
    ],
    ids=" ".join,
)
def test_usage_errors_exit_2(cli: CliRunner, argv: list[str]) -> None:
    result = cli(*argv)

    assert result.exit_code == 2, result
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


def test_usage_error_with_json_prints_the_error_object(cli: CliRunner) -> None:
    result = cli("projects", "--limit", "0", "--json")

    assert result.exit_code == 2
    assert result.json() == {
        "error": {
            "type": "usage",
            "message": result.json()["error"]["message"],
            "hint": result.json()["error"]["hint"],
        }
    }
    assert "--limit" in result.json()["error"]["message"]


@pytest.mark.parametrize(
    ("argv", "error_type"),
    [
        (["projects", "--json"], "authentication"),
        (["config", "show", "--json"], "config"),
        (["login", "--json"], "usage"),  # no server URL and no terminal
        (["inspect", "missing.py", "--json"], "validation"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_json_error_object_shape(cli: CliRunner, argv: list[str], error_type: str) -> None:
    result = cli(*argv)

    assert result.exit_code == 1, result
    payload = result.json()  # exactly one JSON document on stdout
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"type", "message", "hint"}
    assert payload["error"]["type"] == error_type
    assert payload["error"]["message"]
    assert f"Error: {payload['error']['message']}" in result.stderr


def test_inspect_help_names_every_parser_family(cli: CliRunner) -> None:
    # The description once named 3 of the 7 families extraction supports.
    result = cli("inspect", "--help")

    text = " ".join(result.stdout.split())
    for family in ("argparse", "click", "typer", "HfArgumentParser", "fire", "tyro", "globals"):
        assert family in text, family
