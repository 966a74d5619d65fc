"""Tests for L{poetry.testing.handshakes}: the opening of a connection, and its retries."""

from __future__ import annotations

import errno
import socket

from poetry.testing import RESET_LINGER
from poetry.testing.sockets import KernelSocket
from tests.support.simulated import CLIENT_HOST, PORT, SERVER_HOST, SimulatedTestCase


class WireTests(SimulatedTestCase):
    """A handshake's packets and timers, each named and due after the link's latency."""

    def test_syn_synack_ack(self) -> None:
        """A SYN, then a SYN-ACK, then an ACK, 0.1 s each way; each side's retry timer with them."""
        self.server_socket()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.1)
        self.client_socket()
        self.assertEqual(self.on_the_wire(), [("SYN", 0.1), ("SYN retry", 1.0)])
        self.network.advance(0.1)
        self.assertEqual(
            self.on_the_wire(), [("SYN-ACK", 0.2), ("SYN retry", 1.0), ("SYN-ACK retry", 1.1)]
        )
        self.network.advance(0.1)
        self.assertEqual(self.on_the_wire(), [("ACK", 0.3), ("SYN-ACK retry", 1.1)])
        self.network.advance(0.1)
        self.assertEqual(self.on_the_wire(), [])
        self.leave()

    def test_refused_by_a_reset(self) -> None:
        """A SYN where nothing listens draws an RST, which takes the latency back to the client."""
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.1)
        connecting = self.client_socket()
        self.network.advance(0.1)
        self.assertEqual(self.on_the_wire(), [("RST", 0.2), ("SYN retry", 1.0)])
        self.network.advance(0.1)
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.ECONNREFUSED)
        connecting.close()

    def test_first_loss_probed_as_a_tail_loss(self) -> None:
        """A connection starts with no retry tried: a first loss of two segments is probed soon.

        The tail loss probe after two segments comes after twice the round
        trip (at least 10 ms); a retransmission timeout would be 0.2 s.
        """
        server, client = self.socket_pair()
        self.network.fragment(sizes=[1])
        [connection] = self.network.connections
        connection.hold()
        client.send(b"ab")
        self.assertEqual(self.on_the_wire(), [("retransmission", 0.01)])
        self.leave()


class ListenerRetryTests(SimulatedTestCase):
    """A listener answers a SYN again, and gives up on a client that never completes."""

    def ack_lost(self) -> tuple[KernelSocket, KernelSocket]:
        """A listener, and a client connected to it at 0.2 s (0.1 s each way) whose ACK was lost.

        The client's packets are dropped (a one-way partition) from 0.15 s
        until the test heals it; it is now 0.25 s.
        """
        listening = self.server_socket()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.1)
        connecting = self.client_socket()
        self.network.advance(0.15)
        self.network.partition(CLIENT_HOST, SERVER_HOST, both_ways=False)
        self.network.advance(0.1)
        return listening, connecting

    def test_lost_ack_completed_by_synack_retry(self) -> None:
        """A client's lost ACK: it is connected; the listener's SYN-ACK retry gets another ACK.

        With 0.1 s each way: the SYN arrives at 0.1 s, the SYN-ACK at 0.2 s,
        and the ACK is lost; the SYN-ACK retry leaves at 1.1 s, and the ACK it
        draws queues the connection at 1.3 s.
        """
        listening, connecting = self.ack_lost()
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.EISCONN)
        self.network.heal(CLIENT_HOST, SERVER_HOST)
        self.network.advance(1.0)  # 1.25 s
        self.assertFalse(listening.readable())
        self.network.advance(0.05)  # 1.3 s
        self.assertTrue(listening.readable())
        self.leave()

    def test_half_made_forgotten_after_its_retries(self) -> None:
        """A handshake whose ACKs never arrive is forgotten after the listener's SYN-ACK retries."""
        listening = self.server_socket()
        self.network.stall(SERVER_HOST, PORT)
        connecting = self.client_socket()
        self.network.advance(70)  # SYN-ACKs again at 1, 3, 7, 15 and 31 s, all held; none at 63
        self.assertFalse(listening.readable())
        [connection] = self.network.every_connection
        connection.release()
        connecting.send(b"too late")
        self.network.advance(1)
        self.assertEqual(self.assertRaises(OSError, connecting.recv, 1).errno, errno.ECONNRESET)
        self.leave()

    def test_half_made_kept_through_its_retries(self) -> None:
        """A handshake is kept until its last SYN-ACK retry (at 31 s) has had its time, 32 s."""
        listening = self.server_socket()
        self.network.stall(SERVER_HOST, PORT)
        connecting = self.client_socket()
        self.network.advance(40)
        [connection] = self.network.every_connection
        connection.release()
        connecting.send(b"in time")
        self.network.flush()
        accepted, _ = listening.accept()
        self.assertEqual(accepted.recv(100), b"in time")
        self.leave()

    def test_synack_to_a_client_that_reset_is_reset(self) -> None:
        """A SYN-ACK retry that reaches a client whose own reset was lost is reset: never queued.

        With 0.1 s each way, the client's ACK and its reset are lost in a
        one-way partition; the listener's SYN-ACK retry (1.1 s) finds it gone.
        """
        listening, connecting = self.ack_lost()
        connecting.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        connecting.close()
        self.network.heal(CLIENT_HOST, SERVER_HOST)
        self.network.advance(2)
        self.assertFalse(listening.readable())
        self.assertEqual(self.network.pending(), [])
        listening.close()

    def test_duplicate_syn_answered_again(self) -> None:
        """A SYN sent again (its SYN-ACK lost) is answered again, and the connection made."""
        self.server_socket()
        self.network.partition(SERVER_HOST, CLIENT_HOST, both_ways=False)  # SYN-ACKs lost
        connecting = self.client_socket()
        self.network.advance(0.5)
        self.network.heal(SERVER_HOST, CLIENT_HOST)
        self.network.advance(0.5)  # the client's SYN retry at 1 s
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.EISCONN)
        self.leave()

    def test_synack_to_a_client_that_gave_up_is_reset(self) -> None:
        """A SYN-ACK that reaches a client which closed its socket is answered with a reset."""
        listening = self.server_socket()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.1)
        connecting = self.client_socket()
        self.network.advance(0.15)  # the SYN has arrived; the SYN-ACK is on its way
        connecting.close()
        self.network.advance(1)
        self.assertFalse(listening.readable())
        self.assertEqual(self.network.pending(), [])
        listening.close()

    def test_data_completes_a_handshake_whose_ack_was_lost(self) -> None:
        """Bytes from a client whose ACK was lost complete the handshake on arrival."""
        listening = self.server_socket()
        self.network.stall(SERVER_HOST, PORT)
        connecting = self.client_socket()
        self.network.flush()
        [connection] = self.network.every_connection
        connection.release()
        connecting.send(b"request")  # no SYN-ACK retry yet: the data is what completes it
        self.network.flush()
        accepted, _ = listening.accept()
        self.assertEqual(accepted.recv(100), b"request")
        self.leave()


