"""Deprecated: this module is now split; import from the modules that hold its names.

L{poetry.core.closing}
L{poetry.operations.descriptors}
"""

from typing import TYPE_CHECKING

from poetry._moved import forwarding

if TYPE_CHECKING:
    from poetry.core.closing import *  # noqa: F403
    from poetry.operations.descriptors import *  # noqa: F403

__getattr__ = forwarding(
    __name__,
    "poetry.operations.descriptors",
    {
        "end_poem": "poetry.core.closing",
        "poem_delivered": "poetry.core.closing",
    },
)
