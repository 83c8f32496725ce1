"""What every family shares: the inspect table, start-up cost, and the reference rendering
read back by each library."""

from __future__ import annotations

import contextlib
import io
import pathlib
import sys
from typing import Any

import pytest

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.families.library_runs import (
    FIXTURES,
    load_fixture,
    nanogpt_project,
    run_globals,
)


def test_inspect_table_spells_each_family_as_its_library_reads_it() -> None:
    from keynet_train.cli.commands.inspect import format_arguments

    def rows(fixture: str) -> str:
        result = extract_hyperparameters(FIXTURES / fixture)
        return format_arguments(result.arguments, result.parser_type)

    assert "--batch_size=VALUE" in rows("globals_configurator.py")
    fire_rows = rows("fire_function.py")
    assert "--lr=VALUE" in fire_rows and "--use_amp | --nouse_amp" in fire_rows
    tyro_rows = rows("tyro_dataclass.py")
    assert "--exp-name VALUE" in tyro_rows and "--hidden-sizes V1 V2..." in tyro_rows
    hf_rows = rows("hf_finetune.py")
    assert "--use_fast_tokenizer | --no_use_fast_tokenizer" in hf_rows
    assert "--pad_to_max_length (sets true)" in hf_rows


def test_families_cost_nothing_at_start_up_when_unused() -> None:
    """inspect of an argparse script imports neither inspect nor tokenize (~20 ms together)."""
    code = (
        "import io, sys\n"
        "from keynet_train.cli.main import main\n"
        "from keynet_train.cli.environment import Environment\n"
        "env = Environment(io.StringIO(), io.StringIO(), io.StringIO(), {})\n"
        f"assert main(['inspect', {str(FIXTURES / 'ap_basic.py')!r}, '--json'], env=env) == 0\n"
        "print([m for m in ('inspect', 'tokenize', 'dataclasses') if m in sys.modules])\n"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _parse_with_library(fixture: str, argv: list[str], tmp_path: pathlib.Path) -> dict[str, Any]:
    """What the fixture's own library makes of ``argv`` (name → value)."""
    import fire
    import transformers
    import tyro

    if fixture.startswith("globals_"):
        # Its module-level code runs the configurator: only as the nanoGPT layout.
        with nanogpt_project(tmp_path) as script:
            return dict(run_globals(script, argv)["config"])
    module = load_fixture(fixture)
    if fixture.startswith("hf_"):
        classes = [v for k, v in module.items() if k.endswith("Arguments") and isinstance(v, type)]
        parser = transformers.HfArgumentParser(classes)
        if fixture == "hf_single_dataclass.py":
            parser.add_argument("--log_every", type=int, default=10)
        namespace, _ = parser.parse_known_args(argv)
        return {k: getattr(v, "value", v) for k, v in vars(namespace).items()}
    if fixture.startswith("fire_"):
        seen: dict[str, Any] = {}

        def keep(function: Any) -> Any:
            signature = __import__("inspect").signature(function)

            def record(*a: Any, **k: Any) -> None:
                seen.update(signature.bind(*a, **k).arguments)

            record.__signature__ = signature  # type: ignore[attr-defined]
            return record

        train = keep(module["train"])
        with contextlib.redirect_stdout(io.StringIO()):
            fire.Fire({"train": train, "eval": keep(module["evaluate"])}, command=argv)
        return seen
    if fixture.startswith("tyro_"):
        instance = tyro.cli(module["Args"], args=argv)
        out: dict[str, Any] = {}
        for name in vars(instance):
            value = getattr(instance, name)
            out[name] = getattr(value, "name", value) if not isinstance(value, str) else value
        return out
    raise AssertionError(fixture)


@pytest.mark.parametrize(
    ("fixture", "values"),
    [
        ("hf_finetune.py", {"task_name": "sst2", "output_dir": "out", "fp16": True, "seed": 3}),
        ("fire_commands.py", {"steps": 7, "tag": "123", "lr": 0.5}),
        ("tyro_dataclass.py", {"cuda": False, "exp_name": "None", "hidden_sizes": [1, 2, 3]}),
        ("globals_configurator.py", {"compile": False, "dataset": "42", "dropout": 0.25}),
    ],
)
def test_reference_rendering_is_read_back_by_each_library(
    fixture: str, values: dict[str, object], tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """render.py's command line for the family (defaults written out, some values changed)."""
    from keynet_train.extraction.render import render_arguments

    monkeypatch.delenv("FORCE_CPU", raising=False)
    result = extract_hyperparameters(FIXTURES / fixture)
    argv = render_arguments(result, values, explicit_defaults=True)
    got = _parse_with_library(fixture, argv, tmp_path)
    for a in result.arguments:
        if a.name in ("pooling",) or "." in a.name:
            continue  # Enum members / nested dataclasses: compared in the tests above
        want = values.get(a.name, a.default)
        value = got[a.name]
        value = list(value) if isinstance(value, tuple) else value
        assert value == want and type(value) is type(want), (a.name, argv)
