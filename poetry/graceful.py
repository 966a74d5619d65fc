"""Serve on an endpoint as a Twisted service that shuts down gracefully.

Stopping the service stops listening at once, lets the connections in flight
finish for up to a grace period, then aborts whatever is left, and finishes
only once those connections are really gone. On a real reactor an abort only
resets the connection on the reactor's next turn: a stop that finished before
then would let the reactor stop and the process exit first, and the kernel
would close each cut connection with a FIN, which a poetry client takes for a
whole poem.
"""

from __future__ import annotations

from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, TimeoutError, maybeDeferred, succeed
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IHalfCloseableProtocol,
    IListeningPort,
    IProtocol,
    IProtocolFactory,
    IReactorTime,
    IStreamServerEndpoint,
    ITCPTransport,
    ITransport,
)
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.address import DEFAULT_BACKLOG, address_name
from poetry.descriptors import reset_unserved
from poetry.lingering import Lingering

LINGER_SECONDS = 2.0
"""Seconds a connection whose poem is out waits for the client to close its side."""

ACCEPT_REACH = 2 * DEFAULT_BACKLOG
"""How close to its connection limit a server is when one batch of accepts may go past it.

A batch takes what waits in the listen backlog (L{DEFAULT_BACKLOG} unless an
endpoint sets its own; the kernel caps any at C{somaxconn}) and what arrives
meanwhile. Further from the limit, the port's own batch sizes are left alone:
re-limiting them after every batch made them as large as the room, and a
server pacing 10,000 slow clients, accepted in such batches, fell seconds
behind (`python -m benchmarks`, the 0.1 s pace).
"""

LIMIT_LOG_PERIOD = 10.0
"""Seconds after a connection-limit warning during which reaching the limit again is only counted.

A server under a burst at its limit fills up again with every connection
that closes: it warns once, says once that it accepts again, and warns again
only after this long, with how many times it filled up since.
"""

