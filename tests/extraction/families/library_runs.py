"""Running a fixture's own library: the helpers the per-family tests share."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pathlib
import re
import runpy
import shutil
import sys
from collections.abc import Iterator
from typing import Any

from tests.extraction.patching import transformers_checks_off

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures"


def load_fixture(name: str) -> dict[str, Any]:
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


def word(value: object) -> str:
    return str(value)


@contextlib.contextmanager
def nanogpt_project(tmp_path: pathlib.Path) -> Iterator[pathlib.Path]:
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


def run_globals(script: pathlib.Path, argv: list[str]) -> dict[str, Any]:
    saved = sys.argv
    sys.argv = [str(script), *argv]
    try:
        return runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = saved
