"""Which podman service is chosen, and the reason given (docs/podman.md), without a service."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import pytest

from keynet_train.config import parse_ssh_url
from keynet_train.errors import ConfigError, UsageError
from keynet_train.podman import connection as conn
from keynet_train.podman.connection import check_ssh

# `podman system connection list --format json` as podman 4.3 prints it.
PODMAN4 = json.dumps(
    [
        {
            "Name": "remote",
            "URI": "ssh://u@h:22/run/podman/podman.sock",
            "Identity": "/k",
            "Default": False,
        },
        {"Name": "local", "URI": "unix:///run/podman/podman.sock", "Identity": "", "Default": True},
    ]
)
# podman 5 adds IsMachine and ReadWrite.
PODMAN5 = json.dumps(
    [
        {
            "Name": "podman-machine-default",
            "URI": "ssh://core@127.0.0.1:53305/run/user/501/podman/podman.sock",
            "Identity": "/Users/a/.local/share/containers/podman/machine/machine",
            "IsMachine": True,
            "Default": True,
            "ReadWrite": True,
        },
        {
            "Name": "podman-machine-default-root",
            "URI": "ssh://root@127.0.0.1:53305/run/podman/podman.sock",
            "Identity": "/Users/a/.local/share/containers/podman/machine/machine",
            "IsMachine": True,
            "Default": False,
            "ReadWrite": True,
        },
    ]
)


def _never(url: str, identity: str | None) -> bool:
    return False


def _listing(text: str):  # type: ignore[no-untyped-def]
    return lambda environ: conn.parse_connections(text)


def test_parse_podman4_and_podman5() -> None:
    four = conn.parse_connections(PODMAN4)
    assert [(c.name, c.identity, c.default) for c in four] == [
        ("remote", "/k", False),
        ("local", None, True),
    ]
    five = conn.parse_connections(PODMAN5)
    assert five[0].uri.startswith("ssh://core@127.0.0.1:53305/")
    assert five[0].default and not five[1].default


@pytest.mark.parametrize("text", ["", "null", "{}", "not json", '[{"Name": 1}]', "[3]"])
def test_unreadable_listing_means_no_connection(text: str) -> None:
    assert conn.parse_connections(text) == []


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("flag", "from --podman-url"),
        ("env", "from CONTAINER_HOST"),
        ("config", "from config podman_url"),
    ],
)
def test_explicit_url_wins_over_a_connection(source: str, reason: str) -> None:
    choice = conn.choose_service(
        "/tmp/x.sock", source, {}, ping=_never, connections=_listing(PODMAN5)
    )
    assert (choice.url, choice.source, choice.reason) == ("unix:///tmp/x.sock", source, reason)


def test_container_sshkey_is_the_identity_of_an_ssh_container_host() -> None:
    environ = {"CONTAINER_SSHKEY": "/keys/id"}
    ssh = conn.choose_service("ssh://u@h/s.sock", "env", environ, ping=_never)
    unix = conn.choose_service("unix:///s.sock", "env", environ, ping=_never)
    assert (ssh.identity, unix.identity) == ("/keys/id", None)


def test_default_connection_before_the_socket() -> None:
    choice = conn.choose_service(
        None, "config", {}, ping=lambda url, identity: True, connections=_listing(PODMAN5)
    )
    assert choice.source == "connection"
    assert choice.identity == "/Users/a/.local/share/containers/podman/machine/machine"
    assert choice.reason == "podman's default connection 'podman-machine-default'"


def test_container_connection_picks_another_by_name() -> None:
    environ = {"CONTAINER_CONNECTION": "podman-machine-default-root"}
    choice = conn.choose_service(
        None, "config", environ, ping=_never, connections=_listing(PODMAN5)
    )
    assert choice.url == "ssh://root@127.0.0.1:53305/run/podman/podman.sock"
    assert choice.reason == "CONTAINER_CONNECTION=podman-machine-default-root"

    with pytest.raises(UsageError, match="not a podman connection"):
        conn.choose_service(
            None,
            "config",
            {"CONTAINER_CONNECTION": "nope"},
            ping=_never,
            connections=_listing(PODMAN5),
        )


def test_socket_then_private() -> None:
    seen: list[str] = []

    def ping(url: str, identity: str | None) -> bool:
        seen.append(url)
        return url == "unix:///run/sock"

    none: conn.Callable[[Mapping[str, str]], list[conn.PodmanConnection]] = _listing("[]")
    up = conn.choose_service(
        None, "config", {}, ping=ping, connections=none, socket="unix:///run/sock"
    )
    assert (up.url, up.source) == ("unix:///run/sock", "socket")
    down = conn.choose_service(
        None, "config", {}, ping=_never, connections=none, socket="unix:///gone", platform="linux"
    )
    assert (down.url, down.source) == (None, "private")
    assert "nothing answers at unix:///gone" in down.reason


def test_macos_machine_socket_paths(tmp_path: Path) -> None:
    candidates = conn.machine_socket_candidates({"TMPDIR": "/var/folders/x/T"}, tmp_path)
    machine = tmp_path / ".local/share/containers/podman/machine"
    assert candidates == [
        machine / "podman.sock",  # podman 5: link to the default machine's socket
        machine / "podman-machine-default" / "podman.sock",  # podman 4
        machine / "qemu" / "podman.sock",
        Path("/var/folders/x/T/podman/podman-machine-default-api.sock"),  # podman 5
    ]


def test_macos_uses_the_machine_socket_when_nothing_else_answers(tmp_path: Path) -> None:
    socket_file = tmp_path / ".local/share/containers/podman/machine/podman.sock"
    socket_file.parent.mkdir(parents=True)
    socket_file.touch()
    machine_url = f"unix://{socket_file}"
    choice = conn.choose_service(
        None,
        "config",
        {"HOME": str(tmp_path), "PATH": ""},  # no podman binary: the fall-back paths
        ping=lambda url, identity: url == machine_url,
        connections=_listing("[]"),
        platform="darwin",
        socket="unix:///gone",
    )
    assert (choice.url, choice.source) == (machine_url, "machine")


def test_private_service_socket_path_fits_even_with_a_long_tmpdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keynet_train.podman import service as podman_service

    long_tmp = tmp_path / ("x" * 90)
    long_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(long_tmp))
    monkeypatch.setattr("tempfile.tempdir", None)
    directory = podman_service.private_service_dir()
    try:
        assert len(str(directory / "podman.sock")) <= podman_service.MAX_SOCKET_PATH
        assert not directory.is_relative_to(long_tmp)
        assert list(long_tmp.iterdir()) == []  # the first attempt was removed
    finally:
        directory.rmdir()


# ------------------------------------------------------------- ssh:// grammar
@pytest.mark.parametrize(
    ("url", "destination", "port", "path"),
    [
        (
            "ssh://core@127.0.0.1:2222/run/user/1000/podman/podman.sock",
            "core@127.0.0.1",
            2222,
            "/run/user/1000/podman/podman.sock",
        ),
        ("ssh://build.example.com", "build.example.com", None, "/run/podman/podman.sock"),
        (
            "ssh://root@[::1]:22/run/podman/podman.sock?secure=True",
            "root@[::1]",
            22,
            "/run/podman/podman.sock",
        ),
        (
            "ssh://ci-user.2@host-1.example/run/podman/podman.sock",
            "ci-user.2@host-1.example",
            None,
            "/run/podman/podman.sock",
        ),
    ],
)
def test_valid_ssh_urls_parse(url: str, destination: str, port: int | None, path: str) -> None:
    target = parse_ssh_url(url)
    assert (target.destination, target.port, target.path) == (destination, port, path)


@pytest.mark.parametrize(
    "url",
    [
        "ssh://-oProxyCommand=touch pwned/run/podman.sock",
        "ssh://-x@host/run/podman.sock",
        "ssh://core@-host/run/podman.sock",
        "ssh://core@host:0/run/podman.sock",
        "ssh://core@host:99999/run/podman.sock",
        "ssh://core@host:-1/run/podman.sock",
        "ssh://core@/run/podman.sock",
        "ssh://core@host/run/podman.sock;touch pwned",
        "ssh://core@host/run/pod man.sock",
        "ssh://core@[nope]/run/podman.sock",
    ],
)
def test_invalid_ssh_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_ssh_url(url)
    assert "not a valid ssh:// podman URL" in info.value.message


def test_check_ssh_ends_options_before_the_destination(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ssh gets "--" before user@host, so no part of the URL can be read as an option."""
    log = tmp_path / "argv"
    fake = tmp_path / "ssh"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {log}\n', encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    check_ssh("ssh://core@127.0.0.1:2222/run/podman/podman.sock", None, timeout=5)
    argv = log.read_text().splitlines()
    end = argv.index("--")
    assert argv[end + 1 :] == ["core@127.0.0.1", "test", "-S", "/run/podman/podman.sock"]
    assert argv[argv.index("-p") + 1] == "2222"
