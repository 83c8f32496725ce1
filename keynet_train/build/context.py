"""The build context: which files are sent to podman, and the tar stream itself.

``.containerignore`` (preferred) or ``.dockerignore`` is applied with Docker's
semantics, implemented in :mod:`keynet_train.build.dockerignore`; the Dockerfile
and the ignore file are always sent (the builder needs them), exactly as the
docker CLI does.

The tar stream of what is sent is :mod:`keynet_train.build.tar_stream`'s.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from keynet_train.build.dockerignore import IgnoreMatcher, parse_ignore_lines
from keynet_train.errors import BuildError
from keynet_train.files import UnreadableFile, read_regular_file

IGNORE_FILES = (".containerignore", ".dockerignore")
#: No Dockerfile is this large; a larger "Dockerfile" is refused, not read.
MAX_DOCKERFILE_BYTES = 1024 * 1024
#: An ignore file is a list of patterns; one larger than this is not one.
MAX_IGNORE_FILE_BYTES = 4 * 1024 * 1024
DEFAULT_DOCKERFILES = ("Containerfile", "Dockerfile")
CONTEXT_WARN_BYTES = 500 * 1024 * 1024
FILE_WARN_BYTES = 100 * 1024 * 1024
# Past this many files, per-file costs (a tar header each, podman unpacking
# and deleting each) dominate a push whatever their size.
FILE_COUNT_WARN = 10_000
BUSIEST_DIRECTORIES_SHOWN = 3
#: The name a Dockerfile from outside the context is sent under, as the docker CLI does.
PRIVATE_DOCKERFILE = ".keynet-Dockerfile"
LARGEST_FILES_SHOWN = 5

_MIB = 1024 * 1024


# --------------------------------------------------------------------------- scanning


@dataclass(frozen=True)
class ContextEntry:
    """One entry of the build context tar."""

    path: str  # slash-separated, relative to the context
    kind: str  # "file", "dir" or "symlink"
    size: int = 0
    mode: int = 0  # st_mode at the scan (type and permission bits)


@dataclass(frozen=True)
class ContextSummary:
    """What will be sent to podman: entries, totals, and why."""

    context_dir: Path
    dockerfile: Path
    dockerfile_name: str  # the Dockerfile's path inside the tar (the `dockerfile=` param)
    ignore_file: Path | None
    patterns: tuple[str, ...]
    entries: tuple[ContextEntry, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def files(self) -> list[str]:
        """Relative paths of regular files and symlinks, in tar order."""
        return [e.path for e in self.entries if e.kind != "dir"]

    @property
    def file_count(self) -> int:
        """Number of regular files and symlinks."""
        return sum(1 for e in self.entries if e.kind != "dir")

    @property
    def total_size(self) -> int:
        """Total bytes of regular file content."""
        return sum(e.size for e in self.entries)

    @property
    def largest_files(self) -> list[ContextEntry]:
        """The biggest regular files, largest first."""
        files = [e for e in self.entries if e.kind == "file"]
        return sorted(files, key=lambda e: (-e.size, e.path))[:LARGEST_FILES_SHOWN]

    def sources(self) -> Iterator[tuple[ContextEntry, str]]:
        """Each entry with the path it is read from (the Dockerfile may live outside)."""
        # Plain strings, not Path objects: this runs once per file (20,000
        # times for a large context) and pathlib's joins cost more than the I/O.
        root = os.fspath(self.context_dir).rstrip(os.sep) + os.sep
        outside = self.dockerfile_name == PRIVATE_DOCKERFILE
        for entry in self.entries:
            if outside and entry.path == PRIVATE_DOCKERFILE:
                yield entry, os.fspath(self.dockerfile)
            else:
                yield entry, root + entry.path

    def matcher(self) -> IgnoreMatcher:
        """The ignore matcher this summary was computed with."""
        return IgnoreMatcher(list(self.patterns), self._ignore_label())

    def _ignore_label(self) -> str:
        return str(self.ignore_file) if self.ignore_file else ".dockerignore"


def human_size(size: int) -> str:
    """``2150`` → ``2.1 KiB``; bytes below 1 KiB are shown exactly."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def real_path(path: Path) -> Path:
    """``path`` made absolute with every directory symlink and ``..`` resolved, as the kernel does.

    The last component stays as it is (it may itself be a symlink: whether
    that is acceptable is the caller's decision), so a script reached through
    ``sub/../train.py``, ``../proj/train.py`` or a symlinked directory gets the
    one spelling the build context uses. Never raises.
    """
    # Not os.path.abspath: it folds "link/.." away lexically, before the link is followed.
    joined = os.path.join(os.getcwd(), os.fspath(path))
    head, name = os.path.split(joined.rstrip(os.sep) or os.sep)
    if name in ("", ".", ".."):
        return Path(os.path.realpath(joined))
    return Path(os.path.realpath(head)) / name


