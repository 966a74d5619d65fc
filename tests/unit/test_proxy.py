"""Tests for L{poetry.core.proxy}: one upstream fetch shared by all, failures never cached."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.client import get_poetry
from poetry.core.proxy import PoemCache, ProxyFactory
from tests.support import (
    POEM,
    accept_client,
    captured_events,
    connect_server,
    refuse_client,
    serve_client,
)


class ProxyTestCase(SynchronousTestCase):
    """A proxy for 127.0.0.1:10000 on a memory reactor, its cache made with C{cache_settings}."""

    cache_settings: dict[str, float] = {}

    def setUp(self) -> None:
        """Put the proxy on a memory reactor."""
        self.reactor = MemoryReactorClock()
        self.factory = ProxyFactory(
            PoemCache(
                lambda: get_poetry(self.reactor, "127.0.0.1", 10000, timeout=10),
                self.reactor,
                **self.cache_settings,
            )
        )

    def client(self) -> StringTransport:
        """Connect a client to the proxy; return its transport."""
        return connect_server(self.factory, StringTransport())[1]


class ProxyTests(ProxyTestCase):
    """Clients of the proxy share one upstream fetch and see failures as aborts."""

    cache_settings = {"ttl": 60}

    def test_miss_then_hit(self) -> None:
        """The first client waits for upstream; the next is served from the cache at once."""
        first = self.client()
        self.assertEqual(first.value(), b"")
        serve_client(self.reactor, POEM)
        self.assertEqual(first.value(), POEM)
        self.assertTrue(first.disconnecting)
        second = self.client()
        self.assertEqual(second.value(), POEM)
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_half_closing_client_gets_poem(self) -> None:
        """A client that closes its own side while the fetch runs still gets the poem."""
        protocol, transport = connect_server(self.factory, StringTransport())
        protocol.readConnectionLost()
        serve_client(self.reactor, POEM)
        protocol.writeConnectionLost()
        self.assertEqual(transport.value(), POEM)

    def test_empty_upstream_never_cached(self) -> None:
        """An upstream closing cleanly with 0 bytes aborts the client; the next one refetches."""
        first = self.client()
        serve_client(self.reactor, b"")
        self.assertTrue(first.disconnected)  # aborted: the client sees a reset, not an empty poem
        self.assertEqual(first.value(), b"")
        second = self.client()
        self.assertEqual(len(self.reactor.tcpClients), 2)
        serve_client(self.reactor, POEM)
        self.assertEqual(second.value(), POEM)

    def test_concurrent_misses_share_one_fetch(self) -> None:
        """Any number of clients arriving during the fetch cause exactly one upstream connection."""
        clients = [self.client() for _ in range(10)]
        self.assertEqual(len(self.reactor.tcpClients), 1)
        serve_client(self.reactor, POEM)
        self.assertEqual([c.value() for c in clients], [POEM] * 10)

    def test_upstream_failure_aborts_every_waiter(self) -> None:
        """When upstream is refused, every waiting client's connection is aborted."""
        clients = [self.client() for _ in range(3)]
        with captured_events() as events:
            refuse_client(self.reactor, 0)
        self.assertEqual([c.disconnected for c in clients], [True] * 3)
        self.assertEqual([c.value() for c in clients], [b""] * 3)
        self.assertEqual([e["count"] for e in events.named("upstream-failure")], [3])
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_partial_never_cached(self) -> None:
        """A reset mid-poem upstream is not cached: the next client starts a new fetch."""
        first = self.client()
        protocol, _ = accept_client(self.reactor)
        protocol.dataReceived(POEM[:5])
        protocol.connectionLost(Failure(ConnectionLost()))
        self.assertTrue(first.disconnected)
        second = self.client()
        self.assertEqual(len(self.reactor.tcpClients), 2)
        serve_client(self.reactor, POEM)
        self.assertEqual(second.value(), POEM)

    def test_upstream_timeout_fails_waiters(self) -> None:
        """An upstream that never answers fails the waiters at the upstream timeout."""
        client = self.client()
        accept_client(self.reactor)
        self.reactor.advance(10)  # the upstream timeout
        self.assertTrue(client.disconnected)

    def test_upstream_timeout_logged_in_words(self) -> None:
        """An upstream timeout is logged as such, with how many clients it fails."""
        self.client()
        accept_client(self.reactor)
        with captured_events() as events:
            self.reactor.advance(10)  # the upstream timeout
        [failure] = events.named("upstream-failure")
        self.assertEqual(
            (failure["why"], failure["count"], failure["failure_ttl"]),
            ("timed out after 10 seconds", 1, 0),
        )

    def test_client_leaving_mid_fetch(self) -> None:
        """A client gone during the fetch is written nothing; the others still get the poem."""
        leaver_protocol, leaver = connect_server(self.factory, StringTransport())
        stayer = self.client()
        leaver_protocol.connectionLost(Failure(ConnectionLost()))
        serve_client(self.reactor, POEM)
        self.assertEqual(leaver.value(), b"")
        self.assertFalse(leaver.disconnected)
        self.assertEqual(stayer.value(), POEM)

    def test_client_leaving_mid_fetch_logged(self) -> None:
        """A client gone during the fetch is logged with its peer."""
        peer = IPv4Address("TCP", "10.0.0.7", 4321)
        leaver, _ = connect_server(self.factory, StringTransport(peerAddress=peer))
        with captured_events() as events:
            leaver.connectionLost(Failure(ConnectionLost()))
        [left] = events.named("client-left-waiting")
        self.assertEqual(left["peer"], "10.0.0.7:4321")
        serve_client(self.reactor, POEM)

    def test_fetch_cached_after_every_waiter_left(self) -> None:
        """If every waiter leaves, the fetch still completes and is cached; no second fetch."""
        protocol, _ = connect_server(self.factory, StringTransport())
        protocol.connectionLost(Failure(ConnectionLost()))
        later = self.client()
        self.assertEqual(len(self.reactor.tcpClients), 1)
        serve_client(self.reactor, POEM)
        self.assertEqual(later.value(), POEM)
        self.assertEqual(self.client().value(), POEM)

    def test_ttl_expiry(self) -> None:
        """The cached poem is served until its time-to-live ends, then fetched afresh."""
        self.client()
        serve_client(self.reactor, POEM)
        self.reactor.advance(59.9)  # just short of the 60-second time-to-live
        self.assertEqual(self.client().value(), POEM)
        self.reactor.advance(0.1)  # the time-to-live ends
        refreshed = self.client()
        self.assertEqual(refreshed.value(), b"")
        self.assertEqual(len(self.reactor.tcpClients), 2)
        serve_client(self.reactor, b"a new poem\n")
        self.assertEqual(refreshed.value(), b"a new poem\n")

    def test_ttl_counts_from_each_fetch(self) -> None:
        """A poem fetched afresh is cached for a whole time-to-live from its own fetch."""
        self.client()
        serve_client(self.reactor, POEM)
        self.reactor.advance(100)  # long past the first time-to-live
        self.client()
        serve_client(self.reactor, b"a new poem\n")
        self.reactor.advance(59.9)  # just short of the second poem's time-to-live
        self.assertEqual(self.client().value(), b"a new poem\n")
        self.assertEqual(len(self.reactor.tcpClients), 2)
        self.reactor.advance(0.1)  # the second poem's time-to-live ends
        self.assertEqual(self.client().value(), b"")
        self.assertEqual(len(self.reactor.tcpClients), 3)
        serve_client(self.reactor, POEM)

    def test_failure_counts_only_clients_still_waiting(self) -> None:
        """An upstream failure is logged with the clients still waiting, not those who left."""
        leaver, _ = connect_server(self.factory, StringTransport())
        self.client()
        self.client()
        leaver.connectionLost(Failure(ConnectionLost()))
        with captured_events() as events:
            refuse_client(self.reactor)
        self.assertEqual([e["count"] for e in events.named("upstream-failure")], [2])

    def test_client_served_then_gone_not_logged_as_left(self) -> None:
        """A client that got its poem and closed is not logged as having left while waiting."""
        protocol, _ = connect_server(self.factory, StringTransport())
        serve_client(self.reactor, POEM)
        with captured_events() as events:
            protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(events.named("client-left-waiting"), [])

    def test_builds_proxy_protocol(self) -> None:
        """The factory builds protocols bound to itself."""
        protocol, _ = connect_server(self.factory, StringTransport())
        self.assertIs(protocol.factory, self.factory)
        serve_client(self.reactor, POEM)

    def test_hit_without_a_fresh_poem(self) -> None:
        """With nothing cached, or a stale poem, a hit is None, and nothing is fetched."""
        cache = self.factory.cache
        self.assertIsNone(cache.hit())
        self.assertEqual(self.reactor.tcpClients, [])
        self.client()
        serve_client(self.reactor, POEM)
        self.assertEqual(cache.hit(), POEM)
        self.reactor.advance(60)  # the time-to-live ends
        self.assertIsNone(cache.hit())
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_get_answers_a_hit_at_once(self) -> None:
        """Asked for the poem while it is fresh, the cache answers at once, fetching nothing."""
        self.client()
        serve_client(self.reactor, POEM)
        self.assertEqual(self.successResultOf(self.factory.cache.get()), POEM)
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_hit_and_miss_logged(self) -> None:
        """Cache misses and hits are logged, at info level when no tally counts the hits."""
        with captured_events() as events:
            self.client()
            serve_client(self.reactor, POEM)
            self.client()
        self.assertEqual(events.names(), ["cache-miss", "cache-hit"])
        [hit] = events.named("cache-hit")
        self.assertEqual(hit["log_level"].name, "info")


