"""The slow poetry server: a poem sent a few bytes at a time, on a shared pacer."""

from __future__ import annotations

from twisted.internet.interfaces import (
    IAddress,
    IConsumer,
    IHalfCloseableProtocol,
    IPushProducer,
    IReactorTime,
    ITCPTransport,
)
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.core.address import peer_name
from poetry.core.closing import end_poem, poem_delivered
from poetry.core.pacer import Pacer

DEFAULT_CHUNK_BYTES = 10
"""Bytes per chunk when slow mode is asked for without a chunk size (as in the tutorial)."""

DEFAULT_DELAY = 1.0
"""Seconds between chunks when slow mode is asked for without a delay (as in the tutorial)."""


@implementer(IPushProducer, IHalfCloseableProtocol)
class SlowPoetryProtocol(Protocol):
    """Send the poem ``chunk_bytes`` at a time as the pacer says, then close cleanly.

    A client that closes its own side (a half-close) still gets every chunk.

    The first chunk leaves on connection. The protocol is its transport's
    streaming producer: while the transport is paused (its send buffer is full)
    no chunk is written, so a client that does not read costs no memory.
    """

    transport: ITCPTransport
    _log = Logger()

    def __init__(self, poem: memoryview, chunk_bytes: int, pacer: Pacer) -> None:
        # A view of the poem shared by the factory's protocols: one per connection cost 300 bytes.
        self._poem = poem
        self._chunk_bytes = chunk_bytes
        self._pacer = pacer
        self._sent = 0
        self.paused = False

    def connectionMade(self) -> None:
        """Send the first chunk at once, then join the pacer for the rest."""
        self._log.debug(
            "connection accepted from {peer}",  # pragma: no mutate (log text)
            event="connection-accepted",
            peer=peer_name(self.transport),
        )
        IConsumer(self.transport).registerProducer(self, True)
        if self.send_next_chunk():
            self._pacer.add(self)

    def send_next_chunk(self) -> bool:
        """Write the next chunk; close cleanly after the last. Return whether more remain."""
        chunk = self._poem[self._sent : self._sent + self._chunk_bytes]
        self._sent += len(chunk)
        if chunk:
            self.transport.write(chunk.tobytes())
        if self._sent < len(self._poem):
            return True
        IConsumer(self.transport).unregisterProducer()
        end_poem(self.transport)
        return False

    def pauseProducing(self) -> None:
        """Write nothing more until resumed."""
        self.paused = True

    def resumeProducing(self) -> None:
        """Carry on: a chunk held back while paused leaves now."""
        self.paused = False
        self._pacer.resume(self)

    def stopProducing(self) -> None:
        """The connection is going away: leave the pacer at once."""
        self._pacer.remove(self)

    def readConnectionLost(self) -> None:
        """The client sends no more: the chunks go on."""

    def writeConnectionLost(self) -> None:
        """The poem is all in the kernel's hands: close cleanly."""
        poem_delivered(self.transport)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Leave the pacer; log whether the whole poem was sent."""
        self._pacer.remove(self)
        peer = peer_name(self.transport)
        if self._sent == len(self._poem):
            self._log.info(
                "poem served to {peer} ({size} bytes)",  # pragma: no mutate (log text)
                event="poem-served",
                peer=peer,
                size=self._sent,
            )
        else:
            self._log.info(
                "client {peer} gone early after {sent} of {size} "  # pragma: no mutate (log text)
                "bytes",  # pragma: no mutate (log text)
                event="client-gone-early",
                peer=peer,
                sent=self._sent,
                size=len(self._poem),
            )


class SlowPoetryFactory(ServerFactory):
    """Build slow poetry protocols that share one pacer on ``clock``."""

    noisy = False

    def __init__(self, poem: bytes, chunk_bytes: int, delay: float, clock: IReactorTime) -> None:
        if chunk_bytes < 1:
            raise ValueError(f"chunk size must be at least 1 byte, got {chunk_bytes}")
        self._view = memoryview(poem)
        self.chunk_bytes = chunk_bytes
        self.pacer = Pacer(clock, delay)

    def buildProtocol(self, addr: IAddress | None) -> SlowPoetryProtocol:
        """Build a protocol that serves this factory's poem on its pacer."""
        protocol = SlowPoetryProtocol(self._view, self.chunk_bytes, self.pacer)
        protocol.factory = self
        return protocol
