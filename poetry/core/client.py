"""The poetry client: collect bytes until the server closes the connection cleanly."""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import (
    IReactorTCP,
    IReactorTime,
    IStreamClientEndpoint,
    ITCPTransport,
)
from twisted.internet.protocol import Protocol, connectionDone
from twisted.python.failure import Failure

from poetry.core.connecting import connect_and_wait, tcp_endpoint
from poetry.core.errors import EmptyPoemError, PartialPoemError, PoemTooLargeError

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
"""The largest poem a client accepts unless told otherwise (4 MiB)."""

ProgressCallback = Callable[[int], None]
"""Called with the number of bytes received so far, each time more arrive."""


class PoetryClientProtocol(Protocol):
    """Collect a poem; ``poem`` fires with its bytes on a clean close.

    A clean close with no bytes at all fails ``poem`` with L{EmptyPoemError}; a
    loss that is not clean fails ``poem`` with L{PartialPoemError}; more than
    ``max_bytes`` aborts the connection and fails it with L{PoemTooLargeError};
    cancelling ``poem`` aborts the connection.
    """

    transport: ITCPTransport

    def __init__(
        self, max_bytes: int = DEFAULT_MAX_BYTES, on_progress: ProgressCallback | None = None
    ) -> None:
        self._max_bytes = max_bytes
        self._on_progress = on_progress
        self._chunks: list[bytes] = []
        self._received = 0
        self.poem: Deferred[bytes] = Deferred(self._abort)

    def dataReceived(self, data: bytes) -> None:
        """Keep the bytes, unless they break the size limit."""
        if self.poem.called:
            return
        self._received += len(data)
        if self._received > self._max_bytes:
            self.transport.abortConnection()
            self.poem.errback(PoemTooLargeError(self._max_bytes))
            return
        self._chunks.append(data)
        if self._on_progress is not None:
            self._on_progress(self._received)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Complete the poem on a clean close after some bytes; otherwise fail."""
        if self.poem.called:
            return
        received = b"".join(self._chunks)
        clean = isinstance(reason.value, ConnectionDone)
        if clean and not received:
            self.poem.errback(EmptyPoemError())
        elif clean:
            self.poem.callback(received)
        else:
            self.poem.errback(PartialPoemError(received, reason))

    def _abort(self, poem: Deferred[bytes]) -> None:
        """Cancel the fetch by dropping the connection at once."""
        self.transport.abortConnection()


def fetch_poem(
    endpoint: IStreamClientEndpoint,
    clock: IReactorTime,
    *,
    timeout: float | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_progress: ProgressCallback | None = None,
) -> Deferred[bytes]:
    """Connect to a poetry server through ``endpoint`` and return its poem.

    The returned Deferred fails with C{twisted.internet.defer.TimeoutError} when
    ``timeout`` seconds pass on ``clock`` first; cancelling it stops the attempt
    in any phase.
    """
    protocol = PoetryClientProtocol(max_bytes, on_progress)
    return connect_and_wait(endpoint, protocol, protocol.poem, clock, timeout)


def get_poetry(
    reactor: IReactorTCP,
    host: str,
    port: int,
    *,
    timeout: float | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_progress: ProgressCallback | None = None,
) -> Deferred[bytes]:
    """Fetch the poem served at ``host``:``port`` over TCP, using ``reactor``.

    ``reactor`` must also provide C{IReactorTime}: it is the clock for ``timeout``.
    The result fails with L{PartialPoemError} on a loss that is not clean,
    L{EmptyPoemError} on a clean close with no bytes,
    L{PoemTooLargeError} past ``max_bytes``, the connection error when the
    connection cannot be made, and C{twisted.internet.defer.TimeoutError} on a
    timeout.
    """
    return fetch_poem(
        tcp_endpoint(reactor, host, port),
        IReactorTime(reactor),
        timeout=timeout,
        max_bytes=max_bytes,
        on_progress=on_progress,
    )
