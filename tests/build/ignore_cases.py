"""The .dockerignore table: one file tree, many ignore files, the files expected in the image.

``expected`` lists the regular files a ``COPY . /ctx`` puts in the image
(Docker semantics). The same table is checked against our matcher (unit test)
and against ``podman build`` itself (integration test).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TREE = (
    "Dockerfile",
    "train.py",
    "README.md",
    ".env",
    "foo",
    "foobar/x",
    "data/big.bin",
    "data/small.csv",
    "data/keep.txt",
    "data/sub/deep.bin",
    "data/sub/keep.txt",
    "docs/a.md",
    "docs/b.txt",
    "logs/run1.log",
    "logs/run2.log",
    "node_modules/a/index.js",
    "node_modules/keep.txt",
    "src/pkg/__init__.py",
    "src/pkg/model.py",
    "src/pkg/__pycache__/model.cpython-311.pyc",
    "src/tests/test_model.py",
)

ALL = frozenset((*TREE, ".dockerignore"))


@dataclass(frozen=True)
class IgnoreCase:
    """One row of the table."""

    name: str
    ignore: str
    expected: frozenset[str]


def _without(*paths: str) -> frozenset[str]:
    return frozenset(f for f in ALL if not any(f == p or f.startswith(p + "/") for p in paths))


CASES = (
    IgnoreCase("comment-blank-root-glob", "# comment\n\n*.md\n", _without("README.md")),
    IgnoreCase("hash-after-space-is-a-pattern", "  # not a comment\n", ALL),
    IgnoreCase("leading-slash", "/data\n", _without("data")),
    IgnoreCase("dot-slash-and-whitespace-cleaned", "  ./docs/  \n", _without("docs")),
    IgnoreCase("doublestar-ext", "**/*.bin\n", _without("data/big.bin", "data/sub/deep.bin")),
    IgnoreCase("doublestar-dir", "**/__pycache__\n", _without("src/pkg/__pycache__")),
    IgnoreCase(
        "exception-in-excluded-dir",
        "data\n!data/keep.txt\n",
        _without("data") | {"data/keep.txt"},
    ),
    IgnoreCase(
        "exception-two-levels-down",
        "data\n!data/sub/keep.txt\n",
        _without("data") | {"data/sub/keep.txt"},
    ),
    IgnoreCase("exception-before-pattern-loses", "!README.md\n*.md\n", _without("README.md")),
    IgnoreCase("last-match-wins", "*.md\n!README.md\n", ALL),
    IgnoreCase(
        "star-does-not-cross-slash",
        "*/keep.txt\n",
        _without("data/keep.txt", "node_modules/keep.txt"),
    ),
    IgnoreCase("question-mark", "logs/run?.log\n", _without("logs")),
    IgnoreCase("char-class", "logs/run[1].log\n", _without("logs/run1.log")),
    IgnoreCase("char-range-negated", "logs/run[^1].log\n", _without("logs/run2.log")),
    IgnoreCase(
        "allowlist",
        "*\n!train.py\n!src\n",
        frozenset({"train.py"} | {f for f in ALL if f.startswith("src/")}),
    ),
    IgnoreCase("dir-doublestar-keeps-dir", "data/**\n", _without("data")),
    IgnoreCase("bare-name-is-root-only", "keep.txt\n", ALL),
    IgnoreCase("exact-not-prefix", "foo\n", _without("foo")),
    IgnoreCase("trailing-star-prefix", "foo*\n", _without("foo", "foobar")),
    IgnoreCase("doublestar-everything", "**\n!train.py\n", frozenset({"train.py"})),
    IgnoreCase("dotfiles", ".*\n", _without(".env", ".dockerignore")),
    IgnoreCase(
        "doublestar-name",
        "**/keep.txt\n",
        _without("data/keep.txt", "data/sub/keep.txt", "node_modules/keep.txt"),
    ),
    IgnoreCase(
        "doublestar-zero-dirs", "data/**/keep.txt\n", _without("data/keep.txt", "data/sub/keep.txt")
    ),
    IgnoreCase(
        "doublestar-with-exception",
        "src/**/*.py\n!src/pkg/__init__.py\n",
        _without("src/pkg/model.py", "src/tests/test_model.py"),
    ),
    IgnoreCase(
        "doublestar-exception-does-not-reach-excluded-dir",
        "data\n!**/keep.txt\n",
        _without("data"),
    ),
    IgnoreCase(
        "re-include-then-exclude", "logs\n!logs\nlogs/run1.log\n", _without("logs/run1.log")
    ),
    IgnoreCase(
        "dockerfile-and-ignorefile-excluded",
        "Dockerfile\n.dockerignore\n",
        _without("Dockerfile", ".dockerignore"),
    ),
    IgnoreCase(
        "exception-wildcard-in-excluded-dir",
        "node_modules\n!node_modules/*.txt\n",
        _without("node_modules") | {"node_modules/keep.txt"},
    ),
)


def make_tree(root: Path, case: IgnoreCase, dockerfile: str) -> None:
    """Write the shared tree plus the case's ignore file under ``root``."""
    for relative in TREE:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dockerfile if relative == "Dockerfile" else f"content of {relative}\n")
    (root / ".dockerignore").write_text(case.ignore)
