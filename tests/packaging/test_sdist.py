"""The sdist is a complete source release: metadata, LICENSE, docs, examples and tests,
and the tests pass when it is unpacked somewhere else."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from email.parser import Parser
from pathlib import Path

import pytest

from keynet_train import __version__
from tests.support.checkout import copy_checkout

REPO = Path(__file__).resolve().parents[2]
# Fast tests that cover the CLI, the extractor against its runtime oracle, and
# the config; they need no podman, registry or network.
SELF_TEST = [
    "tests/cli/test_usage.py",
    "tests/cli/test_conventions.py",
    "tests/extraction/test_oracle_corpus.py",
    "tests/config",
]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build --sdist`` of a copy of the checkout (the build writes egg-info)."""
    source = tmp_path_factory.mktemp("source") / "keynet-train"
    copy_checkout(REPO, source)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out)],
        cwd=source,
        check=True,
        capture_output=True,
    )
    [built] = out.glob("keynet_train-*.tar.gz")
    return built


def test_sdist_contents_and_metadata(sdist: Path) -> None:
    assert sdist.name == f"keynet_train-{__version__}.tar.gz"
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
        pkg_info = archive.extractfile(f"keynet_train-{__version__}/PKG-INFO")
        assert pkg_info is not None
        metadata = Parser().parsestr(pkg_info.read().decode())
    for required in (
        "LICENSE",
        "README.md",
        "constraints.txt",
        "docs/extraction.md",
        "docs/podman.md",
        "examples/argparse/train.py",
        "examples/ci/github-actions.yml",
        "tests/conftest.py",
        "tests/support/services.py",
        "tests/extraction/fixtures/ap_basic.py",
        "keynet_train/py.typed",
    ):
        assert required in names, required
    assert not any("__pycache__" in n or n.startswith(".venv") for n in names)

    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["License-File"] == "LICENSE"
    classifiers = metadata.get_all("Classifier")
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    assert any(c.startswith("Operating System ::") for c in classifiers)
    assert any(c.startswith("Topic ::") for c in classifiers)
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert {"Homepage", "Source", "Issues"} <= set(urls)
    assert metadata["Author"] or metadata["Author-email"]


def test_license_is_the_apache_2_text() -> None:
    text = (REPO / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License")
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_unpacked_sdist_builds_and_passes_its_own_tests(sdist: Path, tmp_path: Path) -> None:
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    unpacked = tmp_path / f"keynet_train-{__version__}"
    env = {**os.environ, "PYTHONPATH": str(unpacked)}

    pip_wheel = ["pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    wheel = subprocess.run(
        [sys.executable, "-m", *pip_wheel, "-w", str(tmp_path / "wheels"), str(unpacked)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert wheel.returncode == 0, wheel.stderr
    assert list((tmp_path / "wheels").glob(f"keynet_train-{__version__}-py3-none-any.whl"))

    # The unpacked tree's code is what runs, not this checkout's.
    where = subprocess.run(
        [sys.executable, "-c", "import keynet_train; print(keynet_train.__file__)"],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(unpacked))
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SELF_TEST],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout
