"""Comments and docstrings cite files that exist (issue 10: no pointers to nowhere).

A comment such as "see tests/build/ignore_cases.py" is only useful while
that file exists. Every repository path named in a comment or docstring of
the project's Python files must name a file or directory of the checkout
(or of the unpacked sdist, which carries the same tree). Nor may they cite
sections of a document that is not in the repository ("SPEC §2.5"): the
contract lives in docs/ (docs/platform-contract.md, docs/extraction-rules.md,
docs/cli-descriptor.md) and comments cite those pages or state the rule.
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

# A numbered section of a document outside the repository: "SPEC §6.1", "§4.3".
_SECTION = re.compile(r"\bSPEC\s*§|§\s*\d")


def _comments(path: Path) -> list[tuple[int, str]]:
    """Every comment and docstring of ``path`` with its line number."""
    source = path.read_text(encoding="utf-8", errors="replace")
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        is_docstring = token.type == tokenize.STRING and token.string.lstrip("rbuRBU")[:3] in (
            '"""',
            "'''",
        )
        if token.type == tokenize.COMMENT or is_docstring:
            found.append((token.start[0], token.string))
    return found


def _citations(path: Path) -> list[tuple[int, str]]:
    return [(line, m.rstrip(".")) for line, text in _comments(path) for m in _CITED.findall(text)]


def _section_citations(path: Path) -> list[tuple[int, str]]:
    """Each comment line that cites a numbered section (``SPEC §6``), with its line number."""
    return [
        (line + offset, part.strip())
        for line, text in _comments(path)
        for offset, part in enumerate(text.splitlines())
        if _SECTION.search(part)
    ]


def _exists(cited: str) -> bool:
    if (ROOT / cited).exists():
        return True
    # A module may be cited without its ".py", or by the start of its name.
    parent = (ROOT / cited).parent
    return parent.is_dir() and any(p.name.startswith(Path(cited).name) for p in parent.iterdir())


def _sources() -> list[Path]:
    return [
        path
        for folder in SOURCES
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "fixtures" not in path.parts and ".venv" not in path.parts
    ]


def test_every_cited_repository_path_exists() -> None:
    missing = []
    for path in _sources():
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


def test_no_comment_cites_a_section_of_a_document_outside_the_repository() -> None:
    # This file names the pattern it looks for, so it is left out.
    cited = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in _sources()
        if path != Path(__file__).resolve()
        for line, text in _section_citations(path)
    ]
    assert not cited, (
        "comments cite sections of a document that is not in the repository; cite the docs/ "
        "page (docs/platform-contract.md, docs/extraction-rules.md, docs/cli-descriptor.md) "
        "or state the rule:\n" + "\n".join(cited)
    )


def test_the_check_finds_a_section_citation(tmp_path: Path) -> None:
    script = tmp_path / "x.py"
    script.write_text(
        '"""Extraction.\n\nThe rules of SPEC §6 apply."""\n'
        "x = 1  # retried as \u00a74.4 says\n"
        "y = 2  # KEYNET_TRAIN_SPEC names the requirement; no section here\n"
    )
    assert _section_citations(script) == [
        (3, 'The rules of SPEC §6 apply."""'),
        (4, "# retried as \u00a74.4 says"),
    ]
