"""Connect a protocol through an endpoint and wait for the outcome it reports."""

from __future__ import annotations

from typing import TypeVar

from twisted.internet.abstract import isIPv6Address
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP6ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectingCancelledError
from twisted.internet.interfaces import IProtocol, IReactorTime, IStreamClientEndpoint
from twisted.python.failure import Failure

T = TypeVar("T")


def _as_cancelled(failure: Failure) -> None:
    """Report a connection attempt stopped by cancellation as C{CancelledError}.

    Endpoints fail a cancelled attempt with C{ConnectingCancelledError}; the
    rest of Twisted (``addTimeout`` included) expects C{CancelledError}.
    """
    failure.trap(ConnectingCancelledError)
    raise CancelledError() from failure.value


def connect_and_wait(
    endpoint: IStreamClientEndpoint,
    protocol: IProtocol,
    outcome: Deferred[T],
    clock: IReactorTime,
    timeout: float | None = None,
) -> Deferred[T]:
    """Connect ``protocol`` through ``endpoint``; fire with its ``outcome``.

    ``outcome`` is the protocol's own Deferred for the result of the exchange;
    its canceller must abort the connection. The returned Deferred fails with
    C{twisted.internet.defer.TimeoutError} when ``timeout`` seconds pass on
    ``clock`` first, and cancelling it stops the attempt in any phase: while
    connecting the connection attempt is stopped, afterwards ``outcome`` is
    cancelled.
    """
    connected = connectProtocol(endpoint, protocol)
    connected.addErrback(_as_cancelled)
    result: Deferred[T] = connected.addCallback(lambda _: outcome)
    if timeout is not None:
        result.addTimeout(timeout, clock)
    return result


def tcp_endpoint(reactor: object, host: str, port: int) -> IStreamClientEndpoint:
    """Return a TCP client endpoint for ``host``:``port`` (IPv6 literals included)."""
    endpoint_type = TCP6ClientEndpoint if isIPv6Address(host) else TCP4ClientEndpoint
    return endpoint_type(reactor, host, port)
