"""Unit tests of keynet_train.build.context: the scan, ignore rules, Dockerfile (no podman)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from keynet_train.build import context as bc
from keynet_train.build import dockerignore as di
from keynet_train.errors import BuildError
from tests.build.docker_ignore_vectors import INVALID, VECTORS, Vector
from tests.build.ignore_cases import CASES, IgnoreCase, make_tree


def _included(root: Path) -> frozenset[str]:
    """Files COPY . would put in the image: sent AND not excluded by the ignore file."""
    summary = bc.scan_context(root, root / "Dockerfile")
    matcher = summary.matcher()
    return frozenset(f for f in summary.files if not matcher.excluded(f))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_ignore_table(tmp_path: Path, case: IgnoreCase) -> None:
    make_tree(tmp_path, case, "FROM scratch\n")
    assert _included(tmp_path) == case.expected


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_dockerfile_and_ignore_file_always_sent(tmp_path: Path, case: IgnoreCase) -> None:
    make_tree(tmp_path, case, "FROM scratch\n")
    files = bc.scan_context(tmp_path, tmp_path / "Dockerfile").files
    assert "Dockerfile" in files
    assert ".dockerignore" in files


@pytest.mark.parametrize(
    ("text", "patterns"),
    [
        ("# c\n\n  a  \n", ["a"]),
        ("\ufeff# bom comment\nb\n", ["b"]),
        ("/abs/../x/\n", ["x"]),
        ("! /neg\n", ["!neg"]),
        ("a//b/./c\n", ["a/b/c"]),
        ("/\n", ["/"]),
        ("  # indented\n", ["# indented"]),
    ],
)
def test_parse_ignore_lines(text: str, patterns: list[str]) -> None:
    assert di.parse_ignore_lines(text) == patterns


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.py", "a.py", True),
        ("*.py", "d/a.py", False),
        ("**/*.py", "a.py", True),
        ("**/*.py", "d/e/a.py", True),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a/**", "a/x", True),
        ("a/**", "a", False),
        ("foo**", "foobar/x", True),
        ("**", "anything/at/all", True),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("[a-c]x", "bx", True),
        ("[^a-c]x", "bx", False),
        ("a.b", "axb", False),
        ("a+b", "a+b", True),
        ("(x)", "(x)", True),
        ("\\*", "*", True),
        ("\\*", "a", False),
    ],
)
def test_pattern_semantics(pattern: str, path: str, matches: bool) -> None:
    (compiled,) = di.compile_patterns([pattern])
    assert compiled.matches(path) is matches


def test_invalid_patterns_are_build_errors() -> None:
    with pytest.raises(BuildError, match="Illegal exclusion"):
        di.compile_patterns(["!"])
    with pytest.raises(BuildError, match="Invalid pattern"):
        di.compile_patterns(["[a-"])


def test_containerignore_wins_over_dockerignore(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / ".dockerignore").write_text("a.txt\n")
    (tmp_path / ".containerignore").write_text("b.txt\n")
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    assert summary.ignore_file == tmp_path / ".containerignore"
    assert "a.txt" in summary.files
    assert "b.txt" not in summary.files


def test_dockerfile_in_excluded_directory_is_still_sent(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker/Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "docker/other").write_text("x")
    (tmp_path / ".dockerignore").write_text("docker\n")
    summary = bc.scan_context(tmp_path, tmp_path / "docker/Dockerfile")
    assert summary.dockerfile_name == "docker/Dockerfile"
    assert "docker/Dockerfile" in summary.files
    assert "docker/other" not in summary.files


def test_resolve_dockerfile(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="Dockerfile not found") as excinfo:
        bc.resolve_dockerfile(tmp_path, None)
    assert "--dockerfile" in (excinfo.value.hint or "")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert bc.resolve_dockerfile(tmp_path, None) == tmp_path / "Dockerfile"
    (tmp_path / "Containerfile").write_text("FROM scratch\n")
    assert bc.resolve_dockerfile(tmp_path, None) == tmp_path / "Containerfile"
    with pytest.raises(BuildError, match=r"Dockerfile not found: .*nope"):
        bc.resolve_dockerfile(tmp_path, tmp_path / "nope")


def test_context_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="Build context not found"):
        bc.scan_context(tmp_path / "missing", tmp_path / "Dockerfile")


def test_check_entrypoint(tmp_path: Path) -> None:
    (tmp_path / "ctx/src").mkdir(parents=True)
    (tmp_path / "ctx/Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "ctx/train.py").write_text("")
    (tmp_path / "ctx/src/other.py").write_text("")
    (tmp_path / "outside.py").write_text("")
    (tmp_path / "ctx/.dockerignore").write_text("*.md\nsrc\n")
    summary = bc.scan_context(tmp_path / "ctx", tmp_path / "ctx/Dockerfile")
    assert bc.check_entrypoint(summary, tmp_path / "ctx/train.py") == "train.py"
    with pytest.raises(BuildError, match="outside the build context"):
        bc.check_entrypoint(summary, tmp_path / "outside.py")
    with pytest.raises(BuildError, match=r"pattern 'src' in .*\.dockerignore") as excinfo:
        bc.check_entrypoint(summary, tmp_path / "ctx/src/other.py")
    assert "!src/other.py" in (excinfo.value.hint or "")


def test_size_warnings_name_files_and_ignore_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bc, "FILE_WARN_BYTES", 1000)
    monkeypatch.setattr(bc, "CONTEXT_WARN_BYTES", 3000)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "big1.bin").write_bytes(b"x" * 2000)
    (tmp_path / "big2.bin").write_bytes(b"x" * 1500)
    (tmp_path / "small").write_bytes(b"x")
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    assert summary.total_size > 3000
    assert [e.path for e in summary.largest_files][:2] == ["big1.bin", "big2.bin"]
    text = "\n".join(summary.warnings)
    assert "big1.bin" in text and "big2.bin" in text
    assert "Build context is" in text
    assert ".dockerignore" in text
    (tmp_path / ".dockerignore").write_text("big*\n")
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    assert summary.warnings == ()


def test_real_thresholds_are_500_and_100_mib() -> None:
    assert bc.CONTEXT_WARN_BYTES == 500 * 1024 * 1024
    assert bc.FILE_WARN_BYTES == 100 * 1024 * 1024


# A file that changes while it is being sent: the tar header already announced
# its size, so the stream must stop rather than pad or cut it.


# ------------------------------------------------------------------ path normalisation (issue 8)


def _context(tmp_path: Path, ignore: str | None = None) -> Path:
    ctx = tmp_path / "proj"
    (ctx / "sub").mkdir(parents=True)
    (ctx / "Dockerfile").write_text("FROM scratch\n")
    (ctx / "train.py").write_text("")
    if ignore is not None:
        (ctx / ".dockerignore").write_text(ignore)
    return ctx


def _locate(context: Path, entrypoint: Path) -> str:
    context = bc.resolve_context(context)
    summary = bc.scan_context(context, bc.resolve_dockerfile(context, None))
    return bc.check_entrypoint(summary, entrypoint)


def test_dotdot_paths_are_normalised(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    assert _locate(ctx, ctx / "../proj/train.py") == "train.py"
    assert _locate(ctx, ctx / "sub/../train.py") == "train.py"


def test_dotdot_through_a_symlinked_directory_follows_the_link(tmp_path: Path) -> None:
    """As the kernel does: `link/..` is the parent of the link's target, not the context."""
    ctx = _context(tmp_path)
    (tmp_path / "elsewhere/deep").mkdir(parents=True)
    (tmp_path / "elsewhere/train.py").write_text("")
    (ctx / "away").symlink_to(tmp_path / "elsewhere/deep")
    with pytest.raises(BuildError, match="outside the build context"):
        _locate(ctx, ctx / "away/../train.py")


