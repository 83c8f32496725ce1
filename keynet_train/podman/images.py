"""The images in a podman service's storage: inspect, tag, remove."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keynet_train.build.image_names import validate_repository, validate_tag
from keynet_train.errors import BuildError, KeynetError
from keynet_train.podman.api import PodmanAPI, raise_for_status


@dataclass(frozen=True)
class ImageConfig:
    """What an image's config says about how a container of it starts."""

    os: str
    architecture: str
    variant: str | None
    #: The image's WORKDIR ("" when it sets none: containers then start in /).
    workdir: str
    env: tuple[str, ...]
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]


class ImageStore(PodmanAPI):
    """Inspect, tag and remove the images of the service's storage."""

    def image_exists(self, reference: str) -> bool:
        """True if the service's storage holds ``reference`` (an id or a name).

        Raises:
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("inspect"):
            response = self._client.api.get(f"/images/{reference}/exists")
            return bool(response.status_code == 204)

    def image_id(self, reference: str) -> str | None:
        """The id of the image ``reference`` names in the service's storage (None: absent).

        Raises:
            BuildError: the service refused the request.
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("inspect"):
            response = self._client.api.get(f"/images/{reference}/json")
            if response.status_code == 404:
                return None
            raise_for_status(response, BuildError, f"Cannot inspect image {reference}")
            identifier = response.json().get("Id")
            return str(identifier) if identifier else None

    def tag(self, image_id: str, repository: str, tag: str) -> str:
        """Tag ``image_id`` as ``repository:tag`` and return that reference.

        Raises:
            InputError: invalid repository or tag.
            BuildError: podman refused (e.g. unknown image).
        """
        validate_repository(repository)
        validate_tag(tag)
        with self._translate("tag"):
            response = self._client.api.post(
                f"/images/{image_id}/tag", params={"repo": repository, "tag": tag}
            )
            raise_for_status(response, BuildError, f"Tagging {image_id[:12]} failed")
        return f"{repository}:{tag}"

    def inspect_image(self, reference: str) -> dict[str, Any]:
        """The service's inspect JSON of an image.

        Raises:
            BuildError: unknown image or service error.
        """
        with self._translate("inspect"):
            response = self._client.api.get(f"/images/{reference}/json")
            raise_for_status(response, BuildError, f"Cannot inspect image {reference}")
            return dict(response.json())

    def image_labels(self, reference: str) -> dict[str, str]:
        """The labels of an image (empty dict when it has none).

        Raises:
            BuildError: unknown image or service error.
        """
        data = self.inspect_image(reference)
        labels = data.get("Labels") or (data.get("Config") or {}).get("Labels") or {}
        return {str(k): str(v) for k, v in labels.items()}

    def image_config(self, reference: str) -> ImageConfig:
        """The platform, WORKDIR, environment, ENTRYPOINT and CMD of an image.

        Raises:
            BuildError: unknown image or service error.
            PodmanUnavailableError: the connection to the service broke.
        """
        data = self.inspect_image(reference)
        config = data.get("Config") or {}

        def strings(value: object) -> tuple[str, ...]:
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        return ImageConfig(
            os=str(data.get("Os") or ""),
            architecture=str(data.get("Architecture") or ""),
            variant=str(data["Variant"]) if data.get("Variant") else None,
            workdir=str(config.get("WorkingDir") or ""),
            env=strings(config.get("Env")),
            entrypoint=strings(config.get("Entrypoint")),
            cmd=strings(config.get("Cmd")),
        )

    def remove_image(self, reference: str, force: bool = False) -> None:
        """Remove an image; a missing image is not an error.

        Raises:
            BuildError: podman refused (e.g. in use without ``force``).
        """
        with self._translate("remove"):
            response = self._client.api.delete(f"/images/{reference}", params={"force": force})
            if response.status_code != 404:
                raise_for_status(response, BuildError, f"Cannot remove image {reference}")

    def _layer_count(self, reference: str) -> int | None:
        """How many layers (blobs to push) ``reference`` has (None: unknown). Never raises."""
        try:
            layers = (self.inspect_image(reference).get("RootFS") or {}).get("Layers")
        except (KeynetError, ValueError, AttributeError):
            return None
        return len(layers) if isinstance(layers, list) and layers else None

    def _stored_platform(self, reference: str) -> str | None:
        """``os/arch`` of ``reference`` in the service's store (None: absent). Never raises."""
        try:
            data = self.inspect_image(reference)
        except (KeynetError, ValueError):
            return None
        os_name, arch = data.get("Os"), data.get("Architecture")
        return f"{os_name}/{arch}" if os_name and arch else None

    def _rootless(self) -> bool | None:
        """Whether the service runs rootless (None: it did not say). Never raises."""
        try:
            with self._translate("info"):
                response = self._client.api.get("/info")
                if response.status_code >= 400:
                    return None
                rootless = ((response.json().get("host") or {}).get("security") or {}).get(
                    "rootless"
                )
        except (KeynetError, ValueError, AttributeError):
            return None
        return rootless if isinstance(rootless, bool) else None
