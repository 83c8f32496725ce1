"""The hfargparser, fire, tyro and globals families against the real libraries.

``test_oracle_corpus`` compares the extracted fields with what each library
builds. These tests go one step further: a command line written with the
spellings the extractor reports, carrying every default, is parsed by the
library itself (or, for globals, by our nanoGPT-style configurator really
executed), and must give back exactly those defaults.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import pathlib
import re
import runpy
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from keynet_train.extraction import Argument, extract_hyperparameters
from tests.extraction.patching import transformers_checks_off

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def _load(name: str) -> dict[str, Any]:
    """Run one of our fixtures as a module (not as __main__: nothing is parsed).

    transformers' version checks, which example scripts call at import, are
    switched off as in the oracle (this environment has no ``datasets``).
    """
    # A registered module, so typing.get_type_hints and tyro's source reading find it.
    module_name = f"_keynet_fixture_{pathlib.Path(name).stem}"
    spec = importlib.util.spec_from_file_location(module_name, FIXTURES / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    with transformers_checks_off():
        spec.loader.exec_module(module)
    return vars(module)


def _word(value: object) -> str:
    return str(value)


def _with_defaults(arguments: list[Argument]) -> list[Argument]:
    return [a for a in arguments if a.default is not None and not a.required]


# ---------------------------------------------------------------------- hfargparser
@pytest.mark.parametrize("fixture", ["hf_finetune.py", "hf_single_dataclass.py"])
def test_hf_parses_the_platform_spelling_back_to_the_defaults(fixture: str) -> None:
    import transformers

    module = _load(fixture)
    result = extract_hyperparameters(FIXTURES / fixture)
    assert result.parser_type == "hfargparser"
    argv: list[str] = []
    for a in result.arguments:
        value = a.default
        if a.required:
            value = "x"
        if value is None:
            continue
        # --name VALUE for everything; HfArgumentParser reads 'true'/'false' for bools.
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not value:
            continue
        argv += [a.flags[0], *(_word(v) for v in values)]
    if fixture == "hf_finetune.py":
        parser = transformers.HfArgumentParser(
            (module["ModelArguments"], module["DataArguments"], module["TrainArguments"])
        )
    else:
        parser = transformers.HfArgumentParser(module["ScriptArguments"])
        parser.add_argument("--log_every", type=int, default=10)
    namespace, _ = parser.parse_known_args(argv)
    for a in result.arguments:
        got = getattr(namespace, a.name)
        got = got.value if hasattr(got, "value") else got
        expected = "x" if a.required else a.default
        assert got == expected or (isinstance(got, tuple) and list(got) == expected), a.name


# ----------------------------------------------------------------------------- fire
@pytest.mark.parametrize(
    "fixture", ["fire_function.py", "fire_class.py", "fire_commands.py", "fire_class_methods.py"]
)
def test_fire_binds_every_reported_spelling(fixture: str) -> None:
    import fire

    module = _load(fixture)
    result = extract_hyperparameters(FIXTURES / fixture)
    assert result.parser_type == "fire"
    component: Any = {
        "fire_function.py": lambda: module["train"],
        "fire_class.py": lambda: module["Trainer"],
        "fire_commands.py": lambda: {"train": module["train"], "eval": module["evaluate"]},
        "fire_class_methods.py": lambda: module["Runner"],
    }[fixture]()
    # The command first, then every flag (fire takes a class's flags on either side).
    prefix = [result.command] if result.command else []
    for spelling_index in range(3):
        argv = list(prefix)
        expected: dict[str, object] = {}
        for a in result.arguments:
            value = "x" if a.required else a.default
            expected[a.name] = value
            flag = a.flags[min(spelling_index, len(a.flags) - 1)]
            if a.kind == "negatable" and isinstance(value, bool):
                argv.append(flag if value else a.negative_flags[0])
            elif spelling_index == 1:
                argv.append(f"{flag}={value!r}")  # fire reads Python literals
            else:
                argv += [flag, repr(value)]
        with contextlib.redirect_stdout(io.StringIO()):
            got = fire.Fire(component, command=argv)
        if fixture == "fire_class.py":
            got = tuple(getattr(got, name) for name in expected)
        assert list(got) == list(expected.values()), argv


# ----------------------------------------------------------------------------- tyro
@pytest.mark.parametrize("fixture", ["tyro_dataclass.py", "tyro_function.py"])
def test_tyro_parses_the_reported_spellings_back_to_the_defaults(fixture: str) -> None:
    import tyro

    module = _load(fixture)
    result = extract_hyperparameters(FIXTURES / fixture)
    assert result.parser_type == "tyro"
    argv: list[str] = []
    for a in result.arguments:
        value = "x" if a.required else a.default
        if a.kind == "negatable" and isinstance(value, bool):
            argv.append(a.flags[0] if value else a.negative_flags[0])
        elif isinstance(value, list):
            argv += [a.flags[0], *(_word(v) for v in value)]
        else:
            argv += [a.flags[0], _word(value)]
    seen: dict[str, object] = {}
    if fixture == "tyro_function.py":
        target = module["main"]

        def record(**kwargs: object) -> None:
            seen.update(kwargs)

        record.__signature__ = __import__("inspect").signature(target)  # type: ignore[attr-defined]
        record.__annotations__ = target.__annotations__
        tyro.cli(record, args=argv)
    else:
        instance = tyro.cli(module["Args"], args=argv)
        for a in result.arguments:
            obj: Any = instance
            for part in a.name.split("."):
                obj = getattr(obj, part)
            seen[a.name] = obj
    for a in result.arguments:
        got = seen[a.name]
        got = got.name if hasattr(got, "name") and not isinstance(got, str) else got
        got = list(got) if isinstance(got, tuple) else got
        assert got == ("x" if a.required else a.default), a.name


# -------------------------------------------------------------------------- globals
@contextlib.contextmanager
def _nanogpt_project(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
    """Our globals fixture laid out as nanoGPT is: configurator.py in the working directory."""
    script = tmp_path / "train.py"
    text = (FIXTURES / "globals_configurator.py").read_text()
    script.write_text(
        re.sub(r"exec\(open\(.*\)\.read\(\)\)", 'exec(open("configurator.py").read())', text)
    )
    shutil.copy(FIXTURES / "support" / "configurator.py", tmp_path / "configurator.py")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield script
    finally:
        os.chdir(old)


def _run_globals(script: pathlib.Path, argv: list[str]) -> dict[str, Any]:
    saved = sys.argv
    sys.argv = [str(script), *argv]
    try:
        return runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = saved


def test_globals_configurator_really_overrides_each_reported_key(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORCE_CPU", raising=False)
    with _nanogpt_project(tmp_path) as script:
        result = extract_hyperparameters(script)
        assert result.parser_type == "globals"
        assert not [d for d in result.diagnostics if "not found" in d.message]
        defaults = _run_globals(script, [])["config"]
        assert {a.name: a.default for a in result.arguments} == defaults
        new_value = {"bool": lambda v: not v, "str": lambda v: v + "2"}
        changed = {
            a.name: new_value.get(a.type, lambda v: v * 2)(a.default) for a in result.arguments
        }
        argv = [f"{a.flags[0]}={changed[a.name]}" for a in result.arguments]
        assert _run_globals(script, argv)["config"] == changed
        # '--key value' is not what the configurator reads.
        with pytest.raises(SystemExit):
            _run_globals(script, ["--batch_size", "8"])


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


def test_fire_commands_follow_the_subcommand_rules(tmp_path: pathlib.Path) -> None:
    from keynet_train.errors import ExtractionError

    script = tmp_path / "run.py"
    script.write_text(
        "import fire\n"
        "def fit(lr=0.1):\n    pass\n"
        "def evaluate(path='x'):\n    pass\n"
        "fire.Fire({'fit': fit, 'evaluate': evaluate})\n"
    )
    with pytest.raises(ExtractionError, match="fit, evaluate"):
        extract_hyperparameters(script)
    chosen = extract_hyperparameters(script, command="evaluate")
    assert chosen.command == "evaluate"
    assert [(a.name, a.default, a.scope) for a in chosen.arguments] == [("path", "x", "command")]
    methods = extract_hyperparameters(FIXTURES / "fire_class_methods.py")
    assert methods.command == "train"
    assert [(a.name, a.scope) for a in methods.arguments][:3] == [
        ("workdir", "global"),
        ("seed", "global"),
        ("epochs", "command"),
    ]


# ------------------------------------------------------- transformers' TrainingArguments
TRAINING_ARGUMENTS_SCRIPT = """
from dataclasses import dataclass, field
from transformers import HfArgumentParser, TrainingArguments

