"""Tests for L{poetry.testing.sockets}: the simulated kernel's sockets, as Linux's behave.

Each behaviour here was measured on Linux (loopback, and two network
namespaces joined by a veth pair); ``tests/integration/test_fidelity.py``
runs the same scenarios on the real kernel.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Callable

from poetry.testing import RESET_LINGER, KernelSettings, MemoryConnection
from tests.support.simulated import CLIENT_HOST, PORT, SERVER_HOST, SimulatedTestCase, read_all

REQUEST = b"GET / HTTP/1.0\r\n\r\n"


def orphan_server_side(case: SimulatedTestCase) -> MemoryConnection:
    """Make the server's side an orphan in FIN-WAIT-2 whose peer vanished; return its connection.

    The server shuts down and closes; its FIN is acknowledged; the client's
    reset is lost in a partition, which then heals.
    """
    server, client = case.socket_pair()
    server.shutdown(socket.SHUT_WR)
    server.close()
    case.network.flush()  # the FIN is acknowledged
    [connection] = case.network.connections
    case.network.partition(SERVER_HOST, CLIENT_HOST)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
    client.close()  # its reset is lost
    case.network.heal(SERVER_HOST, CLIENT_HOST)
    return connection


class ConnectTests(SimulatedTestCase):
    """Connecting: the handshake, refusal, the listen backlog and SYN retries."""

    def test_in_progress_then_connected(self) -> None:
        """A connect is in progress at first; once the SYN is answered, it is connected."""
        self.server_socket()
        connecting = self.client.reactor.make_socket(socket.AF_INET)
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.EINPROGRESS)
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.EALREADY)
        self.network.flush()
        self.assertEqual(connecting.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), 0)
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.EISCONN)
        self.assertEqual(connecting.getsockname()[0], CLIENT_HOST)
        self.leave()

    def test_refused_where_nothing_listens(self) -> None:
        """A SYN to a port where nothing listens is answered with a reset: refused."""
        connecting = self.client_socket()
        self.network.flush()
        self.assertTrue(connecting.readable())
        self.assertEqual(
            connecting.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), errno.ECONNREFUSED
        )
        connecting.close()

    def test_made_before_it_is_accepted(self) -> None:
        """The kernel completes the handshake: the client is connected before any accept."""
        listening = self.server_socket()
        connecting = self.client_socket()
        self.network.flush()
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.EISCONN)
        self.assertTrue(listening.readable())
        connecting.send(REQUEST)  # queued in the kernel of a connection not yet accepted
        self.network.flush()
        accepted, address = listening.accept()
        self.assertEqual(address[0], CLIENT_HOST)
        self.assertEqual(read_all(accepted), (REQUEST, "open"))
        self.leave()

    def test_backlog_full_drops_syns(self) -> None:
        """A SYN that finds the accept queue past its backlog is dropped: the client sends again.

        As on Linux, the queue holds one more than the backlog.
        """
        listening = self.server.reactor.make_socket(socket.AF_INET)
        listening.bind((SERVER_HOST, PORT))
        listening.listen(1)
        queued = [self.client_socket() for _ in range(2)]
        self.network.flush()
        late = self.client_socket()
        self.network.flush()
        self.assertEqual(late.connect_ex((SERVER_HOST, PORT)), errno.EALREADY)
        listening.accept()
        self.network.advance(1)  # the late client's first SYN retry
        self.assertEqual(late.connect_ex((SERVER_HOST, PORT)), errno.EISCONN)
        self.assertEqual([c.connect_ex((SERVER_HOST, PORT)) for c in queued], [errno.EISCONN] * 2)
        self.leave()

    def test_syns_together_past_the_backlog_dropped(self) -> None:
        """SYNs that arrive together, past the backlog and one more, are dropped, not answered.

        As measured on Linux (100 clients at once to a listener that does
        not accept: backlog + 1 connect, the rest send their SYN again).
        """
        listening = self.server.reactor.make_socket(socket.AF_INET)
        listening.bind((SERVER_HOST, PORT))
        listening.listen(1)
        clients = [self.client_socket() for _ in range(3)]
        self.network.flush()
        made = [c.connect_ex((SERVER_HOST, PORT)) for c in clients]
        self.assertEqual(made, [errno.EISCONN, errno.EISCONN, errno.EALREADY])
        listening.accept()
        self.network.advance(1)  # the third client's SYN retry
        self.assertEqual(clients[2].connect_ex((SERVER_HOST, PORT)), errno.EISCONN)
        self.leave()

    def test_syn_retries_back_off_after_linear_tries(self) -> None:
        """A SYN is sent again 1 s apart five times, then at doubling intervals (Linux 6.x).

        The attempt connects at the first SYN after the black hole is lifted.
        """
        self.server_socket()
        self.network.black_hole(SERVER_HOST, PORT)
        connecting = self.client_socket()
        self.network.advance(7.5)  # SYNs at 0, 1, 2, 3, 4, 5 and 7: all swallowed
        self.network.restore(SERVER_HOST, PORT)
        self.network.advance(3.4)  # the next SYN is due at 11
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.EALREADY)
        self.network.advance(0.1)  # 11 s: the SYN gets through
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.EISCONN)
        self.leave()

    def test_gives_up_after_its_syn_retries(self) -> None:
        """A connect nobody answers fails with C{ETIMEDOUT} once its SYN retries are spent."""
        self.network.black_hole(SERVER_HOST)
        connecting = self.client_socket()
        self.network.advance(130.9)  # SYNs at 0-5, 7, 11, 19, 35 and 67; gives up at 131
        self.assertFalse(connecting.readable())
        self.network.advance(0.1)
        self.assertEqual(connecting.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), errno.ETIMEDOUT)
        connecting.close()

    def test_refused_by_a_reset_rule(self) -> None:
        """An address set to refuse answers a SYN with a reset, even where something listens."""
        self.server_socket()
        self.network.refuse(SERVER_HOST, PORT)
        connecting = self.client_socket()
        self.network.flush()
        self.assertEqual(
            connecting.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), errno.ECONNREFUSED
        )
        self.leave()

    def test_listener_closed_resets_what_it_never_accepted(self) -> None:
        """Closing a listening socket resets the connections it made and never accepted."""
        listening = self.server_socket()
        connecting = self.client_socket()
        self.network.flush()
        listening.close()
        self.network.flush()
        self.assertEqual(read_all(connecting), (b"", "ECONNRESET"))
        connecting.close()


class CloseTests(SimulatedTestCase):
    """How a connection ends: a FIN after every byte, or a reset that drops what is unsent."""

    def test_fin_after_every_byte(self) -> None:
        """A shutdown then close sends every byte, then a FIN: the reader sees a clean close."""
        server, client = self.socket_pair()
        server.send(b"Tyger Tyger")
        server.shutdown(socket.SHUT_RDWR)
        server.close()
        self.network.flush()
        self.assertEqual(read_all(client), (b"Tyger Tyger", "eof"))
        client.close()
        self.network.flush()  # the client's FIN

    def test_unread_request_after_the_fin_is_a_clean_close(self) -> None:
        """Twisted's close (shutdown, then close) with a request unread: the FIN leaves first.

        The close's reset follows the FIN, so the reader, who already has the
        bytes and the FIN, sees a clean close (20 of 20 runs on Linux).
        """
        server, client = self.socket_pair()
        client.send(REQUEST)
        self.network.flush()
        server.send(b"x" * 20)
        server.shutdown(socket.SHUT_RDWR)
        server.close()
        self.network.flush()
        self.assertEqual(read_all(client), (b"x" * 20, "eof"))
        client.close()

    def test_linger_zero_after_shutdown_is_a_clean_close(self) -> None:
        """C{SO_LINGER} 0, then Twisted's close: the FIN leaves before the reset: a clean close."""
        server, client = self.socket_pair()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        server.send(b"Tyger Tyger")
        server.shutdown(socket.SHUT_RDWR)
        server.close()
        self.network.flush()
        self.assertEqual(read_all(client), (b"Tyger Tyger", "eof"))
        client.close()

    def test_record_resets_a_raw_client_socket(self) -> None:
        """A connection's record resets its client side even with no Twisted transport on it."""
        server, client = self.socket_pair()
        self.network.connections[0].reset("client")
        self.network.flush()
        self.assertEqual(read_all(server), (b"", "ECONNRESET"))
        server.close()
        client.close()

    def test_linger_zero_close_is_a_reset(self) -> None:
        """C{SO_LINGER} 0 and a close without shutdown (an abort, or a process's death): a reset."""
        server, client = self.socket_pair()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        server.send(b"Tyger Tyger")
        server.close()
        self.network.flush()
        self.assertEqual(read_all(client), (b"Tyger Tyger", "ECONNRESET"))
        client.close()

    def test_unread_input_close_is_a_reset(self) -> None:
        """A close without shutdown, with bytes received and not read, sends a reset, not a FIN."""
        server, client = self.socket_pair()
        client.send(REQUEST)
        self.network.flush()
        server.send(b"Tyger Tyger")
        server.close()
        self.network.flush()
        self.assertEqual(read_all(client), (b"Tyger Tyger", "ECONNRESET"))
        client.close()

    def test_reset_drops_what_was_not_sent(self) -> None:
        """A reset drops the writer's unsent bytes: the reader keeps what its kernel held.

        The writer put 2 MB in its kernel for a reader that does not read, with
        the reader's request unread, then closed as Twisted does: the FIN waits
        behind the unsent bytes, and the reset drops them all.
        """
        server, client = self.socket_pair()
        client.send(REQUEST)
        self.network.flush()
        self.assertEqual(server.send(b"x" * 2_000_000), 2_000_000)
        server.shutdown(socket.SHUT_RDWR)
        server.close()
        self.network.flush()
        received, end = read_all(client)
        self.assertEqual((len(received), end), (self.network.settings.receive_buffer, "ECONNRESET"))
        client.close()

    def test_reset_after_the_fin_before_reading(self) -> None:
        """Bytes and a FIN arrived, unread, then a reset: the reader gets them and a clean end."""
        server, client = self.socket_pair()
        server.send(b"Tyger Tyger")
        server.shutdown(socket.SHUT_WR)
        self.network.flush()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        server.close()
        self.network.flush()
        self.assertEqual(read_all(client), (b"Tyger Tyger", "eof"))
        self.assertRaises(OSError, client.send, b"late")
        client.close()

    def test_bytes_to_a_closed_socket_earn_a_reset(self) -> None:
        """Bytes sent to a side that has closed are answered with a reset."""
        server, client = self.socket_pair()
        server.shutdown(socket.SHUT_RDWR)
        server.close()
        self.network.flush()
        self.assertEqual(read_all(client), (b"", "eof"))
        client.send(b"anyone there?")  # the kernel takes it; the answer is a reset
        self.network.flush()
        error = self.assertRaises(OSError, client.send, b"again")
        self.assertEqual(error.errno, errno.EPIPE)
        client.close()

    def test_half_closed_side_still_receives(self) -> None:
        """A side that shut down only its sending half still takes what its peer sends."""
        server, client = self.socket_pair()
        client.shutdown(socket.SHUT_WR)
        self.network.flush()
        self.assertEqual(read_all(server), (b"", "eof"))
        server.send(b"reply")
        server.shutdown(socket.SHUT_RDWR)
        server.close()
        self.network.flush()
        self.assertEqual(read_all(client), (b"reply", "eof"))
        client.close()

    def test_reset_peer_sends_nothing_more(self) -> None:
        """After a reset, a send fails: C{ECONNRESET} once, then C{EPIPE}."""
        server, client = self.socket_pair()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        server.close()
        self.network.flush()
        self.assertEqual(self.assertRaises(OSError, client.send, b"x").errno, errno.ECONNRESET)
        self.assertEqual(self.assertRaises(OSError, client.send, b"x").errno, errno.EPIPE)
        self.assertEqual(self.assertRaises(OSError, client.recv, 1).errno, errno.ENOTCONN)
        client.close()


