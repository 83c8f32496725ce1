"""The context tar: headers as tarfile writes them, digests while sending, files that change."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keynet_train.build import context as bc
from keynet_train.build import tar_stream as ts
from keynet_train.build.cache import BuildCache
from keynet_train.build.fingerprint import FileDigests, context_fingerprint, context_shape
from keynet_train.errors import BuildError

_NAME_CHARS = st.sampled_from([*"abcXYZ019._- ", "é", "ü", "日", "\udcff"])
_COMPONENT = st.text(_NAME_CHARS, min_size=1, max_size=60).filter(lambda s: s not in (".", ".."))


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(_COMPONENT, min_size=1, max_size=4),
    kind=st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE]),
    mode=st.integers(0, 0o7777),
    size=st.one_of(st.integers(0, 2**20), st.sampled_from([8**11 - 1, 8**11, 2**40])),
    mtime=st.one_of(st.integers(0, 2**34), st.sampled_from([8**11 - 1, 8**11])),
    link=st.text(_NAME_CHARS, min_size=1, max_size=120),
)
def test_headers_are_tarfiles_byte_for_byte(
    parts: list[str], kind: bytes, mode: int, size: int, mtime: int, link: str
) -> None:
    info = tarfile.TarInfo("/".join(parts))
    info.type, info.mode, info.mtime = kind, mode, mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if kind == tarfile.REGTYPE:
        info.size = size
    if kind == tarfile.SYMTYPE:
        info.linkname = link
    assert ts._tar_header(info) == info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def test_the_fast_path_covers_the_common_entry() -> None:
    info = tarfile.TarInfo("src/models/resnet.py")
    info.size, info.mtime, info.mode = 1234, 1_700_000_000, 0o644
    info.uname = info.gname = ""
    assert ts._ustar_header(info) is not None
    long_name = tarfile.TarInfo("d/" + "x" * 120)
    long_name.uname = long_name.gname = ""
    assert ts._ustar_header(long_name) is None  # pax "path" header: tarfile's path


def _tree(root: Path) -> Path:
    """Long and non-ASCII names, symlinks, modes and old mtimes."""
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    deep = root / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    (deep / "weights.bin").write_bytes(os.urandom(70_000))
    (root / "données.txt").write_text("é" * 1000)
    (root / "empty").write_bytes(b"")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "link").symlink_to("données.txt")
    (root / ("l" * 99)).symlink_to("x" * 101)
    os.utime(root / "empty", (1, 1))
    return root


def _reference_archive(summary: bc.ContextSummary) -> bytes:
    """The same entries written by tarfile alone (headers via tobuf, data, padding)."""
    out = io.BytesIO()
    for entry in summary.entries:
        source = summary.context_dir / entry.path
        st = source.lstat()
        info = ts._tar_info(entry.path, st, os.readlink(source) if entry.kind == "symlink" else "")
        out.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        if info.type == tarfile.REGTYPE:
            data = source.read_bytes()
            out.write(data + b"\0" * (-len(data) % tarfile.BLOCKSIZE))
    out.write(b"\0" * (2 * tarfile.BLOCKSIZE))
    return out.getvalue()


def test_the_stream_equals_tarfiles_archive_of_a_real_tree(tmp_path: Path) -> None:
    summary = bc.scan_context(_tree(tmp_path), tmp_path / "Dockerfile")
    data = b"".join(ts.context_tar_stream(summary, chunk_size=4096))
    assert data == _reference_archive(summary)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = archive.getnames()
    assert "données.txt" in names and f"{'d' * 60}/{'e' * 60}/weights.bin" in names


def test_each_file_is_hashed_from_the_bytes_sent(tmp_path: Path) -> None:
    """One read per file: the stream's digests equal the files', and nothing else reads them."""
    summary = bc.scan_context(_tree(tmp_path), tmp_path / "Dockerfile")
    digests = FileDigests(None)
    b"".join(ts.context_tar_stream(summary, chunk_size=4096, digests=digests))
    regular = [e for e in summary.entries if e.kind == "file"]
    assert digests.files_streamed == len(regular) and digests.files_read == 0
    for entry in regular:
        expected = hashlib.sha256((tmp_path / entry.path).read_bytes()).hexdigest()
        assert digests.unchanged(tmp_path / entry.path) == expected
    # After the build: a re-stat, no read, and the same fingerprint as reading everything.
    after = context_fingerprint(summary, {}, "linux/amd64", digests, restat_only=True)
    assert digests.files_read == 0
    assert after == context_fingerprint(summary, {}, "linux/amd64", FileDigests(None))


def test_a_file_changed_after_it_was_sent_gives_no_fingerprint(tmp_path: Path) -> None:
    summary = bc.scan_context(_tree(tmp_path), tmp_path / "Dockerfile")
    digests = FileDigests(None)
    b"".join(ts.context_tar_stream(summary, digests=digests))
    time.sleep(0.01)
    (tmp_path / "run.sh").write_text("#!/bin/sh\necho changed\n")
    assert context_fingerprint(summary, {}, "linux/amd64", digests, restat_only=True) is None


def test_a_digest_read_moments_ago_is_hashed_again_while_sent(tmp_path: Path) -> None:
    """A file written in the same clock tick as a read may keep its stat: the stream re-hashes."""
    summary = bc.scan_context(_tree(tmp_path), tmp_path / "Dockerfile")
    digests = FileDigests(None)  # real clock: every file was written just now (racy)
    context_fingerprint(summary, {}, "linux/amd64", digests)
    read = digests.files_read
    b"".join(ts.context_tar_stream(summary, digests=digests))
    assert digests.files_streamed == read  # every racy file hashed again from the stream
    trusting = FileDigests(None, now=time.time() + 3600)
    context_fingerprint(summary, {}, "linux/amd64", trusting)
    b"".join(ts.context_tar_stream(summary, digests=trusting))
    assert trusting.files_streamed == 0  # old files: the digest read before is used


def test_the_shape_follows_sizes_and_paths_not_contents(tmp_path: Path) -> None:
    summary = bc.scan_context(_tree(tmp_path), tmp_path / "Dockerfile")
    shape = context_shape(summary, {}, "linux/amd64")
    (tmp_path / "run.sh").write_text("#!/bin/sh\n")  # same size, new content
    again = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    assert context_shape(again, {}, "linux/amd64") == shape
    (tmp_path / "run.sh").write_text("#!/bin/bash\n")
    grown = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    assert context_shape(grown, {}, "linux/amd64") != shape
    assert context_shape(again, {"A": "1"}, "linux/amd64") != shape

    cache = BuildCache(tmp_path / "cache" / "builds.json")
    assert shape is not None and not cache.has_shape(shape)
    cache.store("fingerprint", "image", shape)
    assert cache.has_shape(shape)


def test_a_context_of_many_files_is_warned_about(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "data").mkdir()
    for i in range(bc.FILE_COUNT_WARN):
        (tmp_path / "data" / f"{i}.txt").write_bytes(b"")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.log").write_bytes(b"")
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    [warning] = summary.warnings
    assert warning.startswith(
        f"Build context has {bc.FILE_COUNT_WARN + 2} files (over {bc.FILE_COUNT_WARN}); "
    )
    assert f"most are in data/ ({bc.FILE_COUNT_WARN} files), ./ (1 file), logs/ (1 file)" in (
        warning
    )
    assert "in a .dockerignore (or .containerignore)" in warning
    (tmp_path / ".dockerignore").write_text("data\n")
    assert bc.scan_context(tmp_path, tmp_path / "Dockerfile").warnings == ()


def _tar_members(summary: bc.ContextSummary) -> dict[str, bytes | None]:
    data = b"".join(ts.context_tar_stream(summary, chunk_size=4096))
    out: dict[str, bytes | None] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member)
            out[member.name] = handle.read() if handle else None
    return out


def test_tar_stream_content_order_and_metadata(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b/z.txt").write_text("z" * 10_000)
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b/empty").write_bytes(b"")
    (tmp_path / "link").symlink_to("a.txt")
    os.mkfifo(tmp_path / "fifo")  # must be skipped, reading it would block
    (tmp_path / ".dockerignore").write_text("b/empty\n")
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    data = b"".join(ts.context_tar_stream(summary, chunk_size=4096))
    assert data == b"".join(ts.context_tar_stream(summary, chunk_size=4096))  # deterministic
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = archive.getmembers()
        names = [m.name for m in members]
        assert names == [".dockerignore", "Dockerfile", "a.txt", "b", "b/z.txt", "link"]
        by_name = {m.name: m for m in members}
        assert by_name["link"].issym() and by_name["link"].linkname == "a.txt"
        assert by_name["b"].isdir()
        assert all(m.uid == 0 and m.gid == 0 for m in members)
        z = archive.extractfile("b/z.txt")
        assert z is not None and z.read() == b"z" * 10_000


def test_tar_stream_memory_is_bounded(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with (tmp_path / "big.bin").open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: cheap on disk
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    tracemalloc.start()
    try:
        total = sum(len(chunk) for chunk in ts.context_tar_stream(summary))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 64 * 1024 * 1024
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes: the stream buffers the context"


def _stream_changing(tmp_path: Path, change: str) -> BuildError:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "ckpt.bin").write_bytes(b"x" * 20_000)
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    stream = ts.context_tar_stream(summary, chunk_size=4096)
    changed = False
    with pytest.raises(BuildError) as info:
        for chunk in stream:
            if chunk.startswith(b"x") and not changed:  # the first piece of ckpt.bin went out
                changed = True
                with (tmp_path / "ckpt.bin").open("r+b") as handle:
                    if change == "grow":
                        handle.seek(0, os.SEEK_END)
                        handle.write(b"y" * 5000)
                    elif change == "shrink":
                        handle.truncate(6000)
                    else:  # same size, new bytes further on
                        handle.seek(15_000)
                        handle.write(b"z" * 100)
    return info.value


def test_a_file_that_grows_while_sent_stops_the_stream(tmp_path: Path) -> None:
    error = _stream_changing(tmp_path, "grow")
    assert "ckpt.bin changed while the build context was being sent" in error.message
    assert "grew from 20000 bytes to 25000 bytes" in error.message
    assert error.hint is not None and ".dockerignore" in error.hint


def test_a_file_that_shrinks_while_sent_stops_the_stream(tmp_path: Path) -> None:
    error = _stream_changing(tmp_path, "shrink")
    assert "ckpt.bin changed while the build context was being sent" in error.message
    assert "shrank from 20000 bytes to 6000 bytes" in error.message


def test_a_file_rewritten_in_place_while_sent_stops_the_stream(tmp_path: Path) -> None:
    error = _stream_changing(tmp_path, "rewrite")
    assert "ckpt.bin changed while the build context was being sent (it was rewritten)" in (
        error.message
    )


def test_a_file_replaced_between_scan_and_send_is_sent_as_opened(tmp_path: Path) -> None:
    """Header, bytes and digest all come from the file opened: no window between stat and open."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "a.bin").write_bytes(b"1" * 100)
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    replacement = tmp_path / "new.bin"
    replacement.write_bytes(b"2" * 300)
    real_open = os.open

    def swapping_open(path: str, flags: int, *args: int) -> int:
        if os.path.basename(path) == "a.bin" and replacement.exists():
            os.replace(replacement, path)
        return real_open(path, flags, *args)

    digests = FileDigests(None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", swapping_open)
        data = b"".join(ts.context_tar_stream(summary, chunk_size=4096, digests=digests))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        member = archive.extractfile("a.bin")
        assert member is not None and member.read() == b"2" * 300
    assert digests.unchanged(tmp_path / "a.bin") == hashlib.sha256(b"2" * 300).hexdigest()


def test_a_symlink_swapped_in_for_a_file_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "a.bin").write_bytes(b"1" * 100)
    (tmp_path.parent / "secret").write_bytes(b"s" * 100)
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    (tmp_path / "a.bin").unlink()
    (tmp_path / "a.bin").symlink_to(tmp_path.parent / "secret")
    with pytest.raises(BuildError, match=r"a\.bin changed .* was replaced by a symbolic link"):
        b"".join(ts.context_tar_stream(summary))


