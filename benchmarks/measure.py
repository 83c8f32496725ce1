"""Helpers shared by the start-up and inspect benchmarks: measure like a real install."""

from __future__ import annotations

import compileall
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Sequence
from pathlib import Path


def precompile() -> None:
    """Byte-compile the package and the editable-install finder, as pip would."""
    import keynet_train

    compileall.compile_dir(str(Path(keynet_train.__file__).parent), quiet=1)
    site_packages = Path(sysconfig.get_paths()["purelib"])
    for finder in site_packages.glob("__editable__*keynet_train*.py"):
        compileall.compile_file(str(finder), quiet=1)


def console_script() -> str | None:
    """The installed ``keynet-train`` script of this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "keynet-train"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("keynet-train")


def child_environment(config_dir: str) -> dict[str, str]:
    """os.environ without PYTHONDONTWRITEBYTECODE, with a private config path."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["KEYNET_CONFIG"] = os.path.join(config_dir, "config.json")
    return env


def time_once(argv: Sequence[str], env: dict[str, str]) -> float:
    """Wall time of one run in seconds.

    Raises:
        RuntimeError: the command failed (a broken command must not look fast).
    """
    start = time.perf_counter()
    result = subprocess.run(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr!r}")
    return elapsed


def keynet_command() -> list[str]:
    """How to run keynet-train: the console script if installed, else ``python -m``."""
    script = console_script()
    return [script] if script else [sys.executable, "-m", "keynet_train"]