def test_context_given_as_a_symlink_to_a_directory(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    link = tmp_path / "ctx-link"
    link.symlink_to(ctx)
    assert _locate(link, ctx / "train.py") == "train.py"
    assert _locate(ctx, link / "train.py") == "train.py"
    assert _locate(link, link / "sub/../train.py") == "train.py"


def test_symlinked_entrypoint_pointing_outside_the_context_is_refused(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    (tmp_path / "real_train.py").write_text("")
    (ctx / "link.py").symlink_to(tmp_path / "real_train.py")
    with pytest.raises(BuildError) as excinfo:
        _locate(ctx, ctx / "link.py")
    message = excinfo.value.message
    assert "link.py is a symlink to" in message and "outside the build context" in message
    assert "dangling" in message
    assert "copy" in (excinfo.value.hint or "").lower()


def test_symlinked_entrypoint_inside_the_context_is_fine(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    (ctx / "sub/real.py").write_text("")
    (ctx / "link.py").symlink_to("sub/real.py")
    assert _locate(ctx, ctx / "link.py") == "link.py"
    (ctx / "sublink").symlink_to("sub")
    assert _locate(ctx, ctx / "sublink/real.py") == "sub/real.py"


def test_outside_and_excluded_are_told_apart(tmp_path: Path) -> None:
    ctx = _context(tmp_path, ignore="*.py\n")
    (tmp_path / "other.py").write_text("")
    with pytest.raises(BuildError, match="outside the build context") as excinfo:
        _locate(ctx, ctx / "../other.py")
    assert ".dockerignore" not in excinfo.value.message
    with pytest.raises(
        BuildError, match=r"excluded .* by the pattern '\*\.py' in .*\.dockerignore"
    ):
        _locate(ctx, ctx / "sub/../train.py")


def test_missing_context_is_named_as_such(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"Build context not found: .*nonexistent") as excinfo:
        bc.resolve_context(tmp_path / "nonexistent")
    assert "--context" in (excinfo.value.hint or "")
    (tmp_path / "file").write_text("")
    with pytest.raises(BuildError, match="not a directory"):
        bc.resolve_context(tmp_path / "file")


# Docker's documented rules, as vectors (tests/build/docker_ignore_vectors.py).


def make_vector_tree(root: Path, vector: Vector, dockerfile: str) -> None:
    """The vector's files (each holding its own name), its ignore file and a Dockerfile."""
    root.mkdir(parents=True, exist_ok=True)
    for relative in vector.verdicts:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dockerfile if relative == "Dockerfile" else relative)
    (root / "Dockerfile").write_text(dockerfile)
    (root / ".dockerignore").write_text(vector.ignore)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_docker_ignore_vectors(tmp_path: Path, vector: Vector) -> None:
    make_vector_tree(tmp_path, vector, "FROM scratch\n")
    in_image = _included(tmp_path)
    assert {path: path not in in_image for path in vector.verdicts} == vector.verdicts


@pytest.mark.parametrize("ignore", INVALID)
def test_patterns_docker_refuses_are_refused(tmp_path: Path, ignore: str) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".dockerignore").write_text(ignore)
    with pytest.raises(BuildError, match=r"\.dockerignore") as info:
        bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    assert info.value.hint is not None and ".dockerignore" in info.value.hint


# ------------------------------------------------------------------ .git credentials (issue 8)

TOKEN = "ghp_CANARYtoken0123456789abcdef"


def _git_context(tmp_path: Path, config: str, ignore: str | None = None) -> Path:
    ctx = _context(tmp_path, ignore)
    (ctx / ".git").mkdir()
    (ctx / ".git/config").write_text(config)
    (ctx / ".git/HEAD").write_text("ref: refs/heads/main\n")
    return ctx


@pytest.mark.parametrize(
    ("line", "lineno"),
    [
        (f"\turl = https://ci-bot:{TOKEN}@github.com/org/repo.git", 4),
        (f"\turl = https://{TOKEN}@gitlab.example.com/org/repo.git", 4),
        (f"\textraheader = AUTHORIZATION: basic {TOKEN}", 4),
    ],
)
def test_git_credentials_in_the_context_are_warned_about(
    tmp_path: Path, line: str, lineno: int
) -> None:
    config = '[core]\n\tbare = false\n[remote "origin"]\n' + line + "\n"
    ctx = _git_context(tmp_path, config)
    summary = bc.scan_context(ctx, ctx / "Dockerfile")
    [warning] = [w for w in summary.warnings if ".git" in w]
    assert f"{ctx / '.git/config'}:{lineno}" in warning
    assert TOKEN not in warning and TOKEN[:10] not in warning
    assert "add the line '.git' to" in warning and str(ctx / ".dockerignore") in warning


def test_git_without_credentials_or_ignored_is_quiet(tmp_path: Path) -> None:
    clean = _git_context(tmp_path / "a", '[remote "origin"]\n\turl = https://github.com/o/r.git\n')
    assert not [w for w in bc.scan_context(clean, clean / "Dockerfile").warnings if ".git" in w]
    ignored = _git_context(
        tmp_path / "b", f'[remote "o"]\n\turl = https://u:{TOKEN}@h/r\n', ignore=".git\n"
    )
    assert not [w for w in bc.scan_context(ignored, ignored / "Dockerfile").warnings if ".git" in w]


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [
        ("//data", "data/x", True),  # Go's Clean folds a leading "//" too
        ("x[\\]]", "x]", True),  # an escaped "]" inside a class
        ("x[\\]]", "x\\", False),
        ("v[a[:digit:]]", "v5", True),  # a POSIX class after another member
        ("v[a[:digit:]]", "va", True),
        ("v[a[:digit:]]", "vb", False),
        ("x[a!]", "x!", True),  # "!" inside a class is a member, not a range
        ("x[a!]", "x-", False),
        ("y[a-c+]", "y+", True),
        ("y[a-c+]", "yd", False),
        # Longer than 256 characters: indexes are compared by value, not identity.
        ("d" * 300 + "[0-9]", "d" * 300 + "7", True),
        ("d" * 300 + "[0-9]", "d" * 300 + "x", False),
        ("e" * 300, "e" * 300, True),
        ("h" * 300 + "*", "h" * 300 + "xyz", True),  # a "*" at the very end
        ("h" * 300 + "*", "h" * 299, False),
        ("k" * 300 + "**", "k" * 300 + "/a/b", True),  # a "**" at the very end
        ("k" * 300 + "/**", "k" * 300 + "/a/b", True),
        ("m" * 300 + "?", "m" * 300 + "x", True),
        ("a*#b", "ax#b", True),  # "*" then a character that sorts before "*"
        ("a*#b", "ax/#b", False),
        ("A[:digit:]", "Ad", True),  # outside brackets, after a character sorting before "["
        ("A[:digit:]", "A5", False),
        ("data/sub", "data/sub/x/y", True),  # a grandparent directory matches
        ("x**y*", "xa/yb", True),  # "**" then a name: no "/" to swallow
        ("x**y*", "xz", False),
        ("abcd\\*", "abcd*", True),  # an escape late in the pattern
        ("abcd\\*", "abcdz", False),
        ("[:alpha:]", "a", True),  # outside brackets "[:alpha:]" is a plain class
        ("[:alpha:]", "z", False),
        ("[x][:alpha:]", "xa", True),  # after a closed class, still a plain class
        ("[x][:alpha:]", "xb", False),
        ("w[ab[:digit:]]", "w7", True),  # a POSIX class after two members
        ("w[ab[:digit:]]", "wc", False),
        # A member that sorts before "]" does not end the class early.
        ("z[0[:alpha:]]", "zb", True),
        ("z[0[:alpha:]]", "z0", True),
        ("z[0[:alpha:]]", "z:", False),
        # "**" swallows a following "/" only: "a/**.txt" ends in ".txt".
        ("a/**.txt", "a/b/.txt", True),
        ("a/**.txt", "a/.txt", True),
        ("a/**.txt", "a/txt", False),
        # An escaped "[" or "\\" is one literal character, not a class or an escape.
        ("q\\[", "q[", True),
        ("q\\[", "qx", False),
        ("r\\\\", "r\\", True),
        ("r\\\\x", "r\\x", True),
    ],
)
def test_pattern_edge_cases(pattern: str, path: str, excluded: bool) -> None:
    matcher = di.IgnoreMatcher(di.parse_ignore_lines(pattern + "\n"))
    assert matcher.excluded(path) is excluded


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[a", "unclosed character class"),
        ("[\\", "trailing backslash in a character class"),
        ("x\\", "trailing backslash"),
        ("[]a]", "bad character class"),
        ("[:^alpha:]x[[:^alpha:]]", "unsupported character class [:^alpha:]"),
        ("[^]", "bad character class"),
        ("f" * 300 + "\\", "trailing backslash"),
        ("a\\*[", "bad character class"),
        # Past 256 characters, indexes are compared by value, not identity.
        ("g" * 300 + "[", "bad character class"),
        ("g" * 300 + "[^", "bad character class"),
        ("g" * 300 + "[a-", "bad character class"),
        ("g" * 300 + "[\\", "trailing backslash in a character class"),
        ("g" * 300 + "[a", "unclosed character class"),
        ("[ab", "unclosed character class"),  # a later member does not close the class
        ("[a][", "bad character class"),  # the character after a class is read too
        ("[a]\\", "trailing backslash"),
    ],
)
def test_bad_pattern_reasons(pattern: str, reason: str) -> None:
    with pytest.raises(BuildError, match=re.escape(reason)):
        di.IgnoreMatcher([pattern])


