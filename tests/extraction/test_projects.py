"""Multi-module projects: static extraction == runtime oracle, field by field (issue 7).

Each project under ``projects/`` is our own: packages, relative imports, a
``src/`` layout, an import cycle, star imports, ``__init__`` re-exports, a
helper that loops over a dict, typer aliases and click decorators defined in
a sibling module. The oracle runs the project for real with the project's
directories on ``sys.path`` (as ``python train.py``, ``python -m`` or an
editable install would have them).
"""

from __future__ import annotations

import pathlib
from typing import NamedTuple

import pytest

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.agreement import (
    FIELDS,
    assert_descriptor_agrees,
    assert_fields_agree,
    assert_same_names,
)
from tests.extraction.oracle import normalise_help, runtime_extract

PROJECTS_DIR = pathlib.Path(__file__).parent / "projects"


class Project(NamedTuple):
    entry: str
    #: Extra import roots at runtime (an editable install's src/, the package root for -m).
    roots: tuple[str, ...] = ()
    #: Run as ``python -m MODULE`` from the first root.
    module: str | None = None
    #: Arguments added at runtime by code that cannot be followed statically: the
    #: static list lacks exactly these, and says so (``complete: false``).
    unseen: tuple[str, ...] = ()


PROJECTS = {
    "helper_factory": Project("train.py"),
    "relative_pkg": Project("trainer/main.py", roots=(".",), module="trainer.main"),
    "src_layout": Project("scripts/train.py", roots=("src",)),
    "typer_aliases": Project("train.py"),
    "wrap_helper": Project("train.py"),
    "dict_helper": Project("train.py"),
    "cycle": Project("train.py"),
    "star_imports": Project("train.py"),
    "click_shared": Project("train.py"),
    "nested_pkg": Project("train.py"),
    # arguments added in a helper module: diagnostics name that module (issue 17 item 5)
    "helper_diagnostics": Project("train.py"),
    # a package __init__ importing its own submodule (from . import b), issue 17 item 4
    "init_cycle": Project("train.py"),
    # parser = wrap(parser) where wrap calls code that cannot be followed (issue 17 item 3)
    "wrap_opaque": Project("train.py", unseen=("deepspeed", "deepspeed_config")),
    # an installed library read from source: transformers' TrainingArguments
    "hf_training_args": Project("train.py"),
}

#: What the runtime gives, spelled out by hand for a few projects, so that a
#: misreading shared by the oracle and the extractor cannot pass.
EXPECTED_NAMES = {
    "helper_factory": ["arch", "patch_size", "norm_last_layer", "lr", "use_fp16", "seed"],
    "relative_pkg": ["config_file", "resume", "num_gpus", "seed", "optimizer", "max_iter"],
    "dict_helper": [
        "data_dir",
        "lr",
        "batch_size",
        "microbatch",
        "use_fp16",
        "image_size",
        "num_channels",
        "learn_sigma",
        "noise_schedule",
        "dropout",
    ],
    "cycle": ["width", "factor", "base"],
}


def _runtime(name: str) -> dict[str, object]:
    project = PROJECTS[name]
    base = PROJECTS_DIR / name
    return normalise_help(
        runtime_extract(
            base / project.entry,
            roots=tuple(base / r for r in project.roots),
            module=project.module,
        )
    )


def _static(name: str) -> dict[str, object]:
    path = PROJECTS_DIR / name / PROJECTS[name].entry
    doc = extract_hyperparameters(path).to_json()
    return {**normalise_help(doc), "complete": doc["complete"]}


def test_every_project_is_checked() -> None:
    assert sorted(PROJECTS) == sorted(p.name for p in PROJECTS_DIR.iterdir() if p.is_dir())


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_project_matches_runtime(name: str) -> None:
    expected, actual = _runtime(name), _static(name)
    assert actual["parser_type"] == expected["parser_type"]
    unseen = PROJECTS[name].unseen
    assert actual["complete"] is not bool(unseen)
    exp_args: list[dict[str, object]] = [
        a
        for a in expected["arguments"]  # type: ignore[attr-defined]
        if a["name"] not in unseen
    ]
    assert len(exp_args) == len(expected["arguments"]) - len(unseen)  # type: ignore[arg-type]
    act_args: list[dict[str, object]] = actual["arguments"]  # type: ignore[assignment]
    assert_same_names(exp_args, act_args)
    assert exp_args, "the oracle found no arguments: the project does not run"
    assert_fields_agree(exp_args, act_args)
    assert_descriptor_agrees(exp_args, act_args)


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_hand_written_names(name: str) -> None:
    assert [a["name"] for a in _static(name)["arguments"]] == EXPECTED_NAMES[name]  # type: ignore[attr-defined,index]


def test_type_function_from_another_module_is_bool() -> None:
    """``type=utils.bool_flag`` (a str2bool in utils.py) is a bool, not the str it was."""
    args = {a["name"]: a for a in _static("helper_factory")["arguments"]}  # type: ignore[attr-defined]
    assert args["use_fp16"]["type"] == "bool"
    assert {k: args["norm_last_layer"][k] for k in FIELDS} == {
        "name": "norm_last_layer",
        "type": "bool",
        "default": True,
        "required": False,
        "help": "Whether or not to weight normalize the last layer.",
        "choices": None,
    }
    assert args["lr"]["default"] == 3e-4


def test_diagnostics_name_the_file_that_holds_the_line() -> None:
    """A note about an argument added in ``arguments.py`` names ``arguments.py``, not train.py."""
    path = PROJECTS_DIR / "helper_diagnostics" / "train.py"
    notes = {
        (pathlib.Path(d.path).name, d.line)
        for d in extract_hyperparameters(path).diagnostics
        if "'schedule'" in d.message or "'amp'" in d.message
    }
    assert notes == {("arguments.py", 10), ("arguments.py", 11)}
