"""Deprecated: this module is now L{poetry.core.server}; import from there."""

from typing import TYPE_CHECKING

from poetry._moved import forwarding

if TYPE_CHECKING:
    from poetry.core.server import *  # noqa: F403

__getattr__ = forwarding(__name__, "poetry.core.server")
