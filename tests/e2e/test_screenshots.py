"""scripts/screenshots.py still produces the four pictures docs/terminal.md shows."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _text(svg: Path) -> str:
    """The visible text of a rich SVG export (one string, spaces normalised)."""
    parts = re.findall(r"<text[^>]*>(.*?)</text>", svg.read_text())
    return " ".join(html.unescape("".join(parts)).replace("\xa0", " ").split())


def test_screenshots_are_regenerated_from_the_real_cli(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "screenshots.py"), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "build-error.svg", "inspect.svg", "login.svg", "push.svg",
    ]  # fmt: skip
    assert "Logged in as Alice Example (alice)" in _text(tmp_path / "login.svg")
    assert "learning_rate" in _text(tmp_path / "inspect.svg")
    assert "Push completed successfully!" in _text(tmp_path / "push.svg")
    assert "Did you mean requirements.txt?" in _text(tmp_path / "build-error.svg")
    # The pictures in the docs are the same four.
    shots = ROOT / "docs" / "screenshots"
    assert sorted(p.name for p in shots.iterdir()) == sorted(p.name for p in tmp_path.iterdir())