def test_blank_patterns_are_skipped_not_the_end() -> None:
    compiled = di.compile_patterns(["   ", "*.log", "", "tmp"])
    assert [p.text for p in compiled] == ["*.log", "tmp"]


def test_ignore_exception_before_any_exclusion_decides_nothing() -> None:
    # "!keep.txt" first: nothing was excluded yet, so the exception did not
    # change the verdict, and no message may name it as the reason.
    matcher = di.IgnoreMatcher(["!keep.txt", "*.log"])
    assert matcher.deciding_pattern("keep.txt") is None
    assert not matcher.excluded("keep.txt")
    decider = matcher.deciding_pattern("x.log")
    assert decider is not None and decider.text == "*.log"


def test_a_later_inclusion_pattern_does_not_become_the_reason() -> None:
    # "a.log" cannot change a path "*.log" already excluded: the reason a
    # message names stays the pattern that excluded it.
    matcher = di.IgnoreMatcher(["*.log", "a.log", "!keep.log", "keep.log"])
    decider = matcher.deciding_pattern("a.log")
    assert decider is not None and decider.text == "*.log"
    # ...but once an exception re-included a path, a later pattern excludes it again.
    decider = matcher.deciding_pattern("keep.log")
    assert decider is not None and (decider.text, decider.exclusion) == ("keep.log", False)


