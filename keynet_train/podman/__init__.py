"""Everything that talks to podman: which service, starting a private one, build/tag/push, trust.

Owns: the connection choice (:mod:`.connection`), the service a command uses
(:mod:`.service`), the podman-py connection and its error translation (:mod:`.api`,
the only podman-py importer), the client commands use (:mod:`.client`, built from
:mod:`.images`, :mod:`.builder`, :mod:`.pusher`, :mod:`.containers` and
:mod:`.image_files`; :mod:`.heartbeat` watches silent streams), and what podman
trusts and remembers about a registry (:mod:`.trust`: CA in ``certs.d``,
``podman login``). May import :mod:`keynet_train.build` (the context tar),
:mod:`keynet_train.registry` (what a push failure means) and the shared base
modules; never :mod:`keynet_train.push` or :mod:`keynet_train.cli`.
"""
