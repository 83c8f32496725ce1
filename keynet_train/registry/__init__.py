"""Everything that talks to the (Harbor) registry over HTTP, and what its answers mean.

Owns: the registry client (:mod:`.client`: the ``/v2/`` credential check, the
manifest digest, the Bearer token flow as an ``httpx.Auth``), what its answers
mean (:mod:`.answers`: challenges, token grants, error text, manifest checks),
Harbor's refusals as errors (:mod:`.harbor_errors`) and the meaning of a failed
push's text (:mod:`.push_errors`). May import :mod:`keynet_train.backend.http`
(the one HTTP client factory) and the shared base modules; never
:mod:`keynet_train.push`, :mod:`keynet_train.podman` or :mod:`keynet_train.cli`.
"""