@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="gpt2", metadata={"help": "Model."})

@dataclass
class MyTrainingArguments(TrainingArguments):
    model_max_length: int = 512

if __name__ == "__main__":
    parser = HfArgumentParser((ModelArguments, MyTrainingArguments))
    parser.parse_args_into_dataclasses()
"""


def test_training_arguments_are_read_from_transformers_source(tmp_path: pathlib.Path) -> None:
    """transformers' TrainingArguments (~100 fields), read from the installed source, as a
    subclass's base: the whole result and descriptor agree with HfArgumentParser,
    except the choices of Enums that training_args.py imports from its siblings, which
    are named in a diagnostic."""
    from tests.extraction.oracle import normalise_help, runtime_extract

    script = tmp_path / "train.py"
    script.write_text(TRAINING_ARGUMENTS_SCRIPT)
    with transformers_checks_off():
        real = normalise_help(runtime_extract(script))
    result = extract_hyperparameters(script)
    static = normalise_help(result.to_json())
    assert static["parser_type"] == real["parser_type"] == "hfargparser"
    names = [a["name"] for a in static["arguments"]]  # type: ignore[attr-defined]
    assert names == [a["name"] for a in real["arguments"]]  # type: ignore[attr-defined]
    assert len(names) >= 100
    messages = [d.message for d in result.diagnostics]
    # The module loader reads it (and names the library files it read) ...
    assert any("training_args.py" in m and "never imported" in m for m in messages)
    unresolved = []
    for got, want in zip(static["arguments"], real["arguments"], strict=True):  # type: ignore[call-overload]
        for key in sorted(set(got) | set(want)):
            if key == "choices" and got[key] is None and want[key] is not None:
                unresolved.append(got["name"])
                continue
            assert got.get(key) == want.get(key), (got["name"], key)
    for name in unresolved:
        assert any(f"'{name}'" in m for m in messages), name
    assert len(unresolved) <= 10


def test_training_arguments_are_read_when_imports_are_not_followed(
    tmp_path: pathlib.Path,
) -> None:
    """follow_imports=False reads the script alone, yet transformers' TrainingArguments
    still comes from the installed source: the same fields as when imports are followed,
    only the choices of the Enums training_args.py imports from its siblings are missing,
    and an info diagnostic names the library file read."""
    script = tmp_path / "train.py"
    script.write_text(TRAINING_ARGUMENTS_SCRIPT)
    followed = [a.to_json() for a in extract_hyperparameters(script).arguments]
    result = extract_hyperparameters(script, follow_imports=False)
    alone = [a.to_json() for a in result.arguments]
    assert [a["name"] for a in alone] == [a["name"] for a in followed]
    assert len(alone) >= 100
    for got, want in zip(alone, followed, strict=True):
        for key in sorted(set(got) | set(want)):
            if key == "choices" and got[key] is None:
                continue
            assert got.get(key) == want.get(key), (got["name"], key)
    messages = [d.message for d in result.diagnostics]
    assert any(
        m.startswith("transformers.TrainingArguments")
        and "training_args.py" in m
        and "never imported" in m
        for m in messages
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


def test_fields_inherited_from_an_unread_base_are_reported_missing(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "from dataclasses import dataclass\n"
        "import transformers\n"
        "import not_installed_lib\n"
        "from somewhere_else import BaseArgs\n"
        "@dataclass\n"
        "class Args(not_installed_lib.GenerationConfig):\n"
        "    lr: float = 0.1\n"
        "@dataclass\n"
        "class More(BaseArgs):\n"
        "    seed: int = 0\n"
        "transformers.HfArgumentParser((Args, More)).parse_args_into_dataclasses()\n"
    )
    result = extract_hyperparameters(script)
    assert [a.name for a in result.arguments] == ["lr", "seed"]
    warnings = [d.message for d in result.diagnostics if d.severity == "warning"]
    # (transformers itself is installed and read: a library that is not installed)
    assert any("inherits from not_installed_lib.GenerationConfig" in m for m in warnings)
    assert any("inherits from somewhere_else.BaseArgs" in m for m in warnings)


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


# ------------------------------------------------- the reference renderer, per family
def _parse_with_library(fixture: str, argv: list[str], tmp_path: pathlib.Path) -> dict[str, Any]:
    """What the fixture's own library makes of ``argv`` (name → value)."""
    import fire
    import transformers
    import tyro

    if fixture.startswith("globals_"):
        # Its module-level code runs the configurator: only as the nanoGPT layout.
        with _nanogpt_project(tmp_path) as script:
            return dict(_run_globals(script, argv)["config"])
    module = _load(fixture)
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


@pytest.mark.parametrize(
    "line",
    [
        "    lr" + " " * 50_000 + "x",
        "    :param " + "a " * 50_000 + "x",
        "lr" + " " * 50_000 + "(",
    ],
)
def test_docstring_help_reading_is_linear(line: str, tmp_path: pathlib.Path) -> None:
    """A hostile docstring (long runs of spaces, no colon) takes no time to read."""
    script = tmp_path / "train.py"
    doc = "Train.\n\n    Args:\n" + line + "\n\n    Parameters\n    ----------\n" + line + "\n"
    script.write_text(f"import fire\ndef train(lr=0.1):\n    {doc!r}\nfire.Fire(train)\n")
    result = extract_hyperparameters(script)  # quadratic backtracking would take minutes
    assert [a.name for a in result.arguments] == ["lr"]
