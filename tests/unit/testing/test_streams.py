"""Tests for L{poetry.testing.streams}: a connection's bytes and FIN, its window, its retries."""

from __future__ import annotations

import socket

from poetry.testing import RESET_LINGER, KernelSettings
from tests.support.simulated import CLIENT_HOST, SERVER_HOST, SimulatedTestCase, read_all


class WireTests(SimulatedTestCase):
    """Bytes, ACKs, FINs and RSTs on the wire, each named and due after the link's latency."""

    def test_bytes_acknowledged(self) -> None:
        """Bytes leave with a retransmission timer; their ACK comes back and clears it.

        With 0.1 s each way, the timer is the tail loss probe, no later than
        the timeout (the round trip and 0.2 s).
        """
        server, client = self.socket_pair()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.1)
        client.send(b"hello")
        self.assertEqual(self.on_the_wire(), [("5 bytes", 0.1), ("retransmission", 0.4)])
        self.network.advance(0.1)
        self.assertEqual(self.on_the_wire(), [("ACK", 0.2), ("retransmission", 0.4)])
        self.network.advance(0.1)
        self.assertEqual(self.on_the_wire(), [])
        self.leave()

    def test_fin(self) -> None:
        """A shutdown sends a FIN, timed as bytes are."""
        server, client = self.socket_pair()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.1)
        client.shutdown(socket.SHUT_WR)
        self.assertEqual(self.on_the_wire(), [("FIN", 0.1), ("retransmission", 0.4)])
        self.leave()

    def test_bytes_to_a_side_that_is_gone(self) -> None:
        """Bytes that reach a side already gone draw an RST, which takes the latency back."""
        server, client = self.socket_pair()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.1)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        client.close()
        server.send(b"late")
        self.network.advance(0.1)
        self.assertEqual(self.on_the_wire(), [("RST", 0.2)])
        self.leave()


class WindowTests(SimulatedTestCase):
    """A sender sends what the reader's receive buffer (10 bytes here) has room for."""

    settings = KernelSettings(receive_buffer=10)

    def test_one_byte_of_room(self) -> None:
        """A window of one byte lets one byte through."""
        server, client = self.socket_pair()
        server.send(b"x" * 9)
        self.network.flush()
        server.send(b"yz")
        self.network.flush()
        self.assertEqual(read_all(client), (b"x" * 9 + b"y", "open"))
        self.leave()

    def test_closed_window_probed(self) -> None:
        """A window that closes is probed, after 10 ms, then at the timeout, doubling each time."""
        server, client = self.socket_pair()
        server.send(b"x" * 15)
        self.network.flush()
        probes = []
        for _ in range(4):
            [(what, when)] = self.on_the_wire()
            probes.append((what, round(when, 3)))
            self.network.advance(when - self.network.now)
        self.assertEqual(
            probes,
            [("window probe", 0.01), ("window probe", 0.21), ("window probe", 0.61),
             ("window probe", 1.41)],
        )  # fmt: skip
        self.leave()

    def test_window_update(self) -> None:
        """A read that makes room tells the sender, whose bytes waiting for it then leave."""
        server, client = self.socket_pair()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.1)
        server.send(b"x" * 15)
        self.network.advance(0.2)  # 10 bytes have arrived, and their ACK
        self.assertEqual(client.recv(100), b"x" * 10)
        self.assertEqual(self.on_the_wire()[0], ("window update", 0.3))
        self.network.advance(0.2)
        self.assertEqual(client.recv(100), b"x" * 5)
        self.leave()

    def test_write_the_window_cannot_take(self) -> None:
        """A write that finds no room leaves the retransmission timer where it was."""
        server, client = self.socket_pair()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.1)
        server.send(b"x" * 15)
        self.network.advance(0.05)
        server.send(b"y")
        self.assertEqual(self.on_the_wire(), [("10 bytes", 0.1), ("retransmission", 0.4)])
        self.leave()


class RetryTests(SimulatedTestCase):
    """What is lost is sent again, until an ACK comes or the retries are spent."""

    settings = KernelSettings(retries=2)

    def test_gives_up_after_its_retries(self) -> None:
        """After a tail loss probe (0.2 s) and its retries (0.4 s, 0.8 s), it times out (1.6 s)."""
        server, client = self.socket_pair()
        [connection] = self.network.connections
        connection.hold()
        client.send(b"lost")
        self.network.advance(1.59)
        self.assertEqual(read_all(client), (b"", "open"))
        self.network.advance(0.01)
        self.assertEqual(read_all(client), (b"", "ETIMEDOUT"))
        self.leave()

    def test_closed_side_acknowledges_what_it_had(self) -> None:
        """A side that read all and closed takes bytes sent again without a reset: a clean end.

        Its ACK and FIN were lost in a partition; once it heals, the writer's
        retransmission draws the ACK, and the FIN follows.
        """
        server, client = self.socket_pair()
        self.network.partition(CLIENT_HOST, SERVER_HOST, both_ways=False)
        server.send(b"poem")
        self.network.flush()
        self.assertEqual(read_all(client), (b"poem", "open"))
        client.close()
        self.network.heal(CLIENT_HOST, SERVER_HOST)
        self.network.advance(1)
        self.assertEqual(read_all(server), (b"", "eof"))
        self.leave()

    def test_no_fin_before_an_ack_after_a_timeout(self) -> None:
        """After a retransmission timeout, a FIN not yet sent waits for an ACK, as new bytes do.

        The client's ACKs are lost one way: the server's bytes arrive, its
        probe (0.2 s) and timeout (0.4 s) pass; its shutdown's FIN then waits.
        """
        server, client = self.socket_pair()
        self.network.partition(CLIENT_HOST, SERVER_HOST, both_ways=False)
        server.send(b"poem")
        self.network.advance(0.45)
        server.shutdown(socket.SHUT_WR)
        self.network.flush()
        self.assertEqual(read_all(client), (b"poem", "open"))
        self.network.heal(CLIENT_HOST, SERVER_HOST)
        self.network.advance(1)
        self.assertEqual(read_all(client), (b"", "eof"))
        self.leave()
