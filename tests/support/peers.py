"""Test-only peers: servers and clients that misbehave on purpose."""

from __future__ import annotations

from twisted.internet.interfaces import (
    IAddress,
    IHalfCloseableProtocol,
    IProtocol,
    IProtocolFactory,
    IReactorTime,
)
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer


def broken_transform(poem: bytes) -> bytes:
    """A transform that always fails."""
    raise RuntimeError("out of ink")


class DroppingServer(Protocol):
    """Send part of a poem, then reset the connection ``delay`` seconds later."""

    def __init__(self, part: bytes, clock: IReactorTime, delay: float) -> None:
        self._part = part
        self._clock = clock
        self._delay = delay

    def connectionMade(self) -> None:
        """Send the part, and schedule the reset."""
        self.transport.write(self._part)
        self._reset = self._clock.callLater(self._delay, self.transport.abortConnection)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Forget the reset if the client left first."""
        if self._reset.active():
            self._reset.cancel()


def dropping_server(part: bytes, clock: IReactorTime, delay: float) -> IProtocolFactory:
    """Return a factory of L{DroppingServer}s."""
    return Factory.forProtocol(lambda: DroppingServer(part, clock, delay))


class ClosingServer(Protocol):
    """Close cleanly at once, without sending a byte."""

    def connectionMade(self) -> None:
        """Close."""
        self.transport.loseConnection()


def closing_server() -> IProtocolFactory:
    """Return a factory of servers that close cleanly at once with 0 bytes."""
    return Factory.forProtocol(ClosingServer)


class DecliningFactory(Factory):
    """A server factory that declines every connection."""

    def buildProtocol(self, addr: IAddress) -> None:
        """Build nothing: Twisted then closes the accepted connection."""
        return None


def silent_server() -> IProtocolFactory:
    """Return a factory of servers that never send and never close."""
    return Factory.forProtocol(Protocol)


class CountingFactory(Factory):
    """Wrap a server factory; count the connections it accepts and keep their addresses."""

    def __init__(self, wrapped: IProtocolFactory) -> None:
        self.wrapped = wrapped
        self.connections = 0
        self.addresses: list[IAddress] = []

    def buildProtocol(self, addr: IAddress) -> IProtocol | None:
        """Count the connection and let the wrapped factory build its protocol."""
        self.connections += 1
        self.addresses.append(addr)
        return self.wrapped.buildProtocol(addr)


class RecordingProtocol(Protocol):
    """Record what happens to a connection, in order, as plain values.

    ``events`` holds ``("data", bytes)``, ``("read closed",)``,
    ``("write closed",)`` and ``("lost", exception type)``.
    """

    def __init__(self) -> None:
        self.events: list[tuple[object, ...]] = []

    def dataReceived(self, data: bytes) -> None:
        """Record the bytes."""
        self.events.append(("data", data))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Record the loss and its kind."""
        self.events.append(("lost", reason.type))


@implementer(IHalfCloseableProtocol)
class HalfCloseableRecorder(RecordingProtocol):
    """A L{RecordingProtocol} that can be half-closed."""

    def readConnectionLost(self) -> None:
        """Record that the peer will send no more."""
        self.events.append(("read closed",))

    def writeConnectionLost(self) -> None:
        """Record that this side sends no more."""
        self.events.append(("write closed",))
