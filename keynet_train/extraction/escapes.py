"""Parsers that escape into code the interpreter cannot follow (no silent partial list).

Two data flows lose arguments without a trace: a parser handed to a helper
that cannot be resolved (``add_model_args(parser)``, ``Trainer.add_argparse_args(parser)``)
may get arguments nobody sees, and a parse on a value built by such code
(``get_parser().parse_args()``) parses with a parser nobody sees. Both are
recorded here so the result says so.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from keynet_train.extraction.runtime import Modelled
from keynet_train.extraction.values import UNKNOWN, Ref

if TYPE_CHECKING:
    from keynet_train.extraction.interpreter import Interpreter

#: argparse's parse methods: one called on an opaque value is noted.
PARSE_NAMES = frozenset(
    ("parse_args", "parse_known_args", "parse_intermixed_args", "parse_known_intermixed_args")
)
#: Callees known not to add arguments to a parser handed to them.
_HARMLESS_CALLEES = frozenset(("argcomplete.autocomplete", "logging.info", "logger.info"))


def note_opaque_call(
    interp: Interpreter, func: object, node: ast.Call, args: list[object], kwargs: dict[str, object]
) -> Modelled | None:
    """Record what a call of an unresolvable ``func`` does to parsers it sees.

    Returns the one parser (or group) handed to the call, if exactly one
    was: ``parser = wrap(parser)`` keeps that parser (a helper that gets a
    parser returns it, the documented idiom of ``deepspeed.add_config_arguments``
    and friends), and the warning above names the call. Raises nothing.
    """
    if not _is_opaque(interp, func):
        return None
    if isinstance(node.func, ast.Attribute) and (
        node.func.attr in PARSE_NAMES or node.func.attr.startswith("parse_args")
    ):
        # parse_args_into_dataclasses, trl's parse_args_and_config... on a parser
        # built by a library that is not installed here.
        interp.opaque_parses.append((node.lineno, _source_name(node.func.value)))
    callee = _source_name(node.func)
    if callee in _HARMLESS_CALLEES:
        return None
    parsers: list[Modelled] = []
    for value in (*args, *kwargs.values()):
        if isinstance(value, Modelled):
            value.escaped(interp, callee, node.lineno)
            if type(value).escaped is not Modelled.escaped and value not in parsers:
                parsers.append(value)
    return parsers[0] if len(parsers) == 1 else None


def _is_opaque(interp: Interpreter, func: object) -> bool:
    """A callee nobody models: unknown, or a library name without a handler (builtins are known)."""
    if func is UNKNOWN:
        return True
    return (
        isinstance(func, Ref)
        and func.name not in interp.handlers
        and not func.name.startswith("builtins.")
    )


def _source_name(node: ast.expr) -> str:
    """How the source spells a callee, shortened for a diagnostic."""
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."
