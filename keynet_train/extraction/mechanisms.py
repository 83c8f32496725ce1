"""Configuration mechanisms the extractor does not model, recognised by their imports.

Hydra, LightningCLI, jsonargparse, absl flags and docopt build a script's
options at runtime from config files, signatures or a usage text. When no
argparse/click/typer parser is found, the user needs to hear which of these
the script uses and what to do, not a generic "no parser found" (docs/extraction-rules.md).
"""

from __future__ import annotations

import ast
from typing import NamedTuple


class Mechanism(NamedTuple):
    """An unmodelled mechanism found in a module, with the line of its import."""

    name: str
    line: int
    advice: str


_HYDRA = (
    "Hydra composes its configuration from YAML files and takes key=value overrides, "
    "which are not read statically. Expose the values the platform should set as "
    "argparse options in a small entry script that passes them on as overrides"
)
_LIGHTNING = (
    "LightningCLI builds its options at runtime from the signatures of the model and "
    "data module classes (--model.x, --trainer.y). Declare the values the platform should "
    "set with argparse in the entry script and pass them to the Trainer and model"
)
_JSONARGPARSE = (
    "jsonargparse builds options from type hints and config files at runtime. Declare the "
    "values the platform should set with argparse (or click/typer) in the entry script"
)
_ABSL = (
    "absl flags (flags.DEFINE_*) are not extracted. Declare the values the platform should "
    "set with argparse (or click/typer)"
)
_DOCOPT = (
    "docopt parses the usage text in the docstring at runtime; it is not extracted. Declare "
    "the values the platform should set with argparse (or click/typer)"
)

#: Module prefixes → (mechanism, advice). A name imported from the module counts too.
_MODULES: tuple[tuple[str, str, str], ...] = (
    ("hydra", "Hydra (@hydra.main)", _HYDRA),
    ("lightning.pytorch.cli", "LightningCLI", _LIGHTNING),
    ("pytorch_lightning.cli", "LightningCLI", _LIGHTNING),
    ("pytorch_lightning.utilities.cli", "LightningCLI", _LIGHTNING),
    ("jsonargparse", "jsonargparse", _JSONARGPARSE),
    ("absl.flags", "absl.flags", _ABSL),
    ("docopt", "docopt", _DOCOPT),
)
#: ``from lightning import LightningCLI`` / ``from absl import flags``: name-level imports.
_NAMES: dict[tuple[str, str], tuple[str, str]] = {
    ("lightning", "LightningCLI"): ("LightningCLI", _LIGHTNING),
    ("lightning.pytorch", "LightningCLI"): ("LightningCLI", _LIGHTNING),
    ("pytorch_lightning", "LightningCLI"): ("LightningCLI", _LIGHTNING),
    ("absl", "flags"): ("absl.flags", _ABSL),
}


def find_mechanisms(tree: ast.Module) -> list[Mechanism]:
    """The unmodelled mechanisms ``tree`` imports, once each, in source order. Raises nothing."""
    found: dict[str, Mechanism] = {}
    for node in ast.walk(tree):
        hits: list[tuple[str, str]] = []
        if isinstance(node, ast.Import):
            hits = [m for alias in node.names if (m := _by_module(alias.name))]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            module_hit = _by_module(node.module)
            if module_hit:
                hits = [module_hit]
            else:
                hits = [
                    _NAMES[(node.module, alias.name)]
                    for alias in node.names
                    if (node.module, alias.name) in _NAMES
                ]
        for name, advice in hits:
            line = getattr(node, "lineno", 1)
            if name not in found or line < found[name].line:
                found[name] = Mechanism(name, line, advice)
    return sorted(found.values(), key=lambda m: m.line)


def _by_module(module: str) -> tuple[str, str] | None:
    for prefix, name, advice in _MODULES:
        if module == prefix or module.startswith(prefix + "."):
            return name, advice
    return None
