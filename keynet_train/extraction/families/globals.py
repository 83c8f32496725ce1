"""Config by globals, modelled: module-level literals, then ``exec(open(CONFIGURATOR).read())``.

The nanoGPT pattern: a script defines ``batch_size = 12``, ``learning_rate =
6e-4``... at module level, then executes a small configurator that walks
``sys.argv`` and, for each ``--key=value``, replaces the global ``key`` with
``ast.literal_eval(value)`` (after checking it exists and the type matches).
The hyperparameters are the ``int``/``float``/``bool``/``str`` globals whose
names do not start with ``_``, with the values they have when the
configurator runs. Only ``--key=value`` is understood (never ``--key value``).
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable
from pathlib import Path

from keynet_train.extraction.families.contract import CommandHints
from keynet_train.extraction.families.targets import FamilyTarget, target_family
from keynet_train.extraction.interpreter import CallArgs, Interpreter, Invoked, Modelled, RefHandler
from keynet_train.extraction.model import Argument
from keynet_train.extraction.normalize import type_of_value
from keynet_train.extraction.values import UNKNOWN

#: Configurators larger than this are not read (to check they parse sys.argv).
_MAX_CONFIGURATOR_BYTES = 200_000
_ARGV = re.compile(r"\bsys\s*\.\s*argv\b|\bargv\b")


class _OpenFile(Modelled):
    """``open(path)`` of a path known statically; ``.read()`` gives :class:`_FileText`."""

    def __init__(self, path: str | None) -> None:
        self.path = path

    def call_method(self, interp: Interpreter, name: str, call: CallArgs) -> object:
        if name == "read" and not call.args:
            return _FileText(self.path)
        return UNKNOWN


class _FileText(Modelled):
    """The text of a file the interpreter did not read (only ``exec`` looks at it)."""

    def __init__(self, path: str | None) -> None:
        self.path = path


class GlobalsTarget(FamilyTarget):
    """The module's globals at the moment the configurator runs."""

    parser_type = "globals"

    def __init__(self, line: int, values: dict[str, object]) -> None:
        super().__init__(line)
        self.values = values

    def arguments(self, interp: Interpreter) -> list[Argument]:
        result = []
        for name, value in self.values.items():
            if isinstance(value, _Computed):
                type_name, default = value.type_name, None
            else:
                type_name, default = type_of_value(value) or "str", value
            result.append(Argument(name, type_name, default, False, None, None, (f"--{name}",)))
        return result


def _open(interp: Interpreter, call: CallArgs) -> object:
    path = call.args[0] if call.args else call.kwargs.get("file")
    mode = call.args[1] if len(call.args) > 1 else call.kwargs.get("mode", "r")
    if mode not in ("r", "rt"):
        return UNKNOWN
    # A path not known statically is kept as unknown: exec() of its text may
    # still be the configurator pattern.
    return _OpenFile(path if isinstance(path, str) else None)


def _exec(interp: Interpreter, call: CallArgs) -> object:
    code = call.args[0] if call.args else None
    if not isinstance(code, _FileText) or len(call.args) > 1:
        return UNKNOWN
    if not _is_configurator(interp, code.path, call.line):
        return UNKNOWN
    values: dict[str, object] = {}
    assigned = _module_assignments(interp.tree)
    for name, value in interp.module_scope.vars.items():
        if name.startswith("_"):
            continue
        if isinstance(value, (bool, int, float, str)):
            values[name] = value
        elif value is UNKNOWN and name in assigned:
            _computed_global(interp, name, assigned[name], values)
    raise Invoked(GlobalsTarget(call.line, values), call.line)


def _module_assignments(tree: ast.Module) -> dict[str, ast.Assign]:
    """The last top-level ``name = ...`` of each name (where a computed global comes from)."""
    found: dict[str, ast.Assign] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = stmt
    return found


def _computed_global(
    interp: Interpreter, name: str, stmt: ast.Assign, values: dict[str, object]
) -> None:
    """A global computed at runtime: listed (default null) when its type is clear, else noted.

    ``dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"`` is
    a str whatever the machine; the configurator can set it, so it is listed.
    """
    if isinstance(stmt.value, _NOT_SCALAR):
        return  # a list/dict/... (config_keys = [k for k in globals() ...]): never an option
    kinds = {type_of_value(v) for v in _literal_outcomes(stmt.value)}
    if len(kinds) == 1 and None not in kinds:
        values[name] = _Computed(kinds.pop() or "str")
        interp.note(
            stmt.lineno,
            f"default of '{name}' is computed at runtime; sent as null",
            "warning",
        )
    else:
        # Listed all the same: when it is an int, float, bool or str at runtime the
        # configurator can set it, and a dropped option would be a silent gap.
        values[name] = _Computed("str")
        interp.note(
            stmt.lineno,
            f"global '{name}' is computed at runtime: listed as str with a null default; "
            "the configurator can set it only if it is an int, float, bool or str",
            "warning",
        )