DEFAULT_GRACE_PERIOD = 10.0
"""Seconds that connections in flight get to finish when a server stops."""


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
        self.connected = 1  # pragma: no mutate (a flag: any true value will do)
        self.transport = transport  # type: ignore[assignment]
        self.factory.registerProtocol(self)
        self.wrappedProtocol.makeConnection(transport)

    def dataReceived(self, data: bytes) -> None:
        """Pass the bytes on."""
        self.wrappedProtocol.dataReceived(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Unregister from the tracker, then tell the wrapped protocol."""
        self.connected = 0  # pragma: no mutate (a flag: None is as false)
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
    transport. With ``max_connections``, the tracker pauses the port it watches
    once that many connections are open (new clients wait in the listen
    backlog) and resumes it when one closes; with a ``clock``, near the limit,
    it also limits the port's batch of accepts again after each batch. A
    connection accepted while full anyway is reset, never closed cleanly.
    """

    noisy = False
    _log = Logger()

    def __init__(
        self,
        wrapped: IProtocolFactory,
        max_connections: int | None = None,
        clock: IReactorTime | None = None,
    ) -> None:
        self.wrappedFactory = wrapped
        self.protocols: dict[TrackedProtocol, int] = {}
        self.max_connections = max_connections
        self._clock = clock
        self._waiting: list[Deferred[None]] = []
        self._port: Any = None
        self._paused = False  # pragma: no mutate (a flag: None is as false)
        self._clamp_again: IDelayedCall | None = None
        self._lingering: Lingering | None = None
        self._fills = 0  # times the limit was reached since the last warning
        self._warned_at: float | None = None
        self._resume_to_log = False  # pragma: no mutate (a flag: None is as false)

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
        self._port = port
        self._limit_accepts()
        if port is None and self._clamp_again is not None:
            self._clamp_again.cancel()
            self._clamp_again = None

    def _limit_accepts(self) -> None:
        """Let the port's next accept loop take no more connections than there is room for.

        A Twisted TCP port accepts a batch of up to C{numberAccepts} connections
        each time it is readable, and does not look at being paused until the
        batch is over: without this, a burst would go past the limit and the
        extra clients would be reset instead of waiting in the backlog. After a
        batch the port sets its next batch size itself (the size of that batch,
        or 20 more), which may be more than the room: so, with a clock and
        within L{ACCEPT_REACH} of the limit, the size is limited again on the
        reactor's next turn, before the port next accepts.
        """
        if self._port is not None and self.max_connections is not None:
            if hasattr(self._port, "numberAccepts"):
                room = self.max_connections - len(self.protocols)
                self._port.numberAccepts = max(1, room)

    def _limit_after_batch(self) -> None:
        """Near the limit, once the accept loop now running is over, limit the next batch again."""
        if self._clock is None or self._port is None or self.max_connections is None:
            return
        if self._clamp_again is None and self.max_connections - len(self.protocols) <= ACCEPT_REACH:
            self._clamp_again = self._clock.callLater(0, self._after_batch)

    def _after_batch(self) -> None:
        """Limit the port's next batch again, after its own adjustment."""
        self._clamp_again = None
        self._limit_accepts()

    @property
    def _full(self) -> bool:
        """Whether the limit of open connections is reached."""
        return self.max_connections is not None and len(self.protocols) >= self.max_connections

    def buildProtocol(self, addr: IAddress | None) -> TrackedProtocol | None:
        """Wrap the served protocol; when full, a protocol that resets the connection.

        A connection the wrapped factory declines (None) is declined.
        """
        if self._full:
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
        self._limit_accepts()
        self._limit_after_batch()
        if self._full and not self._paused and self._port is not None:
            self._paused = True
            self._warn_full()
            self._port.stopReading()

    def _warn_full(self) -> None:
        """Warn that the limit is reached, unless that was said within L{LIMIT_LOG_PERIOD}."""
        self._fills += 1
        now = self._clock.seconds() if self._clock is not None else None
        if now is not None and self._warned_at is not None:
            if 0 <= now - self._warned_at < LIMIT_LOG_PERIOD:  # a clock set back warns
                return
        again = (
            " (full {times} times since the last warning)"  # pragma: no mutate (log text)
            if self._fills > 1
            else ""  # pragma: no mutate (log text)
        )
        self._log.warn(
            "{count} connections open, the limit for this "  # pragma: no mutate (log text)
            "process's file descriptors:"  # pragma: no mutate (log text)
            " new clients wait in the listen backlog" + again,  # pragma: no mutate (log text)
            event="connection-limit-reached",
            count=len(self.protocols),
            times=self._fills,
        )
        self._fills = 0
        self._warned_at = now
        self._resume_to_log = True

    def unregisterProtocol(self, protocol: TrackedProtocol) -> None:
        """Forget a closed connection; resume a paused port; wake the waiters once none is left."""
        del self.protocols[protocol]
        self._limit_accepts()
        if self._paused and not self._full:
            self._paused = False  # pragma: no mutate (a flag: None is as false)
            if self._port is not None:
                if self._resume_to_log:
                    self._resume_to_log = False  # pragma: no mutate (a flag: None is as false)
                    self._log.info(
                        "accepting connections again",  # pragma: no mutate (log text)
                        event="accepting-again",
                    )
                self._port.startReading()
        if not self.protocols:
            waiting, self._waiting = self._waiting, []
            for d in waiting:
                d.callback(None)

    def linger(self, protocol: TrackedProtocol) -> bool:
        """Keep ``protocol``'s connection open for at most L{LINGER_SECONDS}; False if no clock.

        The clock is the tracker's, or else the one of the connection's reactor.
        """
        if self._lingering is None:
            clock = self._clock or getattr(protocol.transport, "reactor", None)
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


class GracefulServerService(Service):
    """Listen on ``endpoint`` with ``factory`` while running; drain connections on stop."""

    _log = Logger()

    def __init__(
        self,
        endpoint: IStreamServerEndpoint,
        factory: IProtocolFactory,
        clock: IReactorTime,
        grace_period: float = DEFAULT_GRACE_PERIOD,
        max_connections: int | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._clock = clock
        self._grace_period = grace_period
        self.tracker = ConnectionTracker(factory, max_connections, clock)
        self.listening: Deferred[IListeningPort] | None = (
            None  # pragma: no mutate (set by startService before any read)
        )
        self._port: IListeningPort | None = (
            None  # pragma: no mutate (set once listening, before any read)
        )
        self._grace: Deferred[None] | None = None

    def startService(self) -> None:
        """Start listening; raise at once if the endpoint fails synchronously.

        ``listening`` fires with the port (or fails) once listening has started.
        """
        super().startService()
        failures: list[Failure] = []

        def remember(result: IListeningPort | Failure) -> IListeningPort | Failure:
            if isinstance(result, Failure):
                failures.append(result)
            else:
                self._port = result
                reset_unserved(result)
                self.tracker.watch(result)
                self._log.info(
                    "listening on {address}",  # pragma: no mutate (log text)
                    event="listening",
                    address=address_name(result.getHost()),
                )
            return result

        self.listening = self.endpoint.listen(self.tracker).addBoth(remember)
        if failures:
            self.listening.addErrback(lambda _: None)  # pragma: no mutate (the result is not read)
            failures[0].raiseException()

    async def _stop(self) -> None:
        """Stop listening, wait for connections up to the grace period, abort the rest.

        Finishes once every aborted connection is really lost (reset).
        """
        if self._port is None:
            return
        port, self._port = self._port, None
        self.tracker.watch(None)
        await maybeDeferred(port.stopListening)
        self._grace = self.tracker.when_idle()
        self._grace.addTimeout(self._grace_period, self._clock)
        try:
            await self._grace
        except (TimeoutError, CancelledError) as ended:
            self._log.warn(
                "grace period {how}: aborting the connections "  # pragma: no mutate (log text)
                "still open ({count})",  # pragma: no mutate (log text)
                event="grace-period-ended",
                how="cut short" if isinstance(ended, CancelledError) else "over",
                count=len(self.tracker.protocols),
            )
            self.tracker.abort_all()
            await self.tracker.when_idle()
        finally:
            self._grace = None

    def end_grace(self) -> None:
        """End the grace period now, if the service is stopping: abort what is still open.

        The stop still finishes only once those connections are really reset.
        """
        if self._grace is not None:
            self._grace.cancel()

    def stopService(self) -> Deferred[None]:
        """Stop gracefully; the Deferred fires once every connection is closed or reset."""
        super().stopService()
        return Deferred.fromCoroutine(self._stop())