def resolve_context(context_dir: Path) -> Path:
    """The build context as a real directory path (symlinks and ``..`` resolved).

    Raises:
        BuildError: it does not exist, or is not a directory.
    """
    real = Path(os.path.realpath(context_dir))
    if not real.exists():
        raise BuildError(
            f"Build context not found: {context_dir}",
            hint="Check the path given to --context (or 'context' in the project file).",
        )
    if not real.is_dir():
        raise BuildError(
            f"Build context is not a directory: {context_dir}",
            hint="Use --context to point at the directory holding your code and Dockerfile.",
        )
    return real


def resolve_dockerfile(
    context_dir: Path, dockerfile: Path | None, entrypoint: Path | None = None
) -> Path:
    """Return the Dockerfile to use: the given one, else Containerfile, else Dockerfile.

    A relative ``dockerfile`` is taken relative to the current directory (as
    ``podman build -f`` does). ``entrypoint`` only shapes the hint when none
    is found: its directory may hold the Dockerfile the user meant.

    Raises:
        BuildError: the file does not exist, is not a regular file, is larger
            than :data:`MAX_DOCKERFILE_BYTES` or cannot be read.
    """
    if dockerfile is not None:
        candidate = real_path(dockerfile)
        if not os.path.exists(candidate):
            raise BuildError(
                f"Dockerfile not found: {dockerfile}",
                hint="Check the path, or use --dockerfile to point at your Dockerfile.",
            )
        read_dockerfile(candidate)  # a FIFO, device or huge file is refused here
        return candidate
    for name in DEFAULT_DOCKERFILES:
        candidate = (Path(context_dir) / name).absolute()
        if os.path.exists(candidate) and not os.path.isdir(candidate):
            read_dockerfile(candidate)
            return candidate
    # The context is the current directory unless --context says otherwise:
    # "push detection/train.py" from the parent looks here, not in detection/.
    hint = (
        f"The build context is {context_dir} (--context DIR; default: the current "
        "directory), and the Dockerfile is looked for there. "
    )
    folder = Path(entrypoint).parent if entrypoint is not None else None
    if (
        folder is not None
        and folder.absolute() != Path(context_dir).absolute()
        and any((folder / name).is_file() for name in DEFAULT_DOCKERFILES)
    ):
        hint += f"The script's directory has one: pass --context {folder}."
    else:
        hint += "Create a Containerfile or Dockerfile there, or use --dockerfile."
    raise BuildError(f"Dockerfile not found: {Path(context_dir) / 'Dockerfile'}", hint=hint)


def read_dockerfile(path: Path) -> str:
    """The Dockerfile's text (undecodable bytes kept as surrogates), from a regular file only.

    Raises:
        BuildError: it is missing, a FIFO, device or kernel file, larger than
            :data:`MAX_DOCKERFILE_BYTES`, or cannot be read.
    """
    try:
        raw = read_regular_file(path, MAX_DOCKERFILE_BYTES)
    except UnreadableFile as e:
        raise BuildError(
            f"Cannot read the Dockerfile {path}: it {e.reason}.",
            hint="Point --dockerfile at a regular text file.",
        ) from None
    return raw.decode("utf-8", errors="surrogateescape")


def find_ignore_file(context_dir: Path) -> Path | None:
    """``.containerignore`` if present, else ``.dockerignore``, else None.

    Present means any kind of entry, even a FIFO or a dangling link: one that
    cannot be read is reported by :func:`scan_context`, never skipped (its
    exclusions would silently not apply).
    """
    for name in IGNORE_FILES:
        candidate = Path(context_dir) / name
        if os.path.lexists(candidate):
            return candidate
    return None


