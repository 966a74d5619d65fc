"""Tests for L{poetry.testing.reactor}: a process's reactor, polled as a real one polls."""

from __future__ import annotations

from twisted.internet.error import ConnectionDone, ConnectionLost, DNSLookupError
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.protocol import ClientFactory, Factory, Protocol

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
        self.assertIs(reactor.poll(), False)

    def test_only_simulated_sockets_polled(self) -> None:
        """A descriptor without a simulated socket is never ready."""
        reactor = self.client.reactor
        reactor.addReader(Protocol())
        self.assertIs(reactor.poll(), False)
        reactor.removeAll()

    def test_reset_seen_by_a_reader(self) -> None:
        """A reading transport hears a reset as C{ConnectionLost}."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        server.transport.abortConnection()
        self.network.flush()
        self.assertEqual(client.events, [("lost", ConnectionLost)])


class TimerTests(SimulatedTestCase):
    """A process's timers fire at their own time, however they were reset or delayed."""

    def setUp(self) -> None:
        """No timer has fired yet."""
        super().setUp()
        self.times: list[object] = []

    def test_reset(self) -> None:
        """A timer reset fires at its new time, on the simulated clock."""
        timer = self.client.reactor.callLater(1, self.times.append, "fired")
        self.network.advance(0.5)
        timer.reset(2)  # 2.5 s
        self.network.advance(1.9)
        self.assertEqual(self.times, [])
        self.network.advance(0.1)
        self.assertEqual(self.times, ["fired"])

    def test_delayed_past_another(self) -> None:
        """A timer delayed past another lets the other fire at its own time."""
        reactor = self.client.reactor
        first = reactor.callLater(1, lambda: None)
        reactor.callLater(2, lambda: self.times.append(reactor.seconds()))
        first.delay(2)
        self.network.advance(2.5)
        self.assertEqual(self.times, [2.0])
        self.network.advance(0.5)

    def test_set_after_one_delayed(self) -> None:
        """A timer set after another was delayed past it fires at its own time."""
        reactor = self.client.reactor
        first = reactor.callLater(1, lambda: None)
        first.delay(2)
        reactor.callLater(2, lambda: self.times.append(reactor.seconds()))
        self.network.advance(2.5)
        self.assertEqual(self.times, [2.0])
        self.network.advance(0.5)

    def test_reset_to_later_past_another(self) -> None:
        """A timer reset to later than another lets the other fire first, at its own time."""
        reactor = self.client.reactor
        first = reactor.callLater(1, self.times.append, "first")
        reactor.callLater(2, lambda: self.times.append(("second", reactor.seconds())))
        first.reset(5)
        self.network.advance(10)
        self.assertEqual(self.times, [("second", 2.0), "first"])

    def test_keyword_arguments(self) -> None:
        """A timer's function gets its keyword arguments."""
        got: list[object] = []
        self.client.reactor.callLater(1, lambda value: got.append(value), value="kept")
        self.network.advance(1)
        self.assertEqual(got, ["kept"])

    def test_cancelled_by_one_due_with_it(self) -> None:
        """A timer cancelled by one due with it never runs; the others due run in the same turn."""
        reactor = self.client.reactor
        later: dict[str, IDelayedCall] = {}
        reactor.callLater(0, lambda: later["second"].cancel())
        later["second"] = reactor.callLater(0, self.times.append, "second")
        reactor.callLater(0, self.times.append, "third")
        self.assertIs(reactor.run_due(), True)
        self.assertEqual(self.times, ["third"])
        self.assertIs(reactor.run_due(), False)


class ResolveTests(SimulatedTestCase):
    """C{reactor.resolve} answers from the hosts table."""

    def test_resolve(self) -> None:
        """A name in the table resolves to its first IPv4 address; an unknown one fails."""
        self.network.hosts.add("poems.example", "::5", SERVER_HOST)
        self.assertEqual(
            self.successResultOf(self.client.reactor.resolve("poems.example")), SERVER_HOST
        )
        self.failureResultOf(self.client.reactor.resolve("poems.invalid"), DNSLookupError)

    def test_unknown_name_named(self) -> None:
        """A name the table does not know fails naming it."""
        failure = self.failureResultOf(self.client.reactor.resolve("poems.invalid"), DNSLookupError)
        self.assertIn("poems.invalid", str(failure.value))

    def test_defaults_recorded(self) -> None:
        """C{listenTCP} and C{connectTCP} record Twisted's defaults: a backlog of 50, 30 s."""
        factory, client = Factory.forProtocol(Protocol), ClientFactory.forProtocol(Protocol)
        port = self.server.reactor.listenTCP(0, factory)
        self.client.reactor.connectTCP(SERVER_HOST, 80, client)
        self.assertEqual(self.server.reactor.tcpServers, [(0, factory, 50, "")])
        self.assertEqual(self.client.reactor.tcpClients, [(SERVER_HOST, 80, client, 30, None)])
        port.stopListening()
        self.network.flush()  # refused: nothing listens on port 80

    def test_attempt_recorded(self) -> None:
        """A connection attempt is recorded with where it goes, and where it comes from."""
        self.client.reactor.connectTCP("::1", 80, ClientFactory.forProtocol(Protocol))
        self.network.flush()
        [attempt] = self.network.attempts
        self.assertEqual((attempt.host, attempt.port, attempt.source), ("::1", 80, "::1"))

    def test_default_connect_timeout(self) -> None:
        """A connect with no timeout given gives up after Twisted's default, 30 s."""
        self.network.black_hole(SERVER_HOST)
        self.client.reactor.connectTCP(SERVER_HOST, 80, ClientFactory.forProtocol(Protocol))
        self.network.advance(29.9)
        self.assertEqual(self.network.attempts[0].outcome, "pending")
        self.network.advance(0.1)
        self.assertEqual(self.network.attempts[0].outcome, "timed out")
        self.network.advance(200)  # the kernel's SYN retries, until it gives up

    def test_listen_recorded(self) -> None:
        """C{listenTCP} is recorded with every argument, as a memory reactor records it."""
        factory = Factory.forProtocol(Protocol)
        port = self.server.reactor.listenTCP(0, factory, backlog=7, interface=SERVER_HOST)
        self.assertEqual(self.server.reactor.tcpServers, [(0, factory, 7, SERVER_HOST)])
        self.assertEqual(self.server.reactor.ports, [port])
        port.stopListening()
        self.network.flush()
