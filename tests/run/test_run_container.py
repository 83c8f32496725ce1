"""``keynet-train run`` end to end: real podman, a real Python in the container, real callbacks.

The stdlib example trainer passes; each variant breaks one rule of the
callback contract and must fail with that check named and exit 1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.run.conftest import RunCli, RunOutput, example_source, variant, write_project
from tests.support.services import PodmanServiceHandle

pytestmark = pytest.mark.integration

SECOND_DONE = 'post("done", {"status": "succeeded", "final_metrics": {}, "artifacts": {}})'


def report(result: RunOutput) -> dict[str, object]:
    assert result.out.strip(), result.err[-3000:]
    doc = json.loads(result.out)
    assert isinstance(doc, dict)
    return doc


def failed(doc: dict[str, object]) -> set[str]:
    checks = doc["checks"]
    assert isinstance(checks, list)
    return {c["name"] for c in checks if c["status"] == "fail"}


def containers(podman: PodmanServiceHandle) -> list[str]:
    listed = podman.podman("ps", "-a", "--format", "{{.Names}}")
    return [n for n in listed.stdout.decode().split() if n.startswith("keynet-run-")]


def test_the_stdlib_example_passes_and_leaves_a_run_folder(
    run_cli: RunCli, python_image: str, podman_service: PodmanServiceHandle
) -> None:
    write_project(run_cli.project, python_image, example_source())
    result = run_cli("run", "train.py", "--set", "epochs=2", "--json")
    doc = report(result)
    assert result.code == 0, (failed(doc), result.err[-3000:])
    assert doc["passed"] is True and doc["exit_code"] == 0
    # Rootful: the bridge; rootless: slirp4netns (scripts/setup-rootless-user gives
    # /dev/net/tun the distributions' mode), the user's network only without it.
    if os.geteuid() == 0:
        expected = "bridge"
    elif os.access("/dev/net/tun", os.R_OK | os.W_OK):
        expected = "slirp4netns"
    else:
        expected = "host"
    assert doc["network"] == expected
    # Warnings as data: on this GPU-less machine the loud CPU note, nothing about callbacks.
    codes = {w["code"] for w in doc["warnings"]}  # type: ignore[attr-defined]
    assert "no-gpu" in codes and codes <= {"no-gpu", "shared-network"}
    assert doc["command"] == [
        "python",
        "train.py",
        "--epochs",
        "2",
        "--batch_size",
        "16",
        "--learning_rate",
        "0.01",
    ]
    env = doc["environment"]
    assert isinstance(env, dict)
    assert env["EPOCHS"] == "2" and env["BATCH_SIZE"] == "16" and env["LEARNING_RATE"] == "0.01"
    assert env["JOB_ID"].isdigit() and env["MODEL_NAME"] == "train.py"
    # The live log and one line per callback, interleaved, on stderr.
    assert "epoch 2/2 loss" in result.err
    assert "callback 1: POST event -> 200" in result.err
    assert "heartbeat -> 200 should_continue=true" in result.err
    folder = Path(str(doc["folder"]))
    assert folder.parent == run_cli.project / ".keynet" / "runs"
    assert {p.name for p in folder.iterdir()} == {
        "report.json",
        "callbacks.jsonl",
        "container.log",
        "podman-run.txt",
    }
    lines = (folder / "callbacks.jsonl").read_text().splitlines()
    assert [json.loads(line)["endpoint"] for line in lines] == [
        "event",
        "heartbeat",
        "heartbeat",
        "done",
    ]
    assert "epoch 1/2" in (folder / "container.log").read_text()
    podman_line = (folder / "podman-run.txt").read_text()
    assert "--shm-size 2147483648" in podman_line and "CALLBACK_TOKEN=" in podman_line
    # No secret in any output or file: the token is masked everywhere.
    token_prefix = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    for text in (result.out, result.err, podman_line, (folder / "report.json").read_text()):
        assert token_prefix not in text
    assert containers(podman_service) == []


@pytest.mark.parametrize(
    ("name", "replacements", "extra", "check"),
    [
        (
            "missing trace_id",
            [('json.dumps({"trace_id": os.environ["TRACE_ID"], **fields})', "json.dumps(fields)")],
            [],
            "trace_id",
        ),
        (
            "bad token",
            [
                (
                    "f\"Bearer {os.environ['CALLBACK_TOKEN']}\"",
                    "f\"Bearer {os.environ['CALLBACK_TOKEN']}x\"",
                )
            ],
            [],
            "token",
        ),
        (
            "wrong job id",
            [("/v1/jobs/{os.environ['JOB_ID']}/", "/v1/jobs/{int(os.environ['JOB_ID']) + 1}/")],
            [],
            "job_id",
        ),
        (
            "done twice",
            [
                (
                    "    return 0\n",
                    f"    {SECOND_DONE}\n    return 0\n",
                )
            ],
            [],
            "done",
        ),
        ("no done", [('    post(\n        "done",', '    (\n        "done",')], [], "done"),
        (
            "exit code disagreeing with done",
            [("    return 0\n", "    return 3\n")],
            [],
            "exit_code",
        ),
        (
            "progress 150",
            [("round(100.0 * epoch / args.epochs, 2)", "round(150.0 * epoch / args.epochs, 2)")],
            [],
            "progress",
        ),
        (
            "NaN",
            [('{"loss": round(loss, 6), "batch_size"', '{"loss": float("nan"), "batch_size"')],
            [],
            "finite_numbers",
        ),
        (
            "ignoring cancellation",
            [('answer.get("should_continue") is False', "False")],
            ["--cancel-after", "1"],
            "cancellation",
        ),
        (
            "running past the deadline",
            [("time.sleep(0.2)  # the", "time.sleep(60)  # the")],
            ["--deadline", "2s"],
            "deadline",
        ),
    ],
)
def test_each_violation_fails_with_its_check_named(
    run_cli: RunCli,
    python_image: str,
    podman_service: PodmanServiceHandle,
    name: str,
    replacements: list[tuple[str, str]],
    extra: list[str],
    check: str,
) -> None:
    write_project(run_cli.project, python_image, variant(*replacements))
    result = run_cli("run", "train.py", "--set", "epochs=2", "--json", *extra)
    doc = report(result)
    assert result.code == 1, result.err[-3000:]
    assert check in failed(doc), (name, failed(doc))
    if check not in ("exit_code", "deadline", "cancellation", "done"):
        assert "callback-problem" in {w["code"] for w in doc["warnings"]}  # type: ignore[attr-defined]
    assert "FAILED: " in result.err and check in result.err
    assert containers(podman_service) == []


def test_cancellation_obeyed_passes_and_the_verdict_table_is_the_result(
    run_cli: RunCli, python_image: str
) -> None:
    write_project(run_cli.project, python_image, example_source())
    result = run_cli("run", "train.py", "--cancel-after", "1")
    assert result.code == 0, result.out + result.err[-3000:]
    assert "should_continue=false" in result.err
    # Without --json the verdict table is the result, on stdout.
    assert result.out.splitlines()[1].split() == ["CHECK", "RESULT", "CALLBACK", "REASON"]
    assert "cancellation    PASS" in result.out and "PASSED: every check passed" in result.out
    folder = next((run_cli.project / ".keynet" / "runs").iterdir())
    doc = json.loads((folder / "report.json").read_text())
    assert doc["exit_code"] == 1 and doc["passed"] is True


def test_an_entrypoint_in_a_sub_folder_runs_at_its_platform_path(
    run_cli: RunCli, python_image: str
) -> None:
    write_project(run_cli.project, python_image, example_source(), entry="src/train.py")
    result = run_cli("run", "src/train.py", "--set", "epochs=1", "--json")
    doc = report(result)
    assert result.code == 0, (failed(doc), result.err[-3000:])
    assert doc["command"][:2] == ["python", "src/train.py"]  # type: ignore[index]
    assert doc["model_name"] == "src/train.py"


def test_an_image_without_python_fails_before_anything_starts(
    run_cli: RunCli, podman_service: PodmanServiceHandle
) -> None:
    # FROM scratch: the session's busybox image carries a python stand-in for push's tests.
    (run_cli.project / "Dockerfile").write_text("FROM scratch\nWORKDIR /app\nCOPY . /app\n")
    (run_cli.project / "train.py").write_text(example_source())
    result = run_cli("run", "train.py")
    assert result.code == 1
    assert "python" in result.err.lower() and "PATH" in result.err
    assert "Run container" not in result.err
    assert containers(podman_service) == []


def test_set_is_checked_before_anything_is_built(run_cli: RunCli, python_image: str) -> None:
    write_project(run_cli.project, python_image, example_source())
    result = run_cli("run", "train.py", "--set", "epochs=many")
    assert result.code == 2
    assert "not an integer" in result.err
    assert "Build image" not in result.err


def test_dry_run_prints_command_environment_and_limits_and_starts_nothing(
    run_cli: RunCli, python_image: str
) -> None:
    write_project(run_cli.project, python_image, example_source())
    result = run_cli(
        "run", "train.py", "--dry-run", "--gpus", "none", "--env", "WANDB_API_KEY=abcdefghijklmnop"
    )
    assert result.code == 0, result.err
    assert "python train.py --epochs 3" in result.out
    assert "memory_bytes: 17179869184" in result.out and "NO GPU" in result.out
    assert "abcdefghijklmnop" not in result.out
    assert not (run_cli.project / ".keynet").exists()


def test_a_second_run_reuses_the_build_and_image_reads_the_label(
    run_cli: RunCli, python_image: str, tmp_path: Path
) -> None:
    write_project(run_cli.project, python_image, example_source())
    first = report(run_cli("run", "train.py", "--set", "epochs=1", "--json"))
    # The run folder is not in the build context: an unchanged project is not rebuilt.
    again = run_cli("run", "train.py", "--set", "epochs=1", "--json")
    assert again.code == 0 and "reusing it" in again.err, again.err[-3000:]
    image = str(first["image"])
    planned = run_cli("run", "--image", image, "--dry-run", "--json")
    assert json.loads(planned.out)["command"][:2] == ["python", "train.py"], planned.err
    result = run_cli(
        "run",
        "--image",
        image,
        "--set",
        "epochs=1",
        "--json",
        "--output-dir",
        str(tmp_path / "out"),
    )
    doc = report(result)
    assert result.code == 0, (failed(doc), result.err[-3000:])
    assert (tmp_path / "out" / "report.json").is_file()


def test_a_job_ignoring_cancellation_and_sigterm_is_killed_after_the_grace(
    run_cli: RunCli, python_image: str, podman_service: PodmanServiceHandle
) -> None:
    """The escalation, with a 2 s grace instead of 30 s: SIGTERM (ignored by PID 1), SIGKILL."""
    from keynet_train.podman.service import connect
    from keynet_train.progress import RecordingReporter
    from keynet_train.run.pipeline import RunOptions, RunServices, run_job
    from keynet_train.run.verdict import RunResult

    source = variant(
        ("time.sleep(0.2)  # the", "time.sleep(0 if epoch == 1 else 600)  # the"),
        ('answer.get("should_continue") is False', "False"),
        ("lambda signum, frame: stopping.set()", "signal.SIG_IGN"),
    )
    write_project(run_cli.project, python_image, source)
    environ = {**run_cli.environ, "CONTAINER_HOST": podman_service.url}
    services = RunServices(
        open_engine=lambda _: connect(podman_service.url, environ=environ, source="flag")
    )
    options = RunOptions(entrypoint=Path("train.py"), cancel_after=1, grace=2.0)
    result = run_job(
        options,
        environ=environ,
        cwd=run_cli.project,
        services=services,
        reporter=RecordingReporter(),
    )
    assert isinstance(result, RunResult)
    assert result.exit_code == 137  # SIGKILL
    checks = {c.name: c for c in result.checks}
    assert checks["cancellation"].status == "fail" and checks["done"].status == "fail"
    assert result.runtime < 30
    assert containers(podman_service) == []


def test_command_line_is_run_verbatim_with_env_and_env_file(
    run_cli: RunCli, python_image: str, tmp_path: Path
) -> None:
    write_project(run_cli.project, python_image, example_source())
    env_file = tmp_path / "job.env"
    env_file.write_text("# extra settings\nFROM_FILE=file value\nSHARED=from file\n")
    probe = (
        "import os; print('probe', os.environ['FROM_FLAG'], os.environ['FROM_FILE'], "
        "os.environ['SHARED'], os.environ['DATASET_ID'] != '', os.environ['EPOCHS'])"
    )
    result = run_cli(
        "run",
        "train.py",
        "--command-line",
        f'python -c "{probe}"',
        "--env",
        "FROM_FLAG=flag",
        "--env",
        "SHARED=from flag",
        "--env-file",
        str(env_file),
        "--set",
        "epochs=5",
        "--json",
    )
    doc = report(result)
    assert doc["command_source"] == "--command-line"
    assert doc["command"] == ["python", "-c", probe]
    assert "probe flag file value from flag True 5" in result.err
    # A bare command that sends no callback fails the contract, and says why.
    assert result.code == 1 and {"heartbeat", "done"} <= failed(doc)