def scan_context(context_dir: Path, dockerfile: Path) -> ContextSummary:
    """List what a build of ``context_dir`` sends, honouring the ignore file.

    Walks the directory in sorted order without following symlinks. Sockets and
    FIFOs are skipped (a FIFO would block the upload).

    Raises:
        BuildError: the context is not a directory, the ignore file is invalid
            or unreadable, or an included file cannot be read.
    """
    context = resolve_context(context_dir)
    ignore_file = find_ignore_file(context)
    patterns: list[str] = []
    if ignore_file is not None:
        try:
            raw = read_regular_file(ignore_file, MAX_IGNORE_FILE_BYTES)
            patterns = parse_ignore_lines(raw.decode("utf-8"))
        except UnreadableFile as e:
            raise BuildError(
                f"Cannot read the ignore file {ignore_file}: it {e.reason}.",
                hint="Make it a regular text file of patterns (or remove it); its exclusions "
                "decide what the build sends.",
            ) from None
        except UnicodeDecodeError as e:
            raise BuildError(
                f"Cannot read the ignore file {ignore_file}: not UTF-8 text ({e.reason} at "
                f"byte {e.start}).",
                hint="Re-save it as UTF-8.",
            ) from None
    label = str(ignore_file) if ignore_file else ".dockerignore"
    matcher = IgnoreMatcher(patterns, label)

    dockerfile = real_path(dockerfile)
    always = {p.name for p in [ignore_file] if p is not None}
    try:
        dockerfile_name = dockerfile.relative_to(context).as_posix()
        always.add(dockerfile_name)
    except ValueError:
        # Outside the context: sent under a private name, as the docker CLI does.
        dockerfile_name = PRIVATE_DOCKERFILE

    entries: list[ContextEntry] = []
    _walk(context, matcher, always, entries)
    if dockerfile_name == PRIVATE_DOCKERFILE:
        entries.append(ContextEntry(dockerfile_name, "file", _size(dockerfile), stat.S_IFREG))

    summary = ContextSummary(
        context_dir=context,
        dockerfile=dockerfile,
        dockerfile_name=dockerfile_name,
        ignore_file=ignore_file,
        patterns=tuple(patterns),
        entries=tuple(entries),
    )
    warnings = [*_size_warnings(summary), *_git_credential_warnings(summary)]
    return dataclasses.replace(summary, warnings=tuple(warnings))


# A remote URL with userinfo (``https://user:token@host``, ``https://token@host``)
# or an extra HTTP header carrying an Authorization value: how CI checkouts
# usually leave a token in .git/config.
_GIT_CREDENTIAL_RES = (
    re.compile(r"(?i)^\s*(?:url|pushurl)\s*=\s*[a-z][a-z0-9+.-]*://(?P<secret>[^/@\s]+)@"),
    re.compile(r"(?i)^\s*extraheader\s*=\s*(?:authorization|[\w-]*token)\s*:\s*(?P<secret>.+)$"),
)


def _git_credential_warnings(summary: ContextSummary) -> list[str]:
    """Warn when the context sends a ``.git/config`` holding credentials (never shown).

    ``.git`` is not excluded by default: the ignore file keeps Docker's
    semantics, and some builds need the history (e.g. setuptools-scm). But a
    token in it would end up in the image of any ``COPY . .``.
    """
    if ".git/config" not in summary.files:
        return []
    config = summary.context_dir / ".git" / "config"
    try:
        # Regular file and capped: .git/config may be a link to /dev/zero.
        raw = read_regular_file(config, MAX_DOCKERFILE_BYTES)
    except UnreadableFile:
        return []
    lines = raw.decode("utf-8", errors="replace").splitlines()
    where = summary.ignore_file or summary.context_dir / ".dockerignore"
    warnings = []
    for number, line in enumerate(lines, start=1):
        for pattern in _GIT_CREDENTIAL_RES:
            match = pattern.search(line)
            if match:
                shown = (
                    line[: match.start("secret")] + "***" + line[match.end("secret") :]
                ).strip()
                warnings.append(
                    f"{config}:{number} holds credentials ({shown}) and .git is part of the "
                    f"build context, so a COPY of the context puts them in the image; "
                    f"add the line '.git' to {where}"
                )
                break
    return warnings


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as e:
        raise BuildError(f"Cannot read {path}: {e.strerror}") from e


