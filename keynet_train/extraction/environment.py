"""Where an environment's installed libraries live, found without running their code.

The extractor may read the *source* of installed libraries (a parser factory
in a library, ``TrainingArguments``' fields), so it needs the import path of
the environment the script runs in. Which environment:

1. the interpreter the user named with ``--python`` / ``KEYNET_PYTHON`` (a
   path to an interpreter or to a virtualenv directory);
2. else the project file's ``python``, which must be a virtualenv;
3. else the active virtualenv (``VIRTUAL_ENV``);
4. else the interpreter running keynet-train.

Nothing the project supplies is ever run (docs/security.md): a cloned
repository decides what its project file and ``.venv`` say, so a project
file's ``python``, ``VIRTUAL_ENV`` and ``pyvenv.cfg``'s ``home`` are only
*read* as directory layouts:

- a virtualenv's ``site-packages`` is found from its layout (``pyvenv.cfg``,
  ``lib/python3.X/site-packages``, ``Lib/site-packages``), and with
  ``include-system-site-packages = true`` the base installation's from the
  layout under ``home``'s parent (never by running the ``python`` there);
- ``.pth`` files are read as lists of directories; their ``import`` lines
  (which ``site`` would execute) are skipped;
- only an interpreter the user named, that is not a virtualenv's, is run, and
  only to ask for its ``sysconfig`` paths with ``-I -S`` (isolated mode, no
  ``site``: no ``.pth`` file, no ``sitecustomize``, no user directory, no
  environment variables are honoured), with a time limit and a cap on what it
  may print.

The standard library's own directory is never part of the result: stdlib
modules are modelled, not read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.errors import ExtractionError
from keynet_train.files import UnreadableFile, read_regular_file

if TYPE_CHECKING:
    import subprocess

__all__ = ["library_paths", "pth_entries", "venv_site_packages", "virtualenv_of"]

#: Asking a bare interpreter for its paths may take this long (a cold start on
#: a slow disk); past it the environment is reported as unreadable.
QUERY_TIMEOUT = 20.0
#: The sysconfig answer is a few hundred bytes; more than this is not an answer.
MAX_QUERY_OUTPUT = 64 * 1024
#: At most this many ``.pth`` files and lines (and bytes per file) are read per directory.
MAX_PTH_FILES = 200
MAX_PTH_LINES = 1_000
MAX_PTH_BYTES = 256 * 1024
#: ``pyvenv.cfg`` is a handful of lines.
MAX_PYVENV_CFG_BYTES = 64 * 1024

_QUERY = (
    "import json, sys, sysconfig; "
    "print(json.dumps([sys.prefix, sysconfig.get_path('purelib'), sysconfig.get_path('platlib')]))"
)

_INTERPRETER_HINT = (
    "Pass the interpreter of the environment the script runs in "
    "(e.g. --python .venv/bin/python), or unset KEYNET_PYTHON."
)


def library_paths(
    python: str | None,
    environ: Mapping[str, str] | None = None,
    *,
    project_python: Path | None = None,
    cwd: Path | None = None,
) -> list[Path]:
    """The directories installed libraries are imported from, in import order.

    ``python`` is the interpreter or virtualenv the *user* named (``--python``
    or ``KEYNET_PYTHON``), resolved against ``cwd`` (default: the working
    directory) when relative; it is the only program that may be run.
    ``project_python`` is the project file's ``python`` (absolute): read as a
    virtualenv layout, never run. With neither, ``VIRTUAL_ENV`` (read as a
    layout), else the running interpreter's import path.

    Raises:
        ExtractionError: ``python`` names nothing usable (missing, not an
            interpreter, or an interpreter that fails, hangs or prints too
            much when asked for its paths); ``project_python`` is not a
            virtualenv.
    """
    env = os.environ if environ is None else environ
    if python:
        target = Path(python).expanduser()
        if not target.is_absolute():
            # Relative to the working directory, never looked up on PATH: an
            # argv[0] without a slash would make subprocess search PATH.
            target = (cwd or Path.cwd()) / target
        return _dedupe(_paths_of(target))
    if project_python is not None:
        venv = virtualenv_of(project_python)
        if venv is None:
            raise ExtractionError(
                f"The project file's python = {project_python} is not a virtualenv "
                "(no pyvenv.cfg next to it or above it); keynet-train never runs a program "
                "named by a project file.",
                f"To use that interpreter, pass it yourself: --python {project_python} "
                "(or KEYNET_PYTHON); or point python at the virtualenv directory.",
            )
        return _dedupe(venv_site_packages(venv))
    venv_value = env.get("VIRTUAL_ENV")
    if venv_value and _is_venv_dir(Path(venv_value)):
        return _dedupe(venv_site_packages(Path(venv_value)))
    return _dedupe(_running_interpreter_paths())


def virtualenv_of(path: Path) -> Path | None:
    """The virtualenv ``path`` is (a directory holding ``pyvenv.cfg``) or whose interpreter it is.

    An interpreter is ``<venv>/bin/python`` or ``<venv>/Scripts/python.exe``
    (``pyvenv.cfg`` one level up), or ``<venv>/python.exe``. The path is not
    resolved: a venv's ``bin/python`` is usually a symlink to the base
    interpreter, and following it would lose the venv. Raises nothing.
    """
    try:
        if path.is_dir():
            return path if _is_venv_dir(path) else None
    except (OSError, ValueError):
        return None
    for candidate in (path.parent.parent, path.parent):
        if _is_venv_dir(candidate):
            return candidate
    return None


def _is_venv_dir(directory: Path) -> bool:
    try:
        return (directory / "pyvenv.cfg").is_file()
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return False


def _paths_of(target: Path) -> list[Path]:
    if target.is_dir():
        if _is_venv_dir(target):
            return venv_site_packages(target)
        raise ExtractionError(
            f"--python {target}: a directory that is not a virtualenv (no pyvenv.cfg)",
            "Pass the environment's interpreter (e.g. .venv/bin/python) or its directory.",
        )
    if not target.exists():
        raise ExtractionError(f"--python {target}: no such file", _INTERPRETER_HINT)
    venv = virtualenv_of(target)
    if venv is not None:
        return venv_site_packages(venv)
    return _ask_interpreter(target)


def venv_site_packages(venv: Path) -> list[Path]:
    """A virtualenv's site-packages directories (and their ``.pth`` entries), from its layout.

    With ``include-system-site-packages = true`` the base installation's
    site-packages follow, found under ``home``'s parent directory by layout:
    ``home`` is never run (docs/security.md). Raises nothing: an unreadable
    ``pyvenv.cfg`` counts as an isolated venv.
    """
    sites = sorted(p for p in venv.glob("lib/python3*/site-packages") if p.is_dir())
    sites += [p for p in (venv / "Lib" / "site-packages",) if p.is_dir()]
    config = _read_pyvenv_cfg(venv / "pyvenv.cfg")
    paths = _with_pth(sites)
    if config.get("include-system-site-packages", "").lower() == "true":
        home = config.get("home")
        if home and os.path.isabs(home) and "\x00" not in home:
            versions = _versions(config, sites)
            paths += _with_pth(_base_site_packages(Path(home), versions))
    return paths


def _versions(config: Mapping[str, str], sites: list[Path]) -> list[str]:
    """``3.X`` of the venv: from ``pyvenv.cfg``'s version, else its ``lib/python3.X``."""
    found: list[str] = []
    for key in ("version_info", "version"):
        parts = config.get(key, "").split(".")
        if len(parts) >= 2 and parts[0] == "3" and parts[1].isdigit():
            found.append(f"3.{parts[1]}")
    found += [p.parent.name.removeprefix("python") for p in sites if p.parent.name != "Lib"]
    return list(dict.fromkeys(v for v in found if v.startswith("3.")))


