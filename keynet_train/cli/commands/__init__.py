"""One module per command; each exposes ``register(subparsers)`` and ``run(args, env)``.

Modules here import nothing heavy at module level (no httpx, podman,
pydantic or rich) so ``--help`` and ``--version`` start fast.
"""
