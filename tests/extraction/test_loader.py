"""The project-wide module loader and installed-library reading (docs/extraction-rules.md)."""

from __future__ import annotations

import os
import pathlib
import socket
import stat
import sys
import textwrap

import pytest

from keynet_train.errors import ExtractionError
from keynet_train.extraction import ExtractionResult, extract_hyperparameters
from keynet_train.extraction import loader as loader_module
from keynet_train.extraction.environment import library_paths, pth_entries
from keynet_train.extraction.finder import ModuleFinder


def _write(root: pathlib.Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def _names(result: ExtractionResult) -> list[str]:
    return [a.name for a in result.arguments]


def _messages(result: ExtractionResult) -> list[str]:
    return [d.message for d in result.diagnostics]


def _venv(root: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    """A virtualenv laid out like ``python -m venv`` makes it, with ``files`` in site-packages."""
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "python").write_text("#!/bin/sh\nexit 99\n", encoding="utf-8")
    (root / "pyvenv.cfg").write_text("home = /nonexistent\nversion = 3.11.0\n", encoding="utf-8")
    site = root / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    _write(site, files)
    return site


_PARSER_SCRIPT = """\
import argparse
from {module} import {name}

parser = argparse.ArgumentParser()
{call}
parser.add_argument("--epochs", type=int, default=3)
parser.parse_args()
"""


# ----------------------------------------------------------------- trap tests
def _trap_code(marker: pathlib.Path, port: int) -> str:
    return f"""\
import os, socket, subprocess
open({str(marker)!r}, "w").write("ran")
pathlib_marker = __import__("pathlib").Path({str(marker)!r}).write_text("ran")
socket.create_connection(("127.0.0.1", {port}))
s = socket.socket()
s.connect(("127.0.0.1", {port}))
os.system("touch {marker}")
subprocess.run(["touch", {str(marker)!r}])
exec("open({str(marker)!r}, 'w')")
eval("__import__('os').remove({str(marker)!r})")
"""


@pytest.fixture
def listener() -> object:
    """A loopback socket that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def _nobody_connected(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def test_project_modules_are_read_never_run(
    tmp_path: pathlib.Path, listener: socket.socket
) -> None:
    marker = tmp_path / "executed.txt"
    port = listener.getsockname()[1]
    project = tmp_path / "proj"
    _write(
        project,
        {
            "evil.py": _trap_code(marker, port)
            + "def add_args(p):\n    p.add_argument('--lr', type=float, default=0.5)\n",
            "pkg/__init__.py": _trap_code(marker, port) + "from .inner import *\n",
            "pkg/inner.py": _trap_code(marker, port) + "WIDTH = 7\n",
            "train.py": _PARSER_SCRIPT.format(
                module="evil", name="add_args", call="add_args(parser)"
            )
            + "import pkg\nparser.add_argument('--width', default=pkg.WIDTH)\n",
        },
    )
    # the --width line comes after parse_args: move parse_args to the end
    script = (project / "train.py").read_text().replace("parser.parse_args()\n", "")
    (project / "train.py").write_text(script + "parser.parse_args()\n")
    result = extract_hyperparameters(project / "train.py")
    assert _names(result) == ["lr", "epochs", "width"]
    assert result.arguments[2].default == 7
    assert not marker.exists()
    assert _nobody_connected(listener)


def test_library_modules_and_pth_files_are_read_never_run(
    tmp_path: pathlib.Path, listener: socket.socket
) -> None:
    marker = tmp_path / "executed.txt"
    port = listener.getsockname()[1]
    venv = tmp_path / "venv"
    site = _venv(
        venv,
        {
            "trainkit/__init__.py": _trap_code(marker, port)
            + "from trainkit.factory import make_parser\n",
            "trainkit/factory.py": _trap_code(marker, port)
            + "import argparse\n"
            + "def make_parser():\n"
            + "    p = argparse.ArgumentParser()\n"
            + "    p.add_argument('--dropout', type=float, default=0.1)\n"
            + "    return p\n",
            # site would exec this line at start-up; reading .pth files must not
            "zz_evil.pth": f"import os; open({str(marker)!r}, 'w').write('pth ran')\n",
        },
    )
    assert site.is_dir()
    script = tmp_path / "proj" / "train.py"
    script.parent.mkdir()
    script.write_text(
        "from trainkit import make_parser\nparser = make_parser()\nparser.parse_args()\n"
    )
    result = extract_hyperparameters(script, python=str(venv / "bin" / "python"))
    assert _names(result) == ["dropout"]
    assert not marker.exists()
    assert _nobody_connected(listener)
    [summary] = [m for m in _messages(result) if "installed libraries" in m]
    assert "read 2 files of installed libraries" in summary
    assert "trainkit/__init__.py" in summary and "trainkit/factory.py" in summary


# ----------------------------------------------------------------- resolution
def test_entrypoint_in_a_package_resolves_relative_imports(tmp_path: pathlib.Path) -> None:
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/consts.py": "DEFAULT_SEED = 42\n",
            "app/train.py": "import argparse\nfrom .consts import DEFAULT_SEED\n"
            "p = argparse.ArgumentParser()\np.add_argument('--seed', default=DEFAULT_SEED)\n"
            "p.parse_args()\n",
        },
    )
    result = extract_hyperparameters(tmp_path / "app" / "train.py")
    assert [(a.name, a.type, a.default) for a in result.arguments] == [("seed", "int", 42)]


def test_build_context_is_an_import_root(tmp_path: pathlib.Path) -> None:
    _write(
        tmp_path,
        {
            "shared/hparams.py": "BATCH = 64\n",
            "jobs/train.py": "import argparse\nfrom shared.hparams import BATCH\n"
            "p = argparse.ArgumentParser()\np.add_argument('--batch', default=BATCH)\n"
            "p.parse_args()\n",
        },
    )
    without = extract_hyperparameters(tmp_path / "jobs" / "train.py")
    assert without.arguments[0].default is None
    with_context = extract_hyperparameters(tmp_path / "jobs" / "train.py", context=tmp_path)
    assert with_context.arguments[0].default == 64


def test_each_module_is_read_once(tmp_path: pathlib.Path) -> None:
    _write(
        tmp_path,
        {
            "consts.py": "A = 1\n",
            "m1.py": "from consts import A\nB = A + 1\n",
            "m2.py": "import consts\nimport m1\nC = consts.A + m1.B\n",
            "train.py": "import argparse\nimport m1, m2, consts\nfrom m2 import C\n"
            "p = argparse.ArgumentParser()\np.add_argument('--c', default=C + m1.B)\n"
            "p.parse_args()\n",
        },
    )
    finder = ModuleFinder([tmp_path], [])
    loader = loader_module.ModuleLoader(finder)
    from keynet_train.extraction.select import extract_from_tree
    from keynet_train.extraction.source import load_source

    source = load_source(tmp_path / "train.py")
    result = extract_from_tree(source.tree, "train.py", loader=loader)
    assert result.arguments[0].default == 5
    assert loader.files_read == 3
    assert sorted(loader.modules) == ["consts", "m1", "m2"]


def test_star_import_honours_all_and_skips_private_names(tmp_path: pathlib.Path) -> None:
    _write(
        tmp_path,
        {
            "a.py": "__all__ = ['X']\nX = 1\nY = 2\n",
            "b.py": "X = 10\nY = 20\n_Z = 30\n",
            "train.py": "import argparse\nY = 0\n_Z = 0\nfrom a import *\nfrom b import *\n"
            "p = argparse.ArgumentParser()\np.add_argument('--x', default=X)\n"
            "p.add_argument('--y', default=Y)\np.add_argument('--z', default=_Z)\np.parse_args()\n",
        },
    )
    result = extract_hyperparameters(tmp_path / "train.py")
    assert [a.default for a in result.arguments] == [10, 20, 0]


def test_modelled_libraries_are_never_read(tmp_path: pathlib.Path) -> None:
    """A site-packages ``click`` or ``argparse`` does not replace the models."""
    venv = tmp_path / "venv"
    _venv(venv, {"click/__init__.py": "def option(*a, **k):\n    raise SystemExit\n"})
    script = tmp_path / "train.py"
    script.write_text(
        "import click\n@click.command()\n@click.option('--lr', default=0.1)\n"
        "def main(lr):\n    pass\nmain()\n"
    )
    result = extract_hyperparameters(script, python=str(venv))
    assert _names(result) == ["lr"]
    assert not [m for m in _messages(result) if "installed libraries" in m]


def test_unknown_modules_stay_opaque(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "import argparse\nimport torch_not_installed as t\nfrom nowhere import thing\n"
        "p = argparse.ArgumentParser()\np.add_argument('--x', type=thing, default=t.X)\n"
        "p.parse_args()\n"
    )
    result = extract_hyperparameters(script)
    assert [(a.name, a.type, a.default) for a in result.arguments] == [("x", "str", None)]


# -------------------------------------------------------------------- budgets
def test_import_depth_budget(tmp_path: pathlib.Path) -> None:
    depth = loader_module.MAX_IMPORT_DEPTH + 5
    files = {f"m{i}.py": f"from m{i + 1} import V\n" for i in range(depth)}
    files[f"m{depth}.py"] = "V = 1\n"
    files["train.py"] = (
        "import argparse\nfrom m0 import V\np = argparse.ArgumentParser()\n"
        "p.add_argument('--v', default=V)\np.parse_args()\n"
    )
    _write(tmp_path, files)
    result = extract_hyperparameters(tmp_path / "train.py")
    assert _names(result) == ["v"]
    assert result.arguments[0].default is None
    assert any(
        f"nested deeper than {loader_module.MAX_IMPORT_DEPTH} modules" in m
        for m in _messages(result)
    )


def test_file_and_byte_budgets(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f"m{i}.py": f"V{i} = {i}\n" for i in range(5)}
    files["big.py"] = "W = 1\n" + "# padding\n" * 200
    files["train.py"] = (
        "import argparse\nimport big, m0, m1, m2, m3, m4\np = argparse.ArgumentParser()\n"
        "p.add_argument('--w', default=big.W)\n"
        + "".join(f"p.add_argument('--v{i}', default=m{i}.V{i})\n" for i in range(5))
        + "p.parse_args()\n"
    )
    # modules are read when first used: big.py first, refused for its size
    # (not counted as a file read), then m0..m2, then the file budget is spent
    _write(tmp_path, files)
    monkeypatch.setattr(loader_module, "MAX_FILES", 3)
    monkeypatch.setattr(loader_module, "MAX_FILE_BYTES", 1000)
    result = extract_hyperparameters(tmp_path / "train.py")
    assert [a.default for a in result.arguments] == [None, 0, 1, 2, None, None]
    messages = _messages(result)
    assert any("more than 3 modules reached" in m for m in messages)
    assert any("big.py is larger than 1000 bytes; not read" in m for m in messages)


def test_module_step_budget_keeps_the_script_going(tmp_path: pathlib.Path) -> None:
    _write(
        tmp_path,
        {
            "slow.py": "EARLY = 1\nt = 0\nfor i in range(1000):\n    for j in range(1000):\n"
            "        t = t + 1\nLATE = 2\n",
            "train.py": "import argparse\nfrom slow import EARLY, LATE\n"
            "p = argparse.ArgumentParser()\np.add_argument('--early', default=EARLY)\n"
            "p.add_argument('--late', default=LATE)\np.parse_args()\n",
        },
    )
    result = extract_hyperparameters(tmp_path / "train.py")
    assert [a.default for a in result.arguments] == [1, None]
    [warning] = [d for d in result.diagnostics if "module slow" in d.message]
    assert warning.path.endswith("slow.py")
    assert warning.line == 5
    assert f"budget of {loader_module.MODULE_STEPS} evaluation steps" in warning.message


def test_cycle_sees_a_half_initialised_module(tmp_path: pathlib.Path) -> None:
    _write(
        tmp_path,
        {
            "a.py": "import b\nA = 1\nFROM_B = b.B\n",
            "b.py": "import a\nB = 2\nA_AT_IMPORT = getattr(a, 'A', 0)\n",
            "train.py": "import argparse\nimport a\np = argparse.ArgumentParser()\n"
            "p.add_argument('--x', default=a.FROM_B + a.A)\np.parse_args()\n",
        },
    )
    result = extract_hyperparameters(tmp_path / "train.py")
    assert result.arguments[0].default == 3


# -------------------------------------------------------------- environments
def test_pth_entries_skip_import_lines(tmp_path: pathlib.Path) -> None:
    site = tmp_path / "site"
    (site / "extra").mkdir(parents=True)
    (tmp_path / "abs").mkdir()
    (site / "a.pth").write_text(f"# comment\nextra\n{tmp_path / 'abs'}\nmissing\nimport os\n")
    assert pth_entries(site) == [site / "extra", tmp_path / "abs"]


def test_virtual_env_variable_is_the_default(tmp_path: pathlib.Path) -> None:
    venv = tmp_path / "venv"
    site = _venv(venv, {})
    assert library_paths(None, {"VIRTUAL_ENV": str(venv)}) == [site]


def test_system_site_packages_are_found_from_the_base_layout(tmp_path: pathlib.Path) -> None:
    """include-system-site-packages: the base's directories come from home's layout, not a run."""
    venv = tmp_path / "venv"
    site = _venv(venv, {})
    base = tmp_path / "base"
    base_site = base / "lib" / "python3.11" / "site-packages"
    debian = base / "lib" / "python3" / "dist-packages"
    base_site.mkdir(parents=True)
    debian.mkdir(parents=True)
    (base / "bin").mkdir()
    marker = tmp_path / "ran"
    (base / "bin" / "python3").write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    (base / "bin" / "python3").chmod(0o755)
    (venv / "pyvenv.cfg").write_text(
        f"home = {base / 'bin'}\ninclude-system-site-packages = true\nversion = 3.11.4\n",
        encoding="utf-8",
    )
    assert library_paths(None, {"VIRTUAL_ENV": str(venv)}) == [site, base_site, debian]
    assert library_paths(None, {}, project_python=venv / "bin" / "python") == [
        site,
        base_site,
        debian,
    ]
    assert not marker.exists()


def test_project_python_that_is_not_a_venv_is_an_error(tmp_path: pathlib.Path) -> None:
    program = tmp_path / "python"
    marker = tmp_path / "ran"
    program.write_text(f"#!/bin/sh\ntouch {marker}\n", encoding="utf-8")
    program.chmod(0o755)
    with pytest.raises(ExtractionError) as info:
        library_paths(None, {}, project_python=program)
    assert "not a virtualenv" in info.value.message
    assert f"--python {program}" in (info.value.hint or "")
    assert not marker.exists()


def test_keynet_python_names_the_environment(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv = tmp_path / "venv"
    _venv(venv, {"hp.py": "LR = 0.25\n"})
    script = tmp_path / "proj" / "train.py"
    script.parent.mkdir()
    script.write_text(
        "import argparse\nfrom hp import LR\np = argparse.ArgumentParser()\n"
        "p.add_argument('--lr', default=LR)\np.parse_args()\n"
    )
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.setenv("KEYNET_PYTHON", str(venv / "bin" / "python"))
    assert extract_hyperparameters(script).arguments[0].default == 0.25


def test_bare_interpreter_is_asked_with_isolation_flags(tmp_path: pathlib.Path) -> None:
    """A non-venv interpreter is run once, as ``-I -S -c <sysconfig query>``, nothing else."""
    site = tmp_path / "site"
    site.mkdir()
    log = tmp_path / "argv.txt"
    fake = tmp_path / "python3"
    fake.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > {log}\n'
        f'echo \'["{tmp_path}/prefix", "{site}", "{site}"]\'\n',
        encoding="utf-8",
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    assert library_paths(str(fake)) == [site]
    argv = log.read_text().splitlines()
    assert argv[:3] == ["-I", "-S", "-c"]
    assert "sysconfig" in argv[3] and "import site" not in argv[3]


def test_real_interpreter_answers(tmp_path: pathlib.Path) -> None:
    paths = library_paths(sys.executable)
    assert all(p.is_dir() for p in paths)
    stdlib = pathlib.Path(os.__file__).parent
    assert stdlib not in paths


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("missing", "no such file"),
        ("plain_dir", "not a virtualenv"),
        ("not_python", "not a Python interpreter"),
    ],
)
def test_bad_python_is_a_clean_error(tmp_path: pathlib.Path, target: str, expected: str) -> None:
    (tmp_path / "plain_dir").mkdir()
    bad = tmp_path / "not_python"
    bad.write_text("#!/bin/sh\necho hello\n")
    bad.chmod(0o755)
    script = tmp_path / "train.py"
    script.write_text("import argparse\n")
    with pytest.raises(ExtractionError) as info:
        extract_hyperparameters(script, python=str(tmp_path / target))
    assert expected in info.value.message
    assert info.value.hint


def test_models_can_resolve_a_dotted_module_and_a_name(tmp_path: pathlib.Path) -> None:
    """The API the family models use: a dotted module to its namespace, a name to its value."""
    from keynet_train.extraction.interpreter import Interpreter
    from keynet_train.extraction.select import _HANDLERS
    from keynet_train.extraction.values import ClassValue, ModuleValue, Ref

    _write(tmp_path, {"lib/__init__.py": "", "lib/args.py": "class Args:\n    lr: float = 0.1\n"})
    finder = ModuleFinder([tmp_path], [])
    import ast

    interp = Interpreter(
        ast.parse(""), "t.py", _HANDLERS, loader=loader_module.ModuleLoader(finder)
    )
    module = interp.import_module("lib.args")
    assert isinstance(module, ModuleValue) and module.name == "lib.args"
    cls = interp.import_name("lib.args", "Args")
    assert isinstance(cls, ClassValue) and cls.namespace["lr"] == 0.1
    assert interp.import_module("nowhere") is None
    assert interp.import_name("argparse", "ArgumentParser") == Ref("argparse.ArgumentParser")