#: keynet-train's own folder in a project; ``run`` keeps its run folders in it (docs/run.md).
KEYNET_FOLDER = ".keynet"
RUNS_FOLDER = f"{KEYNET_FOLDER}/runs"


def _walk(root: Path, matcher: IgnoreMatcher, always: set[str], out: list[ContextEntry]) -> None:
    """Append the context's entries to ``out``, depth first in sorted order.

    Iterative (an explicit stack), so a context thousands of directories deep
    is listed like any other instead of exhausting Python's recursion limit.
    Each directory on the stack keeps where the ignore patterns stand there
    (:class:`~keynet_train.build.dockerignore.WalkState`), so an entry costs
    a match of its own name, not of its whole path. An entry deleted between
    the listing and its ``stat`` is left out, as if the listing had come a
    moment later.

    Raises:
        BuildError: a directory cannot be listed, or a file in the context
            cannot be read (permissions).
    """
    stack = [(iter(_children(root, "", matcher)), "", matcher.walk_root())]
    while stack:
        children, parent, state = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        path = f"{parent}/{child.name}" if parent else child.name
        if path == KEYNET_FOLDER:
            # keynet-train's records (run logs, callbacks) are never image content:
            # sent, they would also change the context, and so rebuild, every run.
            continue
        st = _lstat(child, matcher)
        if st is None:
            continue
        is_dir = stat.S_ISDIR(st.st_mode)
        descend = is_dir
        if path not in always and matcher.excluded_entry(state, child.name, path):
            # Descend only if something below may come back (an exception
            # pattern, or the Dockerfile living in there).
            below = path + "/"
            descend = is_dir and (
                matcher.may_reinclude_below(path) or any(a.startswith(below) for a in always)
            )
        elif is_dir:
            out.append(ContextEntry(path, "dir", mode=st.st_mode))
        elif stat.S_ISLNK(st.st_mode):
            out.append(ContextEntry(path, "symlink", mode=st.st_mode))
        elif stat.S_ISREG(st.st_mode):
            if not _readable(child, matcher):
                continue  # deleted since the stat
            out.append(ContextEntry(path, "file", st.st_size, st.st_mode))
        if descend:
            entered = matcher.enter(state, child.name, path)
            stack.append((iter(_children(root, path, matcher)), path, entered))


def _readable(child: os.DirEntry[str], matcher: IgnoreMatcher) -> bool:
    """True if the file can be read; False if it was deleted since it was listed.

    Raises:
        BuildError: permission denied.
    """
    if os.access(child.path, os.R_OK):
        return True
    if not os.path.lexists(child.path):
        return False  # deleted since the stat: not "permission denied"
    raise BuildError(
        f"Cannot read {child.path} (permission denied)",
        hint=f"Fix its permissions or exclude it in {matcher.source}.",
    )


