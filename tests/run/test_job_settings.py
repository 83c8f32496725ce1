"""--set against the descriptor, the job's environment, --env/--env-file, and the limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keynet_train.errors import InputError, UsageError
from keynet_train.extraction.model import Argument, ExtractionResult
from keynet_train.run.environment import job_environment, masked_environment, new_job, parse_env
from keynet_train.run.limits import (
    choose_gpus,
    host_rlimits,
    parse_cpus,
    parse_duration,
    parse_size,
)
from keynet_train.run.values import parse_set_values

RESULT = ExtractionResult(
    "argparse",
    [
        Argument("epochs", "int", 10, flags=("--epochs",), min=1, max=100),
        Argument("lr", "float", 0.01, flags=("--lr",), min=0, min_open=True),
        Argument("optimizer", "str", "sgd", choices=["sgd", "adam"], flags=("--optimizer",)),
        Argument("amp", "bool", False, flags=("--amp",), kind="flag", flag_value=True),
        Argument("verbose", "int", 0, flags=("-v",), kind="count"),
        Argument(
            "milestones",
            "int",
            [30],
            flags=("--milestones",),
            kind="list",
            list_style="space",
            nargs="+",
        ),
        Argument("batch-size", "int", 16, flags=("--batch-size",)),
    ],
)


def test_set_values_are_converted_to_each_arguments_type() -> None:
    values = parse_set_values(
        [
            "epochs=3",
            "lr=0.5",
            "optimizer=adam",
            "amp=true",
            "verbose=2",
            "milestones=10,20",
            "batch_size=8",
        ],
        RESULT,
    )
    assert values == {
        "epochs": 3,
        "lr": 0.5,
        "optimizer": "adam",
        "amp": True,
        "verbose": 2,
        "milestones": [10, 20],
        "batch-size": 8,
    }


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ("epochs", "NAME=VALUE"),
        ("epoch=3", "Did you mean epochs"),
        ("epochs=three", "not an integer"),
        ("epochs=0", "below the minimum"),
        ("epochs=101", "above the maximum"),
        ("lr=0", "below the minimum"),
        ("lr=nan", "NaN"),
        ("optimizer=rmsprop", "Choose one of: sgd, adam"),
        ("amp=maybe", "not a boolean"),
        ("verbose=-1", "0 or more"),
        ("milestones=", "at least one value"),
    ],
)
def test_bad_set_values_are_usage_errors_naming_the_rule(item: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_set_values([item], RESULT)
    assert says in caught.value.message + (caught.value.hint or "")


def test_a_store_true_flag_cannot_take_a_value_it_cannot_express() -> None:
    result = ExtractionResult(
        "argparse",
        [Argument("fast", "bool", True, flags=("--fast",), kind="flag", flag_value=True)],
    )
    with pytest.raises(UsageError, match="is a flag"):
        parse_set_values(["fast=false"], result)


def test_job_environment_holds_the_platform_variables_and_hyperparameter_values() -> None:
    job = new_job(1_700_000_000)
    env = job_environment(
        job,
        "http://10.0.2.2:1234",
        "train.py",
        {"epochs": 3, "batch-size": 8, "lr": 0.1},
        {"EXTRA": "1"},
    )
    assert env["JOB_ID"] == str(job.job_id) and env["JOB_ID"].isdigit()
    assert env["BACKEND_BASE_URL"] == "http://10.0.2.2:1234"
    assert env["EPOCHS"] == "3" and env["BATCH_SIZE"] == "8" and "LEARNING_RATE" not in env
    assert env["MODEL_NAME"] == "train.py" and env["EXTRA"] == "1"
    shown = masked_environment({**env, "WANDB_API_KEY": "abcdefghijklmnopq"})
    assert job.token not in str(shown) and "abcdefghijklmnopq" not in str(shown)


def test_env_file_then_env_flags(tmp_path: Path) -> None:
    file = tmp_path / "job.env"
    file.write_text("# comment\nA=1\nB=two words\nHOSTVAR\n\nC='quoted'\n")
    env = parse_env(["A=3", "D="], [file], {"HOSTVAR": "h"})
    assert env == {"A": "3", "B": "two words", "HOSTVAR": "h", "C": "'quoted'", "D": ""}
    with pytest.raises(UsageError, match="CALLBACK_TOKEN is set by the rehearsal"):
        parse_env(["CALLBACK_TOKEN=x"], [], {})
    with pytest.raises(UsageError, match="not NAME=VALUE"):
        parse_env(["1A=x"], [], {})
    with pytest.raises(InputError, match="not a regular file"):
        parse_env([], [tmp_path], {})
    # A link to /proc/kmsg passes is_file() with size 0, and its read blocks.
    (tmp_path / "kmsg.env").symlink_to("/proc/kmsg")
    with pytest.raises(InputError, match="kernel pseudo-file"):
        parse_env([], [tmp_path / "kmsg.env"], {})
    os.mkfifo(tmp_path / "fifo.env")
    with pytest.raises(InputError, match="FIFO"):
        parse_env([], [tmp_path / "fifo.env"], {})


def test_limits_parse_and_refuse() -> None:
    assert parse_size("16g", "--memory") == 16 * 1024**3
    assert parse_size("512MiB", "--memory") == 512 * 1024**2
    assert (
        parse_duration("1h30m") == 5400 and parse_duration("90") == 90 and parse_duration("2s") == 2
    )
    assert parse_cpus("0.5") == 0.5
    for bad in ("0", "x", "-1"):
        with pytest.raises(UsageError):
            parse_size(bad, "--memory")
    for bad in ("0", "1x", "h", "inf"):
        with pytest.raises(UsageError):
            parse_duration(bad)
    with pytest.raises(UsageError):
        parse_cpus("nan")


def test_gpus_without_a_gpu_run_on_cpu_loudly_or_refuse() -> None:
    assert choose_gpus("auto", []).note is not None and choose_gpus("auto", []).devices == ()
    assert choose_gpus("auto", ["nvidia.com/gpu=0", "nvidia.com/gpu=1"]).devices == (
        "nvidia.com/gpu=0",
    )
    assert choose_gpus("none", ["nvidia.com/gpu=0"]).note is not None
    assert choose_gpus("2", ["nvidia.com/gpu=0", "nvidia.com/gpu=1"]).note is None
    for bad in ("all", "1", "x"):
        with pytest.raises(UsageError):
            choose_gpus(bad, [])


def test_rlimits_stay_within_the_hosts_hard_limits() -> None:
    import resource

    limits = host_rlimits()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert 0 < limits["nofile"] <= (hard if hard != resource.RLIM_INFINITY else 65536)
    assert 0 < limits["nproc"] <= 32768


def test_gpus_are_found_in_the_nvidia_cdi_spec(tmp_path: Path) -> None:
    from keynet_train.run.limits import find_gpus

    (tmp_path / "nvidia.yaml").write_text(
        "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n"
        '- name: "0"\n  containerEdits: {}\n- name: "1"\n  containerEdits: {}\n- name: all\n'
    )
    assert find_gpus((tmp_path, tmp_path / "missing")) == ["nvidia.com/gpu=0", "nvidia.com/gpu=1"]
    assert find_gpus((tmp_path / "missing",)) == []
