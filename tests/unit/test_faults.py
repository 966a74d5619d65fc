"""Tests for L{poetry.testing}'s faults, fragmentation, buffers, names and records.

Each test is written the way a user of the simulator would write one, from
the package's documentation: a real service and a real client on a
L{MemoryPoetryNetwork}, one fault, and what the client then sees.
"""

from __future__ import annotations

from twisted.internet.address import IPv6Address
from twisted.internet.defer import CancelledError, TimeoutError
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.error import ConnectionRefusedError, DNSLookupError
from twisted.internet.error import TimeoutError as ConnectTimeoutError
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase

from poetry.client import get_poetry
from poetry.errors import PartialPoemError
from poetry.server import PoetryServerFactory
from poetry.slow_server import SlowPoetryFactory
from poetry.testing import HostsTable, MemoryPoetryNetwork, NetworkDidNotSettle
from poetry.testing import network as network_module
from poetry.testing.kits import Recorder
from poetry.testing.names import normalised
from tests.support import POEM
from tests.support.peers import RecordingProtocol

TICK = 1.0
"""Seconds between the slow server's chunks in these tests."""


class NetworkTestCase(SynchronousTestCase):
    """A fresh network per test, which must leave no timer behind."""

    def setUp(self) -> None:
        """Make a network."""
        self.network = MemoryPoetryNetwork()
        self.reactor = self.network.reactor

    def tearDown(self) -> None:
        """Nothing is left pending on the clock."""
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def slow(self, host: str = "127.0.0.1", chunk: int = 10) -> None:
        """Serve the slow server (``chunk`` bytes a second) at ``host``:10000."""
        self.network.serve(host, 10000, SlowPoetryFactory(POEM, chunk, TICK, self.reactor))