class BufferTests(SimulatedTestCase):
    """A reader that does not read fills its kernel's receive queue, then the writer's."""

    def test_what_the_kernels_take(self) -> None:
        """The writer's kernel takes its send buffer's worth beyond what the reader's holds."""
        server, client = self.socket_pair()
        sent = 0
        while client.writable():
            sent += client.send(b"x" * 65536)
            self.network.flush()  # the reader's kernel acknowledges what it takes
        settings = self.network.settings
        self.assertEqual(sent, settings.send_buffer + settings.receive_buffer)
        self.assertRaises(BlockingIOError, client.send, b"x")
        received, end = read_all(server)
        self.assertEqual((len(received), end), (settings.receive_buffer, "open"))
        self.network.flush()  # the window opened: the rest moves on
        self.assertEqual(len(read_all(server)[0]), settings.receive_buffer)
        self.leave()


class PartitionTests(SimulatedTestCase):
    """Across a cut link, TCP sends again after doubling timeouts; a reset is never sent again."""

    def test_delivered_at_the_next_retransmission(self) -> None:
        """Bytes sent into a partition arrive at the first retransmission after it heals.

        As measured on Linux (one segment out): a tail loss probe after 0.2 s,
        then the timeout of 0.2 s, doubling: tries at 0.2, 0.4, 0.8, 1.6, 3.2,
        6.4 and 12.8 s after the send (measured: 0.209, 0.418, 0.853, 1.686,
        3.352, 6.647, 13.45).
        """
        server, client = self.socket_pair()
        self.network.partition(SERVER_HOST, CLIENT_HOST)
        server.send(b"Tyger Tyger")
        self.network.advance(10)
        self.network.heal(SERVER_HOST, CLIENT_HOST)
        self.network.advance(2.7)  # just short of the try at 12.8 s
        self.assertEqual(read_all(client), (b"", "open"))
        self.network.advance(0.1)
        self.assertEqual(read_all(client), (b"Tyger Tyger", "open"))
        self.leave()

    def test_probe_sooner_with_more_segments_out(self) -> None:
        """With more than one segment out, the tail loss probe comes after 10 ms, not 0.2 s."""
        server, client = self.socket_pair()
        self.network.partition(SERVER_HOST, CLIENT_HOST)
        server.send(b"Tyger Tyger")
        server.shutdown(socket.SHUT_WR)  # the FIN is a second segment
        self.network.advance(0.005)
        self.network.heal(SERVER_HOST, CLIENT_HOST)
        self.network.advance(0.004)
        self.assertEqual(read_all(client), (b"", "open"))
        self.network.advance(0.001)  # the probe at 10 ms
        self.assertEqual(read_all(client), (b"Tyger Tyger", "eof"))
        self.leave()

    def test_one_way(self) -> None:
        """A link cut one way drops only what travels that way."""
        server, client = self.socket_pair()
        self.network.partition(SERVER_HOST, CLIENT_HOST, both_ways=False)
        server.send(b"to the client")
        client.send(b"to the server")
        self.network.flush()
        self.assertEqual(read_all(client), (b"", "open"))
        self.assertEqual(read_all(server), (b"to the server", "open"))
        self.leave()

    def test_lost_acknowledgements_stop_new_data(self) -> None:
        """With only its ACKs lost, the writer sends no new data once its timeout passes.

        As measured (a review's relay, across namespaces): the bytes written
        before the timeout arrive; after it, nothing until an ACK comes back.
        """
        server, client = self.socket_pair()
        self.network.partition(CLIENT_HOST, SERVER_HOST, both_ways=False)  # the client's ACKs
        server.send(b"a")
        self.network.advance(0.3)  # the tail loss probe (0.2 s), then the timeout (0.4 s) at 0.4
        server.send(b"b")
        self.network.advance(0.2)  # 0.5 s: past the timeout
        server.send(b"c")
        self.network.advance(1)
        self.assertEqual(read_all(client), (b"ab", "open"))
        self.network.heal(CLIENT_HOST, SERVER_HOST)
        self.network.advance(2)  # the next try draws an ACK: the rest follows
        self.assertEqual(read_all(client), (b"c", "open"))
        self.leave()

    def test_a_reset_into_a_partition_is_lost(self) -> None:
        """A reset dropped by a partition is not sent again: the peer learns only when it sends."""
        server, client = self.socket_pair()
        self.network.partition(SERVER_HOST, CLIENT_HOST)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        server.close()
        self.network.advance(5)
        self.network.heal(SERVER_HOST, CLIENT_HOST)
        self.network.advance(5)
        self.assertEqual(read_all(client), (b"", "open"))
        client.send(b"anyone there?")
        self.network.flush()
        self.assertEqual(read_all(client), (b"", "ECONNRESET"))
        client.close()

    def test_a_fin_into_a_partition_is_sent_again(self) -> None:
        """A FIN dropped by a partition is sent again, like bytes."""
        server, client = self.socket_pair()
        self.network.partition(SERVER_HOST, CLIENT_HOST)
        server.shutdown(socket.SHUT_RDWR)
        server.close()
        self.network.advance(1)
        self.network.heal(SERVER_HOST, CLIENT_HOST)
        self.network.advance(0.6)  # the try at 1.6 s
        self.assertEqual(read_all(client), (b"", "eof"))
        client.close()
        self.network.flush()  # the client's FIN

    def test_closed_side_whose_peer_vanished_is_dropped_after_fin_timeout(self) -> None:
        """A side closed and acknowledged whose peer's reset was lost waits C{fin_timeout}, no more.

        Found by the explorer: the client's reset was lost in a partition, and
        the server's side, its FIN acknowledged, waited for the client's FIN
        for ever; Linux drops such an orphan after C{tcp_fin_timeout}.
        """
        connection = orphan_server_side(self)
        self.network.advance(59.9)
        self.assertEqual(connection.server_side.tcp_state, "FIN-WAIT-2")
        self.network.advance(0.1)
        self.assertTrue(connection.closed)
        self.leave()

    def test_half_closed_side_waits_for_the_peer(self) -> None:
        """A side only half-closed (its application still holds it) waits for the peer for ever."""
        server, client = self.socket_pair()
        server.shutdown(socket.SHUT_WR)
        self.network.advance(120)
        self.assertEqual(read_all(client), (b"", "eof"))
        client.send(b"still here")
        self.network.flush()
        self.assertEqual(read_all(server), (b"still here", "open"))
        server.close()
        client.close()
        self.network.flush()

    def test_held_connection(self) -> None:
        """A held connection drops its packets both ways; after release, the next try arrives."""
        server, client = self.socket_pair()
        [connection] = self.network.connections
        connection.hold()
        server.send(b"Tyger Tyger")
        self.network.advance(1)
        connection.release()
        self.network.advance(0.5)  # the try at 1.6 s
        self.assertEqual(read_all(client), (b"", "open"))
        self.network.advance(0.1)
        self.assertEqual(read_all(client), (b"Tyger Tyger", "open"))
        self.leave()

    def test_gives_up_after_its_retries(self) -> None:
        """Bytes never acknowledged through C{retries} tries end the connection: C{ETIMEDOUT}."""
        server, client = self.socket_pair()
        self.network.partition(SERVER_HOST, CLIENT_HOST)
        server.send(b"Tyger Tyger")
        self.network.advance(2000)
        self.assertEqual(self.assertRaises(OSError, server.send, b"x").errno, errno.ETIMEDOUT)
        self.leave()


