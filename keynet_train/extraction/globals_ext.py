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

import os
import re
from collections.abc import Callable
from pathlib import Path

from keynet_train.extraction.interpreter import CallArgs, Interpreter, Invoked, Modelled, RefHandler
from keynet_train.extraction.model import Argument
from keynet_train.extraction.normalize import type_of_value
from keynet_train.extraction.targets import FamilyTarget
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
            type_name = type_of_value(value)
            assert type_name is not None
            result.append(Argument(name, type_name, value, False, None, None, (f"--{name}",)))
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
    values: dict[str, object] = {
        name: value
        for name, value in interp.module_scope.vars.items()
        if not name.startswith("_") and isinstance(value, (bool, int, float, str))
    }
    raise Invoked(GlobalsTarget(call.line, values), call.line)


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
    """The text of ``name``: next to the script, else as given (a path built from __file__)."""
    for path in (Path(interp.path).parent / name, Path(name)):
        try:
            with path.open("rb") as f:
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
