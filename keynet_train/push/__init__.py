"""The push: what the user asked for, and the pipeline that carries it out.

Owns: the project file (:mod:`.project_file`), push settings and their
precedence (:mod:`.settings`) and the pipeline's order of steps
(:mod:`.pipeline`). It sits above :mod:`keynet_train.build`,
:mod:`keynet_train.registry`, :mod:`keynet_train.podman`,
:mod:`keynet_train.backend` and :mod:`keynet_train.extraction`, and below
:mod:`keynet_train.cli`; it never prints or exits (it reports through
:mod:`keynet_train.progress`).
"""