class FinTimeoutFloorTests(SimulatedTestCase):
    """A C{fin_timeout} below three and a half retransmission timeouts waits those instead."""

    settings = KernelSettings(fin_timeout=0)

    def test_orphan_waits_three_and_a_half_timeouts(self) -> None:
        """With C{fin_timeout} 0, an orphan in FIN-WAIT-2 goes after 0.7 s (3.5 times 0.2 s).

        As Linux's C{tcp_fin_time} has it: measured across a veth pair (C{ss}
        every 10 ms), with C{tcp_fin_timeout} 0 the side went 0.79 to 0.82 s
        after the close (its RTO 0.204 s), with 2 at 2.08 s.
        """
        connection = orphan_server_side(self)
        self.network.advance(0.69)
        self.assertEqual(connection.server_side.tcp_state, "FIN-WAIT-2")
        self.network.advance(0.01)
        self.assertTrue(connection.closed)


class StateTests(SimulatedTestCase):
    """Each side names its TCP state as Linux's C{ss} does."""

    def test_states_while_connecting(self) -> None:
        """At 0.1 s each way, at 0.15 s the client is in SYN-SENT and the server in SYN-RECV."""
        self.server_socket()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.1)
        self.client_socket()
        self.network.advance(0.15)
        [connection] = self.network.every_connection
        self.assertEqual(
            (connection.client_side.tcp_state, connection.server_side.tcp_state),
            ("SYN-SENT", "SYN-RECV"),
        )
        self.leave()

    def test_states_of_a_close(self) -> None:
        """Through a close in turn, each side goes from ESTAB to CLOSED by Linux's states.

        ESTAB; FIN-WAIT-1 while the server's FIN is lost; FIN-WAIT-2 and
        CLOSE-WAIT once it arrives; LAST-ACK while the client's FIN is lost;
        CLOSED once each is acknowledged (the simulator keeps no TIME-WAIT).
        """
        server, client = self.socket_pair()
        [connection] = self.network.connections
        sides = connection.server_side, connection.client_side

        def states() -> tuple[str, ...]:
            return tuple(side.tcp_state for side in sides)

        self.assertEqual(states(), ("ESTAB", "ESTAB"))
        self.network.partition(SERVER_HOST, CLIENT_HOST)
        server.shutdown(socket.SHUT_WR)
        self.assertEqual(states(), ("FIN-WAIT-1", "ESTAB"))
        self.network.heal(SERVER_HOST, CLIENT_HOST)
        self.network.advance(0.2)  # the tail loss probe sends the FIN again
        self.assertEqual(states(), ("FIN-WAIT-2", "CLOSE-WAIT"))
        self.network.partition(SERVER_HOST, CLIENT_HOST)
        client.shutdown(socket.SHUT_WR)
        self.assertEqual(states(), ("FIN-WAIT-2", "LAST-ACK"))
        self.network.heal(SERVER_HOST, CLIENT_HOST)
        self.network.advance(0.2)
        self.assertEqual(states(), ("CLOSED", "CLOSED"))  # both held by their applications
        server.close()
        client.close()
        self.assertEqual(states(), ("CLOSED", "CLOSED"))