def test_ignore_file_bom_only_on_the_first_line() -> None:
    assert di.parse_ignore_lines("\ufeffa\n\ufeffb\n") == ["a", "\ufeffb"]


@pytest.mark.parametrize(
    ("pattern", "kind"),
    [("a/b", "exact"), ("a/**", "prefix"), ("**/b.txt", "suffix"), ("a/*.txt", "regex")],
)
def test_only_regex_patterns_compile_a_regex(pattern: str, kind: str) -> None:
    [compiled] = di.compile_patterns([pattern])
    assert compiled.kind == kind
    assert (compiled.regex is not None) is (kind == "regex")


def test_a_file_deleted_between_listing_and_stat_is_left_out(tmp_path: Path) -> None:
    """A listing race is not an internal error, nor "permission denied" for a vanished file."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "keep.txt").write_text("keep\n")
    (tmp_path / "gone.txt").write_text("gone\n")
    real_children = bc._children

    def listing_then_delete(root: Path, relative: str, matcher: object) -> list[os.DirEntry[str]]:
        entries = real_children(root, relative, matcher)  # type: ignore[arg-type]
        (tmp_path / "gone.txt").unlink(missing_ok=True)
        return entries

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bc, "_children", listing_then_delete)
        summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    assert "gone.txt" not in summary.files and "keep.txt" in summary.files


def test_a_context_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    levels = [os.path.join(tmp_path, *["d"] * n) for n in range(1, 1501)]
    for level in levels:
        os.mkdir(level)
    try:
        summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    finally:
        for level in reversed(levels):
            os.rmdir(level)
    assert summary.file_count == 1  # the Dockerfile; 1500 directories
    assert len(summary.entries) == 1501


def test_a_file_deleted_before_its_access_check_is_not_permission_denied(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "gone.txt").write_text("gone\n")
    real_access = os.access

    def deleting_access(path: str, mode: int) -> bool:
        if str(path).endswith("gone.txt"):
            os.unlink(path)
            return False
        return real_access(path, mode)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bc.os, "access", deleting_access)
        summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    assert "gone.txt" not in summary.files
