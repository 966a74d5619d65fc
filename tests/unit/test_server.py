"""Tests for L{poetry.core.server}: the fast poetry server."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Factory
from twisted.internet.testing import StringTransport, StringTransportWithDisconnection
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyClass

from poetry.core.proxy import ProxyProtocol
from poetry.core.server import PoetryServerFactory, PoetryServerProtocol
from poetry.core.slow_server import SlowPoetryProtocol
from poetry.core.transform_server import TransformProtocol
from tests.support import POEM, captured_events, connect_server
from tests.support.fakes import HalfClosingTransport


class PoetryServerProtocolTests(SynchronousTestCase):
    """A server protocol sends the poem whole, then closes cleanly."""

    def setUp(self) -> None:
        """Start each test afresh."""
        self.factory = PoetryServerFactory(POEM)
        self.protocol = self.factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 5000))
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", "10.0.0.7", 4321))

    def test_sends_poem_on_connect(self) -> None:
        """The whole poem is written as soon as the connection is made."""
        self.protocol.makeConnection(self.transport)
        self.assertEqual(self.transport.value(), POEM)

    def test_closes_cleanly_after_poem(self) -> None:
        """On a transport that cannot half-close, a clean close (not an abort) after the poem."""
        self.protocol.makeConnection(self.transport)
        self.assertTrue(self.transport.disconnecting)
        self.assertFalse(self.transport.disconnected)

    def test_half_closes_after_poem_on_tcp(self) -> None:
        """On a transport that can half-close (TCP), the poem ends with a half-close, not a close.

        The close follows once Twisted says every byte is out (C{writeConnectionLost}).
        """
        transport = HalfClosingTransport()
        self.protocol.makeConnection(transport)
        self.assertEqual((transport.value(), transport.write_closed), (POEM, True))
        self.assertFalse(transport.disconnecting)
        self.protocol.writeConnectionLost()
        self.assertTrue(transport.disconnecting)

    def test_ignores_client_bytes(self) -> None:
        """Bytes the client sends change nothing on the wire."""
        self.protocol.makeConnection(self.transport)
        self.protocol.dataReceived(b"GET /poem HTTP/1.0\r\n\r\n")
        self.assertEqual(self.transport.value(), POEM)

    def test_half_closing_client_keeps_poem(self) -> None:
        """A client closing its own side changes nothing: the poem and the clean close stand."""
        self.protocol.makeConnection(self.transport)
        self.protocol.readConnectionLost()
        self.protocol.writeConnectionLost()
        self.assertEqual(self.transport.value(), POEM)
        self.assertTrue(self.transport.disconnecting)
        self.assertFalse(self.transport.disconnected)

    def test_served_by_a_factory_without_tally(self) -> None:
        """The protocol also works for a factory of another kind (no tally): it logs each poem."""
        factory = Factory.forProtocol(lambda: PoetryServerProtocol(POEM))
        with captured_events() as events:
            protocol, transport = connect_server(factory, StringTransportWithDisconnection())
            protocol.writeConnectionLost()
        self.assertEqual(transport.value(), POEM)
        self.assertEqual([e["log_level"].name for e in events.named("poem-served")], ["info"])

    def test_builds_server_protocol(self) -> None:
        """The factory builds L{PoetryServerProtocol}s bound to itself."""
        self.assertIsInstance(self.protocol, PoetryServerProtocol)
        self.assertIs(self.protocol.factory, self.factory)

    def test_every_client_gets_same_bytes(self) -> None:
        """Each connection is sent the poem the factory was built with, not a re-read copy."""
        other = self.factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 5001))
        first, second = StringTransport(), StringTransport()
        self.protocol.makeConnection(first)
        other.makeConnection(second)
        self.assertEqual(first.value(), second.value())
        self.assertIs(self.factory.poem, POEM)

    def test_logs_poem_served(self) -> None:
        """A clean close is logged as a poem served, with the peer and the poem's size."""
        transport = StringTransportWithDisconnection(
            peerAddress=IPv4Address("TCP", "10.0.0.7", 4321)
        )
        transport.protocol = self.protocol
        with captured_events() as events:
            self.protocol.makeConnection(transport)
        [served] = events.named("poem-served")
        self.assertEqual((served["peer"], served["size"]), ("10.0.0.7:4321", len(POEM)))

    def test_logs_connection_accepted(self) -> None:
        """Each connection accepted is logged at debug level, with the peer."""
        with captured_events() as events:
            self.protocol.makeConnection(self.transport)
        [accepted] = events.named("connection-accepted")
        self.assertEqual((accepted["log_level"].name, accepted["peer"]), ("debug", "10.0.0.7:4321"))

    def test_logs_client_gone_early(self) -> None:
        """A connection lost before the clean close is logged as a client gone early, and why."""
        self.protocol.makeConnection(self.transport)
        with captured_events() as events:
            self.protocol.connectionLost(Failure(ConnectionLost("reset by peer")))
        self.assertEqual(events.names(), ["client-gone-early"])
        [gone] = events.named("client-gone-early")
        self.assertEqual(gone["peer"], "10.0.0.7:4321")
        self.assertIn("reset by peer", gone["why"])

    def test_clean_close_not_logged_as_gone_early(self) -> None:
        """A clean close produces no 'gone early' event."""
        self.protocol.makeConnection(self.transport)
        with captured_events() as events:
            self.protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(events.names(), ["poem-served"])


class HalfCloseTests(SynchronousTestCase):
    """Every txpoetry server hears a client's half-close instead of closing."""

    def test_servers_can_be_half_closed(self) -> None:
        """Every txpoetry server protocol provides L{IHalfCloseableProtocol}."""
        for protocol in [
            PoetryServerProtocol,
            SlowPoetryProtocol,
            TransformProtocol,
            ProxyProtocol,
        ]:
            self.assertTrue(verifyClass(IHalfCloseableProtocol, protocol), protocol)
