"""Real sockets for the integration tier."""

from __future__ import annotations

import socket
from collections.abc import Callable


def refusing_port(add_cleanup: Callable[..., object]) -> int:
    """Return a loopback port held bound, not listening, until cleanup: connects are refused.

    A port freed by closing a listener can be taken again at once, by another
    process's listener or as the source port of a connection to itself (a TCP
    self-connect), and a test expecting a refusal then waits for a poem that never
    comes. A bound port can be neither.
    """
    holder = socket.socket()
    add_cleanup(holder.close)
    holder.bind(("127.0.0.1", 0))
    return int(holder.getsockname()[1])
