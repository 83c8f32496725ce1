"""transformers' own argument dataclasses, read from their installed source (never imported).

``HfArgumentParser((ModelArguments, DataArguments, TrainingArguments))`` is
the usual shape of a Hugging Face training script, and ``TrainingArguments``
alone holds ~100 of its options. Its package's ``__init__`` is a lazy module
that would pull in hundreds of files if followed like any import, so the
module that defines the class is read on its own: found on the import path
without importing anything (``importlib.machinery.PathFinder`` only looks at
files), parsed, and walked by a fresh interpreter. Names that module imports
from its siblings (a few Enum types) stay unresolved; each field that needs
one gets a diagnostic.
"""

from __future__ import annotations

import contextlib
import sys
from importlib.machinery import PathFinder
from pathlib import Path

from keynet_train.errors import KeynetError
from keynet_train.extraction.interpreter import Interpreter
from keynet_train.extraction.runtime import BudgetExceeded, Invoked
from keynet_train.extraction.values import ClassValue, Ref

#: transformers' argument dataclasses and the module (under ``transformers``) defining each.
KNOWN_MODULES = {
    "TrainingArguments": "training_args",
    "Seq2SeqTrainingArguments": "training_args_seq2seq",
}


def library_dataclass(interp: Interpreter, value: object, line: int) -> object:
    """``value`` itself, or the class it names when it is one of transformers' dataclasses.

    Raises nothing: a library that is not installed, or a file that cannot be
    read, leaves ``value`` as it was (the caller warns that its fields are missing).
    """
    if not isinstance(value, Ref):
        return value
    parts = value.name.split(".")
    if parts[0] != "transformers" or parts[-1] not in KNOWN_MODULES:
        return value
    cache: dict[str, object] = interp.__dict__.setdefault("_library_dataclasses", {})
    name = parts[-1]
    if name not in cache:
        cache[name] = _read_class(interp, name, line)
    found = cache[name]
    return found if found is not None else value


def _read_class(interp: Interpreter, name: str, line: int) -> ClassValue | None:
    path = _module_file("transformers", KNOWN_MODULES[name])
    if path is None:
        return None
    from keynet_train.extraction.source import load_source

    try:
        source = load_source(path)
    except KeynetError:
        return None
    reader = Interpreter(source.tree, source.display_path, interp.handlers)
    # Whatever was defined before a budget or a parse call stopped it is kept.
    with contextlib.suppress(BudgetExceeded, Invoked):
        reader.run()
    cls = reader.module_scope.vars.get(name)
    if not isinstance(cls, ClassValue):
        return None
    cls.path = source.display_path
    interp.note(
        line,
        f"transformers.{name} read from {source.display_path} (the installed library's "
        "source, never imported)",
    )
    return cls


def _module_file(package: str, module: str) -> Path | None:
    """``package/module.py`` on the import path; PathFinder stats files and runs nothing."""
    spec = PathFinder.find_spec(package, sys.path)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / f"{module}.py"
        if candidate.is_file():
            return candidate
    return None
