"""Types shared by the interpreter and the library models: call arguments, signals and more."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING

from keynet_train.extraction.values import UNKNOWN, BoundMethod

if TYPE_CHECKING:
    from keynet_train.extraction.interpreter import Interpreter


class Invoked(Exception):
    """The program reached the call that parses the command line."""

    def __init__(self, target: object, line: int) -> None:
        super().__init__("invoked")
        self.target = target
        self.line = line
        #: The file ``line`` is in ("": not known yet; set where it leaves a function or module).
        self.path = ""


class BudgetExceeded(Exception):
    """The step budget ran out after ``steps`` evaluation steps."""

    def __init__(self, steps: int) -> None:
        super().__init__(f"step budget exhausted after {steps} steps")
        self.steps = steps


class ReturnSignal(Exception):
    """``return value`` unwinding out of a function body."""

    def __init__(self, value: object) -> None:
        super().__init__("return")
        self.value = value


class BreakSignal(Exception):
    """``break`` unwinding out of a loop body."""


class ContinueSignal(Exception):
    """``continue`` unwinding out of a loop body."""


class CallArgs:
    """Evaluated arguments of one call, plus its node for line numbers."""

    def __init__(
        self,
        args: list[object],
        kwargs: dict[str, object],
        node: ast.Call,
        incomplete: bool = False,
    ) -> None:
        self.args = args
        self.kwargs = kwargs
        self.node = node
        self.incomplete = incomplete

    @property
    def line(self) -> int:
        return self.node.lineno


#: A handler for a call of a modelled library name (``argparse.ArgumentParser``…).
RefHandler = Callable[["Interpreter", CallArgs], object]


class Modelled:
    """Base of library objects (parsers, commands, apps) the interpreter can call methods on."""

    #: The file the object was created in, for diagnostics about it ("": the entrypoint).
    defined_in = ""

    def call_method(self, interp: Interpreter, name: str, call: CallArgs) -> object:
        """Model ``self.name(*call.args, **call.kwargs)``; default: unknown result."""
        return UNKNOWN

    def get_attr(self, name: str) -> object:
        """Model ``self.name``; default: a bound method."""
        return BoundMethod(self, name)

    def call_self(self, interp: Interpreter, call: CallArgs) -> object:
        """Model ``self(...)``; default: unknown result."""
        return UNKNOWN

    def escaped(self, interp: Interpreter, callee: str, line: int) -> None:
        """``self`` was passed to ``callee``, a function that cannot be followed statically.

        Parsers and their groups override this to warn that the callee may
        have added arguments nobody can see (docs/extraction-rules.md).
        """
