"""How a kit becomes a test case: its name, and its checks.

The name a case is assigned to (C{Name = in_memory(Kit)}) is its name, so
that trial's printed id of a failure reruns it; where it is not assigned on
one line, the caller gives it.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any

Check = Callable[[Any], Coroutine[Any, Any, None]]

_ASSIGNED = re.compile(r"\s*(\w+)\s*(?::[^=]*)?=\s*(?:\w+\.)*(in_memory|over_tcp|in_namespaces)\(")

_MAKERS = ("poetry.testing.", "mutmut.")
"""The modules whose frames lie between a kit's maker and the code calling it: the kits', and
those of a tool that wraps their functions (mutmut's trampolines)."""


def _calling_frame() -> FrameType:
    """The frame of the code making a case: the first outside L{_MAKERS}'s modules."""
    frame = sys._getframe()
    while frame.f_back is not None and str(frame.f_globals.get("__name__")).startswith(_MAKERS):
        frame = frame.f_back
    return frame


def calling_module() -> str:
    """The name of the module making a case (the module a case belongs to)."""
    return str(_calling_frame().f_globals["__name__"])


def case_name(name: str | None) -> str:
    """The test case's name: given, or the name its making is assigned to."""
    if name is not None:
        return name
    lines = inspect.getframeinfo(_calling_frame()).code_context
    assigned = _ASSIGNED.match(lines[0]) if lines else None
    if assigned is None:
        raise TypeError(
            "name the test case: assign it at module level (Name = in_memory(Kit)),"
            " or pass name='Name'"
        )
    return assigned.group(1)


def make_case(name: str, harness: type, kit: type, case: type) -> type:
    """The test case of ``kit``'s checks on ``harness``, a ``case`` (trial's) called ``name``.

    A kit's own attribute named as one of trial's (C{run}, C{setUp},
    C{fail}, ...) would silently replace trial's, or be replaced by the
    harness's: that is refused, naming the clash. Names the harness defines
    are the harness's to give (a kit may declare them, as hooks).
    """
    clashes = sorted(_defined(kit, {*harness.__mro__, *case.__mro__}) & _defined(case))
    if clashes:
        raise TypeError(
            f"{kit.__name__} defines {', '.join(clashes)}, which trial's test case uses:"
            " rename them in the kit"
        )
    return type(name, (harness, kit, case), {})


def _defined(klass: type, leaving_out: set[type] | None = None) -> set[str]:
    """The names ``klass`` and its bases define, but dunders and those of ``leaving_out``.

    A kit may derive from the harness it runs on: the names the harness
    defines are then left out (and C{object} defines only dunders).
    """
    left_out = leaving_out or set()
    return {
        attribute
        for base in klass.__mro__
        if base not in left_out
        for attribute in vars(base)
        if not attribute.startswith("__")
    }


def checks_of(kit: type) -> dict[str, Check]:
    """The kit's checks by name, the most derived class's winning."""
    found: dict[str, Check] = {}
    for klass in reversed(kit.__mro__):
        found.update((n, c) for n, c in vars(klass).items() if n.startswith("test_"))
    return found
