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

from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred, TimeoutError, maybeDeferred
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReactorTime,
    IStreamServerEndpoint,
)
from twisted.logger import Logger
from twisted.python.failure import Failure

from poetry.core.address import address_name
from poetry.operations.descriptors import reset_unserved
from poetry.operations.tracking import ConnectionTracker

DEFAULT_GRACE_PERIOD = 10.0
"""Seconds that connections in flight get to finish when a server stops."""


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
