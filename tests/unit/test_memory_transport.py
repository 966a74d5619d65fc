"""Tests for L{poetry.testing.MemoryTransport}: closes, aborts and half-closes as on real TCP.

Each behaviour here was measured on real sockets under Twisted (see the
contract tests, which run the poetry-level consequences in both tiers).
"""

from __future__ import annotations

import socket

from twisted.internet.error import (
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.interfaces import IConsumer, ITCPTransport
from twisted.internet.protocol import ClientFactory, Factory
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from poetry.client import get_poetry
from poetry.testing import ORDINARY_LINGER, RESET_LINGER, MemoryPoetryNetwork, MemoryTransport
from tests.support.peers import HalfCloseableRecorder, RecordingProtocol


class Connected(SynchronousTestCase):
    """A server and a client recorder connected through a fresh network."""

    def connect(
        self, server: RecordingProtocol, client: RecordingProtocol
    ) -> tuple[MemoryTransport, MemoryTransport]:
        """Connect ``client`` to ``server``; return the server's and the client's transports."""
        self.network = MemoryPoetryNetwork()
        self.port = self.network.serve("127.0.0.1", 10000, Factory.forProtocol(lambda: server))
        self.network.reactor.connectTCP(
            "127.0.0.1", 10000, ClientFactory.forProtocol(lambda: client)
        )
        self.network.flush()
        assert isinstance(server.transport, MemoryTransport)
        assert isinstance(client.transport, MemoryTransport)
        return server.transport, client.transport

    def tearDown(self) -> None:
        """No reset is left waiting for a turn of the reactor."""
        self.assertEqual(self.network.reactor.getDelayedCalls(), [])


class CloseTests(Connected):
    """A clean close sends what is queued, then a FIN."""

    def test_queued_bytes_then_clean_close(self) -> None:
        """Bytes written before C{loseConnection} arrive, then both ends see a clean close."""
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, _ = self.connect(server, client)
        transport.write(b"poem")
        transport.loseConnection()
        self.network.flush()
        self.assertEqual(client.events, [("data", b"poem"), ("lost", ConnectionDone)])
        self.assertEqual(server.events, [("lost", ConnectionDone)])
        self.assertEqual(self.network.open_connections, 0)

    def test_writes_after_close_dropped(self) -> None:
        """Bytes written after C{loseConnection} are never sent."""
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, _ = self.connect(server, client)
        transport.loseConnection()
        transport.writeSequence([b"too ", b"late"])
        self.network.flush()
        self.assertEqual(client.events, [("lost", ConnectionDone)])

    def test_closing_end_stops_reading(self) -> None:
        """An end that asked to close hears no more bytes from its peer."""
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, client_transport = self.connect(server, client)
        client_transport.write(b"late request")
        transport.loseConnection()
        self.network.flush()
        self.assertEqual(server.events, [("lost", ConnectionDone)])

    def test_bytes_to_a_closed_peer_reset_the_writer(self) -> None:
        """Writing to a peer whose socket is closed gets the writer a reset, as the kernel does."""
        server, client = RecordingProtocol(), HalfCloseableRecorder()
        transport, client_transport = self.connect(server, client)
        transport.loseConnection()
        self.network.flush()  # the server is gone; the client has only heard the FIN
        client_transport.write(b"anyone there?")
        self.network.flush()
        self.assertEqual(client.events, [("read closed",), ("lost", ConnectionLost)])


class AbortTests(Connected):
    """An abort drops what is queued and resets, on the reactor's next turn."""

    def test_reset_on_next_turn(self) -> None:
        """The peer sees nothing at once, then a reset once the reactor turns; queued bytes drop."""
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, _ = self.connect(server, client)
        transport.write(b"never sent")
        transport.abortConnection()
        self.assertEqual((client.events, server.events), ([], []))
        self.network.flush()  # runs the reset, due now
        self.assertEqual(client.events, [("lost", ConnectionLost)])
        self.assertEqual(server.events, [("lost", ConnectionAborted)])

    def test_abort_twice(self) -> None:
        """A second abort, or one after the loss, changes nothing."""
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, _ = self.connect(server, client)
        transport.abortConnection()
        transport.abortConnection()
        self.network.flush()
        transport.abortConnection()
        self.network.flush()
        self.assertEqual(server.events, [("lost", ConnectionAborted)])

    def test_aborting_end_stops_reading(self) -> None:
        """Bytes arriving after an abort are not delivered to the aborting end."""
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, client_transport = self.connect(server, client)
        client_transport.write(b"request")
        transport.abortConnection()
        self.network.flush()
        self.assertEqual(server.events, [("lost", ConnectionAborted)])

    def test_process_exit_before_the_reset_is_a_clean_close(self) -> None:
        """If the process exits before its abort's turn, the kernel sends a FIN: a clean close.

        This is the trap that hid cut poems: the abort was asked for, but the
        reactor stopped before it happened.
        """
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, _ = self.connect(server, client)
        transport.write(b"half a po")
        self.network.flush()
        transport.abortConnection()
        self.network.exit_process(self.port)
        self.network.flush()
        self.assertEqual(client.events, [("data", b"half a po"), ("lost", ConnectionDone)])
        self.assertEqual(server.events, [])


class ProcessExitTests(Connected):
    """A server process exiting closes what it had open and stops listening."""

    def test_exit_stops_listening(self) -> None:
        """After the process exits, its address refuses connections."""
        self.connect(RecordingProtocol(), RecordingProtocol())
        self.network.exit_process(self.port)
        poem = get_poetry(self.network.reactor, "127.0.0.1", 10000)
        self.network.flush()
        self.failureResultOf(poem, ConnectionRefusedError)

    def test_exit_after_close_changes_nothing(self) -> None:
        """Connections already closed are not touched by the exit."""
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, _ = self.connect(server, client)
        transport.loseConnection()
        self.network.flush()
        self.network.exit_process(self.port)
        self.assertEqual(client.events, [("lost", ConnectionDone)])


class LingerTests(Connected):
    """C{SO_LINGER} 0 turns a socket's close into a reset, and is inherited from the port."""

    def test_close_with_linger_zero_is_a_reset(self) -> None:
        """A socket set to linger 0 that closes sends a reset, not a FIN."""
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, _ = self.connect(server, client)
        transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        transport.loseConnection()
        self.network.flush()
        self.assertEqual(client.events, [("lost", ConnectionLost)])

    def test_accepted_connection_inherits_port_linger(self) -> None:
        """A connection accepted by a port set to linger 0 is reset when its process dies."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.network = MemoryPoetryNetwork()
        port = self.network.serve("127.0.0.1", 10000, Factory.forProtocol(lambda: server))
        port.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        self.network.reactor.connectTCP(
            "127.0.0.1", 10000, ClientFactory.forProtocol(lambda: client)
        )
        self.network.flush()
        self.network.exit_process(port)
        self.assertEqual(client.events, [("lost", ConnectionLost)])

    def test_ordinary_linger_restored(self) -> None:
        """The ordinary linger set back makes the close a FIN again; other options are ignored."""
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, _ = self.connect(server, client)
        handle = transport.getHandle()
        handle.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        handle.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, ORDINARY_LINGER)
        handle.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.assertEqual(handle.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER), ORDINARY_LINGER)
        transport.loseConnection()
        self.network.flush()
        self.assertEqual(client.events, [("lost", ConnectionDone)])


class HalfCloseTests(Connected):
    """A half-close reaches a protocol that can hear it, and closes one that cannot."""

    def test_half_closeable_peer_keeps_writing(self) -> None:
        """A half-closeable server hears the client's FIN and can still send, then close."""
        server, client = HalfCloseableRecorder(), HalfCloseableRecorder()
        transport, client_transport = self.connect(server, client)
        client_transport.write(b"request")
        client_transport.loseWriteConnection()
        client_transport.write(b"dropped: written after the half-close")
        self.network.flush()
        transport.write(b"reply")
        transport.loseConnection()
        self.network.flush()
        self.assertEqual(
            server.events, [("data", b"request"), ("read closed",), ("lost", ConnectionDone)]
        )
        self.assertEqual(client.events, [("write closed",), ("data", b"reply"), ("read closed",)])

    def test_plain_peer_closes(self) -> None:
        """A server that cannot be half-closed takes the FIN as the end: both see a clean close."""
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, client_transport = self.connect(server, client)
        transport.write(b"cut po")
        self.network.flush()
        client_transport.loseWriteConnection()
        transport.write(b"em: dropped with the connection")
        self.network.flush()
        self.assertEqual(server.events, [("lost", ConnectionDone)])
        self.assertEqual(client.events, [("data", b"cut po"), ("lost", ConnectionDone)])


class ProducerTests(Connected):
    """Producers registered with a memory transport are driven as Twisted drives them."""

    def test_pull_producer_asked_at_once(self) -> None:
        """A pull producer is asked for data as soon as it is registered."""
        asked: list[str] = []

        class Pull:
            def resumeProducing(self) -> None:
                asked.append("resume")

            def stopProducing(self) -> None:
                asked.append("stop")

        transport, _ = self.connect(RecordingProtocol(), RecordingProtocol())
        transport.registerProducer(Pull(), False)
        self.assertEqual(asked, ["resume"])
        transport.unregisterProducer()
        self.assertIsNone(transport.producer)

    def test_stop_producing_closes(self) -> None:
        """Asking a transport to stop producing (reading) closes the connection cleanly."""
        server, client = RecordingProtocol(), RecordingProtocol()
        transport, _ = self.connect(server, client)
        transport.stopProducing()
        self.network.flush()
        self.assertEqual(client.events, [("lost", ConnectionDone)])

    def test_producer_stopped_when_lost(self) -> None:
        """A producer still registered when the connection is lost is told to stop."""
        stopped: list[bool] = []

        class Push:
            def stopProducing(self) -> None:
                stopped.append(True)

        transport, _ = self.connect(RecordingProtocol(), RecordingProtocol())
        transport.registerProducer(Push(), True)
        transport.abortConnection()
        self.network.flush()
        self.assertEqual(stopped, [True])


class InterfaceTests(Connected):
    """A memory transport is a TCP transport and a consumer."""

    def test_provides(self) -> None:
        """It provides L{ITCPTransport} and L{IConsumer} in full, TCP options included."""
        transport, _ = self.connect(RecordingProtocol(), RecordingProtocol())
        self.assertTrue(verifyObject(ITCPTransport, transport))
        self.assertTrue(verifyObject(IConsumer, transport))
        transport.setTcpNoDelay(False)
        transport.setTcpKeepAlive(True)
        self.assertEqual((transport.getTcpNoDelay(), transport.getTcpKeepAlive()), (True, False))
        self.assertEqual(transport.getHost().port, 10000)
        self.assertEqual(transport.getPeer().host, "127.0.0.1")
