"""The caching proxy: serve the upstream server's poem, fetched once and shared.

The first client to arrive starts one upstream fetch; every client that arrives
while it runs waits for that same fetch. A whole poem is cached (for ever, or
for a time-to-live measured on the injected clock); a failed or partial fetch
is never cached, every waiting client's connection is aborted (so none mistakes
the failure for an empty poem), and the next client starts a new fetch, unless
the failure is remembered for a while: then clients are aborted at once until
it is forgotten, so that a stream of clients cannot turn one failing upstream
into a fetch each.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.defer import CancelledError, Deferred, fail, succeed
from twisted.internet.interfaces import (
    IAddress,
    IHalfCloseableProtocol,
    IReactorTime,
    ITCPTransport,
)
from twisted.internet.protocol import Protocol, ServerFactory, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.core.address import peer_name
from poetry.core.closing import end_poem, poem_delivered
from poetry.core.errors import describe_failure
from poetry.core.tally import Tally, counted

DEFAULT_UPSTREAM_TIMEOUT = 30.0
"""Seconds the proxy waits for the upstream poem unless told otherwise."""

DEFAULT_FAILURE_TTL = 5.0
"""Seconds the ``proxy`` command remembers a failed upstream fetch unless told otherwise."""

Fetch = Callable[[], Deferred[bytes]]
"""Start one upstream fetch of the poem."""


class PoemCache:
    """The upstream poem, fetched by at most one fetch at a time and kept while fresh.

    A failed fetch is never cached as a poem; for ``failure_ttl`` seconds
    (0: not at all) it is remembered, and every request in that time fails
    with it at once instead of starting a fetch of its own. Each cache hit is
    logged at info level, or, with a ``tally``, counted there (and logged at
    debug level only if the tally says so).
    """

    _log = Logger()

    def __init__(
        self,
        fetch: Fetch,
        clock: IReactorTime,
        ttl: float | None = None,
        failure_ttl: float = 0.0,
        tally: Tally | None = None,
    ) -> None:
        self.tally = tally
        self._fetch = fetch
        self._clock = clock
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._poem: bytes | None = None
        self._fetched_at = 0.0
        self._failure: Failure | None = None
        self._failed_at = 0.0
        self._waiting: list[Deferred[bytes]] = []
        self._fetching = False

    def get(self) -> Deferred[bytes]:
        """Return the poem: at once when fresh, else once the (shared) fetch ends.

        Fails at once while a failed fetch is remembered. Cancelling the
        returned Deferred stops waiting; the fetch goes on for the others and
        is still cached.
        """
        poem = self.hit()
        if poem is not None:
            return succeed(poem)
        failed_ago = self._clock.seconds() - self._failed_at
        if self._failure is not None and failed_ago < self._failure_ttl:
            self._log.info(
                "upstream failed {ago:.3g} s ago: failing the "  # pragma: no mutate (log text)
                "client without a new fetch",  # pragma: no mutate (log text)
                event="failure-remembered",
                ago=failed_ago,
            )
            return fail(self._failure)
        waiter: Deferred[bytes] = Deferred(self._waiting.remove)
        self._waiting.append(waiter)
        if not self._fetching:
            self._log.info(
                "cache miss: fetching from upstream",  # pragma: no mutate (log text)
                event="cache-miss",
            )
            self._fetching, self._poem = True, None
            self._fetch().addCallbacks(self._fetched, self._failed)
        return waiter

    def hit(self) -> bytes | None:
        """Return the cached poem if it is fresh (a cache hit, counted), else None.

        What L{get} returns at once, without a Deferred: a server answering
        thousands of hits a second asks this first.
        """
        if self._poem is None or not self._fresh():
            return None
        level = counted(self.tally, len(self._poem))
        if level is not None:
            self._log.emit(level, "cache hit", event="cache-hit")  # pragma: no mutate (log)
        return self._poem

    def _fresh(self) -> bool:
        """Whether the cached poem is still within its time-to-live."""
        return self._ttl is None or self._clock.seconds() - self._fetched_at < self._ttl

    def _fetched(self, poem: bytes) -> None:
        """Cache the poem and hand it to everyone waiting."""
        self._fetching = False
        self._poem, self._fetched_at = poem, self._clock.seconds()
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            waiter.callback(poem)

    def _failed(self, failure: Failure) -> None:
        """Cache no poem; remember the failure for a while; fail everyone waiting."""
        self._fetching = False
        self._failure, self._failed_at = failure, self._clock.seconds()
        waiting, self._waiting = self._waiting, []
        remembered = (
            ", and those of the next {failure_ttl} s"  # pragma: no mutate (log text)
            if self._failure_ttl
            else ""  # pragma: no mutate (log text)
        )
        self._log.warn(
            "upstream failure ({why}): failing the waiting "  # pragma: no mutate (log text)
            "clients ({count})" + remembered,  # pragma: no mutate (log text)
            event="upstream-failure",
            why=describe_failure(failure),
            count=len(waiting),
            failure_ttl=self._failure_ttl,
        )
        for waiter in waiting:
            waiter.errback(failure)


@implementer(IHalfCloseableProtocol)
class ProxyProtocol(Protocol):
    """Send the cached poem and close; abort the connection if there is no poem.

    A client that closes its own side (a half-close) still gets the poem.
    """

    transport: ITCPTransport
    _log = Logger()

    def __init__(self, cache: PoemCache) -> None:
        self._cache = cache
        self._poem: Deferred[bytes] | None = None  # pragma: no mutate (equivalent: set on connect)

    def connectionMade(self) -> None:
        """Send the cached poem, or ask the cache for it."""
        poem = self._cache.hit()  # pragma: no mutate (equivalent: get() answers a hit too)
        if poem is not None:
            self._send(poem)
            return
        self._poem = self._cache.get()
        self._poem.addCallbacks(self._send, self._fail)

    def _send(self, poem: bytes) -> None:
        """Send the poem; close cleanly once it is all in the kernel's hands."""
        self.transport.write(poem)
        end_poem(self.transport)

    def _fail(self, failure: Failure) -> None:
        """Abort, so the client sees an error rather than an empty poem."""
        if not failure.check(CancelledError):
            self.transport.abortConnection()

    def readConnectionLost(self) -> None:
        """The client sends no more: keep waiting for the poem."""

    def writeConnectionLost(self) -> None:
        """The poem is all in the kernel's hands: close cleanly."""
        poem_delivered(self.transport)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Stop waiting for the poem if the client left first."""
        if self._poem is not None and not self._poem.called:
            self._log.info(
                "client {peer} left while waiting",  # pragma: no mutate (log text)
                event="client-left-waiting",
                peer=peer_name(self.transport),
            )
            self._poem.cancel()


class ProxyFactory(ServerFactory):
    """Build proxy protocols that share one cache.

    Once the factory stops (its port stops listening), the cache's tally is
    flushed and hits are logged one by one again.
    """

    noisy = False

    def __init__(self, cache: PoemCache) -> None:
        self.cache = cache

    def stopFactory(self) -> None:
        """Summarise what the cache's tally holds; log each hit from now on."""
        if self.cache.tally is not None:
            self.cache.tally.flush()
            self.cache.tally = None

    def buildProtocol(self, addr: IAddress | None) -> ProxyProtocol:
        """Build a protocol served from the shared cache."""
        protocol = ProxyProtocol(self.cache)
        protocol.factory = self
        return protocol
