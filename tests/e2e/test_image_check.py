"""The image check before the upload key (docs/push.md), against real podman.

Each image the platform could not run is refused with exit 1 and a message
naming the file, the path looked at and the fix, and the fake backend's
request log shows that no upload key was requested. The checked images are
read through a created, never started container that is always removed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, make_context
from tests.support.services import BASE_IMAGE, PodmanServiceHandle

pytestmark = pytest.mark.integration

UPLOAD_PREFIX = "/v1/projects/"


def _push(
    cli: Cli, context: Path, entrypoint: str = "train.py", *extra: str
) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    result = cli(
        "push",
        str(context / entrypoint),
        "--context",
        str(context),
        "--project",
        "1",
        "--json",
        *extra,
    )
    payload = json.loads(result.out) if result.out.strip() else {}
    return result.code, payload, " ".join(result.err.split())


def _upload_requests(cli: Cli) -> list[object]:
    return cli.backend.requests_to(UPLOAD_PREFIX, "POST")


def _check_containers(podman_service: PodmanServiceHandle) -> list[str]:
    listed = subprocess.run(
        [
            "podman",
            "--url",
            podman_service.url,
            "ps",
            "--all",
            "--filter",
            "label=ai.keynet.train.image-check",
            "--format",
            "{{.ID}}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


def _refused(cli: Cli, code: int, payload: dict, err: str) -> str:  # type: ignore[type-arg]
    assert code == 1, err
    assert payload["error"]["type"] == "build", payload
    assert "==> Check image" in err
    assert "Request upload key" not in err
    assert _upload_requests(cli) == []  # no record on the platform
    return f"{payload['error']['message']} {payload['error']['hint']}"


def test_a_dockerfile_that_does_not_copy_the_entrypoint(
    cli: Cli, tmp_path: Path, podman_service: PodmanServiceHandle
) -> None:
    cli.login()
    context = make_context(tmp_path / "ctx", f"FROM {BASE_IMAGE}\nWORKDIR /app\n")
    code, payload, err = _push(cli, context)
    text = _refused(cli, code, payload, err)
    assert str(context / "Dockerfile") in text  # the file to fix
    assert "has no train.py where the platform runs it: looked at /app/train.py" in text
    assert "COPY train.py /app/train.py" in text  # the fix
    assert _check_containers(podman_service) == []


def test_a_sub_folder_entrypoint_the_platform_cannot_find(cli: Cli, tmp_path: Path) -> None:
    """The context is copied to /app but WORKDIR stays /: `python train_net.py` finds nothing."""
    cli.login()
    context = make_context(
        tmp_path / "ctx",
        f"FROM {BASE_IMAGE}\nCOPY . /app\n",
        {"tools/train_net.py": "import argparse\nargparse.ArgumentParser().parse_args()\n"},
    )
    code, payload, err = _push(cli, context, "tools/train_net.py")
    text = _refused(cli, code, payload, err)
    assert "looked at /tools/train_net.py and /train_net.py" in text
    assert "The image holds it at /app/tools/train_net.py" in text
    # Both fixes: the WORKDIR, or the model name relative to the current one.
    assert "Set WORKDIR /app in" in text
    assert "--model-name app/tools/train_net.py" in text


def test_a_sub_folder_entrypoint_gets_its_path_as_model_name(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    context = make_context(
        tmp_path / "ctx",
        f"FROM {BASE_IMAGE}\nWORKDIR /app\nCOPY . /app\n",
        {"tools/train_net.py": "import argparse\nargparse.ArgumentParser().parse_args()\n"},
    )
    code, payload, err = _push(cli, context, "tools/train_net.py")
    assert code == 0, err
    assert payload["model_name"] == "tools/train_net.py"
    (upload,) = _upload_requests(cli)
    assert upload.json["modelName"] == "tools/train_net.py"  # type: ignore[attr-defined]
    assert "ok Check image: python tools/train_net.py in /app" in err


def test_the_bare_file_name_when_the_image_holds_the_script_there(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    context = make_context(
        tmp_path / "ctx",
        f"FROM {BASE_IMAGE}\nWORKDIR /work\nCOPY tools/train_net.py /work/train_net.py\n",
        {"tools/train_net.py": "import argparse\nargparse.ArgumentParser().parse_args()\n"},
    )
    code, payload, err = _push(cli, context, "tools/train_net.py")
    assert code == 0, err
    assert payload["model_name"] == "train_net.py"
    # The predicted command shown is the one for the model name registered.
    assert payload["platform_command"] == "python train_net.py"


def test_a_model_name_the_image_does_not_hold(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    context = make_context(tmp_path / "ctx", f"FROM {BASE_IMAGE}\nWORKDIR /app\nCOPY . /app\n")
    code, payload, err = _push(cli, context, "train.py", "--model-name", "models/train.py")
    text = _refused(cli, code, payload, err)
    assert "has no file at /app/models/train.py: --model-name models/train.py" in text
    assert "The image holds it at /app/train.py: pass --model-name train.py." in text


def test_an_image_without_python_on_its_path(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    # The base image's python (a stand-in) is in /usr/local/bin, off this PATH.
    context = make_context(
        tmp_path / "ctx", f"FROM {BASE_IMAGE}\nWORKDIR /app\nCOPY train.py .\nENV PATH=/bin\n"
    )
    code, payload, err = _push(cli, context)
    text = _refused(cli, code, payload, err)
    assert "`python` is not on the PATH of the image built from" in text
    assert str(context / "Dockerfile") in text
    assert "looked in /bin." in text
    assert "FROM python:3.11-slim" in text and "ENV PATH=" in text


def test_python3_without_python_names_the_link_to_add(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    context = make_context(
        tmp_path / "ctx",
        f"FROM {BASE_IMAGE}\nWORKDIR /app\nCOPY train.py .\n"
        "RUN mkdir -p /usr/bin && mv /usr/local/bin/python /usr/bin/python3\n",
    )
    code, payload, err = _push(cli, context)
    text = _refused(cli, code, payload, err)
    assert "The image has python3 (/usr/bin/python3) but no `python`" in text
    assert "RUN ln -s /usr/bin/python3 /usr/local/bin/python" in text


def test_python_through_symlinks_is_found(cli: Cli, tmp_path: Path) -> None:
    """A venv-style chain: /opt/venv/bin/python -> python3 -> /usr/local/bin/python."""
    cli.login()
    context = make_context(
        tmp_path / "ctx",
        f"FROM {BASE_IMAGE}\nWORKDIR /app\nCOPY train.py .\n"
        "RUN mkdir -p /opt/venv/bin && ln -s /usr/local/bin/python /opt/venv/bin/python3 "
        "&& ln -s python3 /opt/venv/bin/python\nENV PATH=/opt/venv/bin:/bin\n",
    )
    code, _payload, err = _push(cli, context)
    assert code == 0, err
    assert "python: /usr/local/bin/python" in err


def test_a_changed_copy_of_the_entrypoint_in_the_image(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    context = make_context(
        tmp_path / "ctx",
        f"FROM {BASE_IMAGE}\nWORKDIR /app\nCOPY train.py /app/train.py\n"
        "RUN echo \"p.add_argument('--extra')\" >> /app/train.py\n",
    )
    code, payload, err = _push(cli, context)
    text = _refused(cli, code, payload, err)
    assert f"holds a different /app/train.py than {context / 'train.py'}" in text
    assert "would describe another script" in text
    assert "copy this file to /app/train.py and no later step change it" in text


def test_an_entrypoint_that_swallows_the_command(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    context = make_context(
        tmp_path / "ctx",
        f'FROM {BASE_IMAGE}\nWORKDIR /app\nCOPY train.py .\nENTRYPOINT ["python", "train.py"]\n',
    )
    code, payload, err = _push(cli, context)
    text = _refused(cli, code, payload, err)
    assert 'ENTRYPOINT ["python", "train.py"]' in text and "would swallow" in text
    assert "ENTRYPOINT []" in text


def test_an_entrypoint_script_that_runs_its_arguments_passes(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    context = make_context(
        tmp_path / "ctx",
        f"FROM {BASE_IMAGE}\nWORKDIR /app\nCOPY . .\nRUN chmod 755 /app/entry.sh\n"
        'ENTRYPOINT ["/app/entry.sh"]\n',
        {"entry.sh": '#!/bin/sh\nset -e\necho "starting"\nexec "$@"\n'},
    )
    code, _payload, err = _push(cli, context)
    assert code == 0, err


def test_an_image_for_another_platform(cli: Cli, tmp_path: Path) -> None:
    """FROM --platform pins the base; the build's --platform then cannot change the image."""
    cli.login()
    context = make_context(
        tmp_path / "ctx",
        f"FROM --platform=linux/amd64 {BASE_IMAGE}\nWORKDIR /app\nCOPY train.py .\n",
    )
    code, payload, err = _push(cli, context, "train.py", "--platform", "linux/arm64")
    text = _refused(cli, code, payload, err)
    assert "is for linux/amd64" in text and "the platform runs linux/arm64 images" in text
    assert "--platform linux/arm64" in text


def test_dry_run_refuses_what_a_push_would(cli: Cli, tmp_path: Path) -> None:
    context = make_context(tmp_path / "ctx", f"FROM {BASE_IMAGE}\nWORKDIR /app\n")
    result = cli("push", str(context / "train.py"), "--context", str(context), "--dry-run")
    assert result.code == 1
    assert "has no train.py where the platform runs it" in " ".join(result.err.split())
