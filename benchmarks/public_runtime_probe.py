"""Runtime side of the public-script measurement: run a script to its parse, print the oracle JSON.

Run by ``benchmarks/measure_public.py`` with a *scratch* interpreter (a venv
holding click/typer/fire/tyro/transformers, never torch), in a subprocess
with a timeout, because it executes third-party code up to the point where
it parses its command line. Modules that are not installed (torch,
torchvision, numpy, ...) are replaced by permissive stubs: any attribute is
another stub, stubs can be called, subclassed, iterated (empty) and used as
decorators (which then return the decorated function unchanged), so module
level code runs far enough to build the parser. Values computed from stubs
are not JSON-native, so the oracle reports them as null, as the static side
does for values it cannot know.

Usage: python benchmarks/public_runtime_probe.py REPO_ROOT SCRIPT [COMMAND]
(REPO_ROOT is this repository, for ``tests.extraction.oracle``.)
"""

from __future__ import annotations

import abc
import contextlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
import types
from collections.abc import Sequence
from typing import Any


class _StubMeta(abc.ABCMeta):
    # ABCMeta, so a class deriving from a stub and an abc.ABC class has a metaclass.
    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _stub_class(f"{cls.__name__}.{name}")

    def __iter__(cls) -> Any:
        return iter(())

    def __getitem__(cls, item: object) -> Any:
        return cls

    def __or__(cls, other: object) -> Any:
        return cls

    def __ror__(cls, other: object) -> Any:
        return cls


class _Stub(metaclass=_StubMeta):
    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __new__(cls, *args: object, **kwargs: object) -> Any:
        # ``@torch.jit.script``-style decorators called with the function:
        # hand the function back so the script keeps calling it.
        if len(args) == 1 and not kwargs and isinstance(args[0], types.FunctionType):
            return args[0]
        return super().__new__(cls)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _Stub()

    def __call__(self, *args: object, **kwargs: object) -> Any:
        if len(args) == 1 and not kwargs and isinstance(args[0], (types.FunctionType, type)):
            return args[0]
        return _Stub()

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return True

    def __getitem__(self, item: object) -> Any:
        return _Stub()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    def __add__(self, other: object) -> Any:
        return _Stub()

    __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __add__
    __rtruediv__ = __floordiv__ = __mod__ = __pow__ = __or__ = __ror__ = __add__

    def __lt__(self, other: object) -> bool:
        # ``torch.cuda.device_count() > 1``: a stub compares as "no".
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __int__(self) -> int:
        return 0

    __index__ = __int__

    def __float__(self) -> float:
        return 0.0


def _stub_class(name: str) -> type:
    return _StubMeta(name, (_Stub,), {})


class _AnyVersion(str):
    """A stub library's ``__version__``: equal to, and at least, any version checked against."""

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __ge__(self, other: object) -> bool:
        return True

    __le__ = __ge__
    __hash__ = str.__hash__


class _StubModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name == "__version__":
            return _AnyVersion("99.0.0")  # version checks (torch.__version__ >= "1.8") pass
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = _stub_class(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path: whatever no real finder found becomes a stub package."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top, _, _ = fullname.partition(".")
        if top in sys.stdlib_module_names:
            return None  # _winapi & co.: the stdlib handles their absence itself
        parent = sys.modules.get(fullname.rpartition(".")[0]) if "." in fullname else None
        if parent is not None and not isinstance(parent, _StubModule):
            return None  # a real package's missing submodule is a real ImportError
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _StubModule(spec.name)
        module.__path__ = []
        stubbed.append(spec.name)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


stubbed: list[str] = []


def main(argv: list[str]) -> int:
    repo_root, script = argv[0], os.path.abspath(argv[1])
    command = argv[2] if len(argv) > 2 and argv[2] else None
    sys.path.insert(0, repo_root)
    from tests.extraction.oracle import runtime_extract  # our oracle; imports click/typer

    sys.path.remove(repo_root)
    # As `python SCRIPT` would: the script's directory first on sys.path, run from there.
    sys.path.insert(0, os.path.dirname(script))
    os.chdir(os.path.dirname(script))
    # Submodules that libraries reach as attributes of a package someone else
    # imported first (``packaging.version``): imported up front when installed.
    # The oracles' own libraries are imported before any stub exists, so that
    # transformers sees no (stub) torch and never asks for accelerate.
    for name in ("packaging.version", "importlib.metadata", "fire", "tyro", "typer", "yaml"):
        with contextlib.suppress(ImportError):
            __import__(name)
    with contextlib.suppress(ImportError):
        from transformers import HfArgumentParser, TrainingArguments  # noqa: F401
    sys.meta_path.append(_StubFinder())
    # Some scripts size a progress bar from ``stty size`` at import time; the
    # probe has no terminal, so answer as a 24x80 one would.
    real_popen = os.popen

    def popen(cmd: str, *args: Any, **kwargs: Any) -> Any:
        if cmd.strip().startswith("stty size"):
            import io

            return io.StringIO("24 80\n")
        return real_popen(cmd, *args, **kwargs)

    os.popen = popen  # type: ignore[assignment]
    import inspect
    import pathlib

    # Directories an install of the project puts on sys.path (PYTHONPATH here):
    # functions defined there are the project's own (type= helpers are probed).
    roots = tuple(pathlib.Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
    kwargs: dict[str, Any] = {}
    if "roots" in inspect.signature(runtime_extract).parameters:
        kwargs["roots"] = roots
    try:
        doc = runtime_extract(pathlib.Path(script), command, **kwargs)
        error = None
    except BaseException as e:  # noqa: BLE001 - third-party code may raise anything
        doc = {"parser_type": None, "arguments": [], "command": None}
        error = f"{type(e).__name__}: {e}"[:300]
    doc["error"] = error
    doc["stubbed"] = sorted({m.split(".")[0] for m in stubbed})
    print("@@RUNTIME@@" + json.dumps(doc, default=lambda v: None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
