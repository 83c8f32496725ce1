"""CLI conventions: global flags anywhere, no abbreviations, suggestions, colour
variables, wrapped help, --quiet, CI log folding, shell completion."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from keynet_train.cli.environment import Environment
from keynet_train.cli.main import build_parser
from keynet_train.cli.output import CliReporter
from keynet_train.cli.parser import prose
from tests.cli.conftest import CliRunner


@pytest.mark.parametrize(
    ("argv", "debug", "no_color"),
    [
        (["config", "path"], False, False),
        (["--debug", "config", "path"], True, False),
        (["config", "path", "--debug"], True, False),
        (["config", "--no-color", "path"], False, True),
        (["push", "train.py", "--debug", "--no-color"], True, True),
        (["--no-color", "projects", "--debug"], True, True),
    ],
)
def test_global_flags_before_or_after_the_command(
    argv: list[str], debug: bool, no_color: bool
) -> None:
    args = build_parser().parse_args(argv)
    assert (args.debug, args.no_color) == (debug, no_color)


def test_global_flag_after_the_command_takes_effect(cli: CliRunner) -> None:
    result = cli("projects", "--debug")  # not logged in: --debug shows the traceback
    assert result.exit_code == 1
    assert "Traceback" in result.stderr


def test_options_are_not_abbreviated(cli: CliRunner) -> None:
    result = cli("push", "train.py", "--dry")
    assert result.exit_code == 2
    assert "unrecognized arguments: --dry" in result.stderr


def test_mistyped_command_suggests_the_closest(cli: CliRunner) -> None:
    result = cli("pus", "train.py")
    assert result.exit_code == 2
    assert "Did you mean 'keynet-train push'?" in result.stderr
    nested = cli("config", "shwo")
    assert "Did you mean 'keynet-train config show'?" in nested.stderr


def test_mistyped_option_points_to_the_command_help(cli: CliRunner) -> None:
    result = cli("push", "train.py", "--dryrun", "--json")
    assert result.exit_code == 2
    error = result.json()["error"]
    assert error["message"] == "keynet-train push: unrecognized arguments: --dryrun"
    assert "Did you mean --dry-run?" in error["hint"]
    assert "keynet-train push --help" in error["hint"]


@pytest.mark.parametrize(
    ("environ", "tty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),  # empty means unset (no-color.org)
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": ""}, False, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
    ],
)
def test_colour_variables(environ: dict[str, str], tty: bool, expected: bool) -> None:
    env = Environment(io.StringIO(), io.StringIO(), io.StringIO(), environ, stderr_isatty=tty)
    assert env.color is expected


def test_force_color_styles_output_that_is_not_a_terminal() -> None:
    stderr = io.StringIO()
    env = Environment(io.StringIO(), io.StringIO(), stderr, {"FORCE_COLOR": "1"})
    CliReporter(env).warning("disk almost full")
    assert "\x1b[" in stderr.getvalue()
    assert "disk almost full" in stderr.getvalue()


def test_help_text_is_wrapped_to_the_terminal(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    result = cli("push", "--help")
    description = result.stdout.split("\n\n")[1]
    assert "Validate ENTRYPOINT" in description
    assert max(len(line) for line in description.splitlines()) <= 60
    # Example lines keep their layout, however long.
    assert "  keynet-train push train.py --project 123 --json > push-result.json" in (result.stdout)


def _reporter(environ: dict[str, str], quiet: bool = False) -> tuple[CliReporter, io.StringIO]:
    stderr = io.StringIO()
    env = Environment(io.StringIO(), io.StringIO(), stderr, environ, quiet=quiet)
    return CliReporter(env), stderr


def _narrate(reporter: CliReporter) -> None:
    reporter.step_started("Build image")
    reporter.log_line("STEP 1/2: FROM scratch")
    reporter.log_line("STEP 2/2: COPY . /app")
    reporter.step_finished("Build image", "abc123")
    reporter.step_started("Push image")
    reporter.warning("slow registry")
    reporter.info("Still pushing")
    reporter.close()


def test_quiet_keeps_only_warnings() -> None:
    reporter, stderr = _reporter({}, quiet=True)
    _narrate(reporter)
    assert stderr.getvalue() == "Warning: slow registry\n"


def test_github_actions_folds_the_build_log() -> None:
    reporter, stderr = _reporter({"GITHUB_ACTIONS": "true"})
    _narrate(reporter)
    lines = stderr.getvalue().splitlines()
    start = lines.index("::group::Build image log")
    assert lines[start + 1 : start + 4] == [
        "    | STEP 1/2: FROM scratch",
        "    | STEP 2/2: COPY . /app",
        "::endgroup::",
    ]
    assert lines.count("::group::Build image log") == 1
    assert lines.count("::endgroup::") == 1  # no log in the push step: no empty group


def test_gitlab_folds_the_build_log_into_a_collapsed_section() -> None:
    reporter, stderr = _reporter({"GITLAB_CI": "true"})
    _narrate(reporter)
    text = stderr.getvalue()
    start = text.index("section_start:")
    end = text.index("section_end:")
    assert "[collapsed=true]\r\x1b[0KBuild image log" in text
    assert start < text.index("STEP 1/2") < end < text.index(" ok Build image")


def test_outside_ci_nothing_is_folded() -> None:
    reporter, stderr = _reporter({})
    _narrate(reporter)
    assert "::group::" not in stderr.getvalue()
    assert "section_start" not in stderr.getvalue()


def _bash_complete(script: Path, words: list[str]) -> list[str]:
    line = " ".join(words)
    program = (
        f"source {script}\n"
        f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}\n"
        "_keynet_train\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_bash_completion_from_the_argparse_tree(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("completion", "bash")
    assert result.exit_code == 0
    script = tmp_path / "keynet-train.bash"
    script.write_text(result.stdout)

    assert "push" in _bash_complete(script, ["keynet-train", "pu"])
    assert _bash_complete(script, ["keynet-train", "config", "s"]) == ["show", "set"]
    assert _bash_complete(script, ["keynet-train", "push", "train.py", "--dry"]) == ["--dry-run"]
    assert _bash_complete(script, ["keynet-train", "completion", "''"]) == ["bash", "zsh", "fish"]
    # A global flag after the command is completed too.
    assert "--no-color" in _bash_complete(script, ["keynet-train", "whoami", "--no"])
    # config set completes its three keys, not the file names around.
    (tmp_path / "project_notes.txt").write_text("")
    keys = ["project_id", "harbor_project", "podman_url"]
    assert _bash_complete(script, ["keynet-train", "config", "set", "''"]) == keys
    assert _bash_complete(script, ["keynet-train", "config", "set", "p"]) == [
        "project_id",
        "podman_url",
    ]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_name_every_command(cli: CliRunner, shell: str) -> None:
    result = cli("completion", shell)
    assert result.exit_code == 0
    for command in ("login", "push", "whoami", "inspect", "projects", "completion"):
        assert command in result.stdout
    assert "dry-run" in result.stdout
    if shell == "fish":
        assert "complete -c keynet-train" in result.stdout
    else:
        assert result.stdout.startswith("#compdef keynet-train")
        # zsh runs the bash function through bashcompinit: that function must parse.
        body = result.stdout.split("\n", 3)[3]
        subprocess.run(["bash", "-n", "-c", body], check=True)


def test_prose_wraps_paragraphs_and_keeps_example_blocks() -> None:
    text = (
        "Validate the script and push it with all of its options.\n\n"
        "examples:\n  keynet-train push train.py --project 123 --json > push-result.json\n\n"
        "Typical use:\n"
        "  keynet-train login"
    )
    assert prose(text, 24).split("\n\n") == [
        "Validate the script and\npush it with all of its\noptions.",
        "examples:\n  keynet-train push train.py --project 123 --json > push-result.json",
        "Typical use:\n  keynet-train login",
    ]


def test_option_names_are_not_broken_at_hyphens_in_prose() -> None:
    # textwrap's default would end a line with "--no-" and start the next with "cache".
    assert prose("pass --no-cache to rebuild", 14) == "pass\n--no-cache to\nrebuild"


def _modules_after(argv: list[str]) -> list[str]:
    """The keynet_train.cli.commands modules a run of ``argv`` imported, in a fresh process."""
    probe = (
        "import sys\n"
        f"sys.argv = ['keynet-train', *{argv!r}]\n"
        "from keynet_train.cli.entry import run\n"
        "try:\n"
        "    run()\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(repr(sorted(m for m in sys.modules"
        " if m.startswith('keynet_train.cli.commands.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    return eval(done.stderr.splitlines()[-1])


def test_top_level_help_lists_commands_without_importing_them() -> None:
    assert _modules_after(["--help"]) == []
    assert _modules_after(["--version"]) == []


@pytest.mark.parametrize(
    ("argv", "module"),
    [
        (["config", "path"], "config_cmd"),
        (["--debug", "logout", "--help"], "login"),
        (["inspect", "--help"], "inspect"),
    ],
)
def test_only_the_chosen_commands_module_is_imported(argv: list[str], module: str) -> None:
    assert _modules_after(argv) == [f"keynet_train.cli.commands.{module}"]


def test_the_help_lists_every_command_of_the_table(cli: CliRunner) -> None:
    from keynet_train.cli.commands import COMMANDS

    result = cli("--help")
    for name, (_, summary) in COMMANDS.items():
        assert name in result.stdout
        assert summary.split()[0] in result.stdout


def test_importing_the_package_leaves_httpx_alone() -> None:
    # keynet_train used to plant None as sys.modules["httpx._main"] for the host process.
    probe = "import sys, keynet_train.cli.main\nprint([m for m in sys.modules if 'httpx' in m])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_top_level_options_take_no_value() -> None:
    # chosen_command() takes the first word that is not an option for the command;
    # a top-level option with a value would make it pick that value instead.
    parser = build_parser("")
    assert [a.option_strings for a in parser.arguments if a.nargs != 0] == []


@pytest.mark.parametrize("command", ["push", "run"])
@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--platform", "linux_x/amd64"),
        ("--model-name", " "),
        ("--build-arg", "1A=x"),
    ],
)
def test_a_bad_shared_build_flag_is_a_usage_error_for_push_and_run(
    cli: CliRunner, tmp_path: Path, command: str, flag: str, value: str
) -> None:
    # push and run declare these flags once (cli/build_flags.py) and check them
    # alike: exit 2, before the script is read or anything is built.
    result = cli(command, str(tmp_path / "missing.py"), flag, value)
    assert result.exit_code == 2, result
    assert f"argument {flag}:" in result.stderr
    assert "missing.py" not in result.stderr
