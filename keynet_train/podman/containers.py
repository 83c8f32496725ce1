"""Containers for ``keynet-train run``: create, start, watch, signal, remove (docs/run.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from keynet_train.errors import BuildError
from keynet_train.podman.api import PodmanAPI, raise_for_status


@dataclass(frozen=True)
class HostFacts:
    """What ``run`` needs to know about the service's host to wire the network."""

    rootless: bool
    bridge_gateway: str | None
    bridge_subnet: str | None


@dataclass(frozen=True)
class ContainerSpec:
    """A container as ``keynet-train run`` starts it (see docs/run.md)."""

    image: str
    command: tuple[str, ...]
    env: Mapping[str, str]
    memory: int
    cpus: float
    shm_size: int
    rlimits: Mapping[str, int]
    network: str  # "bridge" or "slirp4netns"
    devices: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    name: str | None = None


class Containers(PodmanAPI):
    """Create, start, follow and remove containers, and read the service's host facts."""

    def host_facts(self) -> HostFacts:
        """Whether the service runs rootless, and the default bridge's gateway and subnet.

        Raises:
            BuildError: the service refused.
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("info"):
            response = self._client.api.get("/info")
            raise_for_status(response, BuildError, "Cannot read podman info")
            host = response.json().get("host") or {}
            rootless = bool((host.get("security") or {}).get("rootless"))
            gateway = subnet = None
            if not rootless:
                network = self._client.api.get("/networks/podman/json")
                if network.status_code == 200:
                    for item in network.json().get("subnets") or []:
                        if item.get("gateway") and item.get("subnet"):
                            gateway, subnet = str(item["gateway"]), str(item["subnet"])
                            break
            return HostFacts(rootless, gateway, subnet)

    def create_container(self, spec: ContainerSpec) -> str:
        """Create (not start) a container from ``spec``; return its id.

        Raises:
            BuildError: podman refused the container (unknown image, bad limits...).
            PodmanUnavailableError: the connection to the service broke.
        """
        body: dict[str, Any] = {
            "image": spec.image,
            "command": list(spec.command),
            "env": dict(spec.env),
            "labels": dict(spec.labels),
            "shm_size": spec.shm_size,
            "resource_limits": {
                "memory": {"limit": spec.memory},
                "cpu": {"quota": int(spec.cpus * 100_000), "period": 100_000},
            },
            "r_limits": [
                {"type": name, "soft": value, "hard": value} for name, value in spec.rlimits.items()
            ],
            "netns": {"nsmode": spec.network},
            "devices": [{"path": device} for device in spec.devices],
            "remove": False,
        }
        if spec.name:
            body["name"] = spec.name
        if spec.network == "slirp4netns":
            # The container reaches the host's 127.0.0.1 as 10.0.2.2 only with this.
            body["network_options"] = {"slirp4netns": ["allow_host_loopback=true"]}
        with self._translate("create container"):
            response = self._client.api.post(
                "/containers/create",
                data=json.dumps(body),
                headers={"Content-Type": "application/json"},
            )
            raise_for_status(response, BuildError, "podman could not create the container")
            return str(response.json()["Id"])

    def start_container(self, container_id: str) -> None:
        """Start a created container.

        Raises:
            BuildError: the start failed (the OCI runtime's message included).
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("start container"):
            response = self._client.api.post(f"/containers/{container_id}/start")
            raise_for_status(response, BuildError, "podman could not start the container")

    def container_exit_code(self, container_id: str) -> int | None:
        """The container's exit code once it has stopped; None while it runs.

        Polled instead of the ``wait`` endpoint: ``wait`` returns only after
        podman's clean-up of the container, which some services here finish
        20 s after the process ended; the state says ``stopped`` at once.

        Raises:
            BuildError: the container is gone, or the service refused.
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("inspect container"):
            response = self._client.api.get(f"/containers/{container_id}/json")
            raise_for_status(response, BuildError, "podman lost the container")
            state = response.json().get("State") or {}
            if state.get("Status") in ("stopped", "exited"):
                return int(state.get("ExitCode") or 0)
            return None

    def signal_container(self, container_id: str, signal: str) -> None:
        """Send ``signal`` (``SIGTERM``, ``SIGKILL``) to the container; gone already is fine.

        Raises:
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("kill"):
            self._client.api.post(f"/containers/{container_id}/kill", params={"signal": signal})

    def remove_container(self, container_id: str) -> None:
        """Remove the container (forced: stopped first if running); gone already is fine.

        Raises:
            BuildError: podman refused.
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("remove container"):
            response = self._client.api.delete(
                f"/containers/{container_id}", params={"force": True, "v": True, "timeout": 0}
            )
            if response.status_code not in (404,):
                raise_for_status(response, BuildError, "podman could not remove the container")

    def container_logs(self, container_id: str) -> Iterator[tuple[str, str]]:
        """Follow the container's output: ``(stream, line)`` pairs until it exits.

        ``stream`` is ``stdout`` or ``stderr``; lines keep no newline. The
        libpod API multiplexes a container without a TTY in frames of an
        8-byte header (stream id, 3 zero bytes, big-endian length).

        Raises:
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("logs"):
            response = self._client.api.get(
                f"/containers/{container_id}/logs",
                params={"follow": True, "stdout": True, "stderr": True},
                stream=True,
            )
            try:
                yield from _log_lines(response.iter_content(chunk_size=None))
            finally:
                response.close()


_STREAMS = {1: "stdout", 2: "stderr"}


def _log_lines(chunks: Iterable[bytes]) -> Iterator[tuple[str, str]]:
    """Split a multiplexed log stream into ``(stream, line)`` pairs (see ``container_logs``)."""
    buffer = b""
    partial: dict[str, bytes] = {"stdout": b"", "stderr": b""}
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= 8:
            size = int.from_bytes(buffer[4:8], "big")
            if len(buffer) < 8 + size:
                break
            stream = _STREAMS.get(buffer[0], "stdout")
            text = partial[stream] + buffer[8 : 8 + size]
            buffer = buffer[8 + size :]
            *lines, partial[stream] = text.split(b"\n")
            for line in lines:
                yield stream, line.decode("utf-8", "replace").rstrip("\r")
    for stream, rest in partial.items():
        if rest:
            yield stream, rest.decode("utf-8", "replace")
