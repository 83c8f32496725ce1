"""Property tests of the hfargparser, fire, tyro and globals families: static == runtime oracle.

The generators extend those of ``test_properties`` (same names, literals,
module constants and help texts) to the constructs of each family; every
generated script is run by the family's runtime oracle and compared field
by field, option spellings included.
"""

from __future__ import annotations

import os
import pathlib
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.extraction.test_properties import SETTINGS, _check, _expr, _literal, helps, names

# Each example runs the family's library (transformers, tyro...): ~0.1 s, ten
# times an argparse example. 150 each by default; KEYNET_PROPERTY_EXAMPLES
# sets the count for a deeper search, as for the other generators.
SETTINGS = settings(SETTINGS, max_examples=int(os.environ.get("KEYNET_PROPERTY_EXAMPLES", "150")))

_TYPES = ["int", "float", "str", "bool"]
_RESERVED = ("help", "h", "self", "cls", "enum", "typing", "field", "dataclasses", "config")


def _fresh(draw: st.DrawFn, used: set[str]) -> str:
    name = draw(names.filter(lambda n: n not in used and n not in _RESERVED))
    used.add(name)
    return name


_ENUM = ["class Color(enum.Enum):", "    RED = 'r'", "    BLUE = 'b'"]


# ----------------------------------------------------------------------- hfargparser
def _hf_field(draw: st.DrawFn, name: str, consts: list[str], required: bool) -> str:
    h = draw(helps)
    meta = f", metadata={{'help': {h!r}}}" if h is not None else ""
    t = draw(st.sampled_from(_TYPES))
    if required:
        kind = draw(st.sampled_from(["plain", "literal", "list", "enum"]))
        if kind == "literal":
            return f"{name}: Literal['a', 'b']" + (f" = field({meta[2:]})" if meta else "")
        if kind == "list":
            return f"{name}: List[int]"
        if kind == "enum":
            return f"{name}: Color"
        return f"{name}: {t}" + (f" = field({meta[2:]})" if meta else "")
    kind = draw(
        st.sampled_from(
            ["plain", "field", "optional", "optional_default", "literal", "enum", "list", "choices"]
        )
    )
    value = _literal(t, draw)
    if kind == "plain":
        return f"{name}: {t} = {_expr(value, consts, draw)}"
    if kind == "field":
        return f"{name}: {t} = field(default={_expr(value, consts, draw)}{meta})"
    if kind == "optional":
        return f"{name}: Optional[{t}] = None"
    if kind == "optional_default":
        return f"{name}: Optional[{t}] = field(default={value!r}{meta})"
    if kind == "literal":
        return f"{name}: Literal[1, 2, 3] = {draw(st.sampled_from([1, 2, 3]))}"
    if kind == "enum":
        return f"{name}: Color = Color.{draw(st.sampled_from(['RED', 'BLUE']))}"
    if kind == "list":
        values = draw(st.lists(st.integers(-5, 99), max_size=3))
        return f"{name}: List[int] = field(default_factory=lambda: {values!r}{meta})"
    opts = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3, unique=True))
    return f"{name}: str = field(default={opts[0]!r}, metadata={{'choices': {opts!r}}})"