def _lstat(child: os.DirEntry[str], matcher: IgnoreMatcher) -> os.stat_result | None:
    """The entry's own stat (links not followed); None if it was deleted since the listing.

    Raises:
        BuildError: it cannot be stat'ed (permissions).
    """
    try:
        return child.stat(follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise BuildError(
            f"Cannot read {child.path}: {e.strerror}",
            hint=f"Fix its permissions or exclude it in {matcher.source}.",
        ) from None


def _children(root: Path, relative: str, matcher: IgnoreMatcher) -> list[os.DirEntry[str]]:
    """The entries of one context directory, sorted by name; [] if it was deleted meanwhile.

    Raises:
        BuildError: it exists but cannot be listed.
    """
    directory = root / relative if relative else root
    try:
        with os.scandir(directory) as entries:
            return sorted(entries, key=lambda d: d.name)
    except FileNotFoundError:
        if relative:
            return []
        raise BuildError(f"Build context not found: {directory}") from None
    except OSError as e:
        raise BuildError(
            f"Cannot read directory {directory}: {e.strerror}",
            hint=f"Fix its permissions or exclude it in {matcher.source}.",
        ) from e


def _ignore_advice(summary: ContextSummary) -> str:
    if summary.ignore_file is not None:
        return f"exclude what the image does not need in {summary.ignore_file}"
    return (
        "exclude what the image does not need in a .dockerignore (or .containerignore) "
        f"in {summary.context_dir}"
    )


def _size_warnings(summary: ContextSummary) -> list[str]:
    warnings = []
    big = sorted(
        (e for e in summary.entries if e.kind == "file" and e.size > FILE_WARN_BYTES),
        key=lambda e: (-e.size, e.path),
    )
    for entry in big:
        warnings.append(
            f"Large file in build context: {entry.path} ({entry.size / _MIB:.1f} MiB, "
            f"over {FILE_WARN_BYTES // _MIB} MiB); {_ignore_advice(summary)}"
        )
    if summary.file_count > FILE_COUNT_WARN:
        warnings.append(_count_warning(summary))
    if summary.total_size > CONTEXT_WARN_BYTES:
        largest = ", ".join(f"{e.path} ({e.size / _MIB:.1f} MiB)" for e in summary.largest_files)
        warnings.append(
            f"Build context is {summary.total_size / _MIB:.1f} MiB (over "
            f"{CONTEXT_WARN_BYTES // _MIB} MiB); largest files: {largest}; "
            f"{_ignore_advice(summary)}"
        )
    return warnings


def _count_warning(summary: ContextSummary) -> str:
    """Name the top-level directories holding most of a context's many files."""
    counts: dict[str, int] = {}
    for entry in summary.entries:
        if entry.kind != "dir":
            top = entry.path.split("/", 1)[0] + "/" if "/" in entry.path else "./"
            counts[top] = counts.get(top, 0) + 1
    busiest = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:BUSIEST_DIRECTORIES_SHOWN]
    shown = ", ".join(
        f"{name} ({count} file{'' if count == 1 else 's'})" for name, count in busiest
    )
    return (
        f"Build context has {summary.file_count} files (over {FILE_COUNT_WARN}); each one "
        f"slows the upload and the build; most are in {shown}; {_ignore_advice(summary)}"
    )


def check_entrypoint(summary: ContextSummary, entrypoint: Path) -> str:
    """Make sure the entrypoint is inside the context and will be sent.

    Returns the entrypoint's path relative to the context (slash-separated).
    Both paths are compared after :func:`real_path`, so ``..``, a symlinked
    context and symlinked directories do not matter. An entrypoint that is
    itself a symlink must resolve inside the context: the tar carries only
    the link, so a target outside would leave the image a dangling script.

    Raises:
        BuildError: the entrypoint (or its symlink's target) is outside the
            context, or it is excluded by the ignore file (the message names
            the pattern and the file to edit).
    """
    context = summary.context_dir
    located = real_path(entrypoint)
    try:
        relative = located.relative_to(context).as_posix()
    except ValueError:
        raise BuildError(
            f"The entrypoint {entrypoint} is outside the build context {context}",
            hint="Move the script into the context, or pass --context with a directory "
            "that contains it.",
        ) from None
    target = Path(os.path.realpath(located))
    if not target.is_relative_to(context):
        raise BuildError(
            f"The entrypoint {relative} is a symlink to {target}, outside the build context "
            f"{context}: the image would get only the link, dangling",
            hint=f"Copy the script into {context} instead of linking it, or pass --context "
            "with a directory that contains the real file.",
        )
    if relative in summary.files:
        return relative
    decider = summary.matcher().deciding_pattern(relative)
    where = summary.ignore_file or ".dockerignore"
    if decider is not None:
        reason = f"by the pattern {decider.text!r} in {where}"
    else:
        reason = f"by the patterns in {where} (one of its parent directories is excluded)"
    raise BuildError(
        f"The entrypoint {relative} is excluded from the build context {reason}",
        hint=f"Edit {where}: remove that pattern or add a line '!{relative}' after it.",
    )
