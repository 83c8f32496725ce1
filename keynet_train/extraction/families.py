"""The families beyond argparse/click/typer (docs/extraction-rules.md): registration for ``select``.

``hfargparser`` targets are argparse parsers (``HfParserValue``) and need no
entry here beyond their handlers; ``fire``, ``tyro`` and ``globals`` targets
are :class:`FamilyTarget` objects that list their own arguments.
"""

from __future__ import annotations

from keynet_train.extraction.fire_ext import HANDLERS as FIRE_HANDLERS
from keynet_train.extraction.globals_ext import HANDLERS as GLOBALS_HANDLERS
from keynet_train.extraction.hf_ext import HANDLERS as HF_HANDLERS
from keynet_train.extraction.hf_ext import HfParserValue, hf_arguments
from keynet_train.extraction.interpreter import Interpreter, RefHandler
from keynet_train.extraction.model import Argument
from keynet_train.extraction.targets import FamilyTarget
from keynet_train.extraction.tyro_ext import HANDLERS as TYRO_HANDLERS

FAMILY_HANDLERS: dict[str, RefHandler] = {
    **HF_HANDLERS,
    **FIRE_HANDLERS,
    **TYRO_HANDLERS,
    **GLOBALS_HANDLERS,
}

#: What an ``Invoked`` may carry besides argparse/click/typer objects.
FAMILY_TARGETS: tuple[type, ...] = (FamilyTarget,)


def family_arguments(interp: Interpreter, target: object) -> list[Argument] | None:
    """The arguments of a family's target; None when ``target`` is not one."""
    if isinstance(target, HfParserValue):
        return hf_arguments(interp, target)
    if isinstance(target, FamilyTarget):
        return target.arguments(interp)
    return None