def _base_site_packages(home: Path, versions: list[str]) -> list[Path]:
    """The base installation's library directories, by the layouts CPython and Debian use.

    ``home`` is the directory of the base interpreter (``<prefix>/bin`` on
    POSIX, the installation directory on Windows).
    """
    prefix = home.parent if home.name == "bin" else home
    candidates = [prefix / "Lib" / "site-packages"]
    for version in versions:
        candidates += [
            prefix / "lib" / f"python{version}" / "site-packages",
            # Debian: pip's installs, then apt's.
            prefix / "local" / "lib" / f"python{version}" / "dist-packages",
            prefix / "lib" / f"python{version}" / "dist-packages",
        ]
    candidates.append(prefix / "lib" / "python3" / "dist-packages")
    found: list[Path] = []
    for path in candidates:
        try:
            if path.is_dir():
                found.append(path)
        except OSError:
            continue
    return found


def _read_pyvenv_cfg(path: Path) -> dict[str, str]:
    try:
        text = read_regular_file(path, MAX_PYVENV_CFG_BYTES).decode("utf-8", errors="replace")
    except UnreadableFile:
        return {}
    config: dict[str, str] = {}
    for line in text.splitlines()[:100]:
        key, sep, value = line.partition("=")
        if sep:
            config[key.strip().lower()] = value.strip()
    return config


