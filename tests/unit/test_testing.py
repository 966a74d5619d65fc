"""Tests for L{poetry.testing}: the in-memory network that users of txpoetry test with."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.interfaces import (
    IHalfCloseableProtocol,
    IListeningPort,
    IPushProducer,
    IReactorTCP,
    IReactorTime,
    IStreamServerEndpoint,
    ITransport,
)
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyClass, verifyObject

from poetry.client import get_poetry
from poetry.errors import EmptyPoemError, PartialPoemError
from poetry.proxy import ProxyProtocol
from poetry.server import PoetryServerFactory, PoetryServerProtocol
from poetry.slow_server import SlowPoetryFactory, SlowPoetryProtocol
from poetry.testing import MemoryPoetryNetwork
from poetry.transform_server import TransformProtocol
from tests.support import POEM, FakeServerEndpoint
from tests.support.peers import dropping_server


class MemoryPoetryNetworkTests(SynchronousTestCase):
    """The network connects, refuses, pumps and resets like TCP, and never moves time itself."""

    def setUp(self) -> None:
        """Make a fresh network."""
        self.network = MemoryPoetryNetwork()
        self.reactor = self.network.reactor

    def test_nothing_moves_until_flushed(self) -> None:
        """A connection attempt stays pending until the test flushes."""
        self.network.serve("127.0.0.1", 10000, PoetryServerFactory(POEM))
        poem = get_poetry(self.reactor, "127.0.0.1", 10000)
        self.assertNoResult(poem)
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_refused_where_nothing_listens(self) -> None:
        """An address with no service refuses the connection."""
        poem = get_poetry(self.reactor, "127.0.0.1", 10000)
        self.network.flush()
        self.failureResultOf(poem, ConnectionRefusedError)

    def test_stopped_service_refuses(self) -> None:
        """After C{stopListening}, new connections are refused."""
        port = self.network.serve("127.0.0.1", 10000, PoetryServerFactory(POEM))
        self.successResultOf(port.stopListening())
        poem = get_poetry(self.reactor, "127.0.0.1", 10000)
        self.network.flush()
        self.failureResultOf(poem, ConnectionRefusedError)

    def test_port_zero_gets_free_ports(self) -> None:
        """Listening on port 0 gives each service its own real-looking port."""
        listen_in_memory = self.reactor.listenTCP  # the network's reactor: no socket is opened
        first = listen_in_memory(0, PoetryServerFactory(b"one"), interface="127.0.0.1")
        second = listen_in_memory(0, PoetryServerFactory(b"two"), interface="127.0.0.1")
        ports = [first.getHost().port, second.getHost().port]
        self.assertNotEqual(ports[0], ports[1])
        poems = [get_poetry(self.reactor, "127.0.0.1", p) for p in ports]
        self.network.flush()
        self.assertEqual([self.successResultOf(p) for p in poems], [b"one", b"two"])

    def test_wildcard_interface(self) -> None:
        """A service listening on every interface is reached at any host."""
        self.reactor.listenTCP(10000, PoetryServerFactory(POEM))
        poem = get_poetry(self.reactor, "10.1.2.3", 10000)
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_factory_declining_closes_at_once(self) -> None:
        """A factory that builds no protocol accepts, then closes cleanly at once, as on TCP."""

        class Declining(Factory):
            def buildProtocol(self, addr: object) -> None:
                return None

        self.network.serve("127.0.0.1", 10000, Declining())
        poem = get_poetry(self.reactor, "127.0.0.1", 10000)
        self.network.flush()
        self.failureResultOf(poem, EmptyPoemError)
        self.assertEqual(self.network.open_connections, 0)

    def test_port_accepts_a_batch_past_a_pause(self) -> None:
        """As on Twisted's TCP port, a pause takes effect only after the batch of accepts."""
        ports: list[Any] = []

        class Pausing(Factory):
            def buildProtocol(self, addr: object) -> Protocol:
                ports[0].stopReading()
                return Protocol()

        ports.append(self.network.serve("127.0.0.1", 10000, Pausing()))
        for _ in range(3):
            self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(Protocol))
        self.network.flush()
        self.assertEqual(self.network.open_connections, 3)  # one batch, paused in its middle
        self.reactor.connectTCP("127.0.0.1", 10000, ClientFactory.forProtocol(Protocol))
        self.network.flush()
        self.assertEqual(self.network.open_connections, 3)  # waits: the port is paused
        ports[0].startReading()
        self.network.flush()
        self.assertEqual(self.network.open_connections, 4)
        self.assertEqual(ports[0].numberAccepts, 1)  # as Twisted: the size of the last batch

    def test_address_taken(self) -> None:
        """Two services cannot share an address."""
        self.network.serve("127.0.0.1", 10000, PoetryServerFactory(POEM))
        self.assertRaises(
            ValueError, self.network.serve, "127.0.0.1", 10000, PoetryServerFactory(POEM)
        )

    def test_flush_never_moves_time(self) -> None:
        """Flushing delivers what is written now; paced chunks wait for the test's clock."""
        self.network.serve("127.0.0.1", 10000, SlowPoetryFactory(POEM, 10, 1.0, self.reactor))
        poem = get_poetry(self.reactor, "127.0.0.1", 10000)
        self.network.flush()
        self.assertEqual(self.reactor.seconds(), 0)
        self.assertNoResult(poem)
        self.network.advance(len(POEM) // 10)  # one tick per remaining chunk
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_cancelled_attempt_not_connected(self) -> None:
        """A connection attempt cancelled before the flush never reaches the service."""
        factory = PoetryServerFactory(POEM)
        self.network.serve("127.0.0.1", 10000, factory)
        poem = get_poetry(self.reactor, "127.0.0.1", 10000)
        poem.cancel()
        self.network.flush()
        self.failureResultOf(poem, CancelledError)
        self.assertEqual(self.network.open_connections, 0)

    def test_abort_is_a_reset(self) -> None:
        """A server that aborts is seen by the client as a lost connection, with the partial."""
        self.network.serve("127.0.0.1", 10000, dropping_server(b"part", self.reactor, 1))
        poem = get_poetry(self.reactor, "127.0.0.1", 10000)
        self.network.advance(1)  # the server resets
        self.assertEqual(self.failureResultOf(poem, PartialPoemError).value.partial, b"part")

    def test_closed_connections_forgotten(self) -> None:
        """Connections closed on both sides are no longer counted as open."""
        self.network.serve("127.0.0.1", 10000, PoetryServerFactory(POEM))
        get_poetry(self.reactor, "127.0.0.1", 10000)
        self.network.flush()
        self.assertEqual(self.network.open_connections, 0)


class InterfaceTests(SynchronousTestCase):
    """Fakes and real classes provide every interface they claim."""

    def test_network_reactor(self) -> None:
        """The network's reactor is a TCP reactor and a clock."""
        reactor = MemoryPoetryNetwork().reactor
        self.assertTrue(verifyObject(IReactorTCP, reactor))
        self.assertTrue(verifyObject(IReactorTime, reactor))

    def test_network_port(self) -> None:
        """The network's listening ports are L{IListeningPort}s."""
        port = MemoryPoetryNetwork().serve("127.0.0.1", 1, PoetryServerFactory(POEM))
        self.assertTrue(verifyObject(IListeningPort, port))

    def test_network_transport(self) -> None:
        """The network's transports, on both ends, are L{ITransport}s."""
        transports = []

        class Recorder(Protocol):
            def connectionMade(self) -> None:
                transports.append(self.transport)

        network = MemoryPoetryNetwork()
        network.serve("127.0.0.1", 1, Factory.forProtocol(Recorder))
        network.reactor.connectTCP("127.0.0.1", 1, ClientFactory.forProtocol(Recorder))
        network.flush()
        self.assertEqual(len(transports), 2)
        for transport in transports:
            self.assertTrue(verifyObject(ITransport, transport))

    def test_support_fakes(self) -> None:
        """The test suite's own fake port and endpoint provide what they claim."""
        endpoint = FakeServerEndpoint()
        self.assertTrue(verifyObject(IStreamServerEndpoint, endpoint))
        self.assertTrue(verifyObject(IListeningPort, endpoint.port))

    def test_slow_server_is_push_producer(self) -> None:
        """The slow server's protocol provides L{IPushProducer} in full, as it declares."""
        self.assertTrue(verifyClass(IPushProducer, SlowPoetryProtocol))

    def test_servers_can_be_half_closed(self) -> None:
        """Every txpoetry server protocol hears a client's half-close instead of closing."""
        for protocol in [
            PoetryServerProtocol,
            SlowPoetryProtocol,
            TransformProtocol,
            ProxyProtocol,
        ]:
            self.assertTrue(verifyClass(IHalfCloseableProtocol, protocol), protocol)
