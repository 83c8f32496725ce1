"""Property tests over multi-module projects: static result == runtime oracle (issue 10 item 6).

Each example takes a random argparse script from ``test_properties`` and
spreads it over a project: its constants go to a constants module, the
parser code to a helper module (a factory returning the parser, or a helper
that fills the parser it is given and returns it), a ``type=`` function to
a third module; imported by ``from m import *``, by name, or as ``import m
as k``; laid out flat, as a package (absolute or relative imports,
``__init__`` re-exports), or as a ``src/`` layout; sometimes with an import
cycle. The oracle runs the project for real with its directories on
``sys.path``.
"""

from __future__ import annotations

import json
import pathlib
import re
import tempfile
from typing import NamedTuple

from hypothesis import given, settings
from hypothesis import strategies as st

from keynet_train.extraction import extract_hyperparameters
from tests.extraction.oracle import normalise_help, runtime_extract
from tests.extraction.test_properties import EXAMPLES, SETTINGS, argparse_scripts

#: Multi-file examples cost several file writes and imports each.
PROJECT_SETTINGS = settings(SETTINGS, max_examples=max(50, EXAMPLES // 4))

_CONST = re.compile(r"^C\d+ = ")
_CONST_REF = re.compile(r"\bC(\d+)\b")
_TYPE_FUNCTIONS = {
    "to_bool": "def to_bool(v):\n    return v.lower() in ('1', 'true', 'yes')\n",
    "to_int": "def to_int(v):\n    return int(v)\n",
    "to_float": "def to_float(text):\n    value = float(text)\n    return value\n",
}


class Project(NamedTuple):
    files: dict[str, str]
    entry: str
    roots: tuple[str, ...]


def _split(script: str) -> tuple[list[str], list[str], bool]:
    """(constant lines, parser code lines, whether the code is a ``build()`` factory)."""
    lines = [line for line in script.splitlines() if line != "import argparse"]
    consts = [line for line in lines if _CONST.match(line)]
    code = [line for line in lines if not _CONST.match(line)]
    return consts, code, bool(code) and code[0] == "def build():"


@st.composite
def projects(draw: st.DrawFn) -> Project:
    consts, code, factory = _split(draw(argparse_scripts()))
    layout = draw(st.sampled_from(["flat", "package", "src"]))
    pkg = "" if layout == "flat" else "hp_pkg."
    relative = layout != "flat" and draw(st.booleans())
    const_import = draw(st.sampled_from(["star", "names", "module"]))

    def import_of(module: str, names: list[str]) -> tuple[str, str]:
        """An import line for ``module``'s ``names`` and the prefix to qualify them with."""
        source = f".{module}" if relative else f"{pkg}{module}"
        if const_import == "module" or not names:
            if relative:
                return f"from . import {module} as k_{module}", f"k_{module}."
            return f"import {pkg}{module} as k_{module}", f"k_{module}."
        if const_import == "star":
            return f"from {source} import *", ""
        return f"from {source} import {', '.join(names)}", ""

    names = [line.split(" ", 1)[0] for line in consts]
    const_line, prefix = import_of("hp_consts", names)
    code = [_CONST_REF.sub(lambda m: f"{prefix}C{m.group(1)}", line) for line in code]

    type_fn = draw(st.sampled_from([None, *_TYPE_FUNCTIONS]))
    extra: list[str] = []
    type_line = ""
    if type_fn is not None:
        type_line, tprefix = import_of("hp_types", [type_fn])
        default = draw(st.sampled_from(["None", "'1'", "'0'"]))
        extra = [f"parser.add_argument('--extra_opt', type={tprefix}{type_fn}, default={default})"]

    helper = ["import argparse", const_line, type_line]
    if factory:  # def build(): ... return parser / if __name__ == '__main__': build().parse_args()
        end = code.index("    return parser")
        helper += [*code[:end], *("    " + x for x in extra), "    return parser"]
        exported = "build"
        call = ["parser = build()" if draw(st.booleans()) else "parser = hp.build()"]
    else:  # parser = ...; ...; args = parser.parse_args()
        body = [x for x in code if not x.startswith(("parser = ", "args = "))]
        helper += ["def fill(parser):", *("    " + x for x in [*body, *extra]), "    return parser"]
        exported = "fill"
        call = [
            "parser = argparse.ArgumentParser()",
            "parser = fill(parser)" if draw(st.booleans()) else "parser = hp.fill(parser)",
        ]
    if "hp." in call[-1]:
        entry_import = f"import {pkg}hp_helpers as hp"
    elif layout != "flat" and draw(st.booleans()):
        entry_import = f"from hp_pkg import {exported}"  # via the __init__ re-export
    else:
        entry_import = f"from {pkg}hp_helpers import {exported}"
    entry = ["import argparse", entry_import, *call, "args = parser.parse_args()"]

    constants = list(consts)
    if layout == "flat" and draw(st.booleans()):
        constants.insert(0, "import hp_helpers  # an import cycle")
    modules = {
        "hp_helpers.py": "\n".join(helper) + "\n",
        "hp_consts.py": "\n".join(constants) + "\n",
        "hp_types.py": "".join(_TYPE_FUNCTIONS.values()),
    }
    if layout == "flat":
        return Project({**modules, "train.py": "\n".join(entry) + "\n"}, "train.py", ())
    init = (
        f"from .hp_helpers import {exported}\n"
        if draw(st.booleans())
        else "from .hp_helpers import *\n"
    )
    base = "hp_pkg/" if layout == "package" else "src/hp_pkg/"
    files = {base + name: text for name, text in modules.items()}
    files[base + "__init__.py"] = init
    if layout == "package":
        files["train.py"] = "\n".join(entry) + "\n"
        return Project(files, "train.py", ())
    files["pyproject.toml"] = "[project]\nname = 'hp'\n"
    files["scripts/train.py"] = "\n".join(entry) + "\n"
    return Project(files, "scripts/train.py", ("src",))


def _check(project: Project, tmp: pathlib.Path) -> None:
    for rel, text in project.files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text, encoding="utf-8")
    path = tmp / project.entry
    expected = normalise_help(runtime_extract(path, roots=tuple(tmp / r for r in project.roots)))
    # The whole result with the descriptor of every argument.
    actual = normalise_help(extract_hyperparameters(path).to_json())
    shown = "\n".join(f"--- {rel}\n{text}" for rel, text in project.files.items())
    assert json.dumps(actual, sort_keys=True) == json.dumps(expected, sort_keys=True), shown


@PROJECT_SETTINGS
@given(projects())
def test_multi_module_projects_agree_with_runtime(project: Project) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _check(project, pathlib.Path(tmp))
