"""Every family is known to the rest of extraction only through its ``FAMILY`` record."""

from __future__ import annotations

import ast
import importlib
import pathlib

import pytest

from keynet_train.extraction.families import FAMILIES, family_of
from keynet_train.extraction.select import _HANDLERS, extract_from_tree

PACKAGE = pathlib.Path(__file__).resolve().parents[3] / "keynet_train" / "extraction"
PARSER_TYPES = ("argparse", "click", "typer", "hfargparser", "fire", "tyro", "globals")


def test_one_module_per_family_each_exporting_its_record() -> None:
    assert tuple(f.parser_type for f in FAMILIES) == PARSER_TYPES
    for family in FAMILIES:
        module = importlib.import_module(f"keynet_train.extraction.families.{family.parser_type}")
        assert module.FAMILY is family
        for target_type in family.target_types:
            # The result's parser_type and the record's are one name.
            assert target_type.parser_type == family.parser_type


def test_select_knows_every_family_handler_and_names_no_family() -> None:
    for family in FAMILIES:
        for name, handler in family.handlers.items():
            assert _HANDLERS[name] is handler
    tree = ast.parse((PACKAGE / "select.py").read_text(encoding="utf-8"))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    family_modules = {f"keynet_train.extraction.families.{t}" for t in PARSER_TYPES}
    assert not imported & family_modules


def test_a_subclassed_model_finds_its_own_family() -> None:
    """HfArgumentParser's model extends argparse's; its results say hfargparser."""
    from keynet_train.extraction.families.hfargparser import HfParserValue

    parser = HfParserValue(1)
    family = family_of(parser)
    assert family is not None and family.parser_type == "hfargparser"
    assert family_of(object()) is None
    assert family_of(None) is None


@pytest.mark.parametrize(
    ("source", "parser_type", "names"),
    [
        (
            "import argparse\np = argparse.ArgumentParser()\np.add_argument('--lr')\n"
            "p.parse_args()\n",
            "argparse",
            ["lr"],
        ),
        (
            "import click\n@click.command()\n@click.option('--lr')\ndef main(lr): pass\nmain()\n",
            "click",
            ["lr"],
        ),
        ("import typer\ndef main(lr: float = 0.1): pass\ntyper.run(main)\n", "typer", ["lr"]),
        ("import fire\ndef main(lr=0.1): pass\nfire.Fire(main)\n", "fire", ["lr"]),
    ],
)
def test_each_family_is_reached_through_the_record(
    source: str, parser_type: str, names: list[str]
) -> None:
    result = extract_from_tree(ast.parse(source), "train.py")
    assert result.parser_type == parser_type
    assert [a.name for a in result.arguments] == names


def test_every_family_says_how_its_parser_reads_the_platform_command() -> None:
    from keynet_train.extraction.families import hints_for

    for family in FAMILIES:
        hints = hints_for(family.parser_type)
        assert hints is family.hints
        for template in (hints.spelling_fix, hints.bool_spelling_fix, hints.value_bool_fix):
            if template is not None:
                # Every placeholder is one the check fills (a KeyError otherwise).
                assert template.format(option="--lr_x", first="--lr-x", bare="lr_x")
        assert "{command!r}" in hints.command_fix
    # Only argparse-built parsers take unique prefixes; only the configurator needs '='.
    assert {f.parser_type for f in FAMILIES if f.hints.argparse_rules} == {
        "argparse",
        "hfargparser",
    }
    assert {f.parser_type for f in FAMILIES if f.hints.equals_only} == {"globals"}
    assert {f.parser_type for f in FAMILIES if f.hints.bare_flags} == {
        "argparse",
        "click",
        "typer",
        "tyro",
    }


def test_the_loader_never_reads_a_modelled_library() -> None:
    """Each family's modules and names come from its record, not a list in the loader."""
    from keynet_train.extraction import loader

    for family in FAMILIES:
        assert family.never_read <= loader.NEVER_READ
        assert family.modelled_names <= loader.MODELLED_NAMES
    assert {f.parser_type for f in FAMILIES if f.never_read} == {
        "argparse",
        "click",
        "typer",
        "fire",
        "tyro",
    }
    # transformers is read: TrainingArguments is a dataclass in its source.
    assert not any("transformers" in f.never_read for f in FAMILIES)
    assert "transformers.HfArg" in loader.MODELLED_NAMES


def test_no_parser_names_every_family() -> None:
    result = extract_from_tree(ast.parse("x = 1\n"), "train.py")
    [warning] = [d.message for d in result.diagnostics]
    for family in FAMILIES:
        assert (family.title or family.parser_type) in warning


#: What the package docstring lets a family import (besides its own package).
_ALLOWED = {
    "keynet_train.extraction.interpreter",
    "keynet_train.extraction.values",
    "keynet_train.extraction.normalize",
    "keynet_train.extraction.dataclass_fields",
    "keynet_train.extraction.library_dataclasses",
    "keynet_train.extraction.docstrings",
    "keynet_train.extraction.finder",
    "keynet_train.extraction.model",
    "keynet_train.extraction.subcommands",
    "keynet_train.files",
    "keynet_train.errors",
}


def test_families_import_only_what_their_package_docstring_allows() -> None:
    """Nothing above them (select, the loader, the command check) and no other package."""
    for path in sorted((PACKAGE / "families").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                module = node.module
                if module.startswith("keynet_train") and not module.startswith(
                    "keynet_train.extraction.families"
                ):
                    assert module in _ALLOWED, f"{path.name} imports {module}"
