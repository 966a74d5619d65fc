"""Keep track of a server's open connections, within a limit, and of those waiting to close.

A L{ConnectionTracker} wraps a server factory: each connection's protocol is
wrapped in a L{TrackedProtocol}, which tells the tracker when it opens and
closes, so that a graceful stop (L{poetry.operations.graceful}) can wait for
them or abort them; the limit is kept by an
L{poetry.operations.accept_limit.AcceptLimiter}; connections whose poem is out
wait for their client's end of input in one L{poetry.operations.lingering.Lingering}.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import (
    IAddress,
    IHalfCloseableProtocol,
    IListeningPort,
    IProtocol,
    IProtocolFactory,
    IReactorTime,
    ITCPTransport,
    ITransport,
)
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.operations import internals
from poetry.operations.accept_limit import AcceptLimiter
from poetry.operations.lingering import Lingering

LINGER_SECONDS = 2.0
"""Seconds a connection whose poem is out waits for the client to close its side."""


class TrackedProtocol(Protocol):
    """A tracked connection's outermost protocol: it tells the tracker when it opens and closes.

    Unlike Twisted's C{ProtocolWrapper}, it does not stand between the protocol
    it wraps and the transport: the wrapped protocol gets the real transport, so
    its writes, half-close and socket options cost no extra call, and no
    interface is copied onto a new object per connection. It forwards what the
    transport tells the protocol: bytes received and the connection's end.
    """

    transport: ITCPTransport

    def __init__(self, factory: ConnectionTracker, wrappedProtocol: IProtocol) -> None:
        self.factory = factory
        self.wrappedProtocol = wrappedProtocol

    def logPrefix(self) -> str:
        """Log as the wrapped protocol does."""
        prefix = getattr(self.wrappedProtocol, "logPrefix", None)
        return prefix() if prefix is not None else self.wrappedProtocol.__class__.__name__

    def makeConnection(self, transport: ITransport) -> None:
        """Register with the tracker, then connect the wrapped protocol to the transport."""
        self.connected = 1
        self.transport = transport  # type: ignore[assignment]
        self.factory.registerProtocol(self)
        self.wrappedProtocol.makeConnection(transport)

    def dataReceived(self, data: bytes) -> None:
        """Pass the bytes on."""
        self.wrappedProtocol.dataReceived(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Unregister from the tracker, then tell the wrapped protocol."""
        self.connected = 0
        self.factory.unregisterProtocol(self)
        self.wrappedProtocol.connectionLost(reason)


