"""Re-exports its submodules: ``from . import b`` (issue 17 item 4)."""

from . import b
from .b import EPS as DEFAULT_EPS

__all__ = ["b", "DEFAULT_EPS"]
