"""File descriptors: how many connections a server can hold, and how unserved ones close.

When C{accept()} fails with C{EMFILE}, Twisted frees a reserved descriptor,
accepts the waiting connections with it and closes them at once, cleanly: each
of those clients would see a clean close with no poem, which in this protocol
reads as "the poem is complete". A server therefore stops accepting before it
runs out (clients then wait in the listen backlog), and makes every connection
that it accepts but does not serve end with a reset: the listening socket gets
C{SO_LINGER} 0, which accepted sockets inherit on Linux, and each connection
that is served gets the ordinary linger back.
"""

from __future__ import annotations

import os
import resource
import socket
import struct
from typing import Any

DESCRIPTOR_RESERVE = 16
"""Descriptors kept free for everything but client connections (logs, upstream fetches, ...)."""

_RESET_ON_CLOSE = struct.pack("ii", 1, 0)
_ORDINARY_CLOSE = struct.pack("ii", 0, 0)


def open_descriptors() -> int:
    """Return how many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"))


def connection_budget(reserve: int = DESCRIPTOR_RESERVE) -> int | None:
    """Return how many more connections this process can hold, or None if unlimited.

    That is the soft C{RLIMIT_NOFILE} less the descriptors open now and
    ``reserve``; at least 1.
    """
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    return max(1, soft - open_descriptors() - reserve)


def _tcp_socket(thing: Any) -> Any:
    """Return the TCP socket behind a port or transport (its C{getHandle}), or None."""
    get_handle = getattr(thing, "getHandle", None)
    handle = get_handle() if get_handle is not None else None
    if getattr(handle, "family", None) in (socket.AF_INET, socket.AF_INET6):
        return handle
    return None


def reset_unserved(port: Any) -> None:
    """Make connections that ``port`` accepts but nobody serves close with a reset.

    Does nothing for a port that is not a listening TCP socket with a descriptor.
    """
    if getattr(port.getHost(), "type", None) != "TCP" or not hasattr(port, "fileno"):
        return
    # A duplicate of the descriptor: the option is set on the one socket both share.
    with socket.fromfd(port.fileno(), socket.AF_INET, socket.SOCK_STREAM) as listening:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)


def close_ordinarily(transport: Any) -> None:
    """Give a served connection back the ordinary close: its FIN follows the bytes sent."""
    connection = _tcp_socket(transport)
    if connection is not None:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _ORDINARY_CLOSE)
