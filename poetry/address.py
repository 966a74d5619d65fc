"""Deprecated: this module is now split; import from the modules that hold its names.

L{poetry.core.address}
L{poetry.operations.endpoints}
"""

from typing import TYPE_CHECKING

from poetry._moved import forwarding

if TYPE_CHECKING:
    from poetry.core.address import *  # noqa: F403
    from poetry.operations.endpoints import *  # noqa: F403

__getattr__ = forwarding(
    __name__,
    "poetry.operations.endpoints",
    {
        "ADDRESS_FORMS": "poetry.core.address",
        "Address": "poetry.core.address",
        "DEFAULT_HOST": "poetry.core.address",
        "address_name": "poetry.core.address",
        "listening_address": "poetry.core.address",
        "parse_address": "poetry.core.address",
        "parse_port": "poetry.core.address",
        "peer_name": "poetry.core.address",
    },
)
