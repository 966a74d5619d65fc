"""Deprecated: this module is now split; import from the modules that hold its names.

L{poetry.operations.accept_limit}
L{poetry.operations.graceful}
L{poetry.operations.limit_warning}
L{poetry.operations.tracking}
"""

from typing import TYPE_CHECKING

from poetry._moved import forwarding

if TYPE_CHECKING:
    from poetry.operations.accept_limit import *  # noqa: F403
    from poetry.operations.graceful import *  # noqa: F403
    from poetry.operations.limit_warning import *  # noqa: F403
    from poetry.operations.tracking import *  # noqa: F403

__getattr__ = forwarding(
    __name__,
    "poetry.operations.graceful",
    {
        "ACCEPT_REACH": "poetry.operations.accept_limit",
        "AcceptLimiter": "poetry.operations.accept_limit",
        "LimitWarning": "poetry.operations.limit_warning",
        "ConnectionTracker": "poetry.operations.tracking",
        "HalfCloseableTrackedProtocol": "poetry.operations.tracking",
        "LIMIT_LOG_PERIOD": "poetry.operations.limit_warning",
        "LINGER_SECONDS": "poetry.operations.tracking",
        "ResettingProtocol": "poetry.operations.tracking",
        "TrackedProtocol": "poetry.operations.tracking",
    },
)