class ConnectionFaultTests(NetworkTestCase):
    """A live connection can be reset, held and released."""

    def test_reset_live_connection(self) -> None:
        """Resetting a live connection fails the fetch with what had arrived."""
        self.slow()
        poem = get_poetry(self.reactor, "127.0.0.1", 10000)
        self.network.advance(TICK)  # two chunks are in
        [connection] = self.network.connections
        connection.reset()
        self.assertEqual(self.failureResultOf(poem, PartialPoemError).value.partial, POEM[:20])

    def test_reset_by_client(self) -> None:
        """Resetting from the client's side leaves the server a reset, and the client aborted."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.network.serve("127.0.0.1", 10000, Factory.forProtocol(lambda: server))
        self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(lambda: client))
        self.network.flush()
        self.network.connections[0].reset(side="client")
        self.assertEqual([e[1].__name__ for e in server.events], ["ConnectionLost"])
        self.assertEqual([e[1].__name__ for e in client.events], ["ConnectionAborted"])

    def test_hold_and_release(self) -> None:
        """A held connection moves nothing, its close included, until released."""
        self.slow()
        poem = get_poetry(self.reactor, "127.0.0.1", 10000)
        self.network.flush()  # connected: the first chunk is in
        self.network.connections[0].hold()
        self.network.advance(10 * TICK)  # every chunk written, none delivered
        self.assertNoResult(poem)
        self.network.connections[0].release()
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)


class AddressFaultTests(NetworkTestCase):
    """Addresses can refuse, swallow attempts, or be cut off from each other."""

    def test_refuse_where_a_service_listens(self) -> None:
        """A refused address refuses even with a service on it, until restored."""
        self.network.serve("127.0.0.1", 10000, PoetryServerFactory(POEM))
        self.network.refuse("127.0.0.1", 10000)
        refused = get_poetry(self.reactor, "127.0.0.1", 10000)
        self.network.flush()
        self.failureResultOf(refused, ConnectionRefusedError)
        self.network.restore("127.0.0.1", 10000)
        poem = get_poetry(self.reactor, "127.0.0.1", 10000)
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_black_hole_deferred_timeout(self) -> None:
        """A fetch to a black hole hangs until its own timeout, which stops the attempt."""
        self.network.serve("10.0.0.5", 10000, PoetryServerFactory(POEM))
        self.network.black_hole("10.0.0.5")
        poem = get_poetry(self.reactor, "10.0.0.5", 10000, timeout=5)
        self.network.advance(4.9)  # just short of the fetch's 5-second timeout
        self.assertNoResult(poem)
        self.network.advance(0.1)  # the fetch's timeout
        self.failureResultOf(poem, TimeoutError)
        self.assertEqual([a.outcome for a in self.network.attempts], ["cancelled"])

    def test_black_hole_connector_timeout(self) -> None:
        """An attempt to a black hole fails with C{TimeoutError} at the connector's timeout."""
        self.network.black_hole("10.0.0.5", 10000)
        failures: list[object] = []

        class Recording(ClientFactory):
            def clientConnectionFailed(self, connector: object, reason: object) -> None:
                failures.append(reason)

        self.reactor.connectTCP("10.0.0.5", 10000, Recording(), timeout=3)
        self.network.advance(2.9)  # just short of the connector's 3-second timeout
        self.assertEqual(failures, [])
        self.network.advance(0.1)  # the connector's timeout
        [reason] = failures
        self.assertTrue(reason.check(ConnectTimeoutError))  # type: ignore[attr-defined]
        self.assertEqual([a.outcome for a in self.network.attempts], ["timed out"])

    def test_partition_and_heal(self) -> None:
        """Across a partition bytes wait and new attempts hang; after healing, all arrives."""
        self.slow("10.0.0.5")
        cut = get_poetry(self.reactor, "10.0.0.5", 10000)
        self.network.flush()  # connected; the first chunk is in
        self.network.partition("127.0.0.1", "10.0.0.5")
        hanging = get_poetry(self.reactor, "10.0.0.5", 10000)
        self.network.advance(10 * TICK)  # long enough for every chunk, within the connect timeout
        self.assertNoResult(cut)
        self.assertNoResult(hanging)
        self.network.heal("127.0.0.1", "10.0.0.5")
        self.network.advance(10 * TICK)  # the second client's chunks
        self.assertEqual((self.successResultOf(cut), self.successResultOf(hanging)), (POEM, POEM))

    def test_latency(self) -> None:
        """With latency between two hosts, the poem arrives that long after it was sent."""
        self.network.serve("10.0.0.5", 10000, PoetryServerFactory(POEM))
        self.network.set_latency("127.0.0.1", "10.0.0.5", 0.25)
        poem = get_poetry(self.reactor, "10.0.0.5", 10000)
        self.network.advance(0.24)  # just short of the latency
        self.assertNoResult(poem)
        self.network.advance(0.01)  # the latency has passed
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_negative_latency(self) -> None:
        """A negative latency is refused."""
        self.assertRaises(ValueError, self.network.set_latency, "a", "b", -1)

    def test_source_address(self) -> None:
        """A client bound to an address connects from that host: a partition there applies."""
        self.network.serve("10.0.0.5", 10000, PoetryServerFactory(POEM))
        self.network.partition("10.0.0.9", "10.0.0.5")
        client = Recorder(b"")
        factory = ClientFactory.forProtocol(lambda: client)
        self.reactor.connectTCP("10.0.0.5", 10000, factory, timeout=1, bindAddress=("10.0.0.9", 0))
        self.network.advance(1)  # the connector gives up
        self.assertEqual(
            [(a.source, a.outcome) for a in self.network.attempts], [("10.0.0.9", "timed out")]
        )


class FragmentationTests(NetworkTestCase):
    """Writes can arrive cut into chosen or seeded random segments."""

    def received(self) -> list[bytes]:
        """Fetch the fast server's poem into a recorder; return the packets it got."""
        client = RecordingProtocol()
        self.network.serve("127.0.0.1", 10000, PoetryServerFactory(POEM))
        self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(lambda: client))
        self.network.flush()
        return [event[1] for event in client.events if event[0] == "data"]  # type: ignore[misc]

    def test_as_written(self) -> None:
        """By default a write arrives as one packet."""
        self.assertEqual(self.received(), [POEM])

    def test_given_sizes(self) -> None:
        """With sizes, each write arrives in segments of those sizes, the last one repeated."""
        self.network.fragment(sizes=[1, 2, 30])
        packets = self.received()
        self.assertEqual([len(p) for p in packets[:4]], [1, 2, 30, 30])
        self.assertEqual(b"".join(packets), POEM)

    def test_seeded_random(self) -> None:
        """With a seed, the segments are random but the same for the same seed."""
        self.network.fragment(seed=7)
        first = self.received()
        self.setUp()
        self.network.fragment(seed=7)
        self.assertEqual(self.received(), first)
        self.assertEqual(b"".join(first), POEM)
        self.assertGreater(len(first), 1)

    def test_one_byte_writes_whole(self) -> None:
        """A one-byte write cannot be cut: it arrives as it is, whatever the seed."""
        self.network.fragment(seed=1)
        self.assertEqual(self.network.segments(b"x"), [b"x"])

    def test_back_to_whole_writes(self) -> None:
        """Fragmenting with neither sizes nor seed goes back to whole writes; bad sizes refused."""
        self.network.fragment(sizes=[1])
        self.network.fragment()
        self.assertEqual(self.received(), [POEM])
        self.assertRaises(ValueError, self.network.fragment, sizes=[0])


