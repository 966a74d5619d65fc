"""File descriptors and sockets: how many connections a server can hold, and how they close.

In this protocol a clean close means "the poem is complete", so a connection
must close cleanly only once the whole poem is in the kernel's hands, and with
a reset in every other case, whatever ends it:

 - the listening socket gets C{SO_LINGER} 0, which accepted sockets inherit on
   Linux: a connection that Twisted accepts and closes by itself (it does so
   when C{accept()} fails with C{EMFILE}), and any connection still open when
   the process dies (of any signal, SIGKILL included), is reset by the kernel;
 - a server ends a poem with L{end_poem}: a half-close, which Twisted carries
   out once its own buffer is empty; L{poem_delivered}, called when that is
   done, gives the connection the ordinary close back and closes it, so the
   FIN follows the last byte.

A server also stops accepting before it runs out of descriptors (see
L{connection_budget} and L{poetry.graceful.ConnectionTracker}).
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
    """Make every connection ``port`` accepts close with a reset, until told otherwise.

    Does nothing for a port that is not a listening TCP socket.
    """
    listening: Any = getattr(port, "socket", None)
    if getattr(listening, "family", None) in (socket.AF_INET, socket.AF_INET6):
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)


def end_poem(transport: Any) -> None:
    """The whole poem is written: half-close once Twisted has handed it all to the kernel.

    The protocol's C{writeConnectionLost} then calls L{poem_delivered}. A
    transport that cannot half-close is closed at once.
    """
    lose_write = getattr(transport, "loseWriteConnection", None)
    if lose_write is None:
        poem_delivered(transport)
    else:
        lose_write()


def poem_delivered(transport: Any) -> None:
    """Every byte is in the kernel's hands: close cleanly, the FIN after the last byte.

    On TCP, the connection first gets the ordinary close back; then, if its
    outermost protocol (a tracked connection, see
    L{poetry.graceful.HalfCloseableTrackedProtocol.linger_until_eof}) says so,
    it stays open until the client has closed its side, so that no unread
    request byte turns the close into a reset.
    """
    connection = _tcp_socket(transport)
    if connection is not None:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _ORDINARY_CLOSE)
        linger = getattr(getattr(transport, "protocol", None), "linger_until_eof", None)
        if linger is not None and linger():
            return
    transport.loseConnection()
