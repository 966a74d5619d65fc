"""Tests for L{poetry.testing.twisted_tcp}: Twisted's own TCP classes on simulated sockets.

What a protocol sees here is what it sees on a real reactor, because the
transport, port and connector are Twisted's: these tests pin the behaviours
of Twisted's that the old in-memory transports got wrong.
"""

from __future__ import annotations

import socket
from typing import Any

from twisted.internet import tcp
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import ConnectionAborted, ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IConsumer, IListeningPort, ITCPTransport
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from zope.interface.verify import verifyObject

from poetry.testing import RESET_LINGER
from tests.support.peers import DecliningFactory, HalfCloseableRecorder, RecordingProtocol
from tests.support.simulated import CLIENT_HOST, PORT, SERVER_HOST, SimulatedTestCase


class TransportTests(SimulatedTestCase):
    """The transports are Twisted's own TCP transports."""

    def test_twisted_transports(self) -> None:
        """Both ends are Twisted TCP transports, consumers, with their addresses."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        for transport in (server.transport, client.transport):
            self.assertIsInstance(transport, tcp.Connection)
            self.assertTrue(verifyObject(ITCPTransport, transport))
            self.assertTrue(verifyObject(IConsumer, transport))
        self.assertEqual(server.transport.getHost().port, PORT)
        self.assertEqual(client.transport.getPeer().host, SERVER_HOST)
        client.transport.setTcpNoDelay(True)
        self.assertTrue(client.transport.getTcpNoDelay())
        client.transport.loseConnection()
        self.network.flush()

    def test_ipv6_client(self) -> None:
        """A client connecting to an IPv6 address has IPv6 addresses, on a socket of that family."""
        self.server.reactor.listenTCP(PORT, Factory.forProtocol(Protocol), interface="::1")
        client = RecordingProtocol()
        self.client.reactor.connectTCP("::1", PORT, ClientFactory.forProtocol(lambda: client))
        self.network.flush()
        self.assertEqual(
            (client.transport.getHost(), client.transport.getPeer()),
            (IPv6Address("TCP", "::1", 50000), IPv6Address("TCP", "::1", PORT)),
        )
        self.leave()

    def test_factory_told_the_peer(self) -> None:
        """A client's factory builds its protocol for the address of the server it reached."""
        self.serve(Factory.forProtocol(Protocol))
        addresses: list[object] = []

        class Noting(ClientFactory):
            def buildProtocol(self, addr: object) -> Protocol:
                addresses.append(addr)
                return Protocol()

        self.client.reactor.connectTCP(SERVER_HOST, PORT, Noting())
        self.network.flush()
        self.assertEqual(addresses, [IPv4Address("TCP", SERVER_HOST, PORT)])
        self.leave()

    def test_other_failure_named_by_its_type(self) -> None:
        """An attempt that fails otherwise than refused or timed out is recorded by its type."""
        taken = self.client.reactor.make_socket(socket.AF_INET)
        taken.bind((CLIENT_HOST, 5000))
        self.client.reactor.connectTCP(
            SERVER_HOST, PORT, ClientFactory.forProtocol(Protocol), bindAddress=(CLIENT_HOST, 5000)
        )
        self.network.flush()
        self.assertEqual([a.outcome for a in self.network.attempts], ["ConnectBindError"])
        taken.close()

    def test_writes_after_lose_connection_are_sent(self) -> None:
        """Bytes written after C{loseConnection} are sent before the FIN, as Twisted does."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        server.transport.loseConnection()
        server.transport.writeSequence([b"not ", b"too late"])
        self.network.flush()
        self.assertEqual(client.events, [("data", b"not too late"), ("lost", ConnectionDone)])

    def test_second_producer_refused(self) -> None:
        """Registering a second producer without unregistering the first raises, as Twisted does."""

        class Push:
            def pauseProducing(self) -> None:
                """Paused."""

            def resumeProducing(self) -> None:
                """Resumed."""

            def stopProducing(self) -> None:
                """Stopped."""

        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        server.transport.registerProducer(Push(), True)
        self.assertRaises(RuntimeError, server.transport.registerProducer, Push(), True)
        server.transport.unregisterProducer()
        server.transport.loseConnection()
        self.network.flush()

    def test_abort_resets_on_the_next_turn(self) -> None:
        """An abort drops what Twisted buffered and resets once the reactor turns."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        server.transport.write(b"never sent")
        server.transport.abortConnection()
        self.assertEqual((client.events, server.events), ([], []))
        self.network.flush()
        self.assertEqual(client.events, [("lost", ConnectionLost)])
        self.assertEqual(server.events, [("lost", ConnectionAborted)])

    def test_linger_zero_then_lose_connection_is_clean(self) -> None:
        """C{SO_LINGER} 0 on a transport, then C{loseConnection}: every byte and a clean close.

        Twisted closes in order (C{shutdown}, then C{close}): the FIN leaves
        before the reset.
        """
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        server.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        server.transport.write(b"Tyger Tyger")
        server.transport.loseConnection()
        self.network.flush()
        self.assertEqual(client.events, [("data", b"Tyger Tyger"), ("lost", ConnectionDone)])

    def test_close_with_unread_request_is_clean(self) -> None:
        """A server that writes and closes at once, the request unread, still closes cleanly."""

        class WriteAndClose(Protocol):
            def connectionMade(self) -> None:
                self.transport.write(b"x" * 20)
                self.transport.loseConnection()

        class Requesting(RecordingProtocol):
            def connectionMade(self) -> None:
                self.transport.write(b"GET / HTTP/1.0\r\n\r\n")

        client = Requesting()
        self.pair(WriteAndClose(), client)
        self.assertEqual(client.events, [("data", b"x" * 20), ("lost", ConnectionDone)])

    def test_half_closeable_peer_keeps_writing(self) -> None:
        """A half-closeable server hears the client's FIN and can still send, then close.

        Bytes the client wrote after C{loseWriteConnection}, before Twisted
        carried it out, are sent before the FIN, as Twisted does.
        """
        server, client = HalfCloseableRecorder(), HalfCloseableRecorder()
        self.pair(server, client)
        client.transport.write(b"request")
        client.transport.loseWriteConnection()
        client.transport.write(b", and more")
        self.network.flush()
        server.transport.write(b"reply")
        server.transport.loseConnection()
        self.network.flush()
        self.assertEqual(
            server.events,
            [("data", b"request, and more"), ("read closed",), ("lost", ConnectionDone)],
        )
        self.assertEqual(client.events, [("write closed",), ("data", b"reply"), ("read closed",)])
        client.transport.loseConnection()
        self.network.flush()

    def test_plain_peer_closes_at_the_half_close(self) -> None:
        """A server that cannot be half-closed takes the client's FIN as the end, and closes."""
        server, client = RecordingProtocol(), HalfCloseableRecorder()
        self.pair(server, client)
        client.transport.loseWriteConnection()
        self.network.flush()
        self.assertEqual(server.events, [("lost", ConnectionDone)])
        self.assertEqual(client.events, [("write closed",), ("read closed",)])
        client.transport.loseConnection()
        self.network.flush()

    def test_half_closed_reader_hears_a_reset_only_when_it_writes(self) -> None:
        """After its read side closed, a protocol hears of a reset only at its next write.

        Twisted stops reading at the end of input, so the kernel's reset
        waits until the protocol writes again, as on a real reactor.
        """
        server, client = RecordingProtocol(), HalfCloseableRecorder()
        self.pair(server, client)
        server.transport.loseConnection()
        self.network.flush()
        client.transport.write(b"anyone there?")  # the server's kernel answers with a reset
        self.network.flush()
        self.assertEqual(client.events, [("read closed",)])
        client.transport.write(b"again")
        self.network.flush()
        self.assertEqual(client.events, [("read closed",), ("lost", ConnectionLost)])

    def test_paused_reader_hears_the_end_when_it_resumes(self) -> None:
        """A transport paused (C{pauseProducing}) reads nothing, the end included, until resumed."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        client.transport.pauseProducing()
        server.transport.write(b"Tyger Tyger")
        server.transport.loseConnection()
        self.network.flush()
        self.assertEqual(client.events, [])
        client.transport.resumeProducing()
        self.network.flush()
        self.assertEqual(client.events, [("data", b"Tyger Tyger"), ("lost", ConnectionDone)])


class PortTests(SimulatedTestCase):
    """The ports are Twisted's own TCP ports."""

    def test_twisted_port(self) -> None:
        """A port is Twisted's TCP port, listening on the simulated network."""
        port = self.serve(Factory.forProtocol(Protocol))
        self.assertIsInstance(port, tcp.Port)
        self.assertTrue(verifyObject(IListeningPort, port))
        self.assertEqual(port.key, (SERVER_HOST, PORT))
        port.stopListening()
        self.network.flush()

    def test_stop_listening_on_the_next_turn(self) -> None:
        """C{stopListening} closes the port on the reactor's next turn, as Twisted's does.

        A connection the kernel made and the port never accepted is reset.
        """
        port = self.serve(Factory.forProtocol(Protocol))
        port.stopReading()
        client = RecordingProtocol()
        self.connect(client)
        self.network.flush()  # connected, in the backlog
        stopped = port.stopListening()
        self.assertNoResult(stopped)
        self.network.flush()
        self.successResultOf(stopped)
        self.assertEqual(client.events, [("lost", ConnectionLost)])

    def test_accepts_in_batches(self) -> None:
        """A port accepts in batches of C{numberAccepts}, grown by 20 after a full batch."""
        port = self.serve(Factory.forProtocol(Protocol), backlog=200)
        clients = [RecordingProtocol() for _ in range(100)]
        for client in clients:
            self.connect(client)
        self.network.flush()
        self.assertEqual(port.numberAccepts, 120)
        self.leave()

    def test_pause_takes_effect_after_the_batch(self) -> None:
        """A port paused in the middle of a batch of accepts pauses after the batch, as Twisted's.

        Meanwhile the kernel makes the later connections, into the backlog.
        """
        ports: list[Any] = []

        class Pausing(Factory):
            def buildProtocol(self, addr: object) -> Protocol:
                ports[0].stopReading()
                return Protocol()

        ports.append(self.serve(Pausing()))
        for _ in range(3):
            self.connect(RecordingProtocol())
        self.network.flush()
        self.assertEqual([c.server is not None for c in self.network.connections], [True] * 3)
        self.connect(RecordingProtocol())
        self.network.flush()
        self.assertEqual(
            [c.server is not None for c in self.network.connections], [True] * 3 + [False]
        )
        ports[0].startReading()
        self.network.flush()
        self.assertEqual([c.server is not None for c in self.network.connections], [True] * 4)
        self.assertEqual(ports[0].numberAccepts, 1)  # as Twisted: the size of the last batch
        self.leave()

    def test_declined_connection_closed_cleanly(self) -> None:
        """A factory that builds no protocol: Twisted closes the socket, a FIN for the client."""
        self.serve(DecliningFactory())
        client = RecordingProtocol()
        self.connect(client)
        self.network.flush()
        self.assertEqual(client.events, [("lost", ConnectionDone)])

    def test_declined_connection_with_a_request_is_reset(self) -> None:
        """A declined connection whose request came first is reset: the close had unread bytes."""

        class Requesting(RecordingProtocol):
            def connectionMade(self) -> None:
                self.transport.write(b"GET / HTTP/1.0\r\n\r\n")

        port = self.serve(DecliningFactory())
        port.stopReading()
        client = Requesting()
        self.connect(client)
        self.network.flush()  # connected, and the request is in the server's kernel
        port.startReading()
        self.network.flush()
        self.assertEqual(client.events, [("lost", ConnectionLost)])


class ProducerTests(SimulatedTestCase):
    """Producers registered with the transports are driven by Twisted's own rules."""

    def test_pull_producer_asked_again_when_drained(self) -> None:
        """A pull producer is asked for more each time Twisted's buffer drains."""
        asked: list[int] = []
        server, client = Protocol(), RecordingProtocol()
        self.pair(server, client)

        class Pull:
            def resumeProducing(self) -> None:
                asked.append(1)
                if len(asked) < 3:
                    server.transport.write(b"more")
                else:
                    server.transport.unregisterProducer()
                    server.transport.loseConnection()

            def stopProducing(self) -> None:
                """Never stopped here."""

        server.transport.registerProducer(Pull(), False)
        self.network.flush()
        self.assertEqual(len(asked), 3)
        self.assertEqual(
            client.events, [("data", b"more"), ("data", b"more"), ("lost", ConnectionDone)]
        )