class LatencyTests(SimulatedTestCase):
    """Latency delays every packet, the handshake's too, and keeps them in order."""

    def test_handshake_costs_a_round_trip(self) -> None:
        """At 0.1 s each way: the client connected at 0.2 s, the server's kernel has it at 0.3."""
        listening = self.server_socket()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.1)
        connecting = self.client_socket()
        self.network.advance(0.19)
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.EALREADY)
        self.network.advance(0.01)
        self.assertEqual(connecting.connect_ex((SERVER_HOST, PORT)), errno.EISCONN)
        self.assertFalse(listening.readable())
        self.network.advance(0.1)
        self.assertTrue(listening.readable())
        self.leave()

    def test_bytes_then_fin_then_reset_in_order(self) -> None:
        """Bytes in flight arrive before the FIN and the reset that follow them."""
        server, client = self.socket_pair()
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.5)
        server.send(b"Tyger Tyger")
        self.network.advance(0.25)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        server.close()  # the reset follows the bytes already on the wire
        self.network.advance(0.5)
        self.assertEqual(read_all(client), (b"Tyger Tyger", "ECONNRESET"))
        client.close()
        self.network.advance(0.5)  # the client's acknowledgement, lost on a socket gone


class DescriptorTests(SimulatedTestCase):
    """A simulated socket has a real descriptor, of the null device, for Twisted to set flags on."""

    def test_real_descriptor(self) -> None:
        """The descriptor is one the operating system knows, the same for every socket."""
        import fcntl

        first = self.client.reactor.make_socket(socket.AF_INET)
        second = self.server.reactor.make_socket(socket.AF_INET)
        self.assertEqual(first.fileno(), second.fileno())
        self.assertGreaterEqual(fcntl.fcntl(first.fileno(), fcntl.F_GETFD), 0)
        first.close()
        second.close()

    def test_null_device_closed_on_exec(self) -> None:
        """The descriptor is the null device's, opened for reading, not passed to a child."""
        import stat

        sock = self.client.reactor.make_socket(socket.AF_INET)
        fd = sock.fileno()
        self.assertEqual(os.fstat(fd).st_rdev, os.stat(os.devnull).st_rdev)
        self.assertTrue(stat.S_ISCHR(os.fstat(fd).st_mode))
        self.assertFalse(os.get_inheritable(fd))
        sock.close()


