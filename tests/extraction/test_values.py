"""Values the library builds at runtime (issue 17 item 6), checked against the runtime oracle.

Dict defaults, clamping ranges and deep dataclass inheritance are fixtures of
the oracle corpus (``fixtures/ap_dict_defaults.py``, ``hf_dict_defaults.py``,
``click_clamp.py``, ``hf_deep_inheritance.py``); here are the cases where
the static side knows less than the runtime by design, and says so.
"""

from __future__ import annotations

import pathlib
import sys
import textwrap

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.oracle import runtime_extract

HERE = pathlib.Path(__file__).parent


def test_configurator_globals_computed_at_runtime_are_listed() -> None:
    """Each global the configurator can set is listed; a computed one has a null default."""
    path = HERE / "values" / "globals_computed.py"
    runtime = runtime_extract(path)
    result = extract_hyperparameters(path)
    static = result.to_json()
    names = [a["name"] for a in runtime["arguments"]]  # type: ignore[attr-defined]
    assert [a["name"] for a in static["arguments"]] == names  # type: ignore[attr-defined]
    types = {a["name"]: a["type"] for a in runtime["arguments"]}  # type: ignore[attr-defined]
    assert {a["name"]: a["type"] for a in static["arguments"]} == types  # type: ignore[attr-defined]
    defaults = {a["name"]: a["default"] for a in static["arguments"]}  # type: ignore[attr-defined]
    assert defaults == {
        "batch_size": 12,
        "workers": None,
        "run_name": None,
        "multi": None,
        "host": None,
    }
    warned = {d.line for d in result.diagnostics if d.severity == "warning"}
    assert warned == {6, 7, 8, 9}  # one warning per computed global, at its line
    assert result.complete


def _old_transformers_env(base: pathlib.Path) -> pathlib.Path:
    """A virtualenv whose transformers' HfArgumentParser spells no dashed aliases."""
    venv = base / "venv"
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    package = venv / "lib" / version / "site-packages" / "transformers"
    package.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    (package / "__init__.py").write_text("from .hf_argparser import HfArgumentParser\n")
    (package / "hf_argparser.py").write_text(
        textwrap.dedent(
            """
            import argparse

            class HfArgumentParser(argparse.ArgumentParser):
                def _parse_dataclass_field(self, parser, field):
                    field_name = f"--{field.name}"
                    parser.add_argument(field_name)
                    if field.default is True:
                        parser.add_argument(f"--no_{field.name}", action="store_false")
            """
        ),
        encoding="utf-8",
    )
    return venv


def test_hf_option_strings_follow_the_installed_transformers(tmp_path: pathlib.Path) -> None:
    script = HERE / "fixtures" / "hf_finetune.py"
    runtime = {a["name"]: a for a in runtime_extract(script)["arguments"]}  # type: ignore[attr-defined]
    # The transformers installed here accepts --snake-case too, like the static default.
    current = {a.name: a for a in extract_hyperparameters(script).arguments}
    dashed = next(n for n in current if "_" in n)
    assert list(current[dashed].flags) == runtime[dashed]["flags"]
    assert f"--{dashed.replace('_', '-')}" in current[dashed].flags
    # An older transformers (read as text, never run) spells only the underscore form.
    old = extract_hyperparameters(script, python=str(_old_transformers_env(tmp_path)))
    for argument in old.arguments:
        assert all("-" not in flag[2:] for flag in argument.accepted_flags()), argument
    negatable = [a for a in old.arguments if a.kind == "negatable"]
    assert negatable and all(a.negative_flags == (f"--no_{a.name}",) for a in negatable)
