"""Static hyperparameter extraction (docs/extraction-rules.md): read, never executed.

``extract_hyperparameters(path)`` validates the entrypoint (docs/extraction-rules.md),
then walks it with a small abstract interpreter that models the three
libraries and stops where the script would parse its command line — so the
parser chosen is the one the script really uses. See docs/extraction.md for
the supported constructs, the normalisation rules and the known limits.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.errors import EntrypointError, ExtractionError, KeynetError
from keynet_train.extraction.model import (
    Argument,
    Diagnostic,
    ExtractionResult,
    to_described_arguments,
)

if TYPE_CHECKING:
    from keynet_train.extraction.loader import ModuleLoader

__all__ = [
    "Argument",
    "Diagnostic",
    "ExtractionResult",
    "extract_hyperparameters",
    "to_described_arguments",
]


def extract_hyperparameters(
    path: Path,
    command: str | None = None,
    default_command: Callable[[], str | None] | None = None,
    *,
    context: Path | None = None,
    python: str | None = None,
    project_python: Path | None = None,
    follow_imports: bool = True,
    environ: Mapping[str, str] | None = None,
) -> ExtractionResult:
    """Validate ``path`` and extract its hyperparameters statically.

    ``command`` is the sub-command to train with (docs/extraction-rules.md); when it is None
    and the script has sub-commands, ``default_command()`` is asked (the
    project file's ``command``: called only then, so scripts without
    sub-commands never pay for reading it), else the only one, else one
    named ``train`` is used.

    Imports are followed into the project (the entrypoint's directory and
    package root, ``context`` — the build context — and ``src/`` layouts) and
    into the installed libraries of the environment named by ``python`` (an
    interpreter or virtualenv the user named: ``--python``), else
    ``KEYNET_PYTHON``, else ``project_python`` (the project file's, which must
    be a virtualenv: it is read, never run), else ``VIRTUAL_ENV``, else the
    running interpreter (the variables read from ``environ``, default
    ``os.environ``). ``follow_imports=False`` reads the one file. Never
    imports or executes the user's code, runs no program but the one the
    user named, and finishes in bounded time.

    Raises:
        EntrypointError: the file is missing, not a regular file, too large,
            empty, binary, undecodable, has a syntax error or nests too deeply.
        ConfigError: raised by ``default_command``.
        ExtractionError: the sub-command cannot be chosen (several and no
            ``train``, or ``command`` is not one of them); ``python`` names
            no usable interpreter or virtualenv; or anything else prevented a
            result (reported rather than shown as a traceback);
            ``project_python`` is not a virtualenv.
    """
    # The cyclic GC finds nothing to free in an AST (it is a tree), yet the
    # allocations of parsing trigger repeated collections that traverse it:
    # ~15% of the run time of `inspect` on a large script. Paused for the
    # whole call so the tree is freed by reference counting before it resumes.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _extract(
            Path(path),
            command,
            default_command,
            context,
            python,
            project_python,
            environ,
            follow_imports,
        )
    finally:
        if was_enabled:
            gc.enable()


def _extract(
    path: Path,
    command: str | None,
    default_command: Callable[[], str | None] | None,
    context: Path | None,
    python: str | None,
    project_python: Path | None,
    environ: Mapping[str, str] | None,
    follow_imports: bool,
) -> ExtractionResult:
    from keynet_train.extraction.finder import is_inside, project_roots, real_roots
    from keynet_train.extraction.source import load_source

    if not is_inside(path, real_roots(project_roots(path, context))):
        # train.py -> ~/.netrc in a cloned repository: a syntax error would quote it.
        raise EntrypointError(
            f"Entrypoint {path} is a symlink that leads outside its directory, the project "
            "and the build context; it is not read.",
            "Pass the script itself (its real path), or copy it into the project.",
        )
    source = load_source(path)
    loader = _loader(path, context, python, project_python, environ) if follow_imports else None
    try:
        from keynet_train.extraction.select import extract_from_tree

        return extract_from_tree(
            source.tree, source.display_path, command, default_command, loader=loader
        )
    except KeynetError:
        raise
    except (RecursionError, MemoryError):
        raise EntrypointError(
            f"{source.display_path}: the code is nested too deeply to analyse",
            "Simplify the deeply nested expression or block.",
        ) from None
    except Exception as e:
        raise ExtractionError(
            f"Could not extract hyperparameters from {source.display_path}: "
            f"internal error ({type(e).__name__}: {e})",
            "Run 'keynet-train inspect' with --debug and report the output.",
        ) from e


def _loader(
    path: Path,
    context: Path | None,
    python: str | None,
    project_python: Path | None,
    environ: Mapping[str, str] | None,
) -> ModuleLoader:
    """The module loader for one run: project roots, then the environment's libraries.

    Raises:
        ExtractionError: ``python`` (or ``KEYNET_PYTHON``) names no usable
            interpreter; ``project_python`` is not a virtualenv.
    """
    import os

    from keynet_train.extraction.environment import library_paths
    from keynet_train.extraction.finder import ModuleFinder, entry_package, project_roots
    from keynet_train.extraction.loader import ModuleLoader

    env = os.environ if environ is None else environ
    chosen = python or env.get("KEYNET_PYTHON") or None
    # Only what the user named may be run; the project file's python is read as a layout.
    libraries = library_paths(chosen, env, project_python=project_python)
    finder = ModuleFinder(project_roots(path, context), libraries)
    return ModuleLoader(finder, entry_package(path))
