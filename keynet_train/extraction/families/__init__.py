"""The CLI libraries the extractor models, one module each (docs/extraction-rules.md).

Owns: the model of each library, in a module named after its ``parser_type``
(argparse, click, typer, hfargparser, fire, tyro, globals; argparse's
actions-to-arguments half in ``argparse_arguments``), the one record each
exports, ``FAMILY`` (:class:`~keynet_train.extraction.families.contract.Family`:
handlers, parser objects, arguments, sub-commands, command-check hints, modules
never read), collected in :data:`FAMILIES`; what every family converts the same
way (``conversions``); the base of fire/tyro/globals targets (``targets``).
The rest of extraction knows a family only through its record: ``select``
iterates :data:`FAMILIES`, the loader reads :data:`FAMILY_MODULES` and
:data:`FAMILY_NAMES`, the training-command check asks :func:`hints_for`;
nothing outside this package names a family's module.

May import: ``extraction.interpreter``, ``values``, ``normalize``,
``dataclass_fields``, ``library_dataclasses``, ``docstrings``, ``finder``,
``model`` and ``subcommands``, and the base modules ``files`` and ``errors``
(tests/extraction/families/test_contract.py checks it); never ``select``, the
loader or the command check, which import this package.
"""

from __future__ import annotations

from keynet_train.extraction.families.argparse import FAMILY as ARGPARSE
from keynet_train.extraction.families.click import FAMILY as CLICK
from keynet_train.extraction.families.contract import CommandHints, Family
from keynet_train.extraction.families.fire import FAMILY as FIRE
from keynet_train.extraction.families.globals import FAMILY as GLOBALS
from keynet_train.extraction.families.hfargparser import FAMILY as HFARGPARSER
from keynet_train.extraction.families.typer import FAMILY as TYPER
from keynet_train.extraction.families.tyro import FAMILY as TYRO
from keynet_train.extraction.model import ParserType

__all__ = [
    "FAMILIES",
    "FAMILY_MODULES",
    "FAMILY_NAMES",
    "Family",
    "family_of",
    "hints_for",
]

#: Every family, in the order docs/extraction-rules.md lists them.
FAMILIES: tuple[Family, ...] = (ARGPARSE, CLICK, TYPER, HFARGPARSER, FIRE, TYRO, GLOBALS)

#: Top-level modules no family's library is read from (the models stand for them).
FAMILY_MODULES: frozenset[str] = frozenset().union(*(f.never_read for f in FAMILIES))
#: Names the models recognise beyond their handlers (see ``Family.modelled_names``).
FAMILY_NAMES: frozenset[str] = frozenset().union(*(f.modelled_names for f in FAMILIES))

_BY_PARSER_TYPE: dict[str, Family] = {family.parser_type: family for family in FAMILIES}


def family_of(target: object) -> Family | None:
    """The family whose models built ``target`` (None: not a parser of any family).

    Looked up by the target's ``parser_type``, so a subclass (HfArgumentParser's
    model extends argparse's) finds its own family. Raises nothing.
    """
    family = _BY_PARSER_TYPE.get(str(getattr(target, "parser_type", "")))
    if family is None or not isinstance(target, family.target_types):
        return None
    return family


def hints_for(parser_type: ParserType) -> CommandHints:
    """How the ``parser_type`` family's parser reads the platform's command. Raises nothing."""
    return _BY_PARSER_TYPE[parser_type].hints