class FailureTtlTests(ProxyTestCase):
    """A failed upstream fetch is remembered for C{failure_ttl} seconds, never served as a poem."""

    cache_settings = {"failure_ttl": 5}

    def setUp(self) -> None:
        """Let the first client's upstream fetch be refused."""
        super().setUp()
        self.client()
        with captured_events() as self.failure_events:
            refuse_client(self.reactor)

    def test_clients_reset_until_ttl(self) -> None:
        """Just before the failure's time is up, a client is reset at once, with no new fetch."""
        self.reactor.advance(4.999)  # just short of the 5-second failure time-to-live
        client = self.client()
        self.assertTrue(client.disconnected)
        self.assertEqual(client.value(), b"")
        self.assertEqual(len(self.reactor.tcpClients), 1)

    def test_new_fetch_once_ttl_is_up(self) -> None:
        """Once the failure's time is up, the next client starts a new fetch and gets the poem."""
        self.reactor.advance(5)  # the failure is forgotten
        client = self.client()
        self.assertFalse(client.disconnected)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        protocol, _ = accept_client(self.reactor)
        protocol.dataReceived(POEM)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(client.value(), POEM)

    def test_failure_logged_with_ttl(self) -> None:
        """The upstream failure's warning says how long clients will be failed at once."""
        [failure] = self.failure_events.named("upstream-failure")
        self.assertEqual(
            (failure["why"], failure["count"], failure["failure_ttl"]),
            ("Connection was refused by other side.", 1, 5),
        )

    def test_failure_remembered_from_when_it_happened(self) -> None:
        """A failure long after start is remembered for its whole time from when it happened."""
        self.reactor.advance(100)  # the first failure is long forgotten
        self.client()
        self.assertEqual(len(self.reactor.tcpClients), 2)
        refuse_client(self.reactor)
        self.reactor.advance(4.999)  # just short of the failure's time-to-live
        self.assertTrue(self.client().disconnected)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        self.reactor.advance(0.001)  # the second failure is forgotten
        self.assertFalse(self.client().disconnected)
        self.assertEqual(len(self.reactor.tcpClients), 3)
        serve_client(self.reactor, POEM)

    def test_remembered_failure_logged(self) -> None:
        """Each client failed by the remembered failure is logged."""
        self.reactor.advance(1)  # a second after the failure
        with captured_events() as events:
            self.client()
        [remembered] = events.named("failure-remembered")
        self.assertEqual(remembered["ago"], 1)


class ForeverCacheTests(SynchronousTestCase):
    """Without a time-to-live, the poem is cached for ever."""

    def test_no_ttl(self) -> None:
        """However much time passes, the cached poem is served without a new fetch."""
        reactor = MemoryReactorClock()
        factory = ProxyFactory(PoemCache(lambda: get_poetry(reactor, "127.0.0.1", 1), reactor))
        connect_server(factory, StringTransport())
        protocol, _ = accept_client(reactor)
        protocol.dataReceived(POEM)
        protocol.connectionLost(Failure(ConnectionDone()))
        reactor.advance(10**9)  # a billion seconds: nothing expires
        _, transport = connect_server(factory, StringTransport())
        self.assertEqual(transport.value(), POEM)
        self.assertEqual(len(reactor.tcpClients), 1)