class BufferTests(NetworkTestCase):
    """A peer that does not read fills a bounded buffer and pauses the writer's producer."""

    def test_slow_server_paused_by_reader_that_does_not_read(self) -> None:
        """The slow server stops writing once its buffer is full, and goes on when drained."""
        self.network.buffer_size = 25
        self.slow(chunk=10)
        client = Recorder(b"")
        self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(lambda: client))
        self.network.flush()
        [connection] = self.network.connections
        connection.client.pauseProducing()  # the client stops reading after the first chunk
        self.network.advance(5 * TICK)  # five ticks: only three chunks are written
        self.assertEqual(connection.server.queued, 30)
        self.assertEqual(client.received, POEM[:10])
        connection.client.resumeProducing()
        self.network.advance(len(POEM) * TICK)  # the rest, once the buffer drained
        self.assertEqual(self.successResultOf(client.ended), POEM)

    def test_pull_producer_asked_again_when_drained(self) -> None:
        """A pull producer is asked for more each time the buffer drains."""
        asked: list[int] = []

        class Pull:
            def __init__(self, transport: object) -> None:
                self.transport = transport

            def resumeProducing(self) -> None:
                asked.append(1)
                if len(asked) < 3:
                    self.transport.write(b"more")  # type: ignore[attr-defined]
                else:
                    self.transport.unregisterProducer()  # type: ignore[attr-defined]

            def stopProducing(self) -> None:
                """Never stopped here."""

        server, client = Protocol(), RecordingProtocol()
        self.network.serve("127.0.0.1", 10000, Factory.forProtocol(lambda: server))
        self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(lambda: client))
        self.network.flush()
        server.transport.registerProducer(Pull(server.transport), False)
        self.network.flush()
        self.assertEqual(len(asked), 3)
        self.assertEqual(client.events, [("data", b"more"), ("data", b"more")])


class NameTests(NetworkTestCase):
    """One hosts table serves C{connectTCP} and C{HostnameEndpoint}."""

    def test_name_in_hosts_table(self) -> None:
        """A name added to the hosts table reaches the service at its address."""
        self.network.hosts.add("poems.example", "10.0.0.5")
        self.network.serve("10.0.0.5", 10000, PoetryServerFactory(POEM))
        poem = get_poetry(self.reactor, "poems.example", 10000)
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_unknown_name(self) -> None:
        """An unknown name fails as a DNS error does, and is recorded so."""
        poem = get_poetry(self.reactor, "poems.invalid", 10000)
        self.network.flush()
        self.failureResultOf(poem, DNSLookupError)
        self.assertEqual([a.outcome for a in self.network.attempts], ["no such host"])

    def test_hostname_endpoint(self) -> None:
        """C{HostnameEndpoint} resolves through the same table; an unknown name fails."""
        self.network.hosts.add("poems.example", "10.0.0.5")
        self.network.serve("10.0.0.5", 10000, PoetryServerFactory(POEM))
        client = Recorder(b"")
        connectProtocol(HostnameEndpoint(self.reactor, "poems.example", 10000), client)
        self.network.advance(1)  # the endpoint's connection attempts are staggered in time
        self.assertEqual(self.successResultOf(client.ended), POEM)
        unknown = HostnameEndpoint(self.reactor, "poems.invalid", 10000).connect(Factory())
        self.network.flush()
        self.failureResultOf(unknown, DNSLookupError)

    def test_localhost(self) -> None:
        """C{localhost} is 127.0.0.1 (and ::1)."""
        self.network.serve("127.0.0.1", 10000, PoetryServerFactory(POEM))
        poem = get_poetry(self.reactor, "localhost", 10000)
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)
        self.assertEqual(HostsTable().lookup("LocalHost"), ["127.0.0.1", "::1"])

    def test_ipv6_spellings(self) -> None:
        """A long IPv6 spelling reaches a service listening on the short one."""
        self.network.serve("::1", 10000, PoetryServerFactory(POEM))
        client = Recorder(b"")
        factory = ClientFactory.forProtocol(lambda: client)
        self.reactor.connectTCP("0:0:0:0:0:0:0:1", 10000, factory)
        self.network.flush()
        self.assertEqual(self.successResultOf(client.ended), POEM)
        self.assertEqual(self.network.attempts[0].source, "::1")

    def test_wildcards(self) -> None:
        """C{::} takes both families; C{0.0.0.0} takes IPv4 only, as on Linux by default."""
        self.network.serve("::", 10000, PoetryServerFactory(b"both"))
        self.network.serve("0.0.0.0", 10001, PoetryServerFactory(b"four"))
        clients = []
        for port in (10000, 10001):
            for host in ("10.1.2.3", "::1"):
                clients.append(Recorder(b""))
                factory = ClientFactory.forProtocol(lambda c=clients[-1]: c)
                self.reactor.connectTCP(host, port, factory)
        self.network.flush()
        self.assertEqual([c.received for c in clients[:3]], [b"both", b"both", b"four"])
        self.assertEqual([a.outcome for a in self.network.attempts][3], "refused")

    def test_spellings_normalised(self) -> None:
        """An empty interface is every IPv4 address; names are matched without regard to case."""
        self.assertEqual(normalised(""), "0.0.0.0")
        self.assertEqual(normalised("[::0001]"), "::1")
        self.assertEqual(normalised("Poems.Example"), "poems.example")

    def test_resolver_filters_address_types(self) -> None:
        """The resolver gives only the address types asked for."""
        got: list[object] = []

        class Receiver:
            def resolutionBegan(self, resolution: object) -> None:
                """Begun."""

            def addressResolved(self, address: object) -> None:
                got.append(address)

            def resolutionComplete(self) -> None:
                """Done."""

        self.reactor.nameResolver.resolveHostName(Receiver(), "localhost", 80, [IPv6Address])
        self.assertEqual(got, [IPv6Address("TCP", "::1", 80)])

    def test_bad_hosts_entry(self) -> None:
        """A hosts entry needs IP addresses."""
        self.assertRaises(ValueError, self.network.hosts.add, "poems.example", "not-an-address")
        self.assertRaises(ValueError, self.network.hosts.add, "poems.example")


