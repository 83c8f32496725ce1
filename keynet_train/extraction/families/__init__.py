"""The CLI libraries the extractor models, one module each (docs/extraction-rules.md).

Owns: the model of each library (argparse, click, typer, hfargparser, fire,
tyro, globals) and the one record each exports, ``FAMILY``
(:class:`~keynet_train.extraction.families.contract.Family`), collected in
:data:`FAMILIES`. The rest of extraction knows a family only through that
record: ``select`` iterates :data:`FAMILIES` and never names a family.

May import: the interpreter and its values (``extraction.interpreter``,
``runtime``, ``values``, ``normalize``, ``dataclass_fields``, ...),
``extraction.model`` and ``extraction.subcommands``, and base modules. Outside
this package only ``select`` (the records), the loader (:data:`FAMILY_MODULES`,
:data:`FAMILY_NAMES`) and the training-command check (:func:`hints_for`) use
it; nothing names a family's module.
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
