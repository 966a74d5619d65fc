"""How a poetry connection ends: cleanly once the whole poem is out, the FIN after its last byte.

In this protocol a clean close means "the poem is complete", so a connection
must close cleanly only once the whole poem is in the kernel's hands. A server
ends a poem with L{end_poem}: a half-close, which Twisted carries out once its
own buffer is empty; L{poem_delivered}, called when that is done, gives the
connection the ordinary close back (an operator may have set it to reset, see
L{poetry.operations.descriptors.reset_unserved}) and closes it, so the FIN
follows the last byte. A transport that cannot half-close (most test doubles)
is closed at once: the fallback in L{end_poem}.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

_ORDINARY_CLOSE = struct.pack("ii", 0, 0)


def _tcp_socket(thing: Any) -> Any:
    """Return the TCP socket behind a port or transport (its C{getHandle}), or None."""
    get_handle = getattr(thing, "getHandle", None)
    handle = get_handle() if get_handle is not None else None
    if getattr(handle, "family", None) in (socket.AF_INET, socket.AF_INET6):
        return handle
    return None


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
    L{poetry.operations.tracking.HalfCloseableTrackedProtocol.linger_until_eof}) says so,
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
