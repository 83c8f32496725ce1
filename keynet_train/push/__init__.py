"""The push: what the user asked for, and the pipeline that carries it out.

Owns: the project file (:mod:`.project_file`), push settings and their
precedence (:mod:`.settings`), the pipeline's order of steps
(:mod:`.pipeline`), building the user's image with reuse (:mod:`.image_build`),
the check of the built image (:mod:`.image_check`), the platform-command checks
(:mod:`.command_checks`), the upload key (:mod:`.upload_key`), the registry
side (:mod:`.publish`: credential check, tags, ``podman push``, digest), the image's labels and
repository name (:mod:`.labels`) and the results it reports (:mod:`.results`).
It sits above :mod:`keynet_train.build`, :mod:`keynet_train.registry`,
:mod:`keynet_train.podman`, :mod:`keynet_train.backend` and
:mod:`keynet_train.extraction`, and below :mod:`keynet_train.cli`; it never
prints or exits (it reports through :mod:`keynet_train.progress`).
"""