@implementer(IHalfCloseableProtocol)
class HalfCloseableTrackedProtocol(TrackedProtocol):
    """A tracked protocol that passes a half-close on to the protocol it wraps.

    The tracker uses it exactly when the wrapped protocol provides
    C{IHalfCloseableProtocol}: Twisted asks the outermost protocol whether it
    can be half-closed, and a wrapper that did not say so would turn a
    client's half-close into the end of the connection.
    """

    wrappedProtocol: Any  # provides IHalfCloseableProtocol: no adaptation on the hot path
    read_closed = False

    def linger_until_eof(self) -> bool:
        """The poem is in the kernel's hands: keep the connection until the client's end of input.

        Closing a socket with bytes unread makes the kernel reset it, and a
        reset throws away what the kernel has not yet delivered: a client that
        sends a request line late would lose the end of its poem. So the
        connection stays open, reading, until the client closes its side, for
        at most L{LINGER_SECONDS}. Returns False (close now) if the client has
        already closed its side, or there is no reactor to keep time.
        """
        if self.read_closed:
            return False
        return self.factory.linger(self)

    def readConnectionLost(self) -> None:
        """The client will send no more: tell the wrapped protocol; close if lingering."""
        self.read_closed = True
        self.wrappedProtocol.readConnectionLost()
        if self.factory.stop_lingering(self):
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Stop lingering; unregister; tell the wrapped protocol."""
        self.factory.stop_lingering(self)
        super().connectionLost(reason)

    def writeConnectionLost(self) -> None:
        """Our side will send no more: tell the wrapped protocol."""
        self.wrappedProtocol.writeConnectionLost()


class ResettingProtocol(Protocol):
    """Reset the connection at once: the answer to a client the server has no room for."""

    transport: ITCPTransport

    def connectionMade(self) -> None:
        """Reset."""
        self.transport.abortConnection()


class ConnectionTracker(Factory):
    """Wrap a server factory, keep track of its open connections, and keep them within a limit.

    Each connection's protocol is wrapped in a L{TrackedProtocol} (kept in
    ``protocols`` while open), which hands the wrapped protocol the real
    transport. With ``max_connections``, the port it watches is kept within
    that many open connections by an L{AcceptLimiter} (new clients wait in
    the listen backlog); a connection accepted while full anyway is reset,
    never closed cleanly.
    """

    noisy = False

    def __init__(
        self,
        wrapped: IProtocolFactory,
        max_connections: int | None = None,
        clock: IReactorTime | None = None,
    ) -> None:
        self.wrappedFactory = wrapped
        self.protocols: dict[TrackedProtocol, int] = {}
        self._clock = clock
        self._limiter = AcceptLimiter(self.protocols, max_connections, clock)
        self._waiting: list[Deferred[None]] = []
        self._lingering: Lingering | None = None

    @property
    def max_connections(self) -> int | None:
        """The most connections open at once (None: no limit)."""
        return self._limiter.limit

    def logPrefix(self) -> str:
        """Log as the wrapped factory does."""
        prefix = getattr(self.wrappedFactory, "logPrefix", None)
        return prefix() if prefix is not None else self.wrappedFactory.__class__.__name__

    def doStart(self) -> None:
        """Start the wrapped factory, then this one."""
        self.wrappedFactory.doStart()
        super().doStart()

    def doStop(self) -> None:
        """Stop the wrapped factory, then this one."""
        self.wrappedFactory.doStop()
        super().doStop()

    def watch(self, port: IListeningPort | None) -> None:
        """Pause and resume ``port`` to keep within the limit (None: stop doing so)."""
        self._limiter.watch(port)

    def buildProtocol(self, addr: IAddress | None) -> TrackedProtocol | None:
        """Wrap the served protocol; when full, a protocol that resets the connection.

        A connection the wrapped factory declines (None) is declined.
        """
        if self._limiter.full:
            return TrackedProtocol(self, ResettingProtocol())
        protocol = self.wrappedFactory.buildProtocol(addr)  # type: ignore[arg-type]
        if protocol is None:
            return None
        if IHalfCloseableProtocol.providedBy(protocol):
            return HalfCloseableTrackedProtocol(self, protocol)
        return TrackedProtocol(self, protocol)

    def registerProtocol(self, protocol: TrackedProtocol) -> None:
        """Track a new connection; pause the port once the limit is reached."""
        self.protocols[protocol] = 1  # pragma: no mutate (values never read)
        self._limiter.opened()

    def unregisterProtocol(self, protocol: TrackedProtocol) -> None:
        """Forget a closed connection; resume a paused port; wake the waiters once none is left."""
        del self.protocols[protocol]
        self._limiter.closed()
        if not self.protocols:
            waiting, self._waiting = self._waiting, []
            for d in waiting:
                d.callback(None)

    def linger(self, protocol: TrackedProtocol) -> bool:
        """Keep ``protocol``'s connection open for at most L{LINGER_SECONDS}; False if no clock.

        The clock is the tracker's, or else the one of the connection's reactor.
        """
        if self._lingering is None:
            clock = self._clock or internals.transport_reactor(protocol.transport)
            if clock is None:
                return False
            self._lingering = Lingering(clock, LINGER_SECONDS)
        self._lingering.add(protocol)
        return True

    def stop_lingering(self, protocol: TrackedProtocol) -> bool:
        """Let ``protocol``'s connection go on without a deadline; return whether it had one."""
        return self._lingering is not None and self._lingering.release(protocol)

    def when_idle(self) -> Deferred[None]:
        """Return a Deferred that fires once no connection is open (at once if none is)."""
        if not self.protocols:
            return succeed(None)
        d: Deferred[None] = Deferred(
            self._waiting.remove  # pragma: no mutate (equivalent: cancelled, it ignores callback)
        )
        self._waiting.append(d)
        return d

    def abort_all(self) -> None:
        """Abort every open connection."""
        for wrapper in list(self.protocols):
            wrapper.transport.abortConnection()