def test_a_symlinked_dockerfile_outside_the_context_is_sent(tmp_path: Path) -> None:
    """``--dockerfile ../Dockerfile`` where that is a link: its target's text is sent."""
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx/app.py").write_text("print(1)\n")
    (tmp_path / "Dockerfile.real").write_text("FROM scratch\n")
    (tmp_path / "Dockerfile").symlink_to("Dockerfile.real")
    summary = bc.scan_context(tmp_path / "ctx", tmp_path / "Dockerfile")
    assert _tar_members(summary)[".keynet-Dockerfile"] == b"FROM scratch\n"


def test_a_file_deleted_between_scan_and_send_is_named(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "a.bin").write_bytes(b"1" * 100)
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    (tmp_path / "a.bin").unlink()
    with pytest.raises(BuildError, match=r"a\.bin changed .* was deleted"):
        b"".join(ts.context_tar_stream(summary))


def test_a_symlink_deleted_while_its_target_is_read_is_named(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "link").symlink_to("Dockerfile")
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    real_readlink = os.readlink

    def deleting_readlink(path: str) -> str:
        os.unlink(path)
        return real_readlink(path)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "readlink", deleting_readlink)
        with pytest.raises(BuildError, match=r"link changed .* was deleted"):
            b"".join(ts.context_tar_stream(summary))


def test_a_fifo_swapped_in_between_scan_and_send_does_not_block(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "a.bin").write_bytes(b"1" * 100)
    summary = bc.scan_context(tmp_path, tmp_path / "Dockerfile")
    (tmp_path / "a.bin").unlink()
    os.mkfifo(tmp_path / "a.bin")
    with pytest.raises(BuildError, match=r"a\.bin changed .* FIFO"):
        b"".join(ts.context_tar_stream(summary))


def test_dockerfile_outside_context_sent_under_private_name(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx/app.py").write_text("print(1)\n")
    (tmp_path / "Dockerfile.prod").write_text("FROM scratch\n")
    summary = bc.scan_context(tmp_path / "ctx", tmp_path / "Dockerfile.prod")
    assert summary.dockerfile_name == ".keynet-Dockerfile"
    names = _tar_members(summary)
    assert names[".keynet-Dockerfile"] == b"FROM scratch\n"
