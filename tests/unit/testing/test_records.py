"""Tests for L{poetry.testing.records}: the network's record of attempts and connections."""

from __future__ import annotations

from twisted.internet.error import ConnectionLost
from twisted.internet.protocol import Factory, Protocol

from tests.support.peers import HalfCloseableRecorder, RecordingProtocol
from tests.support.simulated import CLIENT_HOST, PORT, SERVER_HOST, SimulatedTestCase


class ConnectionRecordTests(SimulatedTestCase):
    """A connection's record knows its sides, its times, and its faults."""

    def test_sides_before_and_after_accept(self) -> None:
        """The server's transport is known once its process accepts the connection."""
        port = self.serve(Factory.forProtocol(Protocol))
        port.stopReading()
        client = RecordingProtocol()
        self.connect(client)
        self.network.flush()
        [connection] = self.network.connections
        self.assertIs(connection.client, client.transport)
        self.assertIsNone(connection.server)
        self.assertEqual(connection.listening, (SERVER_HOST, PORT))
        port.startReading()
        self.network.flush()
        self.assertIsNotNone(connection.server)
        self.leave()

    def test_reset_before_accept(self) -> None:
        """A connection not yet accepted is reset by the server's kernel at once."""
        port = self.serve(Factory.forProtocol(Protocol))
        port.stopReading()
        client = RecordingProtocol()
        self.connect(client)
        self.network.flush()
        self.network.connections[0].reset()
        self.network.flush()
        self.assertEqual(client.events, [("lost", ConnectionLost)])
        port.stopListening()
        self.network.flush()

    def test_reset_before_accept_from_the_server(self) -> None:
        """The server's kernel resets a connection not yet accepted: the reset crosses the link."""
        port = self.serve(Factory.forProtocol(Protocol))
        port.stopReading()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.5)
        client = RecordingProtocol()
        self.connect(client)
        self.network.advance(1.5)  # connected at 1 s, in the server's kernel at 1.5 s
        self.network.connections[0].reset()
        self.network.advance(0.4)
        self.assertEqual(client.events, [])
        self.network.advance(0.1)
        self.assertEqual(client.events, [("lost", ConnectionLost)])
        port.stopListening()
        self.network.advance(5)

    def test_reset_names_a_side(self) -> None:
        """A side other than "server" or "client" is refused, not taken for the client."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        [connection] = self.network.connections
        error = self.assertRaises(ValueError, connection.reset, "Server")
        self.assertEqual(str(error), """side is "server" or "client", not 'Server'""")
        self.network.flush()
        self.assertEqual((server.events, client.events), ([], []))
        self.leave()

    def test_closed_when_both_sides_are_gone(self) -> None:
        """The close is recorded when the second side is gone, not the first."""
        server, client = RecordingProtocol(), HalfCloseableRecorder()
        self.pair(server, client)
        [connection] = self.network.connections
        client.transport.loseWriteConnection()  # the server (not half-closeable) closes
        self.network.advance(2)
        self.assertIsNone(connection.closed_at)
        client.transport.loseConnection()
        self.network.flush()
        self.assertEqual((connection.closed, connection.closed_at), (True, 2.0))
