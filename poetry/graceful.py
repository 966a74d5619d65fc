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

from typing import TYPE_CHECKING, Any

from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, TimeoutError, maybeDeferred, succeed
from twisted.internet.interfaces import (
    IAddress,
    IHalfCloseableProtocol,
    IListeningPort,
    IProtocol,
    IProtocolFactory,
    IReactorTime,
    IStreamServerEndpoint,
    ITCPTransport,
    ITransport,
)
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure
from zope.interface import alsoProvides

from poetry.address import address_name
from poetry.descriptors import reset_unserved

DEFAULT_GRACE_PERIOD = 10.0
"""Seconds that connections in flight get to finish when a server stops."""


class TrackedProtocol(ProtocolWrapper):
    """A tracked connection's protocol, passing a half-close on to the protocol it wraps.

    It provides C{IHalfCloseableProtocol} exactly when the wrapped protocol
    does: Twisted asks the outermost protocol whether it can be half-closed, and
    a wrapper that did not say so would turn a client's half-close into the end
    of the connection.
    """

    def makeConnection(self, transport: ITransport) -> None:
        """Connect, declaring half-close support after the wrapper copies its transport's."""
        super().makeConnection(transport)
        if IHalfCloseableProtocol.providedBy(self.wrappedProtocol):
            alsoProvides(self, IHalfCloseableProtocol)

    def readConnectionLost(self) -> None:
        """The client will send no more: tell the wrapped protocol."""
        IHalfCloseableProtocol(self.wrappedProtocol).readConnectionLost()

    def writeConnectionLost(self) -> None:
        """Our side will send no more: tell the wrapped protocol."""
        IHalfCloseableProtocol(self.wrappedProtocol).writeConnectionLost()


class ResettingProtocol(Protocol):
    """Reset the connection at once: the answer to a client the server has no room for."""

    transport: ITCPTransport

    def connectionMade(self) -> None:
        """Reset."""
        self.transport.abortConnection()


if TYPE_CHECKING:
    _TrackingFactory = WrappingFactory[TrackedProtocol]
else:  # WrappingFactory is subscriptable at run time only since Twisted 26.4.
    _TrackingFactory = WrappingFactory


class ConnectionTracker(_TrackingFactory):
    """Wrap a server factory, keep track of its open connections, and keep them within a limit.

    With ``max_connections``, the tracker pauses the port it watches once that
    many connections are open (new clients wait in the listen backlog) and
    resumes it when one closes. A connection accepted while full (the port's
    accept loop may take a few more before it pauses) is reset, never closed
    cleanly.
    """

    noisy = False
    protocol = TrackedProtocol
    _log = Logger()

    def __init__(self, wrapped: IProtocolFactory, max_connections: int | None = None) -> None:
        super().__init__(wrapped)
        self.max_connections = max_connections
        self._waiting: list[Deferred[None]] = []
        self._port: Any = None
        self._paused = False

    def watch(self, port: IListeningPort | None) -> None:
        """Pause and resume ``port`` to keep within the limit (None: stop doing so)."""
        self._port = port
        self._limit_accepts()

    def _limit_accepts(self) -> None:
        """Let the port's next accept loop take no more connections than there is room for.

        A Twisted TCP port accepts a batch of up to C{numberAccepts} connections
        each time it is readable, and does not look at being paused until the
        batch is over: without this, a burst would go past the limit and the
        extra clients would be reset instead of waiting in the backlog.
        """
        if self._port is not None and self.max_connections is not None:
            if hasattr(self._port, "numberAccepts"):
                room = self.max_connections - len(self.protocols)
                self._port.numberAccepts = max(1, room)

    @property
    def _full(self) -> bool:
        """Whether the limit of open connections is reached."""
        return self.max_connections is not None and len(self.protocols) >= self.max_connections

    def buildProtocol(self, addr: IAddress | None) -> TrackedProtocol:
        """Wrap the served protocol; when full, a protocol that resets the connection."""
        if self._full:
            return TrackedProtocol(self, ResettingProtocol())
        return super().buildProtocol(addr)

    def registerProtocol(self, protocol: IProtocol) -> None:
        """Track a new connection; pause the port once the limit is reached."""
        super().registerProtocol(protocol)
        self._limit_accepts()
        if self._full and not self._paused and self._port is not None:
            self._paused = True
            self._log.warn(
                "{count} connections open, the limit for this "  # pragma: no mutate (log text)
                "process's file descriptors:"  # pragma: no mutate (log text)
                " new clients wait in the listen backlog",  # pragma: no mutate (log text)
                event="connection-limit-reached",
                count=len(self.protocols),
            )
            self._port.stopReading()

    def unregisterProtocol(self, protocol: IProtocol) -> None:
        """Forget a closed connection; resume a paused port; wake the waiters once none is left."""
        super().unregisterProtocol(protocol)
        self._limit_accepts()
        if self._paused and not self._full:
            self._paused = False
            if self._port is not None:
                self._log.info(
                    "accepting connections again",  # pragma: no mutate (log text)
                    event="accepting-again",
                )
                self._port.startReading()
        if not self.protocols:
            waiting, self._waiting = self._waiting, []
            for d in waiting:
                d.callback(None)

    def when_idle(self) -> Deferred[None]:
        """Return a Deferred that fires once no connection is open (at once if none is)."""
        if not self.protocols:
            return succeed(None)
        d: Deferred[None] = Deferred(self._waiting.remove)
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
        self._endpoint = endpoint
        self._clock = clock
        self._grace_period = grace_period
        self.tracker = ConnectionTracker(factory, max_connections)
        self.listening: Deferred[IListeningPort] | None = None
        self._port: IListeningPort | None = None
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

        self.listening = self._endpoint.listen(self.tracker).addBoth(remember)
        if failures:
            self.listening.addErrback(lambda _: None)
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
