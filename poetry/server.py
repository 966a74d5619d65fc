"""The poetry server: send the whole poem to each client, then close cleanly."""

from __future__ import annotations

from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IAddress, IHalfCloseableProtocol, ITCPTransport
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.address import peer_name
from poetry.descriptors import end_poem, poem_delivered


@implementer(IHalfCloseableProtocol)
class PoetryServerProtocol(Protocol):
    """Write the poem as soon as a client connects, then close.

    Anything the client sends is ignored, and so is a client closing its own
    side (a half-close): it still gets the whole poem.
    """

    transport: ITCPTransport
    _log = Logger()

    def __init__(self, poem: bytes) -> None:
        self.poem = poem

    def connectionMade(self) -> None:
        """Send the poem; close cleanly once it is all in the kernel's hands."""
        self._log.debug(
            "connection accepted from {peer}",  # pragma: no mutate (log text)
            event="connection-accepted",
            peer=peer_name(self.transport),
        )
        self.transport.write(self.poem)
        end_poem(self.transport)

    def readConnectionLost(self) -> None:
        """The client sends no more: the poem goes on."""

    def writeConnectionLost(self) -> None:
        """The poem is all in the kernel's hands: close cleanly."""
        poem_delivered(self.transport)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Log whether the poem reached the client whole."""
        peer = peer_name(self.transport)
        if reason.check(ConnectionDone):
            self._log.info(
                "poem served to {peer} ({size} bytes)",  # pragma: no mutate (log text)
                event="poem-served",
                peer=peer,
                size=len(self.poem),
            )
        else:
            self._log.info(
                "client {peer} gone early: {why}",  # pragma: no mutate (log text)
                event="client-gone-early",
                peer=peer,
                why=reason.getErrorMessage(),
            )


class PoetryServerFactory(ServerFactory):
    """Build protocols that serve one poem, read once when the factory is made."""

    noisy = False

    def __init__(self, poem: bytes) -> None:
        self.poem = poem

    def buildProtocol(self, addr: IAddress | None) -> PoetryServerProtocol:
        """Build a protocol that serves this factory's poem."""
        protocol = PoetryServerProtocol(self.poem)
        protocol.factory = self
        return protocol
