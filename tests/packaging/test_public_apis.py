"""Only public APIs of argparse, httpx and gettext are used, and ``sys.modules`` is left alone.

Start-up speed comes from the command table and lazy imports
(docs/development.md, "Start-up"), not from patching the standard library or
the host's module table: importing keynet_train as a library must not change
httpx (or anything else) for the application that imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "keynet_train"
MODULES = ("argparse", "httpx", "gettext")
# Private names of argparse's objects that a subclass or a tree walk might reach for.
ARGPARSE_INTERNALS = frozenset(
    {
        "_actions",
        "_action_groups",
        "_choices_actions",
        "_defaults",
        "_fill_text",
        "_format_action",
        "_get_formatter",
        "_get_help_string",
        "_mutually_exclusive_groups",
        "_option_string_actions",
        "_optionals",
        "_parse_known_args",
        "_positionals",
        "_registries",
        "_split_lines",
        "_subparsers",
    }
)
_MUTATORS = frozenset({"setdefault", "pop", "popitem", "update", "clear", "__setitem__"})


def _is_sys_modules(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "modules"
        and isinstance(node.value, ast.Name)
        and node.value.id in ("sys", "_sys")
    )


def _from_argparse(base: ast.expr) -> bool:
    return (
        isinstance(base, ast.Attribute)
        and isinstance(base.value, ast.Name)
        and (base.value.id == "argparse")
    )


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def offences(source: str) -> list[tuple[int, str]]:
    """Each use of a private API or write to ``sys.modules`` in ``source``, with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            value = node.value
            if isinstance(value, ast.Name) and value.id in MODULES and _private(node.attr):
                found.append((node.lineno, f"{value.id}.{node.attr}"))
            elif node.attr in ARGPARSE_INTERNALS:
                found.append((node.lineno, f"argparse internal .{node.attr}"))
            elif node.attr in _MUTATORS and _is_sys_modules(value):
                found.append((node.lineno, f"sys.modules.{node.attr}"))
        elif isinstance(node, ast.ClassDef) and any(_from_argparse(b) for b in node.bases):
            found += [
                (item.lineno, f"override of argparse internal {item.name}")
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name in ARGPARSE_INTERNALS
            ]
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript) and _is_sys_modules(target.value):
                    found.append((node.lineno, "sys.modules[...] written"))
        elif isinstance(node, ast.ImportFrom) and node.module:
            top, _, rest = node.module.partition(".")
            if top in MODULES and any(_private(part) for part in rest.split(".") if part):
                found.append((node.lineno, f"from {node.module} import"))
    return found


def test_no_private_api_and_no_sys_modules_write_in_the_package() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {what}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, what in offences(path.read_text(encoding="utf-8"))
    ]
    assert not found, "private APIs or sys.modules writes:\n" + "\n".join(found)


def test_the_check_finds_each_kind_of_offence() -> None:
    source = (
        "import sys, argparse, httpx\n"
        "sys.modules['httpx._main'] = None\n"
        "sys.modules.setdefault('x', None)\n"
        "del sys.modules['gettext']\n"
        "argparse._ = str\n"
        "def walk(p):\n"
        "    return p._actions, argparse._SubParsersAction\n"
        "class F(argparse.HelpFormatter):\n"
        "    def _split_lines(self, text, width):\n"
        "        return []\n"
        "def _positionals(x):\n"
        "    return x\n"
        "from httpx._client import Client\n"
        "ok = sys.modules.get('x'), argparse.ArgumentParser, p.__class__\n"
    )
    assert sorted(line for line, _ in offences(source)) == [2, 3, 4, 5, 7, 7, 9, 13]
