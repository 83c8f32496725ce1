"""Configurator globals: each reported key really overridden by the nanoGPT-style configurator."""

from __future__ import annotations

import os
import pathlib

import pytest

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.families.library_runs import nanogpt_project, run_globals


def test_globals_configurator_really_overrides_each_reported_key(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORCE_CPU", raising=False)
    with nanogpt_project(tmp_path) as script:
        result = extract_hyperparameters(script)
        assert result.parser_type == "globals"
        assert not [d for d in result.diagnostics if "not found" in d.message]
        defaults = run_globals(script, [])["config"]
        assert {a.name: a.default for a in result.arguments} == defaults
        new_value = {"bool": lambda v: not v, "str": lambda v: v + "2"}
        changed = {
            a.name: new_value.get(a.type, lambda v: v * 2)(a.default) for a in result.arguments
        }
        argv = [f"{a.flags[0]}={changed[a.name]}" for a in result.arguments]
        assert run_globals(script, argv)["config"] == changed
        # '--key value' is not what the configurator reads.
        with pytest.raises(SystemExit):
            run_globals(script, ["--batch_size", "8"])


def test_exec_of_a_file_that_ignores_argv_is_not_a_configurator(tmp_path: pathlib.Path) -> None:
    # exec() of a settings file, then argparse: the argparse parser is the CLI.
    (tmp_path / "settings.py").write_text("batch_size = 3\n")
    script = tmp_path / "train.py"
    script.write_text(
        "import argparse\nbatch_size = 1\nexec(open('settings.py').read())\n"
        "p = argparse.ArgumentParser()\np.add_argument('--lr', type=float, default=0.1)\n"
        "p.parse_args()\n"
    )
    result = extract_hyperparameters(script)
    assert result.parser_type == "argparse"
    assert [a.name for a in result.arguments] == ["lr"]
    assert any("does not read sys.argv" in d.message for d in result.diagnostics)


def test_missing_configurator_is_assumed_only_under_its_usual_name(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("lr = 0.1\nexec(open('configurator.py').read())\n")
    assert extract_hyperparameters(script).parser_type == "globals"
    script.write_text("lr = 0.1\nexec(open('other.py').read())\n")
    assert extract_hyperparameters(script).parser_type is None


def test_globals_computed_at_runtime_are_never_dropped_silently(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "import torch\n"
        "lr = 0.1\n"
        "dtype = 'bfloat16' if torch.cuda.is_available() else 'float16'\n"
        "device = torch.device('cuda')\n"
        "keys = [k for k in globals()]\n"
        "exec(open('configurator.py').read())\n"
    )
    result = extract_hyperparameters(script)
    assert [(a.name, a.type, a.default) for a in result.arguments] == [
        ("lr", "float", 0.1),
        ("dtype", "str", None),
        ("device", "str", None),  # listed: a dropped option would be a silent gap
    ]
    warnings = [d.message for d in result.diagnostics if d.severity == "warning"]
    assert any("'dtype' is computed at runtime; sent as null" in m for m in warnings)
    assert any("global 'device' is computed at runtime: listed as str" in m for m in warnings)
    assert not any("'keys'" in m for m in warnings)


def test_exec_of_a_fifo_or_device_is_never_read(tmp_path: pathlib.Path) -> None:
    """Checking whether the exec'd file reads sys.argv must not block on a FIFO."""
    fifo = tmp_path / "configurator.py"
    os.mkfifo(fifo)
    script = tmp_path / "train.py"
    script.write_text(
        f"lr = 0.1\nexec(open({str(fifo)!r}).read())\nexec(open('/dev/stdin').read())\n"
    )
    result = extract_hyperparameters(script)  # would hang reading either
    assert result.parser_type == "globals"
