"""README links work outside the repository (on a package index, in an unpacked sdist).

Every link is absolute (or an in-page anchor), and every link into this
project's repository names a file that exists in the checkout.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _repository_url() -> str:
    urls = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]
    return str(urls["Source"]).rstrip("/")


def test_readme_links_are_absolute_and_point_at_existing_files() -> None:
    base = _repository_url() + "/blob/main/"
    links = LINK.findall((REPO / "README.md").read_text())
    assert links, "the README links its docs"
    for link in links:
        assert link.startswith(("https://", "http://", "#")), link
        if link.startswith(base):
            path = link.removeprefix(base).split("#", 1)[0]
            assert (REPO / path).exists(), link
