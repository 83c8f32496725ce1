"""``keynet-train run``: rehearse the platform's training job on this machine (docs/run.md).

Owns the callback token, the local receiver that answers like the platform,
the job's environment and limits, the checks of what the container sent,
and the pipeline that builds (through :mod:`keynet_train.push`), starts the
container (through :mod:`keynet_train.podman`) and writes the run folder.

Layering: may import ``push`` and everything below it; only ``cli`` imports
this package. Never prints: progress goes to a
:class:`~keynet_train.progress.Reporter` and the container's log and the
callbacks to the sinks of ``RunServices``, all supplied by the CLI.
"""