class OptionTests(SimulatedTestCase):
    """Options read back as set; one never set reads 0, as an integer option does on Linux."""

    def test_set_and_read_back(self) -> None:
        """An integer option reads back as set, and one never set as 0."""
        sock = self.client.reactor.make_socket(socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.assertEqual(sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), 1)
        self.assertEqual(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), 0)
        sock.close()


class AddressTests(SimulatedTestCase):
    """A socket's addresses, spelled as its family spells them; ports taken and given back."""

    def test_unbound(self) -> None:
        """An unbound socket has its family's wildcard address and port 0."""
        v4 = self.client.reactor.make_socket(socket.AF_INET)
        v6 = self.client.reactor.make_socket(socket.AF_INET6)
        self.assertEqual((v4.getsockname(), v6.getsockname()), (("0.0.0.0", 0), ("::", 0, 0, 0)))
        v4.close()
        v6.close()

    def test_bind_every_interface(self) -> None:
        """Bound to C{""}, a socket has every address of its family (C{::} for IPv6)."""
        v6 = self.server.reactor.make_socket(socket.AF_INET6)
        v6.bind(("", 0))
        self.assertEqual(v6.getsockname(), ("::", 40000, 0, 0))
        v6.close()

    def test_last_port(self) -> None:
        """Port 65535 can be bound; 65536 cannot, as Python's sockets say."""
        sock = self.server.reactor.make_socket(socket.AF_INET)
        sock.bind((SERVER_HOST, 65535))
        self.assertEqual(sock.getsockname(), (SERVER_HOST, 65535))
        error = self.assertRaises(OverflowError, sock.bind, (SERVER_HOST, 65536))
        self.assertEqual(str(error), "bind(): port must be 0-65535.")
        sock.close()

    def test_name_not_an_address(self) -> None:
        """Binding to a name fails as a lookup of an unknown name does."""
        sock = self.server.reactor.make_socket(socket.AF_INET)
        error = self.assertRaises(socket.gaierror, sock.bind, ("poems.example", 0))
        self.assertEqual(error.args, (socket.EAI_NONAME, "Name or service not known"))
        sock.close()

    def test_address_in_use(self) -> None:
        """An address bound by one socket cannot be bound by another until it is closed."""
        first = self.server.reactor.make_socket(socket.AF_INET)
        second = self.server.reactor.make_socket(socket.AF_INET)
        first.bind((SERVER_HOST, PORT))
        error = self.assertRaises(OSError, second.bind, (SERVER_HOST, PORT))
        self.assertEqual(error.errno, errno.EADDRINUSE)
        first.close()
        second.bind((SERVER_HOST, PORT))
        second.close()

    def test_closed_twice_gives_back_once(self) -> None:
        """A socket closed again gives nothing back: not the port another socket took since."""
        first = self.server.reactor.make_socket(socket.AF_INET)
        first.bind((SERVER_HOST, PORT))
        first.close()
        second = self.server.reactor.make_socket(socket.AF_INET)
        second.bind((SERVER_HOST, PORT))
        first.close()
        third = self.server.reactor.make_socket(socket.AF_INET)
        self.assertRaises(OSError, third.bind, (SERVER_HOST, PORT))
        second.close()
        third.close()

    def test_listen_without_bind(self) -> None:
        """A socket that listens without binding takes a free port, of the listening range."""
        listening = self.server.reactor.make_socket(socket.AF_INET)
        listening.listen(5)
        self.assertEqual(listening.getsockname(), ("0.0.0.0", 40000))
        listening.close()

    def test_connect_takes_a_port_until_closed(self) -> None:
        """A connect takes a port of the connecting range, given back when the socket closes."""
        connecting = self.client_socket()
        self.assertEqual(connecting.getsockname(), (CLIENT_HOST, 50000))
        taken = self.client.reactor.make_socket(socket.AF_INET)
        self.assertRaises(OSError, taken.bind, (CLIENT_HOST, 50000))
        connecting.close()
        taken.bind((CLIENT_HOST, 50000))
        taken.close()
        self.network.flush()  # the SYN, refused

    def test_ipv6_connect_from_loopback(self) -> None:
        """An unbound IPv6 socket of a process at an IPv4 address connects from C{::1}."""
        connecting = self.client.reactor.make_socket(socket.AF_INET6)
        connecting.connect_ex(("::1", PORT))
        self.assertEqual(connecting.getsockname(), ("::1", 50000, 0, 0))
        connecting.close()
        self.network.flush()

    def test_accepted_of_the_listeners_family(self) -> None:
        """An IPv6 listener's accepted socket is IPv6, its IPv4 peer's address mapped."""
        listening = self.server.reactor.make_socket(socket.AF_INET6)
        listening.bind(("::", PORT))
        listening.listen(5)
        self.client_socket()
        self.network.flush()
        accepted, address = listening.accept()
        self.assertEqual(accepted.family, socket.AF_INET6)
        self.assertEqual(address, (f"::ffff:{CLIENT_HOST}", 50000, 0, 0))
        self.leave()

    def test_closed_socket_forgotten_by_its_process(self) -> None:
        """A socket closed is no longer among its process's sockets."""
        sock = self.client.reactor.make_socket(socket.AF_INET)
        self.assertEqual(self.client.sockets, [sock])
        sock.close()
        self.assertEqual(self.client.sockets, [])