class FullQueueTests(SimulatedTestCase):
    """A full accept queue keeps a client waiting: its handshake, and its bytes with it."""

    def test_waiting_client_connects_once_there_is_room(self) -> None:
        """A client whose SYN the full queue dropped connects at its retry once there is room.

        Its request, sent once it is connected, reaches the server whole.
        """
        listening = self.server.reactor.make_socket(socket.AF_INET)
        listening.bind((SERVER_HOST, PORT))
        listening.listen(0)
        first = self.client_socket()
        second = self.client_socket()
        self.network.flush()
        self.assertEqual(second.connect_ex((SERVER_HOST, PORT)), errno.EALREADY)
        accepted, _ = listening.accept()
        self.network.advance(1)  # the second client's SYN retry
        self.assertEqual(second.connect_ex((SERVER_HOST, PORT)), errno.EISCONN)
        second.send(b"me too")
        self.network.flush()
        other, _ = listening.accept()
        self.assertEqual(other.recv(100), b"me too")
        self.assertNotEqual(accepted.getpeername(), other.getpeername())
        self.assertTrue(first.writable())
        self.leave()


class SocketErrorTests(SimulatedTestCase):
    """A socket not (or no longer) connected says so, as a real one does."""

    def test_unconnected(self) -> None:
        """Before connecting, reads, writes, shutdowns and the peer's address are refused."""
        sock = self.client.reactor.make_socket(socket.AF_INET)
        for call in (lambda: sock.recv(1), lambda: sock.send(b"x"), sock.getpeername):
            self.assertEqual(self.assertRaises(OSError, call).errno, errno.ENOTCONN)
        self.assertEqual(
            self.assertRaises(OSError, sock.shutdown, socket.SHUT_WR).errno, errno.ENOTCONN
        )
        self.assertFalse(sock.readable() or sock.writable())
        self.assertIn("0.0.0.0", repr(sock))
        sock.close()
        sock.close()  # closing twice does nothing more

    def test_connecting(self) -> None:
        """While connecting, a send would block; the connect's failure is told once."""
        connecting = self.client_socket()
        self.assertRaises(BlockingIOError, connecting.send, b"x")
        self.assertFalse(connecting.writable())
        self.network.flush()  # refused: nothing listens
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.ECONNREFUSED)
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.ECONNABORTED)
        connecting.close()

    def test_read_shut(self) -> None:
        """After shutting down its reading side, a socket reads the end at once."""
        server, client = self.socket_pair()
        client.shutdown(socket.SHUT_RD)
        self.assertEqual(client.recv(10), b"")
        self.assertTrue(client.readable())
        client.close()
        server.close()
        self.network.flush()
