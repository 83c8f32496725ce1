"""The podman client every command uses: build, tag, push, inspect, run containers.

:class:`PodmanClient` is one object over one podman-py connection
(:class:`keynet_train.podman.api.PodmanAPI`); each concern lives in its own
module, as a base class of it:

* :mod:`.images` — inspect, tag and remove stored images (:class:`ImageStore`);
* :mod:`.builder` — build an image from a context, add the labels (:class:`ImageBuilder`);
* :mod:`.pusher` — push with registry credentials, retried, with the digest
  (:class:`ImagePusher`); :mod:`.heartbeat` watches its silent uploads;
* :mod:`.containers` — the containers of ``keynet-train run`` (:class:`Containers`);
* :mod:`.image_files` — read an image's files for the image check (:class:`ImageFileReader`).

podman-py itself is imported only by :mod:`.api`, lazily.
"""

from __future__ import annotations

from keynet_train.podman.builder import ImageBuilder
from keynet_train.podman.image_files import ImageFileReader
from keynet_train.podman.pusher import ImagePusher


class PodmanClient(ImageBuilder, ImagePusher, ImageFileReader):
    """Build, tag, push and inspect images, and run containers, through a podman service.

    Create it with :func:`keynet_train.podman.service.connect` (which picks or
    starts the service); close it with :meth:`close`.
    """
