"""Copy this checkout for an out-of-tree build (pip wheel, python -m build).

Building in a copy keeps ``build/``, ``dist/`` and ``*.egg-info`` out of the checkout.
Only the top-level ``build/`` and ``dist/`` are build output: ``keynet_train/build``
is a package and must be copied.
"""

from __future__ import annotations

import shutil
from pathlib import Path

_ANYWHERE = shutil.ignore_patterns(".venv*", ".git", "*.egg-info", "__pycache__", ".hypothesis")


def copy_checkout(tree: Path, dest: Path) -> Path:
    """Copy the source tree ``tree`` to ``dest`` without caches or build output.

    Raises:
        OSError: the copy failed.
    """
    top = tree.resolve()

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set(_ANYWHERE(directory, names))
        if Path(directory).resolve() == top:
            skipped |= {"build", "dist"} & set(names)
        return skipped

    shutil.copytree(tree, dest, ignore=ignore)
    return dest
