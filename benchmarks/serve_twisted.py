"""Peers for the fast server: the smallest Twisted servers that send the same bytes.

Usage: python -m benchmarks.serve_twisted POEM_FILE [--same-close]. Prints ``listening on
HOST:PORT``.

Without ``--same-close``: a protocol that writes the poem and calls ``loseConnection``; no
logging, no connection tracking, no half-close, no linger. What Twisted itself costs per poem.

With ``--same-close``: the least code that closes as txpoetry must (see
``poetry/core/closing.py``): the listening socket resets what it accepts on close (so a crash
resets), the poem ends with a half-close, the ordinary close is given back once Twisted has
flushed the poem, and the connection closes when the client has closed its side (or after
two seconds). What the integrity rules cost, without txpoetry's logging, tracking and limits.
"""

from __future__ import annotations

import socket
import struct
import sys

from twisted.internet import reactor
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Factory, Protocol
from zope.interface import implementer


class Poem(Protocol):
    """Write the poem, then close."""

    def connectionMade(self) -> None:
        """Send the poem and close."""
        self.transport.write(self.factory.poem)
        self.transport.loseConnection()


@implementer(IHalfCloseableProtocol)
class SameClosePoem(Protocol):
    """Write the poem, half-close, and close once the client has closed its side."""

    timer = None

    def connectionMade(self) -> None:
        """Send the poem; half-close once it is in the kernel's hands."""
        self.transport.write(self.factory.poem)
        self.transport.loseWriteConnection()

    def writeConnectionLost(self) -> None:
        """The poem is out: the ordinary close back; wait for the client's end of input."""
        self.transport.getHandle().setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 0, 0)
        )
        self.timer = reactor.callLater(2, self.transport.loseConnection)

    def readConnectionLost(self) -> None:
        """The client has closed its side: close."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
            self.transport.loseConnection()

    def connectionLost(self, reason: object = None) -> None:
        """Forget the timer."""
        if self.timer is not None and self.timer.active():
            self.timer.cancel()


def main(poem: bytes, same_close: bool) -> None:
    """Serve ``poem`` to every client until killed."""
    factory = Factory.forProtocol(SameClosePoem if same_close else Poem)
    factory.noisy = False
    factory.poem = poem  # type: ignore[attr-defined]
    port = reactor.listenTCP(0, factory, backlog=4096, interface="127.0.0.1")
    if same_close:
        port.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    print(f"listening on 127.0.0.1:{port.getHost().port}", flush=True)
    reactor.run()


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as file:
        main(file.read(), "--same-close" in sys.argv[2:])
