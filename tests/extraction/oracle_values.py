"""How both runtime oracles write a Python value in the terms of docs/extraction-rules.md.

One set of rules for every family, written independently of
keynet_train.extraction.normalize: an Enum stands for its value, a path for
its text, a list for its first element's type, a dict with string keys
for itself; what JSON cannot hold (an object, a non-finite float) is None.
"""

from __future__ import annotations

import enum
import math
import pathlib

__all__ = ["json_value", "type_of_value"]


def type_of_value(v: object) -> str | None:
    """The type a default of this value implies (None: none of them)."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, enum.Enum):
        return type_of_value(v.value)
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, (str, pathlib.PurePath)):
        return "str"
    if isinstance(v, (list, tuple)) and v:
        return type_of_value(v[0])
    return None


def json_value(v: object) -> object:
    """``v`` as the JSON the platform receives (None where it cannot be written)."""
    if v is None or (isinstance(v, (bool, int, str)) and not isinstance(v, enum.Enum)):
        return v
    if isinstance(v, enum.Enum):
        return json_value(v.value)
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, pathlib.PurePath):
        return str(v)
    if isinstance(v, (list, tuple)):
        return [json_value(x) for x in v]
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {k: json_value(x) for k, x in v.items()}  # a JSON object
    return None  # anything else cannot be expressed statically
