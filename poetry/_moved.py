"""The old import paths of the modules that moved into L{poetry.core} and L{poetry.operations}.

Each old module (``poetry.server``, ``poetry.graceful``, ...) is a thin alias
whose attributes are looked up in the module that now holds them, with a
C{DeprecationWarning} naming the new path. They will be removed in a later
release; nothing in txpoetry imports them.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any


def forwarding(
    old: str, default: str, moved: Mapping[str, str] | None = None
) -> Callable[[str], Any]:
    """Return the module C{__getattr__} of the deprecated module ``old``.

    A name is looked up in the module ``moved`` names for it, else in
    ``default``; the warning names where it is now.
    """
    moved = moved or {}

    def __getattr__(name: str) -> Any:  # noqa: N807 (a module's __getattr__)
        if name.startswith("__"):
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        new = moved.get(name, default)
        value = getattr(importlib.import_module(new), name)
        warnings.warn(
            f"{old} is deprecated: import {name} from {new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return value

    return __getattr__