class WouldBlockTests(SimulatedTestCase):
    """A call that would block raises C{EAGAIN}, with its message, as a non-blocking socket does."""

    def assert_would_block(self, call: Callable[[], object]) -> None:
        """``call`` raises C{BlockingIOError} with C{EAGAIN} and its message."""
        error = self.assertRaises(BlockingIOError, call)
        self.assertEqual((error.errno, error.strerror), (errno.EAGAIN, os.strerror(errno.EAGAIN)))

    def test_accept_with_nothing_waiting(self) -> None:
        """A listener with no connection waiting would block."""
        listening = self.server_socket()
        self.assert_would_block(listening.accept)
        listening.close()

    def test_recv_with_nothing_received(self) -> None:
        """A read with nothing received would block."""
        server, client = self.socket_pair()
        self.assert_would_block(lambda: client.recv(1))
        self.leave()

    def test_send_with_the_buffer_full(self) -> None:
        """A send with the send buffer full would block."""
        server, client = self.socket_pair()
        [connection] = self.network.connections
        connection.hold()
        client.send(b"x" * self.network.settings.send_buffer)
        self.assert_would_block(lambda: client.send(b"x"))
        self.leave()

    def test_send_while_connecting(self) -> None:
        """A send while the handshake is under way would block."""
        connecting = self.client_socket()
        self.assert_would_block(lambda: connecting.send(b"x"))
        connecting.close()
        self.network.flush()  # the SYN, refused


