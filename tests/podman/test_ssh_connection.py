"""An ``ssh://`` podman connection for real: sshd on loopback with a key, podman-py's ssh transport.

The sshd runs from a temporary config on a free 127.0.0.1 port, accepts only
a key made for the test, and forwards to the session's podman socket: the
same path ``podman machine`` takes on macOS and Windows (a default
connection ``ssh://core@127.0.0.1:PORT/run/user/.../podman.sock`` with an
identity file).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from keynet_train.build.context import scan_context
from keynet_train.cli.environment import Environment
from keynet_train.cli.main import main
from keynet_train.errors import PodmanUnavailableError
from keynet_train.podman.service import choose_service, connect
from keynet_train.progress import RecordingReporter
from tests.support.services import PodmanServiceHandle, stop_process, wait_until

pytestmark = pytest.mark.integration

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


@dataclass
class SshServer:
    port: int
    user: str
    identity: Path
    wrong_identity: Path

    def url(self, socket_path: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{socket_path}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def known_hosts_guard() -> Iterator[None]:
    """podman-py's ssh adds the host key to ~/.ssh/known_hosts (of the passwd home,
    not $HOME): put that file back as it was."""
    ssh_dir = Path(pwd.getpwuid(os.geteuid()).pw_dir) / ".ssh"
    known = ssh_dir / "known_hosts"
    had_dir, before = ssh_dir.exists(), known.read_bytes() if known.exists() else None
    try:
        yield
    finally:
        if before is not None:
            known.write_bytes(before)
        else:
            known.unlink(missing_ok=True)
            if not had_dir:
                shutil.rmtree(ssh_dir, ignore_errors=True)


@pytest.fixture
def sshd(tmp_path: Path, known_hosts_guard: None) -> Iterator[SshServer]:
    """sshd on 127.0.0.1:<free port>, key authentication only, for the current user."""
    if not Path(SSHD).exists():
        pytest.fail("sshd is missing: run scripts/install-system-deps (openssh-server)")
    directory = tmp_path / "sshd"
    directory.mkdir()
    _keygen(directory / "host_key")
    _keygen(directory / "id_client")
    _keygen(directory / "id_other")
    (directory / "authorized_keys").write_text((directory / "id_client.pub").read_text())
    (directory / "authorized_keys").chmod(0o600)
    port = _free_port()
    (directory / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1:{port}\n"
        f"HostKey {directory / 'host_key'}\n"
        f"AuthorizedKeysFile {directory / 'authorized_keys'}\n"
        f"PidFile {directory / 'sshd.pid'}\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        "UsePAM no\n"
        # The keys live in pytest's tmp dir, whose modes sshd would reject.
        "StrictModes no\n"
        "AllowStreamLocalForwarding yes\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    log = (directory / "sshd.log").open("wb")
    process = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(directory / "sshd_config")],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()

    def listening() -> bool:
        if process.poll() is not None:
            raise RuntimeError((directory / "sshd.log").read_text())
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_until(listening, 15, "sshd on loopback")
        yield SshServer(
            port=port,
            user=pwd.getpwuid(os.geteuid()).pw_name,
            identity=directory / "id_client",
            wrong_identity=directory / "id_other",
        )
    finally:
        stop_process(process)


def test_push_pipeline_pieces_over_ssh(
    sshd: SshServer, podman_service: PodmanServiceHandle, base_image: str, tmp_path: Path
) -> None:
    """Connect with CONTAINER_HOST=ssh://… and CONTAINER_SSHKEY, then build through the tunnel."""
    url = sshd.url(podman_service.socket_path)
    environ = {**os.environ, "CONTAINER_HOST": url, "CONTAINER_SSHKEY": str(sshd.identity)}
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base_image}\nLABEL via=ssh\n")
    reporter = RecordingReporter()

    with connect(url, environ=environ, reporter=reporter, source="env") as client:
        assert client.url == url
        summary = scan_context(context, context / "Dockerfile")
        result = client.build(summary, reporter=reporter)
        try:
            assert client.image_labels(result.image_id)["via"] == "ssh"
        finally:
            client.remove_image(result.image_id, force=True)

    assert ("info", f"Podman service: {url} (from CONTAINER_HOST)") in reporter.events


def test_default_connection_with_identity_is_used(
    sshd: SshServer, podman_service: PodmanServiceHandle, tmp_path: Path
) -> None:
    """A default ssh connection with an identity, as `podman machine init` writes it.

    Written by hand in podman 4's containers.conf format: podman 4.3's
    `connection add` drops the socket path from the URI. podman itself then
    lists it, and keynet-train reads that listing.
    """
    url = sshd.url(podman_service.socket_path)
    (tmp_path / "home").mkdir()  # podman refuses a HOME that does not exist
    conf = tmp_path / "containers.conf"
    conf.write_text(
        '[engine]\nactive_service = "machine"\n'
        "[engine.service_destinations.machine]\n"
        f'uri = "{url}"\nidentity = "{sshd.identity}"\n'
    )
    environ = {
        "HOME": str(tmp_path / "home"),
        "PATH": os.environ["PATH"],
        "KEYNET_CONFIG": str(tmp_path / "config.json"),
        # As root podman keeps connections in /etc/containers/containers.conf.
        "CONTAINERS_CONF": str(conf),
    }

    choice = choose_service(None, "config", environ)
    assert (choice.url, choice.source, choice.identity) == (url, "connection", str(sshd.identity))
    assert choice.reason == "podman's default connection 'machine'"
    with connect(None, environ=environ) as client:
        assert client.url == url
        assert client.image_exists("localhost/no-such-image:never") is False


def test_rejected_key_fails_fast_with_sshs_reason(
    sshd: SshServer, podman_service: PodmanServiceHandle
) -> None:
    """podman-py alone would wait 300 s for a tunnel that never comes up."""
    url = sshd.url(podman_service.socket_path)
    environ = {"CONTAINER_SSHKEY": str(sshd.wrong_identity), "PATH": os.environ["PATH"]}

    with pytest.raises(PodmanUnavailableError) as excinfo, connect(url, environ=environ):
        pass

    assert "Permission denied" in excinfo.value.message
    assert "podman machine start" in (excinfo.value.hint or "")


def test_dry_run_push_over_ssh_says_which_service(
    sshd: SshServer, podman_service: PodmanServiceHandle, base_image: str, tmp_path: Path
) -> None:
    """The whole CLI: `push --dry-run --podman-url ssh://…` builds through the tunnel."""
    import io

    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base_image}\nWORKDIR /app\nCOPY train.py /app/\n")
    (context / "train.py").write_text("import argparse\nargparse.ArgumentParser().parse_args()\n")
    url = sshd.url(podman_service.socket_path)
    stdout, stderr = io.StringIO(), io.StringIO()
    env = Environment(
        io.StringIO(),
        stdout,
        stderr,
        {
            "HOME": str(tmp_path / "home"),
            "PATH": os.environ["PATH"],
            "KEYNET_CONFIG": str(tmp_path / "config.json"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "CONTAINER_SSHKEY": str(sshd.identity),
        },
    )
    argv = ["push", str(context / "train.py"), "--context", str(context)]
    code = main([*argv, "--dry-run", "--podman-url", url], env=env)

    assert code == 0, stderr.getvalue()
    assert f"Podman service: {url} (from --podman-url)" in stderr.getvalue()
    assert "Dry run: nothing was sent" in stdout.getvalue()
