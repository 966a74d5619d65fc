"""The simulator's smaller promises: states, reasons, records, batches and exact times.

Each of these was a mutant of ``poetry/testing/`` that no broader test noticed.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.error import (
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
)
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import ClientFactory, Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

from poetry.client import get_poetry
from poetry.server import PoetryServerFactory
from poetry.slow_server import SlowPoetryFactory
from poetry.testing import RESET, MemoryPoetryNetwork
from poetry.testing.names import HostsResolver, HostsTable, is_ip, is_ipv6
from tests.support import POEM
from tests.support.peers import RecordingProtocol


class FailureRecorder(ClientFactory):
    """A client factory that records each failed attempt's connector and reason."""

    protocol = Protocol

    def __init__(self) -> None:
        self.failed: list[tuple[object, Failure]] = []

    def clientConnectionFailed(self, connector: object, reason: Failure) -> None:
        """Record the connector and the reason."""
        self.failed.append((connector, reason))


class TimedRecorder(Protocol):
    """Record the clock time each packet arrives."""

    def __init__(self, clock: object) -> None:
        self.clock = clock
        self.arrivals: list[float] = []

    def dataReceived(self, data: bytes) -> None:
        """Note the time."""
        self.arrivals.append(self.clock.seconds())  # type: ignore[attr-defined]


