"""A regular (non-editable) install of this checkout in a fresh venv, for honest benchmarks.

An editable install adds a ``.pth`` hook that runs at every interpreter start
(``python -c pass`` takes about twice as long), which makes every "x python"
ratio look better than what a user sees. The benchmarks therefore build a
wheel of the checkout, install it with ``pip`` into a new venv (byte-compiled,
as pip does), and compare against that venv's own interpreter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.checkout import copy_checkout

ROOT = Path(__file__).resolve().parent.parent


def fresh_install(workdir: Path, tree: Path = ROOT) -> Path:
    """Install a wheel of ``tree`` (the checkout) into ``workdir/venv``; return the venv's bin dir.

    Dependencies come from the package index (pinned by this checkout's
    constraints.txt), through pip's download cache.

    Raises:
        subprocess.CalledProcessError: building or installing failed.
    """
    source = workdir / "source"
    copy_checkout(tree, source)
    wheels = workdir / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
    )
    [wheel] = wheels.glob("keynet_train-*.whl")
    venv = workdir / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(
        [*pip, "-c", str(ROOT / "constraints.txt"), str(wheel)],
        check=True,
        env=env,
        capture_output=True,
    )
    # Python 3.11's venv also installs setuptools, whose distutils .pth hook
    # runs at every start of that interpreter and would pad the baseline
    # (a user may not have it; pipx venvs on 3.12+ do not).
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "uninstall", "-q", "-y", "setuptools"],
        check=False,
        capture_output=True,
    )
    shutil.rmtree(source)
    bin_dir = venv / "bin"
    # No .pth hook at all (editable or distutils), no checkout on the path.
    pth = list((venv / "lib").glob("python*/site-packages/*.pth"))
    assert not pth, pth
    return bin_dir