def _ask_interpreter(interpreter: Path) -> list[Path]:
    """Ask a bare interpreter the user named for its library directories with ``-I -S``.

    Raises:
        ExtractionError: it cannot be run, fails, hangs, prints more than
            :data:`MAX_QUERY_OUTPUT` bytes or answers nonsense.
    """
    # imported here: most runs never ask an interpreter, and inspect must start fast
    import json

    hint = "Pass the interpreter of the environment the script runs in, e.g. .venv/bin/python."
    returncode, output = _run_capped([str(interpreter), "-I", "-S", "-c", _QUERY], interpreter)
    try:
        text = output.decode("utf-8", errors="replace")
        prefix, purelib, platlib = json.loads(text.strip().splitlines()[-1])
    except (ValueError, IndexError, TypeError):
        raise ExtractionError(
            f"--python {interpreter}: not a Python interpreter "
            f"(exit status {returncode} when asked for its sysconfig paths)",
            hint,
        ) from None
    sites = [Path(p) for p in (purelib, platlib) if isinstance(p, str)]
    # Debian's python3 installs apt packages in <prefix>/lib/python3/dist-packages,
    # which only its site module (skipped under -S) adds.
    if isinstance(prefix, str):
        sites.append(Path(prefix) / "lib" / "python3" / "dist-packages")
    return _with_pth([p for p in sites if p.is_dir()])


def _run_capped(argv: list[str], interpreter: Path) -> tuple[int, bytes]:
    """Run ``argv`` with no input; its exit status and stdout (stderr discarded).

    Bounded in time (:data:`QUERY_TIMEOUT`) and in memory: a program that
    prints endlessly is stopped once it passes :data:`MAX_QUERY_OUTPUT` bytes.

    Raises:
        ExtractionError: it cannot be started, hangs or prints too much.
    """
    import subprocess

    hint = "Pass the interpreter of the environment the script runs in, e.g. .venv/bin/python."
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except (OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise ExtractionError(f"--python {interpreter}: cannot run it ({reason})", hint) from None
    returncode, output, hung = _wait_capped(proc)
    if hung:
        raise ExtractionError(
            f"--python {interpreter}: no answer within {QUERY_TIMEOUT:.0f} s", hint
        ) from None
    if len(output) > MAX_QUERY_OUTPUT:
        raise ExtractionError(
            f"--python {interpreter}: printed more than {MAX_QUERY_OUTPUT} bytes when asked "
            "for its sysconfig paths; not a Python interpreter",
            hint,
        )
    return returncode, output


def _wait_capped(proc: subprocess.Popen[bytes]) -> tuple[int, bytes, bool]:
    """Read ``proc``'s stdout and wait for it, killing it when it hangs or prints too much.

    Its exit status, what it printed (at most one read past
    :data:`MAX_QUERY_OUTPUT` bytes) and whether it hung. A reader thread (not
    ``select``, which does not work on Windows pipes) lets the wait have a
    deadline. Raises nothing.
    """
    import io
    import subprocess
    import threading
    from typing import cast

    chunks: list[bytes] = []
    received = [0]
    # stdout=PIPE with the default buffering is a BufferedReader, which has read1
    stdout = cast("io.BufferedReader", proc.stdout)

    def read() -> None:
        while received[0] <= MAX_QUERY_OUTPUT:
            chunk = stdout.read1(65536)
            if not chunk:
                return
            chunks.append(chunk)
            received[0] += len(chunk)

    reader = threading.Thread(target=read, name="keynet-python-query", daemon=True)
    reader.start()
    reader.join(QUERY_TIMEOUT)
    hung = reader.is_alive()
    try:
        if hung or received[0] > MAX_QUERY_OUTPUT:
            proc.kill()
        try:
            returncode = proc.wait(timeout=QUERY_TIMEOUT if not hung else 5)
        except subprocess.TimeoutExpired:
            proc.kill()
            returncode = proc.wait()
    finally:
        reader.join(5)
        stdout.close()
    return returncode, b"".join(chunks), hung


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
    ``site`` does, and so are files that are not regular or larger than
    :data:`MAX_PTH_BYTES`.
    """
    try:
        files = sorted(p for p in site.iterdir() if p.suffix == ".pth")[:MAX_PTH_FILES]
    except OSError:
        return []
    found: list[Path] = []
    for pth in files:
        try:
            data = read_regular_file(pth, MAX_PTH_BYTES)
        except UnreadableFile:
            continue  # a FIFO, device or huge file is not a path list; site would choke too
        for line in data.decode("utf-8", errors="replace").splitlines()[:MAX_PTH_LINES]:
            entry = line.rstrip()
            if not entry or entry.startswith("#") or "\x00" in entry:
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