class RecordTests(NetworkTestCase):
    """Attempts and connections are on record, with times and outcomes."""

    def test_attempts_recorded(self) -> None:
        """Each attempt is recorded with its time, destination, source and outcome."""
        self.network.serve("127.0.0.1", 10000, PoetryServerFactory(POEM))
        self.network.advance(2)  # the attempts below are made at t=2
        served = get_poetry(self.reactor, "127.0.0.1", 10000)
        refused = get_poetry(self.reactor, "127.0.0.1", 10001)
        cancelled = get_poetry(self.reactor, "127.0.0.1", 10000)
        cancelled.cancel()
        self.network.flush()
        self.assertEqual(self.successResultOf(served), POEM)
        self.failureResultOf(refused, ConnectionRefusedError)
        self.failureResultOf(cancelled, CancelledError)
        self.assertEqual(
            [(a.time, a.host, a.port, a.source, a.outcome) for a in self.network.attempts],
            [
                (2.0, "127.0.0.1", 10000, "127.0.0.1", "connected"),
                (2.0, "127.0.0.1", 10001, "127.0.0.1", "refused"),
                (2.0, "127.0.0.1", 10000, "127.0.0.1", "cancelled"),
            ],
        )
        connection = self.network.attempts[0].connection
        assert connection is not None
        self.assertEqual((connection.opened, connection.closed), (2.0, True))


class NetworkErrorTests(NetworkTestCase):
    """Misuse of the network says what went wrong."""

    def test_stop_serving_unknown_address(self) -> None:
        """Taking an address off the network where nothing listens names the address."""
        error = self.assertRaises(ValueError, self.network.stop_serving, "127.0.0.1", 9)
        self.assertIn("127.0.0.1:9", str(error))

    def test_endless_chatter_names_the_connection(self) -> None:
        """When peers never stop talking, the error names the connections still talking.

        (A smaller round limit than the network's own: the behaviour is the same, sooner.)
        """
        self.patch(network_module, "MAX_ROUNDS", 200)

        class Echo(Protocol):
            def connectionMade(self) -> None:
                self.transport.write(b"ping")

            def dataReceived(self, data: bytes) -> None:
                self.transport.write(data)

        self.network.serve("127.0.0.1", 10000, Factory.forProtocol(Echo))
        self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(Echo))
        error = self.assertRaises(NetworkDidNotSettle, self.network.flush)
        self.assertIn(":10000", str(error))
