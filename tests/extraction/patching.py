"""Library attributes replaced for the length of a block, then put back.

The runtime oracles stop a fixture where it parses its command line by
replacing each library's parse entry points; several tests switch off
transformers' version checks the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["replaced", "transformers_checks_off"]


@contextlib.contextmanager
def replaced(*replacements: tuple[object, str, object]) -> Iterator[None]:
    """Set each ``(owner, name, value)`` for the block; the originals are restored even on error."""
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in replacements]
    try:
        for owner, name, value in replacements:
            setattr(owner, name, value)
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def _no_check(*args: object, **kwargs: object) -> None:
    return None


@contextlib.contextmanager
def transformers_checks_off() -> Iterator[None]:
    """transformers' ``check_min_version`` and ``require_version`` do nothing in the block.

    Example scripts call them at import, and this environment has no ``datasets``.
    """
    import transformers.utils
    import transformers.utils.versions

    with replaced(
        (transformers.utils, "check_min_version", _no_check),
        (transformers.utils.versions, "require_version", _no_check),
    ):
        yield
