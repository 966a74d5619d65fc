"""Deprecated: this module is now L{poetry.operations.workers}; import from there."""

from typing import TYPE_CHECKING

from poetry._moved import forwarding

if TYPE_CHECKING:
    from poetry.operations.workers import *  # noqa: F403

__getattr__ = forwarding(__name__, "poetry.operations.workers")
