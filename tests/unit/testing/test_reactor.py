"""Tests for L{poetry.testing.reactor}: a process's reactor, polled as a real one polls."""

from __future__ import annotations

from twisted.internet.error import ConnectionDone, ConnectionLost, DNSLookupError
from twisted.internet.protocol import Factory, Protocol

from tests.support.peers import RecordingProtocol
from tests.support.simulated import SERVER_HOST, SimulatedTestCase


class Failing(RecordingProtocol):
    """A protocol whose C{dataReceived} raises."""

    def dataReceived(self, data: bytes) -> None:
        """Fail."""
        raise ZeroDivisionError("a bug in the protocol")


class PollTests(SimulatedTestCase):
    """Each ready descriptor reads or writes once a round; errors end its connection."""

    def test_protocol_error_logged_and_connection_lost(self) -> None:
        """An exception in a protocol is logged and loses its connection, as a real reactor does."""
        server = Failing()
        client = RecordingProtocol()
        self.pair(server, client)
        client.transport.write(b"boom")
        self.network.flush()
        [error] = self.flushLoggedErrors(ZeroDivisionError)
        self.assertIn("a bug in the protocol", str(error.value))
        self.assertEqual(server.events, [("lost", ZeroDivisionError)])
        self.assertEqual(client.events, [("lost", ConnectionDone)])

    def test_descriptors_in_the_order_added(self) -> None:
        """Readers and writers are kept in the order they were added."""
        reactor = self.client.reactor
        first, second = Protocol(), Protocol()
        reactor.addReader(first)
        reactor.addWriter(second)
        reactor.addReader(second)
        self.assertEqual((reactor.getReaders(), reactor.getWriters()), ([first, second], [second]))
        self.assertEqual(reactor.removeAll(), [first, second])
        self.assertEqual((reactor.getReaders(), reactor.getWriters()), ([], []))
        self.assertFalse(reactor.poll())

    def test_only_simulated_sockets_polled(self) -> None:
        """A descriptor without a simulated socket is never ready."""
        reactor = self.client.reactor
        reactor.addReader(Protocol())
        self.assertFalse(reactor.poll())
        reactor.removeAll()

    def test_reset_seen_by_a_reader(self) -> None:
        """A reading transport hears a reset as C{ConnectionLost}."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        server.transport.abortConnection()
        self.network.flush()
        self.assertEqual(client.events, [("lost", ConnectionLost)])


class ResolveTests(SimulatedTestCase):
    """C{reactor.resolve} answers from the hosts table."""

    def test_resolve(self) -> None:
        """A name in the table resolves to its first IPv4 address; an unknown one fails."""
        self.network.hosts.add("poems.example", "::5", SERVER_HOST)
        self.assertEqual(
            self.successResultOf(self.client.reactor.resolve("poems.example")), SERVER_HOST
        )
        self.failureResultOf(self.client.reactor.resolve("poems.invalid"), DNSLookupError)

    def test_listen_recorded(self) -> None:
        """C{listenTCP} is recorded with every argument, as a memory reactor records it."""
        factory = Factory.forProtocol(Protocol)
        port = self.server.reactor.listenTCP(0, factory, backlog=7, interface=SERVER_HOST)
        self.assertEqual(self.server.reactor.tcpServers, [(0, factory, 7, SERVER_HOST)])
        self.assertEqual(self.server.reactor.ports, [port])
        port.stopListening()
        self.network.flush()
