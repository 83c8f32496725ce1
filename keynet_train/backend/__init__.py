"""Everything that talks to the KeyNet backend API over HTTP.

Owns: the API client, its status mapping and retries (:mod:`.client`); the
wire models (:mod:`.models`); the one factory for HTTP clients, its retry loop
and the base both API clients share (:mod:`.http`); redacted ``--debug``
logging (:mod:`.debug_log`); TLS trust (the CA bundle) and what a
certificate failure means (:mod:`.tls`).
:mod:`keynet_train.registry` uses the last two. May import only the shared
base modules (errors, secrets, urls); never :mod:`keynet_train.push`,
:mod:`keynet_train.podman` or :mod:`keynet_train.cli`.
"""
