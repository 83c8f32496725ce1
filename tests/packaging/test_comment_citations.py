"""Comments and docstrings cite files that exist (issue 10: no pointers to nowhere).

A comment such as "see tests/build/ignore_cases.py" is only useful while
that file exists. Every repository path named in a comment or docstring of
the project's Python files must name a file or directory of the checkout
(or of the unpacked sdist, which carries the same tree).
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("keynet_train", "tests", "scripts", "benchmarks", "examples")
# A path into one of the repository's top-level folders, or a top-level Markdown file.
_CITED = re.compile(
    r"(?<![\w/.-])((?:keynet_train|tests|scripts|docs|benchmarks|examples|\.ci)/[\w./-]*\w"
    r"|[A-Z][A-Z_]+\.md)"
)


def _citations(path: Path) -> list[tuple[int, str]]:
    source = path.read_text(encoding="utf-8", errors="replace")
    found = []
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for token in tokens:
        is_docstring = token.type == tokenize.STRING and token.string.lstrip("rbuRBU")[:3] in (
            '"""',
            "'''",
        )
        if token.type == tokenize.COMMENT or is_docstring:
            found += [(token.start[0], m.rstrip(".")) for m in _CITED.findall(token.string)]
    return found


def _exists(cited: str) -> bool:
    if (ROOT / cited).exists():
        return True
    # A module may be cited without its ".py", or by the start of its name.
    parent = (ROOT / cited).parent
    return parent.is_dir() and any(p.name.startswith(Path(cited).name) for p in parent.iterdir())


def test_every_cited_repository_path_exists() -> None:
    missing = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "fixtures" in path.parts or ".venv" in path.parts:
                continue
            missing += [
                f"{path.relative_to(ROOT)}:{line}: {cited}"
                for line, cited in _citations(path)
                if not _exists(cited)
            ]
    assert not missing, "comments cite files that do not exist:\n" + "\n".join(missing)


def test_the_check_finds_a_missing_citation(tmp_path: Path) -> None:
    # The check itself must be able to fail.
    script = tmp_path / "x.py"
    script.write_text(
        '"""See docs/never-written.md and README.md."""\n# and keynet_train/gone.py\n'
    )
    cited = [c for _, c in _citations(script)]
    assert cited == ["docs/never-written.md", "README.md", "keynet_train/gone.py"]
    assert [c for c in cited if not _exists(c)] == [
        "docs/never-written.md",
        "keynet_train/gone.py",
    ]
