"""ConfigStore on a real file system: modes, atomicity, locking, corruption, preferences."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from keynet_train.config import Config, RegistryCredentials, Secret
from keynet_train.config_store import ConfigStore
from keynet_train.errors import ConfigError

TOKEN = "api-token-canary-abcdefghijklmnop"
PASSWORD = "harbor-password-canary-0123456789"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def logged_in_config() -> Config:
    return Config(
        server_url="https://api.example.com",
        username="alice",
        api_token=Secret(TOKEN),
        api_token_expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
        harbor=RegistryCredentials("https://harbor.example.com", "robot$x", Secret(PASSWORD)),
        last_login=datetime(2025, 1, 1, tzinfo=timezone.utc),
    )


class Warnings:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, message: str) -> None:
        self.messages.append(message)


@pytest.fixture
def warnings() -> Warnings:
    return Warnings()


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return tmp_path / "home" / ".config" / "keynet" / "config.json"


@pytest.fixture
def store(cfg: Path, warnings: Warnings) -> ConfigStore:
    return ConfigStore(cfg, warn=warnings)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    # umask 0 would let a careless os.open/mkdir produce 0666/0777.
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# ----------------------------------------------------------------- modes


@pytest.mark.usefixtures("loose_umask")
def test_save_creates_dir_0700_and_file_0600(store: ConfigStore, cfg: Path) -> None:
    store.save(logged_in_config())
    assert mode_of(cfg.parent) == 0o700
    assert mode_of(cfg) == 0o600
    assert store.load() == logged_in_config()
    assert leftovers(cfg.parent) == []


@pytest.mark.usefixtures("loose_umask")
def test_rewrite_keeps_0600_and_lock_file_is_0600(store: ConfigStore, cfg: Path) -> None:
    store.save(logged_in_config())
    store.set_preference("project_id", "7")
    assert mode_of(cfg) == 0o600
    assert mode_of(store.lock_path) == 0o600
    assert store.lock_path.name == "config.json.lock"


def test_loose_file_is_tightened_with_warning(
    store: ConfigStore, cfg: Path, warnings: Warnings
) -> None:
    store.save(logged_in_config())
    before = cfg.read_bytes()
    cfg.chmod(0o644)
    assert store.load() == logged_in_config()
    assert mode_of(cfg) == 0o600
    assert cfg.read_bytes() == before
    assert len(warnings.messages) == 1
    assert str(cfg) in warnings.messages[0] and "0644" in warnings.messages[0]
    assert TOKEN not in warnings.messages[0]
    store.load()
    assert len(warnings.messages) == 1  # already tight: no second warning


def test_loose_dedicated_directory_is_tightened(
    store: ConfigStore, cfg: Path, warnings: Warnings
) -> None:
    cfg.parent.mkdir(parents=True, mode=0o755)
    cfg.parent.chmod(0o755)
    store.save(logged_in_config())
    assert mode_of(cfg.parent) == 0o700
    assert any("0755" in m and str(cfg.parent) in m for m in warnings.messages)


def test_shared_directory_is_left_alone(tmp_path: Path, warnings: Warnings) -> None:
    # KEYNET_CONFIG=./ci-config.json must not chmod the user's project directory.
    shared = tmp_path / "project"
    shared.mkdir()
    shared.chmod(0o755)
    (shared / "train.py").write_text("print('hi')\n")
    store = ConfigStore(shared / "ci-config.json", warn=warnings)
    store.save(logged_in_config())
    assert mode_of(shared) == 0o755
    assert mode_of(shared / "ci-config.json") == 0o600
    assert warnings.messages == []


# ----------------------------------------------------------------- atomicity


def test_crash_between_write_and_rename_leaves_old_file(
    store: ConfigStore, cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(logged_in_config())
    before = cfg.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    changed = logged_in_config()
    changed.username = "mallory"
    with pytest.raises(ConfigError) as info:
        store.save(changed)
    assert str(cfg) in info.value.message
    assert "No space left on device" in info.value.message
    assert cfg.read_bytes() == before
    assert leftovers(cfg.parent) == []


def test_interrupt_during_write_leaves_old_file(
    store: ConfigStore, cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(logged_in_config())
    before = cfg.read_bytes()

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.save(Config(username="other"))
    assert cfg.read_bytes() == before
    assert leftovers(cfg.parent) == []


def test_failed_update_leaves_old_file(store: ConfigStore, cfg: Path) -> None:
    # A failed login: the mutator raises after sign-in went wrong.
    store.save(logged_in_config())
    before = cfg.read_bytes()

    def failing(current: Config | None) -> Config:
        raise ConfigError("sign-in failed")

    with pytest.raises(ConfigError, match="sign-in failed"):
        store.update(failing)
    assert cfg.read_bytes() == before
    # The lock was released: the next update does not wait.
    store.update(lambda c: c or Config())


def test_save_fsyncs_file_and_directory(
    store: ConfigStore, cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def record(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", record)
    store.save(logged_in_config())
    assert synced == ["file", "dir"]


def test_file_content_is_plain_json_with_schema_version(store: ConfigStore, cfg: Path) -> None:
    store.save(logged_in_config())
    data = json.loads(cfg.read_text())
    assert data["schema_version"] == 1
    assert data["api_token"] == TOKEN  # on disk in clear; the 0600 mode protects it
    assert data["harbor"]["password"] == PASSWORD


# ----------------------------------------------------------------- corruption


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"server_url": "https://a', "invalid JSON at line 1"),
        (b"", "invalid JSON"),
        (b"[1, 2]", "expected a JSON object, found array"),
        (b'"text"', "expected a JSON object, found string"),
        (b'{"a": "\xff\xfe"}', "not UTF-8"),
    ],
)
def test_corrupt_file_reported_and_never_overwritten(
    store: ConfigStore, cfg: Path, content: bytes, reason: str
) -> None:
    cfg.parent.mkdir(parents=True)
    cfg.write_bytes(content)
    cfg.chmod(0o600)
    for action in (
        store.load,
        lambda: store.update(lambda c: logged_in_config()),
        lambda: store.set_preference("project_id", "5"),
    ):
        with pytest.raises(ConfigError) as info:
            action()
        assert str(cfg) in info.value.message
        assert "corrupt" in info.value.message
        assert reason in info.value.message
        assert info.value.hint and "keynet-train config clear" in info.value.hint
        assert cfg.read_bytes() == content
    assert store.clear() is True
    assert not cfg.exists()


def test_wrong_type_in_file_names_key_and_path(store: ConfigStore, cfg: Path) -> None:
    cfg.parent.mkdir(parents=True)
    cfg.write_text('{"project_id": "abc"}')
    with pytest.raises(ConfigError) as info:
        store.load()
    assert str(cfg) in info.value.message and "'project_id'" in info.value.message


def test_newer_schema_is_refused_and_kept(store: ConfigStore, cfg: Path) -> None:
    cfg.parent.mkdir(parents=True)
    content = b'{"schema_version": 2, "username": "u"}'
    cfg.write_bytes(content)
    with pytest.raises(ConfigError, match="newer keynet-train") as info:
        store.update(lambda c: Config())
    assert info.value.hint and "Upgrade keynet-train" in info.value.hint
    assert cfg.read_bytes() == content


# ----------------------------------------------------------------- OS errors


def test_missing_file_loads_as_none_and_clear_is_idempotent(store: ConfigStore) -> None:
    assert store.load() is None
    assert store.clear() is False
    store.save(Config(username="u"))
    assert store.clear() is True
    assert store.clear() is False
    assert store.load() is None


def test_parent_is_a_file_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    store = ConfigStore(blocker / "keynet" / "config.json")
    with pytest.raises(ConfigError) as info:
        store.save(Config())
    assert str(store.path) in info.value.message
    assert info.value.hint and "KEYNET_CONFIG" in info.value.hint
    with pytest.raises(ConfigError):
        store.update(lambda c: Config())


def test_path_is_a_directory_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").mkdir()
    (tmp_path / "config.json").chmod(0o755)
    store = ConfigStore(tmp_path / "config.json")
    for action in (store.load, lambda: store.save(Config()), store.clear):
        with pytest.raises(ConfigError) as info:
            action()
        assert str(store.path) in info.value.message
        # Never chmod'ed: 0600 on a directory locks its owner out of it.
        assert mode_of(store.path) == 0o755


def test_read_only_file_system_is_a_config_error(
    store: ConfigStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Running as root ignores chmod-based read-only directories, so inject EROFS.
    real_open = os.open

    def read_only(path: object, flags: int, mode: int = 0o777) -> int:
        if flags & os.O_CREAT and str(path).endswith(".tmp"):
            raise OSError(30, "Read-only file system", str(path))
        return real_open(path, flags, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(ConfigError, match="Read-only file system") as info:
        store.save(Config())
    assert str(store.path) in info.value.message


# ----------------------------------------------------------------- preferences


def test_set_preference_valid_values(store: ConfigStore, cfg: Path) -> None:
    store.save(logged_in_config())
    store.set_preference("project_id", " 42 ")
    store.set_preference("harbor_project", "kitech-model")
    config = store.set_preference("podman_url", "unix:///run/user/1000/podman/podman.sock")
    assert config.project_id == 42
    assert config.harbor_project == "kitech-model"
    assert config.podman_url == "unix:///run/user/1000/podman/podman.sock"
    loaded = store.load()
    assert loaded == config
    # Credentials were kept.
    assert loaded is not None and loaded.is_logged_in


def test_set_preference_without_a_file_creates_one(store: ConfigStore) -> None:
    config = store.set_preference("project_id", "3")
    assert config == Config(project_id=3)
    assert store.load() == Config(project_id=3)


@pytest.mark.parametrize("unset", ["null", "", "  "])
def test_set_preference_unset(store: ConfigStore, unset: str) -> None:
    store.set_preference("podman_url", "tcp://127.0.0.1:8888")
    store.set_preference("project_id", "9")
    assert store.set_preference("podman_url", unset).podman_url is None
    assert store.set_preference("project_id", unset).project_id is None
    data = json.loads(store.path.read_text())
    assert data["podman_url"] is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("project_id", "abc"),
        ("project_id", "1.5"),
        ("project_id", "-3"),
        ("project_id", "0"),
        ("project_id", "+5"),
        ("project_id", "1_000"),
        ("project_id", "١٢"),  # Arabic-Indic digits: int() would accept them
        ("harbor_project", "Kitech"),
        ("harbor_project", "-kitech"),
        ("harbor_project", "kitech-"),
        ("harbor_project", "a..b"),
        ("harbor_project", "with space"),
        ("harbor_project", "a/b"),
        ("harbor_project", "a" * 256),
        ("podman_url", "http://localhost:8080"),
        ("podman_url", "/run/podman/podman.sock"),
        ("podman_url", "unix://"),
    ],
)
def test_set_preference_rejects_invalid_values(
    store: ConfigStore, cfg: Path, key: str, value: str
) -> None:
    store.save(Config(project_id=1))
    before = cfg.read_bytes()
    with pytest.raises(ConfigError) as info:
        store.set_preference(key, value)
    assert info.value.hint
    assert cfg.read_bytes() == before


@pytest.mark.parametrize("name", ["a", "kitech-model", "my_proj.v2", "a" * 255, "0-9"])
def test_harbor_project_accepts_valid_names(store: ConfigStore, name: str) -> None:
    assert store.set_preference("harbor_project", name).harbor_project == name


@pytest.mark.parametrize("url", ["unix:///tmp/p.sock", "tcp://127.0.0.1:8080", "ssh://u@h/s"])
def test_podman_url_accepts_the_three_schemes(store: ConfigStore, url: str) -> None:
    assert store.set_preference("podman_url", url).podman_url == url


def test_set_preference_unknown_key_lists_valid_ones(store: ConfigStore) -> None:
    for key in ("api_token", "server_url", "bogus"):
        with pytest.raises(ConfigError) as info:
            store.set_preference(key, "x")
        assert repr(key) in info.value.message
        assert "project_id, harbor_project, podman_url" in info.value.message
    assert not store.path.exists()


def test_unknown_keys_survive_a_rewrite(store: ConfigStore, cfg: Path) -> None:
    store.save(logged_in_config())
    data = json.loads(cfg.read_text())
    data["from_the_future"] = {"nested": [1, "two", None]}
    data["harbor"]["robot_id"] = 17
    cfg.write_text(json.dumps(data))
    store.set_preference("harbor_project", "other")
    after = json.loads(cfg.read_text())
    assert after["from_the_future"] == {"nested": [1, "two", None]}
    assert after["harbor"]["robot_id"] == 17
    assert after["harbor_project"] == "other"


# ----------------------------------------------------------------- locking


def test_update_times_out_when_lock_is_held(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path / "config.json", lock_timeout=0.2)
    store.save(Config(username="u"))
    holder = os.open(store.lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        # flock locks belong to the open file description, so this conflicts
        # with the store's own open() even within one process.
        fcntl.flock(holder, fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(ConfigError, match="Another keynet-train process") as info:
            store.update(lambda c: Config(username="changed"))
        assert time.monotonic() - started < 5
        assert str(store.lock_path) in info.value.message
    finally:
        os.close(holder)
    assert store.load() == Config(username="u")


def test_logout_during_a_config_set_does_not_let_the_credentials_come_back(
    tmp_path: Path,
) -> None:
    """clear() takes update()'s lock: a set that read the file first cannot rewrite it after."""
    cfg = tmp_path / "config.json"
    store = ConfigStore(cfg)
    store.save(logged_in_config())
    inside, release = threading.Event(), threading.Event()

    def slow_set(current: Config | None) -> Config:
        assert current is not None
        inside.set()
        release.wait(30)
        current.project_id = 5
        return current

    setter = threading.Thread(target=store.update, args=(slow_set,))
    setter.start()
    assert inside.wait(30)
    removed: list[bool] = []
    logout = threading.Thread(target=lambda: removed.append(ConfigStore(cfg).clear()))
    logout.start()
    # Unlocked, the delete happens now and the set writes everything back;
    # locked, the logout waits (a correct store passes however long this is).
    logout.join(0.5)
    release.set()
    setter.join(30)
    logout.join(30)
    assert removed == [True]
    assert not cfg.exists()
    assert store.load() is None


