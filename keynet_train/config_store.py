"""Reading and writing the config file: permissions, atomic replacement, the lock.

:class:`ConfigStore` reads and writes the :class:`~keynet_train.config.Config`
of :mod:`keynet_train.config` (which owns what the file holds and how each value
is checked) the way an SSH key is kept: directory 0700, file 0600, written
atomically (:func:`keynet_train.files.write_atomically`), read-modify-write
cycles (:meth:`ConfigStore.update`) under an exclusive lock on a sibling
``config.json.lock``. A corrupt file is reported, never silently overwritten.
Standard library only (``config path``/``config show`` must start fast).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from keynet_train.config import (
    MAX_CONFIG_BYTES,
    PREFERENCE_KEYS,
    UNSET_VALUES,
    Config,
    type_name,
    validate_harbor_project,
    validate_podman_url,
    validate_project_id,
)
from keynet_train.errors import ConfigError


def _ignore_warning(message: str) -> None:
    """Default ``warn`` callback of :class:`ConfigStore`: drop the message."""


class ConfigStore:
    """Reads and writes one config file safely.

    ``warn`` receives human-readable warnings (a file that was readable by
    others and has been tightened); the CLI passes a function that writes to
    stderr. ``lock_timeout`` bounds how long :meth:`update` waits for another
    keynet-train process holding the lock.
    """

    def __init__(
        self,
        path: Path,
        warn: Callable[[str], None] = _ignore_warning,
        *,
        lock_timeout: float = 30.0,
    ) -> None:
        self.path = path
        self._warn = warn
        self._lock_timeout = lock_timeout

    @property
    def lock_path(self) -> Path:
        """The sibling lock file used by :meth:`update` (``config.json.lock``)."""
        return self.path.with_name(self.path.name + ".lock")

    # -- reading

    def load(self) -> Config | None:
        """Read the config; None if the file does not exist.

        Credentials are read only from a regular file (at most
        :data:`MAX_CONFIG_BYTES`) owned by the user (or root) in a directory
        that other users cannot write to, unless it is sticky like ``/tmp``
        (docs/security.md): otherwise another user could have put their own
        server, token and podman URL there. A file readable or writable by
        group/others is chmod'ed to 0600 and ``warn`` is called; a directory
        is never chmod'ed here. Raises ConfigError (with the path and how to
        fix it) if the path is a directory, FIFO or device, is too large, is
        owned by someone else or sits in a directory others can write to, if
        the file cannot be read, is not UTF-8 JSON, is not a JSON object, has
        a wrong type for a known key, or has a newer schema version. Never
        modifies the file's contents.
        """
        from keynet_train.files import UnreadableFile, read_regular_file

        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        except ValueError:  # a NUL byte in KEYNET_CONFIG
            raise self._not_a_file("holds a NUL character") from None
        except OSError as exc:
            raise self._os_error("read", exc) from exc
        self._check_kind(info.st_mode)
        self._check_trusted(info)
        self._tighten_file(info)
        try:
            raw = read_regular_file(self.path, MAX_CONFIG_BYTES)
        except UnreadableFile as exc:
            if exc.missing:  # deleted since the stat: as if it never was
                return None
            raise self._not_a_file(exc.reason) from None
        return Config.from_json_dict(self._parse(raw), source=self.path)

    def _not_a_file(self, reason: str) -> ConfigError:
        return ConfigError(
            f"The config file {self.path} {reason}; keynet-train reads its credentials only "
            "from a regular file.",
            hint="Point KEYNET_CONFIG at a file path such as ~/.config/keynet/config.json "
            "(it is created at login), or unset it.",
        )

    def _check_kind(self, mode: int) -> None:
        """Refuse a directory, FIFO or device before anything opens or chmods it."""
        if stat.S_ISDIR(mode):
            raise ConfigError(
                f"The config path {self.path} is a directory; KEYNET_CONFIG must name a file.",
                hint=f"Set KEYNET_CONFIG={self.path / 'config.json'} (a file in that "
                "directory), or unset it.",
            )
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device or other special file"
            raise self._not_a_file(f"is {kind}, not a regular file")

    def _check_trusted(self, info: os.stat_result) -> None:
        """Refuse a file another user owns, or one in a directory others can write to.

        Root is trusted like the owner (it can change anything anyway). Not
        checked where there are no user ids (Windows).
        """
        if not hasattr(os, "getuid"):
            return
        me = os.getuid()
        if info.st_uid not in (me, 0):
            raise ConfigError(
                f"The config file {self.path} belongs to another user (uid {info.st_uid}); "
                "keynet-train does not read credentials from a file you do not own, since its "
                "owner chooses the server, token and podman URL you would use.",
                hint="Log in again with KEYNET_CONFIG pointing at a file of your own, or "
                "unset KEYNET_CONFIG.",
            )
        directory = self.path.parent
        try:
            dir_info = os.stat(directory)
        except OSError as exc:
            raise self._os_error("read", exc) from exc
        mode = stat.S_IMODE(dir_info.st_mode)
        sticky = bool(dir_info.st_mode & stat.S_ISVTX)
        shared = dir_info.st_uid not in (me, 0) or (mode & 0o022 and not sticky)
        if shared:
            whose = (
                f"belongs to another user (uid {dir_info.st_uid})"
                if dir_info.st_uid not in (me, 0)
                else f"is writable by other users (mode {mode:04o})"
            )
            raise ConfigError(
                f"The directory of the config file, {directory}, {whose}: another user could "
                "replace the credentials in it, so keynet-train does not read them.",
                hint=f"Restrict it (chmod go-w {directory}) if it is yours, or point "
                "KEYNET_CONFIG at a file in a private directory.",
            )

    def _parse(self, raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise self._corrupt(
                f"it is not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        except json.JSONDecodeError as exc:
            raise self._corrupt(
                f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from None
        except RecursionError:
            raise self._corrupt("its JSON is nested too deeply to read") from None
        if not isinstance(data, dict):
            raise self._corrupt(f"expected a JSON object, found {type_name(data)}")
        return data

    def _corrupt(self, reason: str) -> ConfigError:
        return ConfigError(
            f"The config file {self.path} is corrupt: {reason}. It was left untouched.",
            hint="Fix it, or delete it or run: keynet-train config clear (then log in again).",
        )

    def _tighten_file(self, info: os.stat_result) -> None:
        """chmod 0600 a regular file of the user's that others may read (never through a link)."""
        mode = stat.S_IMODE(info.st_mode)
        if not mode & 0o077:
            return
        if self.path.is_symlink():
            # The link's target is someone's own file (dotfiles, a mounted
            # secret): say so, but never change a mode through a link.
            target = self.path.resolve()
            self._warn(
                f"{self.path} is a symlink to {target}, which is accessible by other users "
                f"(mode {mode:04o}) and contains credentials; not changing a file through a "
                f"link: restrict it yourself with: chmod 600 {target}"
            )
            return
        try:
            os.chmod(self.path, 0o600)
        except OSError as exc:
            self._warn(
                f"{self.path} is accessible by other users (mode {mode:04o}) and could not "
                f"be restricted to 0600: {exc.strerror}. It contains credentials."
            )
            return
        self._warn(
            f"{self.path} was accessible by other users (mode {mode:04o}); "
            "restricted it to 0600 because it contains credentials."
        )

    # -- writing

    def save(self, config: Config) -> None:
        """Write ``config`` atomically with mode 0600 (directory 0700).

        The new content goes to a temp file created exclusively (0600) in the
        same directory, is fsync'ed and renamed over the old file, then the
        directory is fsync'ed; on any failure the temp file is removed and the
        old file is byte-for-byte unchanged. Secrets are written in clear (the
        file's mode protects them). Raises ConfigError naming the path on any
        OSError (permission denied, read-only or full file system).
        """
        payload = (json.dumps(config.to_json_dict(reveal=True), indent=2) + "\n").encode("utf-8")
        from keynet_train.files import write_atomically

        self._ensure_directory()
        try:
            write_atomically(self.path, payload, mode=0o600)
        except OSError as exc:
            raise self._os_error("write", exc) from exc

    def _ensure_directory(self) -> None:
        directory = self.path.parent
        with contextlib.suppress(OSError, ValueError):
            if self.path.is_dir():
                # Before anything below could chmod it or its parent.
                self._check_kind(os.stat(self.path).st_mode)
        try:
            # Path.mkdir(parents=True) gives the parents 0777 & ~umask (0777 under
            # umask 000); each missing level is created 0700 here instead.
            missing = [d for d in (directory, *directory.parents) if not d.exists()]
            for level in reversed(missing):
                level.mkdir(mode=0o700, exist_ok=True)
            info = directory.stat()
        except OSError as exc:
            raise self._os_error("create the directory for", exc) from exc
        mode = stat.S_IMODE(info.st_mode)
        if not mode & 0o077 or info.st_uid != os.getuid() or not self._owns_directory():
            return
        try:
            directory.chmod(0o700)
        except OSError as exc:
            raise self._os_error("restrict the directory of", exc) from exc
        self._warn(
            f"{directory} was accessible by other users (mode {mode:04o}); "
            "restricted it to 0700 because it holds credentials."
        )

    def _owns_directory(self) -> bool:
        # Only a directory holding nothing but our own files is ours to restrict:
        # KEYNET_CONFIG=./ci-config.json must not chmod the user's project directory.
        name = self.path.name
        try:
            entries = os.listdir(self.path.parent)
        except OSError:
            return False
        return all(
            entry in (name, name + ".lock")
            or (entry.startswith(f".{name}.") and entry.endswith(".tmp"))
            for entry in entries
        )

    # -- read-modify-write

    def update(self, mutator: Callable[[Config | None], Config]) -> Config:
        """Re-read, apply ``mutator`` and save, holding an exclusive lock throughout.

        The lock is ``fcntl.flock`` on the sibling ``config.json.lock`` (0600),
        so two processes logging in at once serialise and both changes survive.
        ``mutator`` gets the current config (None if there is none) and returns
        the config to write. Raises ConfigError if the lock cannot be taken
        within ``lock_timeout`` seconds, if the current file is corrupt (it is
        never overwritten), or on any OSError; whatever ``mutator`` raises
        propagates and leaves the file unchanged.
        """
        with self._locked():
            updated = mutator(self.load())
            self.save(updated)
            return updated

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the exclusive lock of :meth:`update`. Raises ConfigError (timeout, OSError)."""
        self._ensure_directory()
        try:
            fd = os.open(
                self.lock_path, os.O_CREAT | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o600
            )
        except OSError as exc:
            raise self._os_error("lock", exc) from exc
        try:
            self._acquire(fd)
            try:
                yield
            finally:
                _release(fd)
        finally:
            os.close(fd)

    def _acquire(self, fd: int) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: atomic rename still protects the file
            return
        deadline = time.monotonic() + self._lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConfigError(
                        f"Another keynet-train process has held {self.lock_path} for "
                        f"{self._lock_timeout:g} seconds.",
                        hint="Wait for it to finish; if none is running, delete the lock file.",
                    ) from None
                time.sleep(0.01)
            except OSError as exc:
                raise self._os_error("lock", exc) from exc

    def set_preference(self, key: str, value: str) -> Config:
        """Store one non-secret preference (``config set KEY VALUE``) and return the config.

        ``project_id`` must be a positive integer, ``harbor_project`` a valid
        Harbor project name, ``podman_url`` a ``unix://``, ``tcp://`` or
        ``ssh://`` URL; ``null`` or an empty value removes the setting. Raises
        ConfigError for an unknown key (listing the valid ones), an invalid
        value, a corrupt config file, or an OSError.
        """
        if key not in PREFERENCE_KEYS:
            raise ConfigError(
                f"Unknown setting {key!r}. Valid settings: {', '.join(PREFERENCE_KEYS)}.",
                hint="Example: keynet-train config set project_id 123",
            )
        unset = value.strip() in UNSET_VALUES
        parsed: int | str | None = None
        if not unset:
            if key == "project_id":
                parsed = validate_project_id(value)
            elif key == "harbor_project":
                parsed = validate_harbor_project(value.strip())
            else:
                parsed = validate_podman_url(value.strip())

        def apply(current: Config | None) -> Config:
            config = current if current is not None else Config()
            setattr(config, key, parsed)
            return config

        return self.update(apply)

    def clear(self) -> bool:
        """Delete the config file; True if one was deleted, False if there was none.

        Idempotent. Raises ConfigError naming the path if it exists but cannot
        be deleted, or if the lock cannot be taken (see :meth:`remove`).
        """
        return self.remove()[0]

    def remove(self) -> tuple[bool, Config | None]:
        """Delete the config file under the lock of :meth:`update`.

        Returns whether a file was deleted and the config it held (None when
        there was none or it was corrupt: clearing is the way out of a corrupt
        file). Holding the lock means a concurrent ``login`` or ``config set``
        either finishes before the file goes, or starts after and sees no
        file; without it, one that read the file before the delete would
        write the credentials back after ``logout`` said they were gone.

        Raises:
            ConfigError: the file exists but cannot be deleted, or the lock
                cannot be taken within ``lock_timeout`` seconds.
        """
        if not self.path.exists() and not self.path.is_symlink():
            return False, None  # nothing to remove: no need to create the directory
        with self._locked():
            try:
                previous = self.load()
            except ConfigError:
                previous = None
            try:
                self.path.unlink()
            except FileNotFoundError:
                return False, None
            except OSError as exc:
                raise self._os_error("delete", exc) from exc
            return True, previous

    def _os_error(self, action: str, exc: OSError) -> ConfigError:
        reason = exc.strerror or str(exc)
        return ConfigError(
            f"Cannot {action} the config file {self.path}: {reason}.",
            hint=(
                f"Check the permissions of {self.path.parent}, or set KEYNET_CONFIG "
                "to a writable file path."
            ),
        )


def _release(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - see _acquire
        return
    fcntl.flock(fd, fcntl.LOCK_UN)
