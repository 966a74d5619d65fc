"""Deprecated: this module is now L{poetry.operations.recipes}; import from there."""

from typing import TYPE_CHECKING

from poetry._moved import forwarding

if TYPE_CHECKING:
    from poetry.operations.recipes import *  # noqa: F403

__getattr__ = forwarding(__name__, "poetry.operations.recipes")
