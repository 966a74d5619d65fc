"""File descriptors: how many connections a server can hold, and how unserved ones close.

In this protocol a clean close means "the poem is complete", so a connection
must close cleanly only once the whole poem is in the kernel's hands (see
L{poetry.core.closing}), and with a reset in every other case, whatever ends
it: the listening socket gets C{SO_LINGER} 0 (L{reset_unserved}), which
accepted sockets inherit on Linux, so a connection that Twisted accepts and
closes by itself (it does so when C{accept()} fails with C{EMFILE}), and any
connection still open when the process dies (of any signal, SIGKILL
included), is reset by the kernel. L{poetry.core.closing.poem_delivered}
gives a connection the ordinary close back once its poem is out.

A server also stops accepting before it runs out of descriptors (see
L{connection_budget} and L{poetry.operations.tracking.ConnectionTracker}).
"""

from __future__ import annotations

import os
import resource
import socket
import struct
from typing import Any

from poetry.operations.internals import listening_socket

DESCRIPTOR_RESERVE = 16
"""Descriptors kept free for everything but client connections (logs, upstream fetches, ...)."""

_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


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


def reset_unserved(port: Any) -> None:
    """Make every connection ``port`` accepts close with a reset, until told otherwise.

    Does nothing for a port that is not a listening TCP socket.
    """
    listening = listening_socket(port)
    if getattr(listening, "family", None) in (socket.AF_INET, socket.AF_INET6):
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