class DetailTests(SynchronousTestCase):
    """A fresh network per test, which must leave no timer behind."""

    def setUp(self) -> None:
        """Make a network."""
        self.network = MemoryPoetryNetwork()
        self.reactor = self.network.reactor

    def tearDown(self) -> None:
        """Nothing is left pending on the clock."""
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def connected_pair(self) -> tuple[RecordingProtocol, RecordingProtocol]:
        """Connect a recording client to a recording server; return (server, client)."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.network.serve("127.0.0.1", 10000, Factory.forProtocol(lambda: server))
        self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(lambda: client))
        self.network.flush()
        return server, client

    def test_transport_states(self) -> None:
        """A transport is connected until it closes, then disconnected; the close is on record."""
        server, client = self.connected_pair()
        transport = server.transport
        self.assertEqual((transport.connected, transport.disconnecting), (True, False))
        transport.loseConnection()
        self.assertEqual(transport.disconnecting, True)
        self.network.flush()
        self.assertEqual((transport.connected, transport.disconnected), (False, True))
        self.assertEqual(self.network.attempts[0].connection.closed_at, 0.0)  # type: ignore[union-attr]

    def test_abort_states_and_one_reset(self) -> None:
        """An abort marks the transport as closing at once and schedules exactly one reset."""
        server, client = self.connected_pair()
        server.transport.abortConnection()
        server.transport.abortConnection()
        self.assertTrue(server.transport.disconnecting)
        self.assertEqual(len(self.reactor.getDelayedCalls()), 1)
        self.network.flush()  # the reset
        self.assertEqual(client.events, [("lost", ConnectionLost)])

    def test_reset_reason_and_sides(self) -> None:
        """A reset by default comes from the server: the client's reason says it was reset."""
        reasons: dict[str, Failure] = {}

        class Keeping(Protocol):
            def __init__(self, side: str) -> None:
                self.side = side

            def connectionLost(self, reason: Failure = connectionDone) -> None:
                reasons[self.side] = reason

        self.network.serve("127.0.0.1", 10000, Factory.forProtocol(lambda: Keeping("server")))
        client_factory = ClientFactory.forProtocol(lambda: Keeping("client"))
        self.reactor.connectTCP("127.0.0.1", 10000, client_factory)
        self.network.flush()
        [connection] = self.network.connections
        connection.server.write(b"never delivered")
        connection.reset()
        self.assertEqual(connection.server.queued, 0)
        self.assertIn(RESET, str(reasons["client"].value))
        self.assertTrue(reasons["server"].check(ConnectionAborted))

    def test_exit_closes_without_telling_the_process(self) -> None:
        """After its process exits, a server end is closed, and its protocol heard nothing."""
        server, client = self.connected_pair()
        self.network.exit_process(*self.network._ports.values())
        self.assertEqual((server.transport.connected, server.transport.disconnected), (False, True))
        self.assertEqual(server.events, [])
        self.assertEqual(client.events, [("lost", ConnectionDone)])

    def test_exit_with_linger_zero_says_reset(self) -> None:
        """A process that dies with its socket set to reset leaves the peer a reset, so named."""
        reasons: list[Failure] = []

        class Keeping(Protocol):
            def connectionLost(self, reason: Failure = connectionDone) -> None:
                reasons.append(reason)

        port = self.network.serve("127.0.0.1", 10000, Factory.forProtocol(Protocol))
        port.socket.setsockopt(*_linger_zero())
        self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(Keeping))
        self.network.flush()
        self.network.exit_process(port)
        self.assertIn(RESET, str(reasons[0].value))

    def test_writer_to_closed_peer_is_reset(self) -> None:
        """Bytes written to a peer that has closed its socket earn the writer a reset, so named."""
        reasons: list[Failure] = []

        @implementer(IHalfCloseableProtocol)
        class Writer(Protocol):
            def readConnectionLost(self) -> None:
                self.transport.write(b"anyone there?")

            def writeConnectionLost(self) -> None:
                """Not used."""

            def connectionLost(self, reason: Failure = connectionDone) -> None:
                reasons.append(reason)

        self.network.serve("127.0.0.1", 10000, PoetryServerFactory(POEM))
        self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(Writer))
        self.network.flush()
        self.assertIn(RESET, str(reasons[0].value))

    def test_close_recorded_when_both_ends_closed(self) -> None:
        """A connection's close is recorded when its second end closes, not its first."""

        @implementer(IHalfCloseableProtocol)
        class Lingering(RecordingProtocol):
            def readConnectionLost(self) -> None:
                """Stay open for now."""

            def writeConnectionLost(self) -> None:
                """Not used."""

        server = Lingering()
        self.network.serve("127.0.0.1", 10000, Factory.forProtocol(lambda: server))
        self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(Protocol))
        self.network.flush()
        [connection] = self.network.connections
        connection.client.loseConnection()
        self.network.advance(2)  # the server stays open meanwhile
        self.assertIsNone(connection.closed_at)
        server.transport.loseConnection()
        self.network.flush()
        self.assertEqual(connection.closed_at, 2.0)
        self.assertTrue(connection.client.disconnecting)

    def test_write_sequence(self) -> None:
        """C{writeSequence} sends the pieces joined, as one write."""
        server, client = self.connected_pair()
        server.transport.writeSequence([b"Tyger ", b"Tyger"])
        self.network.flush()
        self.assertEqual(client.events, [("data", b"Tyger Tyger")])

    def test_buffer_limit_boundary(self) -> None:
        """A producer is paused only past the buffer size, not at it."""
        paused: list[bool] = []

        class Push:
            def pauseProducing(self) -> None:
                paused.append(True)

            def resumeProducing(self) -> None:
                """Resumed."""

            def stopProducing(self) -> None:
                """Stopped."""

        server, client = self.connected_pair()
        client.transport.pauseProducing()
        self.network.buffer_size = 10
        server.transport.registerProducer(Push(), True)
        server.transport.write(b"x" * 10)
        self.assertEqual(paused, [])
        server.transport.write(b"x")
        self.assertEqual(paused, [True])

    def test_arrivals_at_their_own_times_within_one_advance(self) -> None:
        """Within one long advance, each chunk arrives at its own time, a quarter second apart."""
        client = TimedRecorder(self.reactor)
        slow = SlowPoetryFactory(POEM, len(POEM) // 4 + 1, 0.25, self.reactor)
        self.network.serve("127.0.0.1", 10000, slow)
        self.network.set_latency("127.0.0.1", "127.0.0.1", 0.125)
        self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(lambda: client))
        self.network.advance(2)  # every chunk, each an eighth of a second after it was sent
        self.assertEqual(client.arrivals, [0.125, 0.375, 0.625, 0.875])

    def test_zero_latency_allowed(self) -> None:
        """A latency of zero is allowed; a negative one is refused with its value."""
        self.network.set_latency("a", "b", 0)
        error = self.assertRaises(ValueError, self.network.set_latency, "a", "b", -0.5)
        self.assertIn("-0.5", str(error))

    def test_held_and_delayed_does_not_spin(self) -> None:
        """A held connection with bytes due does not keep the clock from reaching its target."""
        server, client = self.connected_pair()
        self.network.set_latency("127.0.0.1", "127.0.0.1", 1)
        server.transport.write(b"late")
        self.network.connections[0].hold()
        self.network.advance(3)  # the bytes are due at 1 but held
        self.assertEqual((self.network.now, client.events), (3.0, []))

    def test_batches_grow(self) -> None:
        """A port starts with batches of 100; a full batch makes the next 20 larger."""
        port = self.network.serve("127.0.0.1", 10000, Factory.forProtocol(Protocol))
        self.assertEqual(port.numberAccepts, 100)
        for _ in range(100):
            self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(Protocol))
        self.network.flush()
        self.assertEqual(port.numberAccepts, 120)

    def test_listen_recorded_by_the_reactor(self) -> None:
        """C{listenTCP} is recorded by the memory reactor with every argument."""
        factory = Factory.forProtocol(Protocol)
        listen_in_memory = self.reactor.listenTCP  # the network's reactor: no socket is opened
        listen_in_memory(0, factory, backlog=7, interface="127.0.0.1")
        self.assertEqual(self.reactor.tcpServers, [(0, factory, 7, "127.0.0.1")])

    def test_refusal_names_the_address_and_connector(self) -> None:
        """A refusal goes to the attempt's own connector, naming the address."""
        factory = FailureRecorder()
        connector = self.reactor.connectTCP("127.0.0.1", 10001, factory)
        self.network.flush()
        [(failed_connector, reason)] = factory.failed
        self.assertIs(failed_connector, connector)
        self.assertTrue(reason.check(ConnectionRefusedError))
        self.assertIn("127.0.0.1:10001", str(reason.value))

    def test_unknown_name_names_the_host(self) -> None:
        """An unknown name fails on the attempt's own connector, naming the host."""
        factory = FailureRecorder()
        connector = self.reactor.connectTCP("poems.invalid", 10000, factory)
        self.network.flush()
        [(failed_connector, reason)] = factory.failed
        self.assertIs(failed_connector, connector)
        self.assertTrue(reason.check(DNSLookupError))
        self.assertIn("poems.invalid", str(reason.value))

    def test_restored_black_hole_ends_its_timer(self) -> None:
        """An attempt that hung in a black hole, refused once restored, leaves no timer behind."""
        self.network.black_hole("10.0.0.5")
        poem = get_poetry(self.reactor, "10.0.0.5", 10000)
        self.network.flush()
        self.network.restore("10.0.0.5")
        self.network.flush()
        self.failureResultOf(poem, ConnectionRefusedError)

    def test_restored_black_hole_connects(self) -> None:
        """After a black hole is restored, attempts reach the service again."""
        self.network.serve("10.0.0.5", 10000, PoetryServerFactory(POEM))
        self.network.black_hole("10.0.0.5", 10000)
        self.network.restore("10.0.0.5", 10000)
        poem = get_poetry(self.reactor, "10.0.0.5", 10000)
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_error_messages_say_what(self) -> None:
        """Misuse errors name what was wrong."""
        self.network.serve("127.0.0.1", 10000, Factory())
        error = self.assertRaises(ValueError, self.network.serve, "127.0.0.1", 10000, Factory())
        self.assertIn("127.0.0.1:10000", str(error))
        error = self.assertRaises(ValueError, self.network.fragment, sizes=[2, 0])
        self.assertIn("[2, 0]", str(error))
        error = self.assertRaises(ValueError, HostsTable().add, "poems.example", "nowhere")
        self.assertIn("'poems.example'", str(error))


