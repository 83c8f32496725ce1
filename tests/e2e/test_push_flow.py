"""login → push against real podman, a real TLS registry and the fake backend."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.e2e.conftest import EXAMPLES, SIMPLE_DOCKERFILE, Cli, make_context
from tests.support.fault_proxy import FaultProxy
from tests.support.services import (
    BASE_IMAGE,
    PYTHON_STAND_IN,
    PodmanServiceHandle,
    RegistryHandle,
    free_port,
)

pytestmark = pytest.mark.integration

UPLOAD_PREFIX = "/v1/projects/"
FIELDS = ("name", "type", "default", "required", "help", "choices")


def _arg(
    name: str,
    type_: str,
    default: object,
    help_: str | None,
    choices: list[str] | None = None,
    required: bool = False,
) -> dict[str, object]:
    return dict(zip(FIELDS, (name, type_, default, required, help_, choices), strict=True))


# What the platform must receive for each example, written out by hand from
# the scripts in examples/ (not computed by the extractor under test).
EXPECTED_ARGUMENTS = {
    "argparse": [
        _arg("epochs", "int", 50, "number of training epochs"),
        _arg("batch_size", "int", 16, "images per batch"),
        _arg("learning_rate", "float", 0.001, "initial LR"),
        _arg("imgsz", "int", 640, "input image size"),
        _arg("optimizer", "str", "adamw", None, ["sgd", "adam", "adamw"]),
        _arg("device", "str", "cuda:0", None),
        _arg("pretrained", "bool", False, "start from pretrained weights"),
        _arg("mosaic", "float", 1.0, "mosaic probability"),
        _arg("flip", "bool", True, "random flips"),
    ],
    "click": [
        _arg("epochs", "int", 30, "number of epochs"),
        _arg("batch_size", "int", 64, "images per batch"),
        _arg("learning_rate", "float", 0.01, "initial learning rate"),
        _arg("model", "str", "resnet50", "backbone", ["resnet18", "resnet50", "efficientnet_b0"]),
        _arg("label_smoothing", "float", 0.1, None),
        _arg("amp", "bool", True, "mixed precision"),
        _arg("freeze_backbone", "bool", False, "train the head only"),
        _arg("dataset_id", "str", None, "platform dataset id", required=True),
    ],
    "typer": [
        _arg("epochs", "int", 100, "number of epochs"),
        _arg("batch_size", "int", 8, "images per batch"),
        _arg("learning_rate", "float", 0.0003, "initial learning rate"),
        _arg("backbone", "str", "unet", "network architecture", ["unet", "deeplabv3", "segformer"]),
        _arg("imgsz", "int", 512, None),
        _arg("output_dir", "str", "/workspace/output", None),
        _arg("resume", "str", None, "checkpoint to resume from"),
        # A str: typer bools are flags, and the platform writes --ema True.
        _arg("ema", "str", "True", None),
    ],
}


def _push(
    cli: Cli, entrypoint: Path, *extra: str, context: Path | None = None
) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    result = cli(
        "push",
        str(entrypoint),
        "--context",
        str(context or entrypoint.parent),
        "--build-arg",
        f"BASE_IMAGE={BASE_IMAGE}",
        "--json",
        *extra,
    )
    payload = json.loads(result.out) if result.out.strip() else {}
    return result.code, payload, result.err


def _upload_requests(cli: Cli) -> list[object]:
    return [
        r for r in cli.backend.requests if r.method == "POST" and r.path.startswith(UPLOAD_PREFIX)
    ]


@pytest.mark.parametrize("example", ["argparse", "click", "typer"])
def test_push_example_end_to_end(cli: Cli, registry: RegistryHandle, example: str) -> None:
    cli.login()
    entrypoint = EXAMPLES / example / "train.py"
    code, result, err = _push(cli, entrypoint, "--project", "2", "--tag", "v1", "--tag", "exp-7")
    assert code == 0, err

    repository = result["image"].split("/", 1)[1]
    assert result["image"] == (
        # The key lowercased, each run of _ or - one "-", none at the ends (docs/decisions.md).
        f"{registry.host}/kitech-model/"
        + re.sub(r"[_-]+", "-", result["upload_key"].lower()).strip("-")
    )
    assert repository in registry.catalog()
    assert sorted(registry.tags(repository)) == ["exp-7", "latest", "v1"]
    assert result["tags"] == ["latest", "v1", "exp-7"]
    digest = registry.manifest_digest(repository, "latest")
    assert digest is not None and digest == result["digest"]
    assert registry.manifest_digest(repository, "v1") == digest

    labels = registry.image_config(repository, "latest")["config"]["Labels"]
    assert labels["ai.keynet.train.entrypoint"] == "train.py"
    assert labels["ai.keynet.train.upload-key"] == result["upload_key"]
    assert json.loads(labels["ai.keynet.train.hyperparameters"]) == result["hyperparameters"]
    assert datetime.strptime(labels["org.opencontainers.image.created"], "%Y-%m-%dT%H:%M:%SZ")
    # The examples are in this git checkout: its revision is labelled (git is asked
    # while the image builds).
    revision = subprocess.run(
        ["git", "-C", str(entrypoint.parent), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    assert labels.get("org.opencontainers.image.revision") == (revision or None)

    expected = EXPECTED_ARGUMENTS[example]
    # The result and label carry the descriptor; the backend only the six fields.
    assert [{k: h[k] for k in FIELDS} for h in result["hyperparameters"]] == expected
    assert all("kind" in h and "flags" in h for h in result["hyperparameters"])
    assert result["parser_type"] == example
    assert result["project_id"] == 2
    assert result["model_name"] == "train.py"
    (upload,) = _upload_requests(cli)
    assert upload.path == "/v1/projects/2/trains/images"  # type: ignore[attr-defined]
    assert upload.json == {"modelName": "train.py", "hyperParameters": expected}  # type: ignore[attr-defined]
    assert upload.header("authorization").startswith("Bearer ")  # type: ignore[attr-defined]
    assert result["command"].startswith("python train.py")
    assert "Push completed successfully" in err
    # The examples must run under the command the platform will use (our own
    # scripts: running them in a test is fine; the product never runs code).
    assert "training job would stop" not in err
    argv = [sys.executable, *shlex.split(result["command"])[1:]]
    ran = subprocess.run(
        argv,
        cwd=entrypoint.parent,
        env={**os.environ, "DATASET_ID": "7"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr


def test_human_output_and_model_name(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    # The model name is the script's path relative to WORKDIR (docs/push.md).
    context = make_context(
        tmp_path / "ctx", SIMPLE_DOCKERFILE + "COPY train.py /app/yolo-v9/train.py\n"
    )
    result = cli(
        "push",
        str(context / "train.py"),
        "--context",
        str(context),
        "--project",
        "1",
        "--model-name",
        "yolo-v9/train.py",
    )
    assert result.code == 0, result.err
    assert "✨ Push completed successfully!" in result.out
    assert "Upload Key: " in result.out and "Image: " in result.out
    assert "Hyperparameters: 2 arguments sent to Backend" in result.out
    # Run order (docs/push.md): 1-4, build, image check, registry check, upload key,
    # labels, tag, push.
    steps = (
        "Check credentials",
        "Validate",
        "Choose project",
        "Build image",
        "Check image",
        "Check registry credentials",
        "Request upload key",
        "Label image",
        "Tag image",
        "Push image",
    )
    positions = [result.err.find(f"==> {step}") for step in steps]
    assert -1 not in positions, result.err
    assert positions == sorted(positions), result.err
    (upload,) = _upload_requests(cli)
    assert upload.json["modelName"] == "yolo-v9/train.py"  # type: ignore[attr-defined]
    assert "training job would stop" not in result.err  # --epochs and --lr are accepted


def test_training_command_the_script_would_reject_is_refused(cli: Cli, tmp_path: Path) -> None:
    """The backend spells options --<name>; a script declaring --learning-rate would fail."""
    cli.login()
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    (context / "train.py").write_text(
        "import argparse\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--learning-rate', type=float, default=0.01)\n"
        "p.add_argument('--epochs', type=int, default=3)\n"
        "p.parse_args()\n"
    )
    result = cli("push", str(context / "train.py"), "--context", str(context), "--project", "1")
    assert result.code == 1, result.err  # refused before the key (docs/platform-command.md)
    error = " ".join(result.err.split())
    assert "python train.py --learning_rate 0.01 --epochs 3" in error
    assert "learning_rate: the platform sends --learning_rate 0.01" in error
    assert "add_argument('--learning-rate', '--learning_rate', ...)" in error
    assert "--epochs," not in error
    assert _upload_requests(cli) == []


def test_project_file_supplies_defaults(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    context = make_context(
        tmp_path / "repo",
        "",
        {
            "docker/Dockerfile": SIMPLE_DOCKERFILE + "COPY train.py /app/seg.py\n",
            "pyproject.toml": "[tool.keynet-train]\nproject_id = 3\n"
            'dockerfile = "docker/Dockerfile"\ncontext = "."\n'
            'tags = ["nightly"]\nmodel_name = "seg.py"\n',
        },
    )
    (context / "Dockerfile").unlink()
    code, result, err = _push(cli, context / "train.py")
    assert code == 0, err
    assert "pyproject.toml" in err
    assert result["project_id"] == 3 and result["model_name"] == "seg.py"
    assert result["tags"] == ["latest", "nightly"]
    # A flag beats the project file; KEYNET_PROJECT_ID beats it too.
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 0 and result["project_id"] == 1


def test_expired_token_sends_no_request(cli: Cli, tmp_path: Path) -> None:
    cli.login()

    def expire(config):  # type: ignore[no-untyped-def]
        config.api_token_expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
        return config

    cli.store.update(expire)
    cli.backend.reset()
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 1
    assert result["error"]["type"] == "authentication"
    assert "expired" in err and "keynet-train login" in err
    assert cli.backend.requests == []


def test_not_logged_in(cli: Cli, tmp_path: Path) -> None:
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 1
    assert result["error"]["type"] == "authentication"
    assert "No credentials configured. Please login first: keynet-train login <url>" in err
    assert cli.backend.requests == []


@pytest.mark.parametrize(
    ("mode", "error_type", "needle"),
    [
        ("401", "authentication", "login"),
        ("400", "validation", "Request rejected: hyperparameter 'lr' is invalid"),
        ("404", "not_found", "3"),
        ("500", "backend", "500"),
    ],
)
def test_backend_failures_on_upload_key(
    cli: Cli, registry: RegistryHandle, tmp_path: Path, mode: str, error_type: str, needle: str
) -> None:
    cli.login()
    before = set(registry.catalog())
    cli.backend.fail("/v1/projects/3/trains/images", mode, message="hyperparameter 'lr' is invalid")
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    code, result, err = _push(cli, context / "train.py", "--project", "3")
    assert code == 1, err
    assert result["error"]["type"] == error_type
    assert needle in err
    assert "Traceback" not in err
    assert len(_upload_requests(cli)) == 1  # POSTs are not retried after a response
    assert set(registry.catalog()) == before


def test_registry_rejects_robot_password(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    cli.set_harbor(password="not-the-robot-password")
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 1
    assert result["error"]["type"] == "registry"
    assert "Harbor Registry authentication failed" in err
    assert "login" in err
    assert "not-the-robot-password" not in err + json.dumps(result)
    # Checked before the key is requested: no orphan record on the platform.
    assert _upload_requests(cli) == []


def test_registry_down(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    cli.set_harbor(url=f"https://127.0.0.1:{free_port()}")
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 1
    assert result["error"]["type"] == "registry"
    assert "Traceback" not in err
    assert _upload_requests(cli) == []


def test_transient_registry_errors_are_retried(
    cli: Cli, fault_proxy: FaultProxy, registry: RegistryHandle, tmp_path: Path
) -> None:
    cli.login()
    cli.set_harbor(url=fault_proxy.url)
    # Only the image upload fails: the /v2/ credential check goes through.
    fault_proxy.fail_next(2, 500, path_prefix="/v2/kitech-model/")
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE + "LABEL retry=yes\n")
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 0, err
    assert sum(1 for r in fault_proxy.requests if r.status == 500) == 2
    repository = result["image"].split("/", 1)[1]
    assert registry.manifest_digest(repository, "latest") == result["digest"]


def test_transient_errors_of_the_credential_check_are_retried(
    cli: Cli, fault_proxy: FaultProxy, registry: RegistryHandle, tmp_path: Path
) -> None:
    """The /v2/ check before the upload key must not make a push less robust than before."""
    cli.login()
    cli.set_harbor(url=fault_proxy.url)
    fault_proxy.fail_next(2, 503)  # the first requests of a push are the /v2/ check
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE + "LABEL check-retry=yes\n")
    code, _, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 0, err
    failed = [r for r in fault_proxy.requests if r.status == 503]
    assert [r.path for r in failed] == ["/v2/", "/v2/"]
    assert len(_upload_requests(cli)) == 1


def test_the_registry_check_runs_while_the_image_builds(
    cli: Cli, fault_proxy: FaultProxy, tmp_path: Path
) -> None:
    """The /v2/ check needs nothing from the build: it is sent while the build still runs.

    The build takes at least BUILD_SECONDS (its RUN step sleeps that long), so a
    check that arrives earlier than that after the push started overlapped it.
    """
    build_seconds = 5
    cli.login()
    cli.set_harbor(url=fault_proxy.url)
    checks: list[float] = []

    def record(method: str, path: str) -> None:
        if path == "/v2/" and not checks:
            checks.append(time.monotonic())

    fault_proxy.answer_with(record)
    context = make_context(
        tmp_path / "ctx", SIMPLE_DOCKERFILE + f"RUN sleep {build_seconds} # {uuid.uuid4().hex}\n"
    )
    started = time.monotonic()
    code, _, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 0, err
    assert checks and checks[0] - started < build_seconds, (checks, started)
    # Reported at its place in the order all the same: after the build, before the key.
    assert err.index("Build image") < err.index("Check registry credentials")
    assert err.index("Check registry credentials") < err.index("Request upload key")


def test_413_is_reported_as_proxy_body_limit(
    cli: Cli, fault_proxy: FaultProxy, tmp_path: Path
) -> None:
    cli.login()
    cli.set_harbor(url=fault_proxy.url)
    fault_proxy.reject_uploads(413)
    context = make_context(
        tmp_path / "ctx", SIMPLE_DOCKERFILE + "COPY big.bin /big.bin\n", {"big.bin": "x" * 200_000}
    )
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 1
    assert result["error"]["type"] == "registry"
    assert "413" in err and "body" in err.lower()


def test_failing_run_step_names_the_step(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE + "RUN echo preparing && exit 3\n")
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 1
    assert result["error"]["type"] == "build"
    assert "Container image build failed at step 4" in err
    assert "RUN echo preparing && exit 3" in err
    assert "| preparing" in err  # the build log streamed before the error
    assert _upload_requests(cli) == []  # a failed build leaves no record behind


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("missing_dockerfile", "Dockerfile not found"),
        ("outside_context", "outside the build context"),
        ("ignored", "excluded from the build context"),
    ],
)
def test_local_problems_stop_before_anything_is_sent(
    cli: Cli, tmp_path: Path, case: str, needle: str
) -> None:
    cli.login()
    cli.backend.reset()
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    entrypoint = context / "train.py"
    if case == "missing_dockerfile":
        (context / "Dockerfile").unlink()
    elif case == "outside_context":
        entrypoint = tmp_path / "elsewhere.py"
        entrypoint.write_text("print('hi')\n")
    else:
        (context / ".dockerignore").write_text("*.py\n")
    code, result, err = _push(cli, entrypoint, "--project", "1", context=context)
    assert code == 1
    assert needle in err
    assert result["error"]["type"] == "build"
    assert cli.backend.requests == []


def test_no_tty_and_no_project_lists_projects(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    code, result, err = _push(cli, context / "train.py")
    assert code == 1
    assert result["error"]["type"] == "usage"
    assert "--project" in err and "Project 1" in err and "KEYNET_PROJECT_ID" in err
    assert _upload_requests(cli) == []


def test_dry_run_needs_no_login_and_sends_nothing(cli: Cli, tmp_path: Path) -> None:
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE, {"data/ignored.bin": "x"})
    (context / ".dockerignore").write_text("data/\n")
    result = cli(
        "push", str(context / "train.py"), "--context", str(context), "--dry-run", "--json"
    )
    assert result.code == 0, result.err
    payload = json.loads(result.out)
    assert payload["image"] == "localhost/keynet-dry-run:train"
    assert payload["context_files"] == 3  # Dockerfile, .dockerignore, train.py
    assert [h["name"] for h in payload["hyperparameters"]] == ["epochs", "lr"]
    assert payload["target_repository"].endswith("/kitech-model/<upload-key>")
    assert cli.backend.requests == []
    human = cli("push", str(context / "train.py"), "--context", str(context), "--dry-run")
    assert human.code == 0
    assert "Dry run: nothing was sent" in human.out
    assert ".dockerignore" in human.out


def test_unchanged_context_reuses_the_previous_build(
    cli: Cli, registry: RegistryHandle, tmp_path: Path
) -> None:
    cli.login()
    context = make_context(
        tmp_path / "ctx", SIMPLE_DOCKERFILE + "RUN echo built-once\n", {"data.bin": "d" * 5000}
    )
    code, first, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 0, err
    assert "built-once" in err and "Inputs unchanged" not in err

    code, second, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 0, err
    assert "Inputs unchanged since the build of image" in err
    assert "STEP 2/3" not in err  # the user's Dockerfile was not sent again
    repository = second["image"].split("/", 1)[1]
    labels = registry.image_config(repository, "latest")["config"]["Labels"]
    assert labels["ai.keynet.train.upload-key"] == second["upload_key"] != first["upload_key"]
    assert registry.manifest_digest(repository, "latest") == second["digest"]

    (context / "data.bin").write_text("e" * 5001)
    code, _, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 0, err
    assert "Inputs unchanged" not in err and "COPY train.py" in err

    code, _, err = _push(cli, context / "train.py", "--project", "1", "--no-cache")
    assert code == 0, err
    assert "Inputs unchanged" not in err and "built-once" in err


def _build_base(podman_url: str, workdir: Path, tag: str, marker: str) -> str:
    """Build a tiny base image (FROM scratch, a file and the python stand-in) tagged ``tag``."""
    from keynet_train.build import context as build_context
    from keynet_train.podman.service import connect

    workdir.mkdir(parents=True)
    (workdir / "Dockerfile").write_text(
        "FROM scratch\nCOPY marker /marker\nCOPY python /usr/local/bin/python\n"
    )
    (workdir / "marker").write_text(marker)
    (workdir / "python").write_text(PYTHON_STAND_IN)
    (workdir / "python").chmod(0o755)
    with connect(podman_url) as client:
        summary = build_context.scan_context(workdir, workdir / "Dockerfile")
        return client.build(summary, tag=tag, platform=None).image_id


def test_a_rebuilt_base_image_is_not_reused(
    cli: Cli, registry: RegistryHandle, podman_service: PodmanServiceHandle, tmp_path: Path
) -> None:
    """Re-tagging the base (say, a security fix of torch-base:latest) must rebuild the image."""
    cli.login()
    base = f"localhost/keynet-rebase-{uuid.uuid4().hex[:8]}:latest"
    first_base = _build_base(podman_service.url, tmp_path / "base1", base, "base one\n")
    dockerfile = "ARG BASE\nFROM ${BASE}\nWORKDIR /app\nCOPY train.py /app/train.py\n"
    context = make_context(tmp_path / "ctx", dockerfile)
    try:
        code, first, err = _push(
            cli, context / "train.py", "--project", "1", "--build-arg", f"BASE={base}"
        )
        assert code == 0, err
        code, _, err = _push(
            cli, context / "train.py", "--project", "1", "--build-arg", f"BASE={base}"
        )
        assert code == 0, err
        assert "Inputs unchanged since the build of image" in err  # nothing changed yet

        second_base = _build_base(podman_service.url, tmp_path / "base2", base, "base two\n")
        assert second_base != first_base
        code, second, err = _push(
            cli, context / "train.py", "--project", "1", "--build-arg", f"BASE={base}"
        )
        assert code == 0, err
        assert "Inputs unchanged" not in err
        assert "COPY train.py /app/train.py" in err  # the Dockerfile ran again

        def base_layer(result: dict) -> str:  # type: ignore[type-arg]
            repository = result["image"].split("/", 1)[1]
            return str(registry.image_config(repository, "latest")["rootfs"]["diff_ids"][0])

        assert base_layer(first) != base_layer(second)
    finally:
        subprocess.run(["podman", "rmi", "--force", base], capture_output=True, check=False)


def test_insecure_registry_warns_and_still_pushes(
    cli: Cli, registry: RegistryHandle, tmp_path: Path
) -> None:
    cli.login()
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE + "LABEL insecure=yes\n")
    code, result, err = _push(cli, context / "train.py", "--project", "1", "--insecure-registry")
    assert code == 0, err
    assert f"--insecure-registry: TLS certificates of {registry.host} are NOT verified" in err
    repository = result["image"].split("/", 1)[1]
    assert registry.manifest_digest(repository, "latest") == result["digest"]


SUBCOMMAND_SCRIPT = (
    "import argparse\n"
    "p = argparse.ArgumentParser()\n"
    "p.add_argument('--seed', type=int, default=1)\n"
    "sub = p.add_subparsers(dest='cmd')\n"
    "pre = sub.add_parser('pretrain')\n"
    "pre.add_argument('--steps', type=int, default=10)\n"
    "fine = sub.add_parser('finetune')\n"
    "fine.add_argument('--lr', type=float, default=0.1)\n"
    "p.parse_args()\n"
)


def test_sub_command_is_chosen_recorded_and_checked(
    cli: Cli, registry: RegistryHandle, tmp_path: Path
) -> None:
    """--command / project-file command pick the sub-command; label and --json record it."""
    cli.login()
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    (context / "train.py").write_text(SUBCOMMAND_SCRIPT)
    # Two sub-commands, none named train: nothing is built or registered.
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 1
    assert "pretrain, finetune" in result["error"]["message"]
    assert "--command" in result["error"]["hint"]
    assert _upload_requests(cli) == []

    # The platform's command never names the sub-command: refused before the key ...
    code, result, err = _push(cli, context / "train.py", "--project", "1", "--command", "finetune")
    assert code == 1, err
    assert "python train.py finetune [options]" in result["error"]["message"]
    assert _upload_requests(cli) == []
    # ... unless the platform renders from the label (which records the sub-command).
    code, result, err = _push(
        cli,
        context / "train.py",
        "--project",
        "1",
        "--command",
        "finetune",
        "--allow-command-mismatch",
    )
    assert code == 0, err
    assert result["subcommand"] == "finetune"
    assert [h["name"] for h in result["hyperparameters"]] == ["seed", "lr"]
    assert [h["scope"] for h in result["hyperparameters"]] == ["global", "command"]
    (upload,) = _upload_requests(cli)
    # The backend request keeps the six fields only.
    assert [set(h) for h in upload.json["hyperParameters"]] == [  # type: ignore[attr-defined]
        {"name", "type", "default", "required", "help", "choices"}
    ] * 2
    repository = result["image"].split("/", 1)[1]
    labels = registry.image_config(repository, "latest")["config"]["Labels"]
    assert labels["ai.keynet.train.command"] == "finetune"
    # The fake backend's command has no sub-command: the job would fail, and push says so.
    assert "python train.py finetune [options]" in " ".join(err.split())
    codes = [w["code"] for w in result["warnings"]]
    assert "command-mismatch" in codes and "backend-command-mismatch" in codes

    (context / "keynet.toml").write_text('command = "pretrain"\ncommand_check = "warn"\n')
    code, result, err = _push(cli, context / "train.py", "--project", "1")
    assert code == 0, err
    assert result["subcommand"] == "pretrain"
    assert [h["name"] for h in result["hyperparameters"]] == ["seed", "steps"]
