"""True statements and small fixes (issue 19): argparse errors without internal names,
``Error:`` styled like ``Warning:``, ``-q`` before the sub-command, the http:// hint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from keynet_train.cli.main import build_parser
from keynet_train.cli.parser import ArgumentParser
from tests.cli.conftest import CliRunner
from tests.support.fake_backend import FakeBackend


def _typed_options() -> list[tuple[list[str], str]]:
    """(sub-command path, option string) of every option that converts its value."""
    found: list[tuple[list[str], str]] = []

    def walk(parser: ArgumentParser, path: list[str]) -> None:
        for action in parser.arguments:
            if action.type is not None and action.option_strings:
                found.append((path, action.option_strings[-1]))
        if parser.subcommands is not None:
            for name, child in dict(parser.subcommands.choices or {}).items():
                walk(child, [*path, name])

    walk(build_parser(), [])
    return found


TYPED = _typed_options()


def test_every_typed_option_is_found() -> None:
    assert (["projects"], "--page") in TYPED and (["projects"], "--limit") in TYPED


@pytest.mark.parametrize(("path", "option"), TYPED, ids=[" ".join([*p, o]) for p, o in TYPED])
@pytest.mark.parametrize("value", ["x", "-5", "1e400", ""])
def test_argparse_errors_name_no_internal_function(
    cli: CliRunner, path: list[str], option: str, value: str
) -> None:
    needs_positional = {"push": ["train.py"], "inspect": ["train.py"]}
    argv = [*path, *needs_positional.get(path[-1], []), f"{option}={value}"]

    result = cli(*argv)

    if result.exit_code == 2:  # the value was refused: the message must be for users
        assert not re.search(r"\b_[a-z]\w*", result.stderr), result.stderr
        named = re.search(r"invalid (\S+) value", result.stderr)
        assert named is None or named.group(1) in ("int", "float"), result.stderr


def test_a_non_number_page_says_so(cli: CliRunner) -> None:
    result = cli("projects", "--page", "x")

    assert result.exit_code == 2
    assert "argument --page: not a whole number: 'x'" in result.stderr
    assert "_non_negative" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "quiet"),
    [
        (["-q", "push", "train.py"], True),
        (["--quiet", "push", "train.py"], True),
        (["push", "train.py", "-q"], True),
        (["push", "train.py"], False),
    ],
)
def test_quiet_is_accepted_before_and_after_the_sub_command(argv: list[str], quiet: bool) -> None:
    assert build_parser().parse_args(argv).quiet is quiet


def test_quiet_before_a_sub_command_is_not_an_error(cli: CliRunner) -> None:
    result = cli("-q", "config", "path")

    assert result.exit_code == 0, result
    assert result.stdout.strip() == str(cli.config_path)


def test_error_label_is_red_when_colour_is_on(cli: CliRunner) -> None:
    coloured = cli("projects", environ={"FORCE_COLOR": "1"})
    plain = cli("projects")

    assert coloured.exit_code == plain.exit_code == 1
    assert "\x1b[1;31mError:\x1b[0m No credentials configured." in coloured.stderr
    assert "\x1b[1mHint:\x1b[0m" in coloured.stderr
    assert plain.stderr.startswith("Error: No credentials configured.")
    assert "\x1b" not in plain.stderr


def test_https_to_a_plain_http_server_suggests_http(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    host = offline_backend.url.removeprefix("http://")

    result = cli("login", host, "-u", "a", "--password-stdin", stdin="p")

    assert result.exit_code == 1, result
    assert f"Cannot reach the backend at https://{host}" in result.stderr
    assert "does not speak TLS (https) on that port" in result.stderr
    assert f"Hint: If it is a plain-HTTP server, give the URL with http://: http://{host}" in (
        result.stderr
    )
    assert offline_backend.requests == []


@pytest.mark.parametrize("suffix", ["/v1", "/v1/", "/v1/auth/sign-in/one-time"])
def test_a_server_url_with_the_api_path_is_refused_naming_the_base(
    cli: CliRunner, offline_backend: FakeBackend, suffix: str
) -> None:
    """Not "wrong username or password" from a sign-in sent to /v1/v1/..."""
    result = cli("login", offline_backend.url + suffix, "-u", "a", "--password-stdin", stdin="p")

    assert result.exit_code == 1, result
    assert "includes the API path /v1." in result.stderr
    assert f"without the /v1 part: {offline_backend.url}\n" in result.stderr
    assert "wrong username or password" not in result.stderr
    assert offline_backend.requests == []


def test_dockerfile_not_found_says_the_context_is_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`push detection/train.py` from the parent: the Dockerfile is in detection/."""
    from keynet_train.build.context import resolve_dockerfile
    from keynet_train.errors import BuildError

    (tmp_path / "detection").mkdir()
    (tmp_path / "detection" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "detection" / "train.py").write_text("print(1)\n")
    monkeypatch.chdir(tmp_path)

    with pytest.raises(BuildError) as caught:
        resolve_dockerfile(tmp_path, None, Path("detection/train.py"))

    assert caught.value.message == f"Dockerfile not found: {tmp_path}/Dockerfile"
    assert caught.value.hint == (
        f"The build context is {tmp_path} (--context DIR; default: the current directory), "
        "and the Dockerfile is looked for there. The script's directory has one: pass "
        "--context detection."
    )
