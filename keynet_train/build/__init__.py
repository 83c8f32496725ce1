"""Build inputs: the context on disk, the ignore rules, the Dockerfile, build reuse.

Owns: Docker's ``.dockerignore`` semantics (:mod:`.dockerignore`, with its
linear-time matcher in :mod:`.ignore_automaton`), the context scan
(:mod:`.context`), its streamed tar (:mod:`.tar_stream`), the Dockerfile's base
images (:mod:`.dockerfile`) and the build-reuse cache (:mod:`.cache`). Talks to
no service; may import only the shared base modules (errors, locations, config).
"""
