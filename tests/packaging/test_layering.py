"""The package layering (docs/architecture.md): no package imports one above it.

cli → run → push → auth (login) → podman → build / registry → backend / extraction → base modules.
Every ``keynet_train`` import is checked, including the lazy ones inside functions,
by reading the source (nothing is imported).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "keynet_train"

# Higher ranks may import lower ranks (and their own package); never the reverse.
RANKS = {
    "__main__": 9,
    "cli": 8,
    "run": 7,
    "push": 6,
    "auth": 5,
    "podman": 4,
    "build": 3,
    "registry": 3,
    "backend": 2,
    "extraction": 2,
}
BASE = 0  # errors, config, secrets, urls, locations, progress, interrupts, __init__


def _unit(module: str) -> str:
    """``keynet_train.podman.client`` → ``podman``; ``keynet_train`` → ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(unit: str) -> int:
    return RANKS.get(unit, BASE)


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, root: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "keynet_train":
                found += [(node.lineno, f"keynet_train.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, target))
    return [(line, name) for line, name in found if name.split(".")[0] == "keynet_train"]


def _violations(root: Path) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        unit = _unit(_module_name(path, root))
        for line, target in _imports(path, root):
            other = _unit(target)
            if other == unit or other == "__init__":
                continue
            if _rank(unit) == BASE and _rank(other) == BASE:
                continue  # the base modules (errors, config, secrets, ...) share one layer
            if _rank(other) >= _rank(unit):
                rel = path.relative_to(root.parent)
                out.append(f"{rel}:{line}: {unit} (rank {_rank(unit)}) imports {target}")
    return out


def test_no_package_imports_upward() -> None:
    assert _violations(PACKAGE) == []


def test_the_check_can_fail(tmp_path: Path) -> None:
    root = tmp_path / "keynet_train"
    (root / "build").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "build" / "__init__.py").write_text("")
    (root / "build" / "context.py").write_text(
        "def f():\n    from keynet_train.push import pipeline\n"
    )
    (root / "errors.py").write_text("from keynet_train.cli import main\n")
    found = _violations(root)
    assert len(found) == 2
    assert any("build (rank 3) imports keynet_train.push" in v for v in found)
    assert any("__init__" not in v and "errors.py:1" in v for v in found)


@pytest.mark.parametrize("package", ["podman", "registry", "build", "backend", "push"])
def test_each_package_says_what_it_owns(package: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
    assert doc and "Owns" in doc


# podman-py and the transports whose errors reach us through it (docs/architecture.md).
PODMAN_PY = frozenset({"podman", "requests", "urllib3"})


def _podman_py_importers(root: Path) -> list[str]:
    """The modules under ``root`` that import podman-py (or its transports), lazily or not."""
    found = set()
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            if any(name.split(".")[0] in PODMAN_PY for name in names):
                found.add(path.relative_to(root).as_posix())
    return sorted(found)


def test_only_the_podman_api_module_imports_podman_py(tmp_path: Path) -> None:
    assert _podman_py_importers(PACKAGE) == ["podman/api.py"]
    (tmp_path / "podman").mkdir()
    (tmp_path / "podman" / "builder.py").write_text("def f():\n    import podman.errors\n")
    (tmp_path / "podman" / "api.py").write_text("from requests import Session\n")
    assert _podman_py_importers(tmp_path) == ["podman/api.py", "podman/builder.py"]
