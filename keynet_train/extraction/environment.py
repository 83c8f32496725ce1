"""Where an environment's installed libraries live, found without running their code.

The extractor may read the *source* of installed libraries (a parser factory
in a library, ``TrainingArguments``' fields), so it needs the import path of
the environment the script runs in. Which environment:

1. the interpreter named by ``--python`` / ``KEYNET_PYTHON`` / the project
   file's ``python`` (a path to an interpreter or to a virtualenv directory);
2. else the active virtualenv (``VIRTUAL_ENV``);
3. else the interpreter running keynet-train.

Nothing that could run code from that environment is run:

- a virtualenv's ``site-packages`` is found from its layout (``pyvenv.cfg``,
  ``lib/python3.X/site-packages``, ``Lib/site-packages``), and the base
  interpreter's too when ``include-system-site-packages = true``;
- ``.pth`` files are read as lists of directories; their ``import`` lines
  (which ``site`` would execute) are skipped;
- a bare interpreter is asked only for its ``sysconfig`` paths, with ``-I -S``
  (isolated mode, no ``site``: no ``.pth`` file, no ``sitecustomize``, no
  user directory, no environment variables are honoured).

The standard library's own directory is never part of the result: stdlib
modules are modelled, not read.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from keynet_train.errors import ExtractionError

__all__ = ["library_paths", "pth_entries", "venv_site_packages"]

#: Asking a bare interpreter for its paths may take this long (a cold start on
#: a slow disk); past it the environment is reported as unreadable.
QUERY_TIMEOUT = 20.0
#: At most this many ``.pth`` files and lines are read per directory.
MAX_PTH_FILES = 200
MAX_PTH_LINES = 1_000

_QUERY = (
    "import json, sys, sysconfig; "
    "print(json.dumps([sys.prefix, sysconfig.get_path('purelib'), sysconfig.get_path('platlib')]))"
)


def library_paths(python: str | None, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The directories installed libraries are imported from, in import order.

    ``python`` is an interpreter or virtualenv path (``--python``,
    ``KEYNET_PYTHON`` or the project file), or None for the default order.

    Raises:
        ExtractionError: ``python`` names nothing usable (missing, not an
            interpreter, or an interpreter that fails or hangs when asked for
            its paths).
    """
    env = os.environ if environ is None else environ
    if python:
        return _dedupe(_paths_of(Path(python).expanduser()))
    venv = env.get("VIRTUAL_ENV")
    if venv and (Path(venv) / "pyvenv.cfg").is_file():
        return _dedupe(venv_site_packages(Path(venv)))
    return _dedupe(_running_interpreter_paths())


def _paths_of(target: Path) -> list[Path]:
    if target.is_dir():
        if (target / "pyvenv.cfg").is_file():
            return venv_site_packages(target)
        raise ExtractionError(
            f"--python {target}: a directory that is not a virtualenv (no pyvenv.cfg)",
            "Pass the environment's interpreter (e.g. .venv/bin/python) or its directory.",
        )
    if not target.exists():
        raise ExtractionError(
            f"--python {target}: no such file",
            "Pass the interpreter of the environment the script runs in "
            "(e.g. .venv/bin/python), or unset KEYNET_PYTHON.",
        )
    venv = _venv_of(target)
    if venv is not None:
        return venv_site_packages(venv)
    return _ask_interpreter(target)


def _venv_of(interpreter: Path) -> Path | None:
    """The virtualenv an interpreter path belongs to (``venv/bin/python``), if any.

    The path is not resolved: a venv's ``bin/python`` is usually a symlink to
    the base interpreter, and following it would lose the venv.
    """
    for candidate in (interpreter.parent.parent, interpreter.parent):
        if (candidate / "pyvenv.cfg").is_file():
            return candidate
    return None


