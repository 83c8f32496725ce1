"""HfArgumentParser: the reported spellings parsed back by transformers, and
TrainingArguments read from its installed source."""

from __future__ import annotations

import pathlib

import pytest

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.families.library_runs import FIXTURES, load_fixture, word
from tests.extraction.patching import transformers_checks_off


@pytest.mark.parametrize("fixture", ["hf_finetune.py", "hf_single_dataclass.py"])
def test_hf_parses_the_platform_spelling_back_to_the_defaults(fixture: str) -> None:
    import transformers

    module = load_fixture(fixture)
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
        argv += [a.flags[0], *(word(v) for v in values)]
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