@st.composite
def hf_scripts(draw: st.DrawFn) -> str:
    consts: list[str] = []
    used: set[str] = set()
    classes: list[str] = []
    body: list[str] = []
    for index in range(draw(st.integers(1, 3))):
        cls = f"Args{index}"
        classes.append(cls)
        fields = [
            _hf_field(draw, _fresh(draw, used), consts, required=True)
            for _ in range(draw(st.integers(0, 2)))
        ]
        fields += [
            _hf_field(draw, _fresh(draw, used), consts, required=False)
            for _ in range(draw(st.integers(0, 5)))
        ]
        body += ["@dataclass", f"class {cls}:", *(f"    {f}" for f in fields or ["pass"]), ""]
    given_types = (
        classes[0] if len(classes) == 1 and draw(st.booleans()) else f"({', '.join(classes)},)"
    )
    call = draw(
        st.sampled_from(
            [
                "parse_args_into_dataclasses()",
                "parse_args_into_dataclasses(return_remaining_strings=True)",
            ]
        )
    )
    future = ["from __future__ import annotations"] if draw(st.booleans()) else []
    header = [
        *future,
        "import enum",
        "from dataclasses import dataclass, field",
        "from typing import List, Literal, Optional",
        "from transformers import HfArgumentParser",
        *_ENUM,
        *consts,
    ]
    if draw(st.booleans()):
        tail = [
            "def main():",
            f"    parser = HfArgumentParser({given_types})",
            f"    return parser.{call}",
            "",
            "if __name__ == '__main__':",
            "    main()",
        ]
    else:
        tail = [f"parser = HfArgumentParser({given_types})", f"parser.{call}"]
    return "\n".join([*header, *body, *tail]) + "\n"


# ----------------------------------------------------------------------------- fire
@st.composite
def fire_scripts(draw: st.DrawFn) -> str:
    consts: list[str] = []
    used: set[str] = set()
    params: list[str] = []
    documented: list[tuple[str, str]] = []
    for index in range(draw(st.integers(0, 6))):
        name = _fresh(draw, used)
        t = draw(st.sampled_from(_TYPES))
        annotate = draw(st.booleans())
        ann = f": {t}" if annotate else ""
        if index < 2 and draw(st.booleans()) and all("=" not in p for p in params):
            params.append(f"{name}{ann}")
        else:
            params.append(f"{name}{ann} = {_expr(_literal(t, draw), consts, draw)}")
        h = draw(st.none() | st.text(alphabet="abc xyz.,", min_size=1, max_size=20))
        if h is not None and h.strip():
            documented.append((name, h))
    style = draw(st.sampled_from(["google", "numpy", "none"]))
    doc: list[str] = []
    if documented and style == "google":
        doc = ['"""Train.', "", "Args:", *(f"    {n}: {h}" for n, h in documented), '"""']
    elif documented and style == "numpy":
        doc = ['"""Train.', "", "Parameters", "----------"]
        for n, h in documented:
            # fire reads a one-word line in a numpy section as a parameter name
            # (its own TODO): descriptions there are sentences.
            doc += [n, f"    See {h}"]
        doc.append('"""')
    shape = draw(st.sampled_from(["function", "class", "dict"]))
    sig = ", ".join(params)
    if shape == "class":
        code = [
            "class Trainer:",
            *(f"    {line}" for line in doc),
            f"    def __init__(self{', ' if sig else ''}{sig}):",
            "        self.ready = True",
            "",
            "if __name__ == '__main__':",
            "    fire.Fire(Trainer)",
        ]
    else:
        target = "{'train': train, 'eval': evaluate}" if shape == "dict" else "train"
        code = [
            f"def train({sig}):",
            *(f"    {line}" for line in doc),
            "    return None",
            "",
            "def evaluate(path='x'):",
            "    return path",
            "",
            "if __name__ == '__main__':",
            f"    fire.Fire({target})",
        ]
    return "\n".join(["import fire", *consts, *code]) + "\n"


# ----------------------------------------------------------------------------- tyro
def _tyro_field(draw: st.DrawFn, name: str, consts: list[str], required: bool) -> list[str]:
    t = draw(st.sampled_from(_TYPES))
    if required:
        line = f"{name}: {t}"
    else:
        kind = draw(
            st.sampled_from(["plain", "field", "optional", "literal", "enum", "tuple", "bool"])
        )
        value = _literal(t, draw)
        line = {
            "plain": lambda: f"{name}: {t} = {_expr(value, consts, draw)}",
            "field": lambda: f"{name}: {t} = dataclasses.field(default={value!r})",
            "optional": lambda: f"{name}: Optional[{t}] = None",
            "literal": lambda: f"{name}: Literal['a', 'b'] = {draw(st.sampled_from(['a', 'b']))!r}",
            "enum": lambda: f"{name}: Color = Color.{draw(st.sampled_from(['RED', 'BLUE']))}",
            "tuple": lambda: (
                f"{name}: Tuple[int, ...] = "
                f"{tuple(draw(st.lists(st.integers(0, 9), max_size=3)))!r}"
            ),
            "bool": lambda: f"{name}: bool = {draw(st.booleans())}",
        }[kind]()
    doc = draw(st.none() | st.text(alphabet="abc xyz.,", min_size=1, max_size=20))
    if doc is not None and doc.strip():
        # tyro reads the attribute docstring, else a comment on the line or above it.
        style = draw(st.sampled_from(["docstring", "inline", "above"]))
        if style == "inline":
            return [f"{line}  # {doc}"]
        if style == "above":
            return [f"# {doc}", line]
        return [line, f'"""{doc}"""']
    return [line]


