"""Where the project's modules are: its import roots, and the file behind a dotted name.

Only the file system is consulted (``stat``), never an import hook; the
``loader`` reads and walks what is found here.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "ModuleFinder",
    "ModuleSpec",
    "entry_package",
    "is_inside",
    "package_root",
    "project_roots",
    "real_roots",
]

#: Walking up from the entrypoint for the project root stops after this many levels.
_MAX_ROOT_LEVELS = 12
_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git", "keynet.toml")


def project_roots(entrypoint: Path, context: Path | None = None) -> list[Path]:
    """The directories the project's own absolute imports resolve from, in order.

    The entrypoint's directory (``sys.path[0]`` at runtime), the directory
    above its outermost package (``python -m pkg.train``), the build context
    and its ``src/``, and the nearest enclosing project root (a directory with
    ``pyproject.toml``, ``setup.py``, ``setup.cfg``, ``keynet.toml`` or
    ``.git``, not above the user's home) and its ``src/``. Raises nothing.
    """
    entry_dir = Path(os.path.abspath(entrypoint)).parent
    roots = [entry_dir, package_root(entry_dir)]
    if context is not None:
        ctx = Path(os.path.abspath(context))
        roots += [ctx, ctx / "src"]
    probe = entry_dir
    # Not above the user's home, as the project-file search (docs/security.md):
    # a marker file there belongs to someone else.
    home = Path(os.path.abspath(os.path.expanduser("~")))
    for _ in range(_MAX_ROOT_LEVELS):
        if any((probe / marker).exists() for marker in _PROJECT_MARKERS):
            roots += [probe, probe / "src"]
            break
        if probe in (probe.parent, home):
            break
        probe = probe.parent
    seen: set[Path] = set()
    unique: list[Path] = []
    for root in roots:
        if root not in seen and root.is_dir():
            seen.add(root)
            unique.append(root)
    return unique


def package_root(directory: Path) -> Path:
    """The directory above the outermost package containing ``directory`` (itself if none)."""
    probe = directory
    for _ in range(_MAX_ROOT_LEVELS):
        if not (probe / "__init__.py").is_file() or probe.parent == probe:
            break
        probe = probe.parent
    return probe


def entry_package(entrypoint: Path) -> str:
    """The dotted package of the entrypoint's directory ("" when it is not in a package).

    Lets ``from .consts import X`` in an entrypoint run as ``python -m pkg.train`` resolve.
    """
    entry_dir = Path(os.path.abspath(entrypoint)).parent
    root = package_root(entry_dir)
    if root == entry_dir:
        return ""
    return ".".join(entry_dir.relative_to(root).parts)


class ModuleSpec:
    """Where a module's source is: ``path`` (None for a namespace package) and its search dirs."""

    def __init__(self, name: str, path: Path | None, search: list[Path], is_library: bool) -> None:
        self.name = name
        self.path = path
        self.search = search
        self.is_library = is_library

    @property
    def is_package(self) -> bool:
        return bool(self.search)


def real_roots(roots: list[Path]) -> tuple[str, ...]:
    """``roots`` with every symlink resolved, for :func:`is_inside`. Raises nothing."""
    found: list[str] = []
    for root in roots:
        try:
            found.append(os.path.realpath(root))
        except (OSError, ValueError):
            continue
    return tuple(found)


def is_inside(path: Path, roots: tuple[str, ...]) -> bool:
    """Whether ``path``, with every symlink followed, lies in one of ``roots`` (real paths).

    A source file reached through a symlink that leaves the project, the
    build context and the library roots (a "module" linked to ~/.netrc or
    /proc/kmsg) is never read, so no diagnostic can quote it
    (docs/security.md). Raises nothing.
    """
    try:
        real = os.path.realpath(path)
    except (OSError, ValueError):
        return False
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


class ModuleFinder:
    """Maps dotted module names to source files: project roots first, then library paths.

    Only the file system is consulted (``stat``), never an import hook.
    """

    def __init__(self, project: list[Path], libraries: list[Path]) -> None:
        self.project = project
        self.libraries = libraries
        self._project_set = {os.path.normcase(str(p)) for p in project}
        self._real_roots = real_roots([*project, *libraries])

    def contains(self, path: Path) -> bool:
        """Whether ``path`` (symlinks followed) lies in a project or library root."""
        return is_inside(path, self._real_roots)

    def find_top(self, name: str) -> ModuleSpec | None:
        """The top-level module or package ``name``, or None."""
        found = self._find_in(name, name, self.project, is_library=False)
        if found is None:
            found = self._find_in(name, name, self.libraries, is_library=True)
        return found

    def find_sub(self, parent: ModuleSpec, name: str) -> ModuleSpec | None:
        """The submodule ``name`` (last component) of package ``parent``, or None."""
        return self._find_in(
            f"{parent.name}.{name}", name, parent.search, is_library=parent.is_library
        )

    @staticmethod
    def _find_in(
        dotted: str, name: str, dirs: list[Path], *, is_library: bool
    ) -> ModuleSpec | None:
        if not name.isidentifier():
            return None
        namespace: list[Path] = []
        for base in dirs:
            pkg = base / name
            init = pkg / "__init__.py"
            if init.is_file():
                return ModuleSpec(dotted, init, [pkg], is_library)
            module = base / f"{name}.py"
            if module.is_file():
                return ModuleSpec(dotted, module, [], is_library)
            if pkg.is_dir():
                namespace.append(pkg)
        if namespace:  # PEP 420: a directory without __init__.py, possibly in several roots
            return ModuleSpec(dotted, None, namespace, is_library)
        return None
