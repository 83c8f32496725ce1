"""Context fingerprint and the build cache that lets unchanged contexts skip the upload."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from keynet_train.build.cache import BuildCache, cache_path
from keynet_train.build.cache_files import MAX_ENTRIES
from keynet_train.build.context import scan_context
from keynet_train.build.fingerprint import FileDigests, context_fingerprint
from keynet_train.build.pending_pushes import PendingPush, PendingPushes, hyperparameters_hash


def _context(tmp_path: Path) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    (tmp_path / "train.py").write_text("print('x')\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.bin").write_bytes(b"1234")
    return tmp_path


def _fp(
    ctx: Path,
    build_args: dict[str, str] | None = None,
    platform: str = "linux/amd64",
    digests: FileDigests | None = None,
) -> str:
    fingerprint = context_fingerprint(
        scan_context(ctx, ctx / "Dockerfile"), build_args or {}, platform, digests
    )
    assert fingerprint is not None
    return fingerprint


def _trusting(memo: Path) -> FileDigests:
    """A memo that treats every file as old enough to trust its stat (the fast path)."""
    return FileDigests(memo, now=time.time() + 3600)


def test_fingerprint_is_stable_for_an_unchanged_context(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    assert _fp(ctx) == _fp(ctx)


def test_fingerprint_changes_with_anything_a_build_could_see(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    seen = {_fp(ctx)}

    def changed() -> None:
        fp = _fp(ctx)
        assert fp not in seen
        seen.add(fp)

    (ctx / "data" / "a.bin").write_bytes(b"4321")  # same size, new mtime
    os.utime(ctx / "data" / "a.bin", ns=(1, 1))
    changed()
    (ctx / "train.py").write_text("print('y')  # longer\n")
    changed()
    (ctx / "new.txt").write_text("n")
    changed()
    (ctx / "link").symlink_to("train.py")
    changed()
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY . /srv\n")
    changed()
    (ctx / "train.py").chmod(0o755)
    changed()
    assert _fp(ctx, {"A": "1"}) not in seen
    assert _fp(ctx, platform="linux/arm64") not in seen


def test_a_touch_alone_keeps_the_fingerprint(tmp_path: Path) -> None:
    """Content, not times: re-saving an unchanged file does not force a rebuild."""
    ctx = _context(tmp_path)
    before = _fp(ctx)
    os.utime(ctx / "train.py", ns=(10**18, 10**18))
    assert _fp(ctx) == before


# Each way of changing a file behind the stat data the old fingerprint
# trusted (size, mtime, inode). The memo is primed and fully trusted first, so
# the fast path itself has to notice the change.


def _cp_p(ctx: Path) -> None:
    # Same size, other bytes, the same mtime (say, both from one checkout);
    # cp -p writes in place (same inode) and copies that mtime over.
    other = ctx.parent / "other.py"
    other.write_text("print('z')\n")
    st = (ctx / "train.py").stat()
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    subprocess.run(["cp", "-p", str(other), str(ctx / "train.py")], check=True)


def _touch_r(ctx: Path) -> None:
    reference = ctx.parent / "reference"
    shutil.copy2(ctx / "train.py", reference)
    (ctx / "train.py").write_text("print('w')\n")
    subprocess.run(["touch", "-r", str(reference), str(ctx / "train.py")], check=True)


def _same_size_rewrite(ctx: Path) -> None:
    target = ctx / "data" / "a.bin"
    st = target.stat()
    with target.open("r+b") as handle:
        handle.write(b"9999")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


def _chmod(ctx: Path) -> None:
    st = (ctx / "train.py").stat()
    (ctx / "train.py").chmod(0o600)
    os.utime(ctx / "train.py", ns=(st.st_atime_ns, st.st_mtime_ns))


def _symlink_retarget(ctx: Path) -> None:
    (ctx / "other.py").write_text("print('x')\n")  # same size, same content as train.py
    (ctx / "link").unlink()
    (ctx / "link").symlink_to("other.py")


@pytest.mark.parametrize(
    "change",
    [_cp_p, _touch_r, _same_size_rewrite, _chmod, _symlink_retarget],
    ids=["cp -p", "touch -r", "same-size rewrite", "chmod", "symlink retarget"],
)
def test_changes_that_keep_size_and_mtime_invalidate_the_fingerprint(
    tmp_path: Path, change: Callable[[Path], None]
) -> None:
    ctx = _context(tmp_path / "ctx")
    (ctx / "other.py").write_text("print('y')\n")
    (ctx / "link").symlink_to("train.py")
    memo = tmp_path / "digests.json"
    digests = _trusting(memo)
    before = _fp(ctx, digests=digests)
    digests.save()
    stats = {p: p.lstat() for p in ctx.rglob("*")}

    change(ctx)

    after_stats = {p: p.lstat() for p in ctx.rglob("*")}
    if change is not _symlink_retarget:
        # The change really hides from size and mtime (and the inode stays).
        assert {(p, s.st_size, s.st_mtime_ns, s.st_ino) for p, s in stats.items()} == {
            (p, s.st_size, s.st_mtime_ns, s.st_ino) for p, s in after_stats.items()
        }
    assert _fp(ctx, digests=_trusting(memo)) != before


def test_the_fast_path_reads_no_unchanged_file(tmp_path: Path) -> None:
    ctx = _context(tmp_path / "ctx")
    memo = tmp_path / "digests.json"
    first = _trusting(memo)
    before = _fp(ctx, digests=first)
    assert first.files_read == 3  # Dockerfile, train.py, data/a.bin
    first.save()
    second = _trusting(memo)
    assert _fp(ctx, digests=second) == before
    assert second.files_read == 0
    (ctx / "train.py").write_text("print('v')\n")
    third = _trusting(memo)
    assert _fp(ctx, digests=third) != before
    assert third.files_read == 1


def test_files_changed_just_now_are_not_memoised(tmp_path: Path) -> None:
    """A write in the same clock tick as our read would not change the stat: re-read those."""
    ctx = _context(tmp_path / "ctx")
    memo = tmp_path / "digests.json"
    first = FileDigests(memo)  # real clock: every file was written a moment ago
    _fp(ctx, digests=first)
    first.save()
    second = FileDigests(memo)
    _fp(ctx, digests=second)
    assert second.files_read == 3


def test_unreadable_entry_gives_no_fingerprint(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    summary = scan_context(ctx, ctx / "Dockerfile")
    (ctx / "train.py").unlink()
    assert context_fingerprint(summary, {}, None) is None


def test_corrupt_digest_memo_is_ignored(tmp_path: Path) -> None:
    ctx = _context(tmp_path / "ctx")
    memo = tmp_path / "digests.json"
    memo.write_text("[not a map")
    before = _fp(ctx)
    assert _fp(ctx, digests=_trusting(memo)) == before
    memo.write_text('{"%s": [1, 2, 3]}' % (ctx / "train.py"))
    assert _fp(ctx, digests=_trusting(memo)) == before


def test_ignored_files_do_not_change_the_fingerprint(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    (ctx / ".dockerignore").write_text("logs/\n")
    before = _fp(ctx)
    (ctx / "logs").mkdir()
    (ctx / "logs" / "run.log").write_text("noise")
    assert _fp(ctx) == before


def test_cache_round_trip_and_location(tmp_path: Path) -> None:
    path = cache_path({"HOME": str(tmp_path)})
    assert path == tmp_path / ".cache" / "keynet" / "builds.json"
    assert cache_path({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/keynet/builds.json")
    cache = BuildCache(path)
    assert cache.lookup("f1") is None
    cache.store("f1", "sha-1")
    cache.store("f2", "sha-2")
    cache.wait()  # writes land in the background; another process sees them after this
    assert BuildCache(path).lookup("f1") == "sha-1"
    assert [p.name for p in path.parent.iterdir()] == ["builds.json"]  # no temp files left
    digests = cache.file_digests()
    assert digests.path == path.parent / "file-digests.json"


def test_background_writes_keep_their_order_and_are_seen_by_reads(tmp_path: Path) -> None:
    """Writes are queued off the critical path; each read-modify-write sees the ones before
    it, and a read through the same cache sees every write queued before it."""
    cache = BuildCache(tmp_path / "builds.json")
    for i in range(30):
        cache.store(f"f{i}", f"sha-{i}")
    assert [cache.lookup(f"f{i}") for i in range(30)] == [f"sha-{i}" for i in range(30)]
    pending = cache.pending_pushes()
    push = PendingPush("k" * 21, 7, None, "https://b", 1, "train.py", "h", "fp", ("latest",), 1.0)
    pending.record(push)
    assert cache.pending_pushes().find(push.match) == push
    pending.clear(push.match)
    checks = cache.image_checks()
    checks.put("key", {"model_name": "train.py"})
    assert cache.image_checks().get("key") == {"model_name": "train.py"}
    cache.wait()
    assert PendingPushes(tmp_path / "pending-pushes.json").find(push.match) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "builds.json",
        "image-checks.json",
        "pending-pushes.json",
    ]


def test_cache_ignores_corruption_and_unwritable_places(tmp_path: Path) -> None:
    path = tmp_path / "builds.json"
    path.write_text("{not json")
    cache = BuildCache(path)
    assert cache.lookup("f") is None
    cache.store("f", "sha")
    assert cache.lookup("f") == "sha"
    blocked = BuildCache(tmp_path / "file" / "builds.json")
    (tmp_path / "file").write_text("a file where a directory should be")
    blocked.store("f", "sha")  # must not raise
    assert blocked.lookup("f") is None


def test_cache_keeps_the_newest_entries(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path / "builds.json")
    for i in range(MAX_ENTRIES + 5):
        cache.store(f"f{i}", f"sha-{i}")
    assert cache.lookup("f0") is None
    assert cache.lookup(f"f{MAX_ENTRIES + 4}") == f"sha-{MAX_ENTRIES + 4}"


def test_the_digest_memo_is_written_in_the_background(tmp_path: Path) -> None:
    """Off the push's critical path; wait() joins it, and the memo is complete afterwards."""
    ctx = _context(tmp_path / "ctx")
    cache = BuildCache(tmp_path / "cache" / "builds.json")
    digests = _trusting(tmp_path / "cache" / "file-digests.json")
    _fp(ctx, digests=digests)
    cache.save_digests_later(digests)
    cache.wait()
    again = _trusting(tmp_path / "cache" / "file-digests.json")
    _fp(ctx, digests=again)
    assert again.files_read == 0
    cache.wait()  # nothing pending: returns at once