class NameDetailTests(SynchronousTestCase):
    """Bracketed IPv6 addresses, and what the resolver hands its receiver."""

    def test_bracketed_ipv6(self) -> None:
        """A bracketed IPv6 address is an IPv6 address."""
        self.assertTrue(is_ip("[::1]"))
        self.assertTrue(is_ipv6("[::1]"))
        self.assertFalse(is_ipv6("127.0.0.1"))

    def test_resolution_names_the_host(self) -> None:
        """The resolver begins with a resolution naming the host; the port defaults to 0."""
        began: list[object] = []
        resolved: list[object] = []

        class Receiver:
            def resolutionBegan(self, resolution: object) -> None:
                began.append(resolution)

            def addressResolved(self, address: object) -> None:
                resolved.append(address)

            def resolutionComplete(self) -> None:
                """Done."""

        resolution = HostsResolver(HostsTable()).resolveHostName(Receiver(), "127.0.0.1")
        self.assertEqual(began, [resolution])
        self.assertEqual(resolution.name, "127.0.0.1")  # type: ignore[attr-defined]
        resolution.cancel()  # nothing to cancel: resolutions finish at once
        self.assertEqual(resolved, [IPv4Address("TCP", "127.0.0.1", 0)])


def _linger_zero() -> tuple[int, int, bytes]:
    """The C{setsockopt} arguments of C{SO_LINGER} 0."""
    import socket

    from poetry.testing import RESET_LINGER

    return socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER
