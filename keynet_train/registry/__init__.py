"""Everything that talks to the (Harbor) registry over HTTP, and what its answers mean.

Owns: the ``/v2/`` credential check with the Bearer token flow (:mod:`.auth`),
Harbor's refusals as errors (:mod:`.harbor_errors`) and the meaning of a failed
push's text (:mod:`.push_errors`). May import :mod:`keynet_train.backend.http`
(the one HTTP client factory) and the shared base modules; never
:mod:`keynet_train.push`, :mod:`keynet_train.podman` or :mod:`keynet_train.cli`.
"""
