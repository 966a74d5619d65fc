"""The poetry server: send the whole poem to each client, then close cleanly."""

from __future__ import annotations

from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IAddress, IHalfCloseableProtocol, ITCPTransport
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.core.address import peer_name
from poetry.core.closing import end_poem, poem_delivered
from poetry.core.tally import Tally, counted


@implementer(IHalfCloseableProtocol)
class PoetryServerProtocol(Protocol):
    """Write the poem as soon as a client connects, then close.

    Anything the client sends is ignored, and so is a client closing its own
    side (a half-close): it still gets the whole poem. Each poem served is
    logged at info level, or, when the factory keeps a L{Tally}, counted there
    (and logged at debug level only if the tally says so).
    """

    transport: ITCPTransport
    _log = Logger()

    def __init__(self, poem: bytes) -> None:
        self.poem = poem

    def connectionMade(self) -> None:
        """Send the poem; close cleanly once it is all in the kernel's hands."""
        tally: Tally | None = getattr(self.factory, "tally", None)
        if tally is None or tally.each:
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
        """Count or log the poem served whole; log a client gone early."""
        if isinstance(reason.value, ConnectionDone):
            level = counted(getattr(self.factory, "tally", None), len(self.poem))
            if level is not None:
                self._log.emit(
                    level,
                    "poem served to {peer} ({size} bytes)",  # pragma: no mutate (log text)
                    event="poem-served",
                    peer=peer_name(self.transport),
                    size=len(self.poem),
                )
        else:
            self._log.info(
                "client {peer} gone early: {why}",  # pragma: no mutate (log text)
                event="client-gone-early",
                peer=peer_name(self.transport),
                why=reason.getErrorMessage(),
            )


class PoetryServerFactory(ServerFactory):
    """Build protocols that serve one poem, read once when the factory is made.

    With a ``tally``, poems served are counted and summarised there instead of
    logged one by one; once the factory stops (its port stops listening), the
    tally is flushed and the poems still in flight are logged one by one again.
    """

    noisy = False

    def __init__(self, poem: bytes, tally: Tally | None = None) -> None:
        self.poem = poem
        self.tally = tally

    def stopFactory(self) -> None:
        """Summarise what the tally holds; log each poem from now on."""
        if self.tally is not None:
            self.tally.flush()
            self.tally = None

    def buildProtocol(self, addr: IAddress | None) -> PoetryServerProtocol:
        """Build a protocol that serves this factory's poem."""
        protocol = PoetryServerProtocol(self.poem)
        protocol.factory = self
        return protocol