def test_logout_returns_what_it_removed_and_waits_for_the_lock(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path / "config.json", lock_timeout=0.2)
    store.save(logged_in_config())
    holder = os.open(store.lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        with pytest.raises(ConfigError, match="Another keynet-train process"):
            store.remove()
        assert store.path.exists()
    finally:
        os.close(holder)
    removed, previous = store.remove()
    assert removed and previous == logged_in_config()
    assert store.remove() == (False, None)
    store.path.write_text("{corrupt")
    assert store.remove() == (True, None)  # clearing is the way out of a corrupt file


WORKER = textwrap.dedent(
    """
    import sys, time
    from datetime import datetime, timezone
    from pathlib import Path
    from keynet_train.config import Config, RegistryCredentials, Secret
    from keynet_train.config_store import ConfigStore

    path, name, rounds, go, mode = sys.argv[1:6]
    store = ConfigStore(Path(path))
    Path(go + "." + name).touch()  # ready: both start writing at the same moment
    while not Path(go).exists():
        time.sleep(0.001)
    for i in range(int(rounds)):
        def login(current, i=i):
            config = current or Config()
            time.sleep(0.002)  # widen the read-modify-write window, as a real login would
            config.server_url = "https://api.example.com"
            config.username = name
            config.api_token = Secret(name + "-token-" + str(i) + "-" + "x" * 2000)
            config.harbor = RegistryCredentials("https://h.example.com", "robot$" + name,
                                              Secret("p" * 500))
            config.last_login = datetime.now(timezone.utc)
            config.extra["counter"] = int(config.extra.get("counter", 0)) + 1
            config.extra[name] = i + 1
            return config
        if mode == "update":
            store.update(login)
        else:
            store.save(login(None))
    """
)


def run_concurrently(cfg: Path, tmp_path: Path, mode: str, rounds: int) -> list[int]:
    """Start two writer processes, read the file continuously while they run."""
    go = tmp_path / "go"
    procs: list[subprocess.Popen[bytes]] = []
    reads = 0
    try:
        for name in ("alice", "bob"):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", WORKER, str(cfg), name, str(rounds), str(go), mode],
                    stderr=subprocess.PIPE,
                )
            )
        deadline = time.monotonic() + 60
        while not all(Path(f"{go}.{name}").exists() for name in ("alice", "bob")):
            assert time.monotonic() < deadline, "writers did not start"
            assert all(p.poll() is None for p in procs), "a writer exited early"
            time.sleep(0.005)
        go.touch()
        while any(p.poll() is None for p in procs):
            assert time.monotonic() < deadline, "writers did not finish"
            if cfg.exists():
                # Every read sees a complete file: the rename is atomic.
                data = json.loads(cfg.read_bytes())
                assert data["username"] in ("alice", "bob")
                reads += 1
        for p in procs:
            _, err = p.communicate()
            assert p.returncode == 0, err.decode()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert reads > 0
    return [p.returncode for p in procs]


def test_two_concurrent_logins_with_update_keep_both(tmp_path: Path) -> None:
    cfg = tmp_path / "keynet" / "config.json"
    rounds = 25
    run_concurrently(cfg, tmp_path, "update", rounds)
    final = ConfigStore(cfg).load()
    assert final is not None and final.is_logged_in
    # No lost update: every one of the 2 x rounds increments survived.
    assert final.extra["counter"] == 2 * rounds
    assert final.extra["alice"] == rounds
    assert final.extra["bob"] == rounds
    assert mode_of(cfg) == 0o600
    assert leftovers(cfg.parent) == []


def test_two_concurrent_plain_saves_leave_a_valid_file(tmp_path: Path) -> None:
    cfg = tmp_path / "keynet" / "config.json"
    run_concurrently(cfg, tmp_path, "save", 25)
    final = ConfigStore(cfg).load()
    assert final is not None and final.username in ("alice", "bob")
    assert leftovers(cfg.parent) == []