@st.composite
def tyro_scripts(draw: st.DrawFn) -> str:
    consts: list[str] = []
    used: set[str] = set()
    fields: list[str] = []
    for _ in range(draw(st.integers(0, 2))):
        fields += _tyro_field(draw, _fresh(draw, used), consts, required=True)
    for _ in range(draw(st.integers(0, 5))):
        fields += _tyro_field(draw, _fresh(draw, used), consts, required=False)
    nested: list[str] = []
    if draw(st.booleans()):
        inner_used: set[str] = set()
        inner = [
            f
            for _ in range(draw(st.integers(1, 3)))
            for f in _tyro_field(draw, _fresh(draw, inner_used), consts, required=False)
        ]
        nested = ["@dataclasses.dataclass", "class Inner:", *(f"    {f}" for f in inner), ""]
        fields.append(f"{_fresh(draw, used)}: Inner = dataclasses.field(default_factory=Inner)")
    code = [
        "import dataclasses",
        "import enum",
        "from typing import Literal, Optional, Tuple",
        "import tyro",
        *_ENUM,
        *consts,
        *nested,
        "@dataclasses.dataclass",
        "class Args:",
        *(f"    {f}" for f in fields or ["pass"]),
        "",
        "if __name__ == '__main__':",
        "    tyro.cli(Args)",
    ]
    return "\n".join(code) + "\n"


# -------------------------------------------------------------------------- globals
@st.composite
def globals_scripts(draw: st.DrawFn) -> str:
    used: set[str] = set()
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from([*_TYPES, "tuple", "private", "reassign", "computed"]))
        if kind == "reassign" and used:
            name = draw(st.sampled_from(sorted(used)))
            lines.append(f"{name} = {_literal(draw(st.sampled_from(_TYPES)), draw)!r}")
        elif kind == "private":
            lines.append(f"_{_fresh(draw, used)} = 1")
        elif kind == "tuple":
            lines.append(f"{_fresh(draw, used)} = (1, 2)")
        elif kind == "computed":
            lines.append(f"{_fresh(draw, used)} = {draw(st.integers(0, 99))} * 2 + 1")
        elif kind in _TYPES:
            lines.append(f"{_fresh(draw, used)} = {_literal(kind, draw)!r}")
    code = [
        "import os",
        *lines,
        "exec(open(os.path.join(os.path.dirname(__file__), 'configurator.py')).read())",
    ]
    return "\n".join(code) + "\n"


@SETTINGS
@given(hf_scripts())
def test_hfargparser_scripts_agree_with_runtime(source: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _check(source, pathlib.Path(tmp))


@SETTINGS
@given(fire_scripts())
def test_fire_scripts_agree_with_runtime(source: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _check(source, pathlib.Path(tmp))


@SETTINGS
@given(tyro_scripts())
def test_tyro_scripts_agree_with_runtime(source: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _check(source, pathlib.Path(tmp))


@SETTINGS
@given(globals_scripts())
def test_globals_scripts_agree_with_runtime(source: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (pathlib.Path(tmp) / "configurator.py").write_text("import sys\nargs = sys.argv[1:]\n")
        _check(source, pathlib.Path(tmp))