def venv_site_packages(venv: Path) -> list[Path]:
    """A virtualenv's site-packages directories (and their ``.pth`` entries), from its layout.

    Raises nothing: an unreadable ``pyvenv.cfg`` counts as an isolated venv.
    """
    sites = sorted(p for p in venv.glob("lib/python3*/site-packages") if p.is_dir())
    sites += [p for p in (venv / "Lib" / "site-packages",) if p.is_dir()]
    config = _read_pyvenv_cfg(venv / "pyvenv.cfg")
    paths = _with_pth(sites)
    if config.get("include-system-site-packages", "").lower() == "true":
        home = config.get("home")
        if home:
            base = _base_interpreter(Path(home))
            if base is not None:
                # the venv's own packages are still worth reading if the base fails
                with contextlib.suppress(ExtractionError):
                    paths += _ask_interpreter(base)
    return paths


def _read_pyvenv_cfg(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    config: dict[str, str] = {}
    for line in text.splitlines()[:100]:
        key, sep, value = line.partition("=")
        if sep:
            config[key.strip().lower()] = value.strip()
    return config


def _base_interpreter(home: Path) -> Path | None:
    for name in ("python3", "python", "python.exe"):
        if (home / name).is_file():
            return home / name
    return None


def _ask_interpreter(interpreter: Path) -> list[Path]:
    """Ask a bare interpreter for its library directories with ``-I -S`` (no site, no .pth).

    Raises:
        ExtractionError: it cannot be run, fails, hangs or answers nonsense.
    """
    # imported here: most runs never ask an interpreter, and inspect must start fast
    import json
    import subprocess

    hint = "Pass the interpreter of the environment the script runs in, e.g. .venv/bin/python."
    try:
        proc = subprocess.run(
            [str(interpreter), "-I", "-S", "-c", _QUERY],
            capture_output=True,
            text=True,
            timeout=QUERY_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ExtractionError(
            f"--python {interpreter}: no answer within {QUERY_TIMEOUT:.0f} s", hint
        ) from None
    except OSError as e:
        raise ExtractionError(
            f"--python {interpreter}: cannot run it ({e.strerror or e})", hint
        ) from None
    try:
        prefix, purelib, platlib = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError, TypeError):
        raise ExtractionError(
            f"--python {interpreter}: not a Python interpreter "
            f"(exit status {proc.returncode} when asked for its sysconfig paths)",
            hint,
        ) from None
    sites = [Path(p) for p in (purelib, platlib) if isinstance(p, str)]
    # Debian's python3 installs apt packages in <prefix>/lib/python3/dist-packages,
    # which only its site module (skipped under -S) adds.
    if isinstance(prefix, str):
        sites.append(Path(prefix) / "lib" / "python3" / "dist-packages")
    return _with_pth([p for p in sites if p.is_dir()])


def _running_interpreter_paths() -> list[Path]:
    """The running interpreter's library directories (its import path minus the stdlib)."""
    import sysconfig

    stdlib = {sysconfig.get_path(k) for k in ("stdlib", "platstdlib")}
    sites: list[Path] = []
    for entry in sys.path:
        if not entry or entry in stdlib or entry.endswith((".zip", "lib-dynload")):
            continue
        path = Path(entry)
        if path.is_dir() and ("site-packages" in path.parts or "dist-packages" in path.parts):
            sites.append(path)
    return _with_pth(sites)


def _with_pth(sites: list[Path]) -> list[Path]:
    paths: list[Path] = []
    for site in sites:
        paths.append(site)
        paths.extend(pth_entries(site))
    return paths


def pth_entries(site: Path) -> list[Path]:
    """The directories the ``.pth`` files of ``site`` add, without running their ``import`` lines.

    Raises nothing: unreadable files and missing directories are skipped, as
    ``site`` does.
    """
    try:
        files = sorted(p for p in site.iterdir() if p.suffix == ".pth")[:MAX_PTH_FILES]
    except OSError:
        return []
    found: list[Path] = []
    for pth in files:
        try:
            lines = pth.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines[:MAX_PTH_LINES]:
            entry = line.rstrip()
            if not entry or entry.startswith("#"):
                continue
            if entry.startswith(("import ", "import\t")):
                continue  # site would exec this line; we never do
            path = Path(entry) if os.path.isabs(entry) else site / entry
            if path.is_dir():
                found.append(path)
    return found


def _dedupe(paths: list[Path]) -> list[Path]:
    seen: set[str] = set()
    out: list[Path] = []
    for path in paths:
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out
