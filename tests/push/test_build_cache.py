"""Context fingerprint and the build cache that lets unchanged contexts skip the upload."""

from __future__ import annotations

import os
from pathlib import Path

from keynet_train.build_cache import MAX_ENTRIES, BuildCache, cache_path
from keynet_train.build_context import context_fingerprint, scan_context


def _context(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    (tmp_path / "train.py").write_text("print('x')\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.bin").write_bytes(b"1234")
    return tmp_path


def _fp(ctx: Path, build_args: dict[str, str] | None = None, platform: str = "linux/amd64") -> str:
    return context_fingerprint(scan_context(ctx, ctx / "Dockerfile"), build_args or {}, platform)


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
    assert BuildCache(path).lookup("f1") == "sha-1"
    assert [p.name for p in path.parent.iterdir()] == ["builds.json"]  # no temp files left


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
