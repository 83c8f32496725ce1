"""Everything that talks to the KeyNet backend API over HTTP.

Owns: the API client, its models, status mapping and retries (:mod:`.client`),
and the one factory for HTTP clients with redacted ``--debug`` logging
(:mod:`.http`, also used by :mod:`keynet_train.registry`). May import only the
shared base modules (errors, secrets, urls); never :mod:`keynet_train.push`,
:mod:`keynet_train.podman` or :mod:`keynet_train.cli`.
"""