def _literal_outcomes(node: ast.expr) -> list[object]:
    """The constants an expression can give (``a if c else b``); [None] for anything else."""
    if isinstance(node, ast.IfExp):
        return _literal_outcomes(node.body) + _literal_outcomes(node.orelse)
    if isinstance(node, ast.Constant):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [""]
    if isinstance(node, (ast.Compare, ast.BoolOp)) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
    ):
        return (
            [False]
            if not isinstance(node, ast.BoolOp)
            else [v for part in node.values for v in _literal_outcomes(part)]
        )
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        # A conversion gives its type whatever its argument is.
        sample = {"int": 0, "float": 0.0, "str": "", "bool": False, "len": 0}
        if node.func.id in sample:
            return [sample[node.func.id]]
    return [None]


_NOT_SCALAR = (
    ast.List,
    ast.Tuple,
    ast.Dict,
    ast.Set,
    ast.ListComp,
    ast.DictComp,
    ast.SetComp,
    ast.GeneratorExp,
    ast.Lambda,
)


class _Computed:
    """A global of a known type whose value is only known at runtime."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name


def _is_configurator(interp: Interpreter, name: str | None, line: int) -> bool:
    """Whether the file run with exec() is a command-line configurator; notes say why.

    A file found that reads ``sys.argv`` is one; a file found that does not
    is something else (``exec(open("version.py").read())``) and the script
    goes on. A file not found counts only under nanoGPT's name
    ``configurator.py``; a path computed at runtime is assumed to be one.
    """
    if name is None:
        interp.note(
            line,
            "the file run with exec(open(...).read()) is not known statically; assuming it "
            "is a configurator that overrides the module's globals from --key=value",
        )
        return True
    text = _read_near(interp, name)
    if text is None:
        if Path(name).name != "configurator.py":
            interp.note(line, f"{name} (run with exec) was not found; it is not followed")
            return False
        interp.note(
            line,
            f"{name} (run with exec) was not found next to the script; assuming it "
            "overrides the module's globals from --key=value",
        )
        return True
    if not _ARGV.search(text):
        interp.note(
            line,
            f"{name} (run with exec) does not read sys.argv, so it is not a command-line "
            "configurator; it is not followed",
        )
        return False
    return True


def _read_near(interp: Interpreter, name: str) -> str | None:
    """The text of ``name``: next to the script, else as given (a path built from __file__).

    Only a regular file inside the project (or the library roots) is read: a
    script naming ``/home/me/.netrc``, a symlink leaving the project, a FIFO
    or ``/dev/stdin`` is treated as not found (docs/security.md).
    """
    from keynet_train.extraction.finder import is_inside, real_roots
    from keynet_train.files import UnreadableFile, open_regular_fd

    here = Path(interp.path).parent
    loader = interp.loader
    for path in (here / name, Path(name)):
        inside = (
            loader.finder.contains(path)
            if loader is not None
            else is_inside(path, real_roots([here]))
        )
        if not inside:
            continue
        try:
            fd = open_regular_fd(path)
        except UnreadableFile:
            continue
        try:
            with os.fdopen(fd, "rb") as f:
                return f.read(_MAX_CONFIGURATOR_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
    return None


def _path_function(function: Callable[[str], str]) -> RefHandler:
    """``os.path.dirname``/``basename``/``abspath``... of a known string (pure functions)."""

    def handler(interp: Interpreter, call: CallArgs) -> object:
        if len(call.args) == 1 and not call.kwargs and isinstance(call.args[0], str):
            return function(call.args[0])
        return UNKNOWN

    return handler


HANDLERS: dict[str, RefHandler] = {
    "builtins.open": _open,
    "builtins.exec": _exec,
    # configurator paths are often built from __file__
    "os.path.dirname": _path_function(os.path.dirname),
    "os.path.basename": _path_function(os.path.basename),
}

_SPELLING = "The configurator reads only --key=VALUE, so write {first}=VALUE (no space, one word)"
HINTS = CommandHints(
    _SPELLING,
    _SPELLING,
    equals_only=True,
    literal_values=True,
    # The platform always writes two words: asking it for --key=VALUE is no fix.
    platform_spelling_fix="The configurator reads only --key=VALUE and the platform writes "
    "--key VALUE; read the options with argparse (add_argument('--key', type=..., "
    "default=...)), or make the configurator also take --key VALUE",
)

FAMILY = target_family("globals", HANDLERS, GlobalsTarget, HINTS, title="configurator globals")
