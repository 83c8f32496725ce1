"""The project-wide static module loader: imports followed to source files, never executed.

``import x``, ``import a.b as c``, ``from .m import f``, ``from pkg import *``
are resolved to ``.py`` files of the project (docs/extraction-rules.md: the entrypoint's
directory, its package root, the build context, ``src/`` layouts, the
project root) and then of the installed libraries of the script's
environment (found by ``finder``; the libraries' paths by ``environment``).
Each module found is parsed and its body walked by the same interpreter as
the entrypoint, in its own namespace:

- lazily: ``from m import name`` binds a :class:`LazyImport` that reads ``m``
  only when ``name`` is first used, so a package ``__init__`` re-exporting
  hundreds of names costs nothing until the script reaches one;
- once per run: a module is cached by its dotted name, and a module being
  loaded is seen half-initialised by an import cycle, as at runtime;
- star imports copy ``__all__`` (when it is a known list of strings) or the
  public names; a package's attribute that is not in its namespace is looked
  up as a submodule (``__init__`` re-exports and ``import a.b`` both work).

What is never read: the standard library and the libraries whose parsers are
modelled (argparse, click, typer, ...): their names stay :class:`Ref` values
the library models understand. Any name a model handles (a key of the
interpreter's handler table, e.g. ``transformers.HfArgumentParser``) stays a
``Ref`` too, even when its module is read for other names.

Budgets end with a diagnostic: import nesting depth, number of files, bytes
per file and in total, and evaluation steps per module body and for the run.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.errors import EntrypointError
from keynet_train.extraction.families import FAMILY_MODULES, FAMILY_NAMES
from keynet_train.extraction.finder import ModuleFinder, ModuleSpec
from keynet_train.extraction.runtime import (
    BreakSignal,
    BudgetExceeded,
    ContinueSignal,
    Invoked,
    ReturnSignal,
)
from keynet_train.extraction.values import (
    MISSING,
    UNKNOWN,
    LazyImport,
    ModuleValue,
    Ref,
    Scope,
    module_ref_name,
)

if TYPE_CHECKING:
    from keynet_train.extraction.statements import StatementExecutor

__all__ = [
    "MAX_FILES",
    "MAX_IMPORT_DEPTH",
    "MODELLED_NAMES",
    "MODULE_STEPS",
    "NEVER_READ",
    "TOTAL_STEPS",
    "ModuleLoader",
]

#: Modules nested deeper than this (a imports b imports c ...) are not read.
MAX_IMPORT_DEPTH = 32
#: At most this many files are read per run (project and libraries together)...
MAX_FILES = 300
#: ... and at most this many of them from installed libraries (parsing a large
#: library module costs tens of milliseconds).
MAX_LIBRARY_FILES = 60
#: A library package with more deferred star imports than this reads only
#: those already read when a name is looked up in them.
MAX_EAGER_STARS = 8
#: Larger files are skipped (a generated or vendored module, not parser code).
MAX_FILE_BYTES = 2 * 1024 * 1024
#: At most this many bytes are read per run.
MAX_TOTAL_BYTES = 16 * 1024 * 1024
#: Steps one imported module's top-level code may spend; its functions called
#: by the script count against the script's own budget.
MODULE_STEPS = 100_000
#: Steps of a whole run, the entrypoint and every module together.
TOTAL_STEPS = 1_000_000

#: Top-level modules that are modelled (each family's ``never_read``) or stand
#: for mechanisms reported by name, and so are never read from source, even
#: when installed.
NEVER_READ = FAMILY_MODULES | frozenset(
    {
        "typing_extensions",
        "hydra",
        "omegaconf",
        "absl",
        "jsonargparse",
        "docopt",
        "lightning",
        "pytorch_lightning",
    }
)
#: Names the models recognise as they are (beyond the handler table's keys):
#: field functions and dataclass decorators read by the dataclass families.
#: They stay Refs even when their library is installed and read.
MODELLED_NAMES = FAMILY_NAMES
_STDLIB = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)


class ModuleLoader:
    """Loads modules for one extraction run; see the module docstring."""

    def __init__(self, finder: ModuleFinder, package: str = "") -> None:
        self.finder = finder
        #: The entrypoint's own package, for its relative imports.
        self.package = package
        self.modules: dict[str, ModuleValue] = {}
        self._specs: dict[str, ModuleSpec | None] = {}
        self._missing: set[str] = set()
        self.files_read = 0
        self.bytes_read = 0
        self.depth = 0
        #: Library files read, in the order they were read (reported to the user).
        self.external_files: list[str] = []
        #: Display paths of library files: their diagnostics are not the user's business.
        self.library_paths: set[str] = set()

    # ----------------------------------------------------------- statements
    def exec_import(self, interp: StatementExecutor, stmt: ast.Import, scope: Scope) -> None:
        """``import a.b.c`` binds ``a``; ``import a.b as c`` binds ``c`` to ``a.b``."""
        for alias in stmt.names:
            if alias.asname:
                scope.assign(alias.asname, self._lazy_module(interp, alias.name, alias.name))
            else:
                top = alias.name.split(".", 1)[0]
                scope.assign(top, self._lazy_module(interp, alias.name, top))

    def exec_import_from(
        self, interp: StatementExecutor, stmt: ast.ImportFrom, scope: Scope
    ) -> None:
        """``from m import a as b`` binds lazily; ``from m import *`` copies names now."""
        name = self.absolute_name(stmt.module or "", stmt.level, scope)
        for alias in stmt.names:
            if alias.name == "*":
                if name is not None and interp.defs_only:
                    self._defer_star_import(interp, name, scope)
                elif name is not None:
                    self._star_import(interp, name, scope, stmt.lineno)
                continue
            bound = alias.asname or alias.name
            if name is None:  # a relative import outside any package
                scope.assign(bound, Ref(f".local.{alias.name}"))
            elif not self._readable(name):
                scope.assign(bound, Ref(f"{module_ref_name(name)}.{alias.name}"))
            else:
                scope.assign(bound, self._lazy_attr(interp, name, alias.name))

    def absolute_name(self, module: str, level: int, scope: Scope) -> str | None:
        """The absolute dotted name of ``from <level dots><module> import``, or None."""
        if level == 0:
            return module
        package = scope.module().vars.get("__package__")
        if not isinstance(package, str) or not package:
            return None
        parts = package.split(".")
        if level - 1 >= len(parts):
            return None
        base = ".".join(parts[: len(parts) - (level - 1)])
        return f"{base}.{module}" if module else base

    # ------------------------------------------------------------ resolving
    def import_attr(self, interp: StatementExecutor, module: str, attr: str) -> object:
        """The value of ``from module import attr`` (loading ``module``), for other models too.

        A name a model handles stays a :class:`Ref`; a name the module does not
        define is looked up as a submodule; otherwise UNKNOWN. Unreadable
        modules give ``Ref("module.attr")`` as when no loader is used.

        Raises:
            Invoked: the module's top-level code parsed the command line.
            BudgetExceeded: the run's step budget is spent.
        """
        full = f"{module_ref_name(module)}.{attr}"
        if _modelled(interp, full) or not self._readable(module):
            return Ref(full)
        if self.depth >= MAX_IMPORT_DEPTH:
            # a chain of re-exports (a imports b's name, b imports c's ...) resolves
            # recursively, like nested imports: same limit
            interp.note(interp.line, _DEPTH_MESSAGE, "warning")
            return UNKNOWN
        self.depth += 1
        try:
            mod = self.load(interp, module)
            if mod is None:
                return Ref(full)
            return self.module_attr(interp, mod, attr)
        finally:
            self.depth -= 1

    def module_attr(self, interp: StatementExecutor, mod: ModuleValue, attr: str) -> object:
        """``mod.attr``: its namespace, else a submodule of a package, else UNKNOWN.

        Raises:
            Invoked: a module's top-level code parsed the command line.
            BudgetExceeded: the run's step budget is spent.
        """
        full = f"{mod.name}.{attr}"
        if _modelled(interp, full):
            return Ref(full)
        value = mod.scope.get(attr)
        unbound = attr not in mod.scope.vars or type(mod.scope.vars[attr]) is LazyImport
        if value is UNKNOWN and unbound and mod.is_package:
            # ``from . import b`` in the package's own __init__ (a cycle while it
            # resolves), or a submodule not imported by it: the submodule.
            sub = self.load(interp, full)
            if sub is not None:
                return sub
        if attr == "__name__" and value is UNKNOWN:
            return mod.name
        return value

    def load(self, interp: StatementExecutor, name: str) -> ModuleValue | None:
        """The module ``name`` (absolute, dotted), read and run once per run; None if unreadable.

        Parents are loaded first, as at runtime, and the child is bound in
        its parent's namespace.

        Raises:
            Invoked: a module's top-level code parsed the command line.
            BudgetExceeded: the run's step budget is spent.
        """
        cached = self.modules.get(name)
        if cached is not None:
            return cached
        if name in self._missing or not self._readable(name):
            return None
        parent_name, _, last = name.rpartition(".")
        parent: ModuleValue | None = None
        if parent_name:
            parent = self.load(interp, parent_name)
            if parent is None:
                self._missing.add(name)
                return None
            cached = self.modules.get(name)  # the parent's __init__ may have loaded it
            if cached is not None:
                return cached
        spec = self._spec(name)
        if spec is None:
            self._missing.add(name)
            return None
        module = self._execute(interp, spec)
        if module is None:
            self._missing.add(name)
            return None
        if parent is not None and last not in parent.scope.vars:
            parent.scope.vars[last] = module
        return module

    def _spec(self, name: str) -> ModuleSpec | None:
        if name in self._specs:
            return self._specs[name]
        parent_name, _, last = name.rpartition(".")
        spec: ModuleSpec | None
        if not parent_name:
            spec = self.finder.find_top(name)
        else:
            parent = self._spec(parent_name)
            spec = self.finder.find_sub(parent, last) if parent and parent.is_package else None
        self._specs[name] = spec
        return spec

    def _readable(self, name: str) -> bool:
        top = name.split(".", 1)[0]
        return bool(top) and top not in NEVER_READ and top not in _STDLIB

    # ------------------------------------------------------------ executing
    def _execute(self, interp: StatementExecutor, spec: ModuleSpec) -> ModuleValue | None:
        display = _display(spec.path) if spec.path is not None else spec.name
        tree = self._read(interp, spec, display)
        if tree is None and spec.path is not None:
            return None
        scope = Scope()
        package = spec.name if spec.is_package else spec.name.rpartition(".")[0]
        scope.vars.update({"__name__": spec.name, "__file__": display, "__package__": package})
        module = ModuleValue(spec.name, display, scope, spec.is_package)
        self.modules[spec.name] = module
        if tree is not None:
            if spec.is_library:
                self.library_paths.add(display)
            self._run_body(interp, module, tree)
        module.loaded = True
        return module

    def _read(self, interp: StatementExecutor, spec: ModuleSpec, display: str) -> ast.Module | None:
        """Parse the module's file within the file, byte and depth budgets; None if not."""
        if spec.path is None:
            return None
        problem = self._over_budget(spec.path, spec.is_library)
        if problem is None and not self.finder.contains(spec.path):
            problem = (
                f"module {spec.name} ({display}) is a symlink that leads outside the project, "
                "the build context and the library roots; not read"
            )
        if problem is None:
            from keynet_train.extraction.source import load_source

            if _is_blank(spec.path):  # an empty __init__.py is a package, not an error
                self.files_read += 1
                return ast.Module(body=[], type_ignores=[])
            try:
                source = load_source(spec.path)
            except EntrypointError as e:
                problem = f"could not read module {spec.name} ({display}): {e.message}"
            else:
                self.files_read += 1
                self.bytes_read += len(source.text)
                if spec.is_library:
                    self.external_files.append(display)
                return source.tree
        interp.note(interp.line, problem, "warning")
        return None

    def _over_budget(self, path: Path, is_library: bool) -> str | None:
        if self.depth >= MAX_IMPORT_DEPTH:
            return _DEPTH_MESSAGE
        if self.files_read >= MAX_FILES:
            return f"more than {MAX_FILES} modules reached; further imports are not followed"
        if is_library and len(self.external_files) >= MAX_LIBRARY_FILES:
            return (
                f"more than {MAX_LIBRARY_FILES} modules of installed libraries reached; "
                f"{_display(path)} not read"
            )
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        if size > MAX_FILE_BYTES:
            return f"module {_display(path)} is larger than {MAX_FILE_BYTES} bytes; not read"
        if self.bytes_read + size > MAX_TOTAL_BYTES:
            return (
                f"more than {MAX_TOTAL_BYTES} bytes of modules reached; {_display(path)} not read"
            )
        return None

    def _run_body(self, interp: StatementExecutor, module: ModuleValue, tree: ast.Module) -> None:
        """Walk the module body with its own step allowance, then give the steps back.

        A module's top-level code spends at most ``MODULE_STEPS`` and does not
        eat the script's budget; the run as a whole stops at ``TOTAL_STEPS``.
        """
        saved_path, saved_line, saved_limit = interp.path, interp.line, interp.max_steps
        saved_defs_only = interp.defs_only
        start = interp.steps
        interp.max_steps = min(TOTAL_STEPS, start + MODULE_STEPS)
        interp.path, interp.line = module.path, 1
        interp.defs_only = module.path in self.library_paths
        self.depth += 1
        try:
            interp.exec_block(tree.body, module.scope)
        except BudgetExceeded:
            if interp.steps > TOTAL_STEPS or saved_limit >= TOTAL_STEPS:
                raise
            interp.note(
                interp.line,
                f"module {module.name}: its top-level code spent the budget of "
                f"{MODULE_STEPS} evaluation steps here; names defined after this point "
                "are unknown",
                "warning",
                # A project module's missing names may be the parser's pieces.
                partial=module.path not in self.library_paths,
            )
        except (ReturnSignal, BreakSignal, ContinueSignal):
            pass
        except Invoked as inv:
            if not inv.path:
                inv.path = module.path
            raise
        finally:
            self.depth -= 1
            interp.path, interp.line = saved_path, saved_line
            interp.defs_only = saved_defs_only
            interp.max_steps = min(TOTAL_STEPS, saved_limit + (interp.steps - start))

    def _star_import(self, interp: StatementExecutor, name: str, scope: Scope, line: int) -> None:
        module = self.load(interp, name)
        if module is None:
            interp.note(line, f"'from {name} import *': module not found; its names are unknown")
            return
        exported = module.scope.get("__all__")
        names: list[str]
        if isinstance(exported, (list, tuple)) and all(isinstance(n, str) for n in exported):
            names = [str(n) for n in exported]
        else:
            if "__all__" in module.scope.vars:
                interp.note(line, f"__all__ of {name} is not known statically; public names used")
            names = [n for n in module.scope.vars if not n.startswith("_")]
        for n in names:
            if n in module.scope.vars:
                scope.assign(n, module.scope.vars[n])
            else:
                scope.assign(n, self._lazy_attr(interp, name, n))

    def _defer_star_import(self, interp: StatementExecutor, name: str, scope: Scope) -> None:
        """A library's ``from m import *``: names are looked up in ``m`` only when missed.

        Package ``__init__`` files of large libraries star-import hundreds of
        submodules; reading them all to copy their names would cost seconds.
        A name the package does not define is looked for in its star sources,
        last first; a source not read yet is read only when the package has
        at most ``MAX_EAGER_STARS`` of them (a small library's re-exports).
        """
        module_scope = scope.module()
        if module_scope.stars is None:
            module_scope.stars = []
        stars = module_scope.stars
        busy: set[str] = set()

        def resolve(attr: str) -> object:
            module = self.modules.get(name)
            if module is None and len(stars) <= MAX_EAGER_STARS and attr not in busy:
                module = self.load(interp, name)
            if module is None or attr in busy or not _exported(module, attr):
                return MISSING
            busy.add(attr)  # a star cycle (a imports * from b, b from a) ends here
            try:
                if attr in module.scope.vars:
                    return module.scope.get(attr)
                if module.scope.stars is not None:
                    return module.scope.from_stars(attr)
                return MISSING
            finally:
                busy.discard(attr)

        stars.append(resolve)

    # ------------------------------------------------------------ laziness
    def _lazy_module(self, interp: StatementExecutor, dotted: str, bound: str) -> object:
        """What ``import dotted`` binds under ``bound`` (``a`` or the ``as`` name)."""
        if not self._readable(dotted):
            return Ref(module_ref_name(bound))

        binds_top = "." in dotted and bound == dotted.split(".", 1)[0]

        def resolve() -> object:
            target = self.load(interp, dotted)
            if binds_top and bound in self.modules:
                # ``import a.b`` binds ``a``, even when ``a.b`` itself cannot be read
                return self.modules[bound]
            return Ref(module_ref_name(bound)) if target is None else target

        return LazyImport(resolve)

    def _lazy_attr(self, interp: StatementExecutor, module: str, attr: str) -> object:
        if _modelled(interp, f"{module_ref_name(module)}.{attr}"):
            return Ref(f"{module_ref_name(module)}.{attr}")
        return LazyImport(lambda: self.import_attr(interp, module, attr))

    def summary(self, since: int = 0) -> str | None:
        """A one-line account of the installed-library files read after the first ``since``.

        None if there are none.
        """
        files = self.external_files[since:]
        if not files:
            return None
        shown = ", ".join(files[:8])
        more = len(files) - 8
        tail = f" and {more} more" if more > 0 else ""
        count = len(files)
        return (
            f"read {count} file{'s' if count != 1 else ''} of installed libraries "
            f"(outside the project, never imported): {shown}{tail}"
        )


_DEPTH_MESSAGE = f"imports nested deeper than {MAX_IMPORT_DEPTH} modules are not followed"


def _modelled(interp: StatementExecutor, full: str) -> bool:
    return full in interp.handlers or full in MODELLED_NAMES


def _exported(module: ModuleValue, attr: str) -> bool:
    """Whether ``from module import *`` binds ``attr`` (its ``__all__``, else public names)."""
    exported = module.scope.vars.get("__all__")
    if isinstance(exported, (list, tuple)) and all(isinstance(n, str) for n in exported):
        return attr in exported
    return not attr.startswith("_")


def _is_blank(path: Path) -> bool:
    from keynet_train.files import UnreadableFile, read_regular_file

    try:
        return path.stat().st_size < 256 and not read_regular_file(path, 256).strip()
    except (OSError, UnreadableFile):
        return False


def _display(path: Path) -> str:
    """``path`` relative to the working directory when inside it, else absolute."""
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute)
    except ValueError:  # another drive on Windows
        return absolute
    return absolute if rel.startswith("..") else rel