# --------------------------------------------------------------------------- pending pushes


def _pending(**changes: object) -> PendingPush:
    fields: dict[str, object] = {
        "upload_key": "V1StGXR8_Z5jdHi6B-myT",
        "record_id": 7,
        "command": "python train.py --lr 0.1",
        "server_url": "https://api.example.com",
        "project_id": 3,
        "model_name": "train.py",
        "hyperparameters_hash": hyperparameters_hash([{"name": "lr", "default": 0.1}]),
        "build_fingerprint": "f" * 64,
        "tags": ("v1",),
        "time": 1.0,
        **changes,
    }
    return PendingPush(**fields)  # type: ignore[arg-type]


def test_a_pending_push_is_found_by_its_identity_until_cleared(tmp_path: Path) -> None:
    pushes = BuildCache(tmp_path / "builds.json").pending_pushes()
    pending = _pending()
    pushes.record(pending)
    assert pushes.find(pending.match) == pending
    # Tags are not part of the identity; everything else is.
    assert _pending(tags=("other",)).match == pending.match
    for change in (
        {"project_id": 4},
        {"model_name": "tools/train.py"},
        {"server_url": "https://other.example.com"},
        {"build_fingerprint": "e" * 64},
        {"hyperparameters_hash": hyperparameters_hash([{"name": "lr", "default": 0.2}])},
    ):
        assert pushes.find(_pending(**change).match) is None, change
    pushes.clear(pending.match)
    assert pushes.find(pending.match) is None


def test_hyperparameters_hash_ignores_key_order() -> None:
    assert hyperparameters_hash([{"a": 1, "b": 2}]) == hyperparameters_hash([{"b": 2, "a": 1}])
    assert hyperparameters_hash([{"a": 1}, {"b": 2}]) != hyperparameters_hash([{"b": 2}, {"a": 1}])


def test_an_unreadable_or_edited_pending_file_is_ignored(tmp_path: Path) -> None:
    pushes = PendingPushes(tmp_path / "pending-pushes.json")
    pending = _pending()
    pushes.path.write_text("{not json")
    assert pushes.find(pending.match) is None
    pushes.record(pending)  # rewrites the corrupt file
    assert pushes.find(pending.match) == pending
    # An entry whose fields no longer match its identity is not trusted.
    data = json.loads(pushes.path.read_text())
    data[pending.match]["project_id"] = 99
    pushes.path.write_text(json.dumps(data))
    assert pushes.find(pending.match) is None
