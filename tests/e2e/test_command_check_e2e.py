"""The platform-command check against real podman, a real registry and the fake backend.

The fake backend builds its ``command`` the way docs/platform-command.md
says a backend that sees only the request does; its request log is the
witness that a refused push asked for no upload key.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import SIMPLE_DOCKERFILE, Cli, make_context
from tests.e2e.test_push_flow import _push, _upload_requests
from tests.extraction.test_platform_command import SITUATIONS
from tests.support.services import RegistryHandle

pytestmark = pytest.mark.integration


def _script_context(tmp_path: Path, script: str) -> Path:
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    (context / "train.py").write_text(script)
    return context


@pytest.mark.parametrize("situation", sorted(SITUATIONS))
def test_dry_run_and_push_both_catch_it(
    cli: Cli, registry: RegistryHandle, tmp_path: Path, situation: str
) -> None:
    script, argument, sends, accepts, fix = SITUATIONS[situation]
    context = _script_context(tmp_path, script)

    # --dry-run: builds, shows the predicted command and the problem with its fix.
    code, result, err = _push(cli, context / "train.py", "--dry-run")
    assert code == 0, err
    assert result["platform_command"].startswith("python train.py")
    [problem] = result["problems"]
    assert problem["argument"] == argument and sends in problem["sends"]
    assert accepts in problem["accepts"] and fix in problem["fix"]
    assert "push would refuse it" in err

    # push: refused before the key; the backend never saw an upload-key request.
    cli.login()
    catalog = registry.catalog()
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 1, err
    assert result["error"]["type"] == "validation"
    assert fix in result["error"]["message"]
    assert "Nothing was registered or pushed" in result["error"]["hint"]
    assert _upload_requests(cli) == []
    assert registry.catalog() == catalog
    # Refused before the build too (the run order puts the command check first).
    assert "Build image" not in err


def test_allow_command_mismatch_pushes_and_reports_the_warnings(
    cli: Cli, registry: RegistryHandle, tmp_path: Path
) -> None:
    cli.login()
    context = _script_context(tmp_path, SITUATIONS["store_true"][0])
    code, result, err = _push(
        cli, context / "train.py", "--project", "1", "--allow-command-mismatch"
    )
    assert code == 0, err
    assert len(_upload_requests(cli)) == 1
    repository = result["image"].split("/", 1)[1]
    assert repository in registry.catalog()
    # The backend wrote --amp False too: both checks are warnings, with stable codes.
    assert result["command"] == "python train.py --amp False --lr 0.1"
    assert result["platform_command"] == "python train.py --amp False --lr 0.1"
    by_code = {w["code"]: w for w in result["warnings"]}
    assert {"command-mismatch", "backend-command-mismatch"} <= set(by_code)
    for code_name in ("command-mismatch", "backend-command-mismatch"):
        warning = by_code[code_name]
        assert set(warning) == {"code", "message", "path", "line"}
        assert "--amp False" in warning["message"] and warning["path"] == "train.py"
    assert [p["argument"] for p in result["problems"]] == ["amp"]
    # Every warning printed on stderr is in the list.
    assert err.count("Warning: ") == len(result["warnings"])


def test_project_file_warn_mode_pushes(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    context = _script_context(tmp_path, SITUATIONS["spelling"][0])
    (context / "keynet.toml").write_text('command_check = "warn"\n')
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 0, err
    assert "command-mismatch" in [w["code"] for w in result["warnings"]]


def test_backend_command_mismatch_stops_before_the_image_is_pushed(
    cli: Cli, registry: RegistryHandle, tmp_path: Path
) -> None:
    """The predicted command passes, but the backend returns another one: stop after the key."""
    cli.login()
    context = _script_context(
        tmp_path,
        "import argparse\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--lr', type=float, default=0.1)\n"
        "p.parse_args()\n",
    )
    cli.backend.command_override = "python train.py --lr -1e-05"
    catalog = registry.catalog()
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 1, err
    [upload] = _upload_requests(cli)
    assert upload.json["modelName"] == "train.py"  # type: ignore[attr-defined]
    key = cli.backend.upload_keys[-1]
    message = result["error"]["message"]
    assert "The backend returned the training command `python train.py --lr -1e-05`" in message
    assert f"Upload key {key} is registered without an image" in result["error"]["hint"]
    # Nothing was labelled, tagged or pushed.
    assert "Label image" not in err and "Push image" not in err
    assert registry.catalog() == catalog