class SmallBufferTests(SimulatedTestCase):
    """A send takes what the send buffer (10 bytes here) has room for, down to one byte."""

    settings = KernelSettings(send_buffer=10)

    def test_one_byte_of_room(self) -> None:
        """With one byte of room left, a send takes one byte."""
        server, client = self.socket_pair()
        [connection] = self.network.connections
        connection.hold()
        self.assertEqual((client.send(b"x" * 9), client.send(b"yz")), (9, 1))
        self.leave()


class ErrorTests(SimulatedTestCase):
    """Errors are Linux's: their numbers and messages, and when a socket is ready to tell them."""

    def test_message(self) -> None:
        """An error carries its number's message, as the operating system's does."""
        sock = self.client.reactor.make_socket(socket.AF_INET)
        error = self.assertRaises(OSError, sock.recv, 1)
        self.assertEqual(str(error), f"[Errno {errno.ENOTCONN}] {os.strerror(errno.ENOTCONN)}")
        sock.close()

    def test_accept_on_a_socket_not_listening(self) -> None:
        """Accepting on a socket that does not listen is refused with C{EINVAL}, as on Linux."""
        sock = self.server.reactor.make_socket(socket.AF_INET)
        self.assertEqual(self.assertRaises(OSError, sock.accept).errno, errno.EINVAL)
        sock.close()

    def test_reset_socket_stays_writable(self) -> None:
        """A reset socket stays writable once its error was read: a write fails at once (EPIPE)."""
        server, client = self.socket_pair()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        server.close()
        self.network.flush()
        self.assertEqual(client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), errno.ECONNRESET)
        self.assertTrue(client.writable())
        self.assertEqual(self.assertRaises(OSError, client.send, b"x").errno, errno.EPIPE)
        client.close()
