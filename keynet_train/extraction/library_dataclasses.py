"""transformers' own argument dataclasses, read by the module loader even where imports are not.

``HfArgumentParser((ModelArguments, DataArguments, TrainingArguments))`` is
the usual shape of a Hugging Face training script, and ``TrainingArguments``
alone holds ~100 of its options. When the script's imports are followed, the
module loader reads the class like any other name. When its name is still a
``Ref`` here — imports are not followed (``follow_imports=False``), or the
script reaches it by a path the loader does not read — the module defining it
(``transformers.training_args``) is read by the same loader, never imported,
from the installed libraries of the default environment (``VIRTUAL_ENV``, else
the interpreter running keynet-train: ``environment.library_paths``). Names
that module imports from its siblings (a few Enum types) then stay
unresolved; each field that needs one gets a diagnostic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keynet_train.errors import KeynetError
from keynet_train.extraction.finder import ModuleFinder
from keynet_train.extraction.interpreter import Interpreter
from keynet_train.extraction.values import ClassValue, Ref

if TYPE_CHECKING:
    # Imported where it is built: the loader imports the families, which use this module.
    from keynet_train.extraction.loader import ModuleLoader

#: transformers' argument dataclasses and the module (under ``transformers``) defining each.
KNOWN_MODULES = {
    "TrainingArguments": "training_args",
    "Seq2SeqTrainingArguments": "training_args_seq2seq",
}


def library_dataclass(interp: Interpreter, value: object, line: int) -> object:
    """``value`` itself, or the class it names when it is one of transformers' dataclasses.

    A library that is not installed, or a module that cannot be read, leaves
    ``value`` as it was (the caller warns that its fields are missing).

    Raises:
        Invoked: the library module's top-level code parsed the command line.
        BudgetExceeded: the run's step budget is spent.
    """
    if not isinstance(value, Ref):
        return value
    parts = value.name.split(".")
    if parts[0] != "transformers" or parts[-1] not in KNOWN_MODULES:
        return value
    name = parts[-1]
    module = f"transformers.{KNOWN_MODULES[name]}"
    loader = interp.loader or _libraries_loader(interp)
    if loader is None:
        return value
    if loader is interp.loader:
        found = loader.import_attr(interp, module, name)
    else:
        files, noted = len(loader.external_files), len(interp.diagnostics)
        found = loader.import_attr(interp, module, name)
        # Notes about transformers' own code are not the user's to act on (the
        # run's loader drops its info notes for that reason); which files were read is.
        del interp.diagnostics[noted:]
        read = loader.summary(since=files)
        if read is not None:
            interp.note(line, f"transformers.{name}: {read}")
    return found if isinstance(found, ClassValue) else value


def _libraries_loader(interp: Interpreter) -> ModuleLoader | None:
    """A loader over the installed libraries only, one per run; None if they cannot be listed."""
    cache: dict[str, ModuleLoader | None] = interp.__dict__.setdefault("_library_loader", {})
    if "loader" not in cache:
        from keynet_train.extraction.environment import library_paths
        from keynet_train.extraction.loader import ModuleLoader

        try:
            cache["loader"] = ModuleLoader(ModuleFinder([], library_paths(None)))
        except KeynetError:
            cache["loader"] = None
    return cache["loader"]
