"""Tests for L{poetry.core.slow_server} and L{poetry.core.pacer}: chunks on a shared clock."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IPushProducer
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyClass

from poetry.core.pacer import Pacer
from poetry.core.slow_server import SlowPoetryFactory, SlowPoetryProtocol
from poetry.testing import KernelSettings
from poetry.testing.kits import Recorder
from tests.support import POEM, captured_events, connect_server
from tests.support.simulated import PORT, SERVER_HOST, SimulatedTestCase

CHUNKS = [POEM[i : i + 10] for i in range(0, len(POEM), 10)]
PEER = IPv4Address("TCP", "10.0.0.7", 4321)
PEER_NAME = "10.0.0.7:4321"


class SlowPoetryServerTests(SynchronousTestCase):
    """The slow server sends 10 bytes a second to each client, on one shared timer."""

    def setUp(self) -> None:
        """Make a 10-bytes-a-second server on a fresh clock."""
        self.clock = Clock()
        self.factory = SlowPoetryFactory(POEM, chunk_bytes=10, delay=1.0, clock=self.clock)

    def test_first_chunk_on_connect(self) -> None:
        """The first chunk leaves as soon as the client connects."""
        _, transport = connect_server(self.factory)
        self.assertEqual(transport.value(), CHUNKS[0])
        transport.loseConnection()

    def test_one_chunk_per_tick(self) -> None:
        """Each second brings exactly one more chunk, and nothing arrives between ticks."""
        _, transport = connect_server(self.factory)
        for sent in range(1, len(CHUNKS)):
            self.clock.advance(0.999)  # just short of the next tick
            self.assertEqual(transport.value(), b"".join(CHUNKS[:sent]))
            self.clock.advance(0.001)  # the next tick
            self.assertEqual(transport.value(), b"".join(CHUNKS[: sent + 1]))

    def test_closes_cleanly_after_last_chunk(self) -> None:
        """The connection is closed cleanly right after the last chunk, not before."""
        _, transport = connect_server(self.factory)
        self.clock.pump([1] * (len(CHUNKS) - 2))  # every tick but the last
        self.assertTrue(transport.connected)
        self.clock.advance(1)  # the last chunk
        self.assertFalse(transport.connected)
        self.assertFalse(transport.disconnected)  # closed, not aborted
        self.assertEqual(transport.value(), POEM)

    def test_half_closing_client_gets_every_chunk(self) -> None:
        """A client that closes its own side still gets every chunk, then a clean close."""
        protocol, transport = connect_server(self.factory)
        protocol.readConnectionLost()
        self.clock.pump([1] * (len(CHUNKS) - 1))  # every remaining tick
        self.assertEqual(transport.value(), POEM)
        protocol.writeConnectionLost()
        self.assertFalse(transport.connected)

    def test_clients_keep_own_schedules(self) -> None:
        """A client that connects half a second later gets its chunks half a second later."""
        _, early = connect_server(self.factory)
        self.clock.advance(0.5)  # half a tick: nothing is due
        _, late = connect_server(self.factory)
        self.clock.advance(0.5)  # the early client's tick
        self.assertEqual((early.value(), late.value()), (b"".join(CHUNKS[:2]), CHUNKS[0]))
        self.clock.advance(0.5)  # the late client's tick
        self.assertEqual(late.value(), b"".join(CHUNKS[:2]))
        early.loseConnection()
        late.loseConnection()

    def test_one_timer_for_many_clients(self) -> None:
        """However many clients are being served, one delayed call is pending."""
        transports = []
        for _ in range(100):
            transports.append(connect_server(self.factory)[1])
            self.clock.advance(0.01)  # the next client 10 ms later (ticks fall due in between)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        for transport in transports:
            transport.loseConnection()

    def test_client_gone_is_dropped(self) -> None:
        """A client that goes away mid-poem gets no more writes and leaves the pacer."""
        protocol, transport = connect_server(self.factory, StringTransport())
        _, other = connect_server(self.factory)
        protocol.connectionLost(Failure(ConnectionLost()))
        self.clock.advance(1)  # a tick that would have written to the gone client
        self.assertEqual(transport.value(), CHUNKS[0])
        self.assertEqual(len(self.factory.pacer), 1)
        other.loseConnection()

    def test_pacer_stops_when_last_client_leaves(self) -> None:
        """When the last client leaves, no timer is left pending."""
        protocol, _ = connect_server(self.factory, StringTransport())
        protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_pacer_stops_when_all_served(self) -> None:
        """When every poem has been sent, no timer is left pending."""
        connect_server(self.factory)
        self.clock.pump([1] * len(CHUNKS))  # one tick per chunk after the first, and one more
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_paused_client_gets_nothing(self) -> None:
        """While its transport is paused, a client is written nothing; others carry on."""
        protocol, paused = connect_server(self.factory)
        _, other = connect_server(self.factory)
        protocol.pauseProducing()
        self.clock.advance(1)  # a tick: the paused client is parked
        self.clock.advance(1)  # another tick
        self.assertEqual(paused.value(), CHUNKS[0])
        self.assertEqual(other.value(), b"".join(CHUNKS[:3]))
        paused.loseConnection()
        other.loseConnection()

    def test_resume_sends_held_chunk_at_once(self) -> None:
        """A parked client gets its next chunk when resumed, then one per second from then."""
        protocol, transport = connect_server(self.factory)
        protocol.pauseProducing()
        self.clock.advance(1.5)  # a tick passes while paused
        protocol.resumeProducing()
        self.assertEqual(transport.value(), b"".join(CHUNKS[:2]))
        self.clock.advance(0.999)  # just short of a second after the resume
        self.assertEqual(transport.value(), b"".join(CHUNKS[:2]))
        self.clock.advance(0.001)  # one second after the resume
        self.assertEqual(transport.value(), b"".join(CHUNKS[:3]))
        transport.loseConnection()

    def test_late_timer_keeps_schedule(self) -> None:
        """A tick that runs late does not push back the ticks after it."""
        _, transport = connect_server(self.factory)
        self.clock.advance(1.5)  # the first tick, half a second late
        self.assertEqual(transport.value(), b"".join(CHUNKS[:2]))
        self.clock.advance(0.5)  # the second tick, on time at t=2
        self.assertEqual(transport.value(), b"".join(CHUNKS[:3]))
        transport.loseConnection()

    def test_far_behind_catches_up(self) -> None:
        """A client left two ticks behind by a late timer catches up and is back on schedule."""
        _, transport = connect_server(self.factory)
        self.clock.advance(2.5)  # the ticks due at 1 and 2 run late, at 2.5
        self.assertEqual(transport.value(), b"".join(CHUNKS[:3]))
        self.clock.advance(0.499)  # just short of the tick due at 3
        self.assertEqual(transport.value(), b"".join(CHUNKS[:3]))
        self.clock.advance(0.001)  # the tick due at 3, on time
        self.assertEqual(transport.value(), b"".join(CHUNKS[:4]))
        transport.loseConnection()

    def test_pause_and_resume_between_ticks(self) -> None:
        """A pause lifted before the next tick changes nothing in the schedule."""
        protocol, transport = connect_server(self.factory)
        protocol.pauseProducing()
        protocol.resumeProducing()
        self.assertEqual(transport.value(), CHUNKS[0])
        self.clock.advance(1)  # the regular tick
        self.assertEqual(transport.value(), b"".join(CHUNKS[:2]))
        transport.loseConnection()

    def test_stop_producing_leaves_pacer(self) -> None:
        """When the transport stops the producer (the connection is going), it leaves the pacer."""
        protocol, transport = connect_server(self.factory, StringTransport())
        protocol.stopProducing()
        self.clock.advance(1)  # a tick that would have written
        self.assertEqual(transport.value(), CHUNKS[0])
        self.assertEqual(len(self.factory.pacer), 0)

    def test_builds_protocols_bound_to_itself(self) -> None:
        """The factory builds protocols bound to itself."""
        protocol, transport = connect_server(self.factory)
        self.assertIs(protocol.factory, self.factory)
        transport.loseConnection()

    def test_registers_as_streaming_producer(self) -> None:
        """The protocol is its transport's streaming producer while it sends."""
        protocol, transport = connect_server(self.factory)
        self.assertIs(transport.producer, protocol)
        self.assertTrue(transport.streaming)
        transport.loseConnection()

    def test_logs_client_gone_early(self) -> None:
        """A client gone mid-poem is logged with the peer and how much of the poem it got."""
        protocol, _ = connect_server(self.factory, StringTransport(peerAddress=PEER))
        with captured_events() as events:
            protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(events.names(), ["client-gone-early"])
        [gone] = events.named("client-gone-early")
        self.assertEqual((gone["peer"], gone["sent"], gone["size"]), (PEER_NAME, 10, len(POEM)))

    def test_logs_poem_served(self) -> None:
        """A client that got the whole poem is logged as served, with the peer and the size."""
        protocol, transport = connect_server(self.factory, StringTransport(peerAddress=PEER))
        self.clock.pump([1.0] * (len(CHUNKS) - 1))  # the remaining chunks, one a tick
        self.assertEqual(transport.value(), POEM)
        with captured_events() as events:
            protocol.connectionLost(Failure(ConnectionDone()))
        [served] = events.named("poem-served")
        self.assertEqual((served["peer"], served["size"]), (PEER_NAME, len(POEM)))

    def test_logs_connection_accepted(self) -> None:
        """Each connection accepted is logged at debug level, with the peer."""
        with captured_events() as events:
            protocol, _ = connect_server(self.factory, StringTransport(peerAddress=PEER))
        [accepted] = events.named("connection-accepted")
        self.assertEqual((accepted["log_level"].name, accepted["peer"]), ("debug", PEER_NAME))
        protocol.connectionLost(Failure(ConnectionLost()))

    def test_empty_poem(self) -> None:
        """An empty poem is closed at once, with no timer."""
        factory = SlowPoetryFactory(b"", chunk_bytes=10, delay=1.0, clock=self.clock)
        _, transport = connect_server(factory)
        self.assertFalse(transport.connected)


class SlowFactoryArgumentTests(SynchronousTestCase):
    """Nonsense pacing is refused."""

    def test_zero_chunk(self) -> None:
        """A chunk size below one byte is refused."""
        error = self.assertRaises(ValueError, SlowPoetryFactory, POEM, 0, 1.0, Clock())
        self.assertEqual(str(error), "chunk size must be at least 1 byte, got 0")

    def test_zero_interval(self) -> None:
        """A pacer needs a positive interval."""
        self.assertRaises(ValueError, Pacer, Clock(), 0)


class SlowServerOnTheNetworkTests(SimulatedTestCase):
    """The slow server as a producer, on the simulated network with small buffers."""

    settings = KernelSettings(receive_buffer=25, send_buffer=25)

    def test_paused_by_a_reader_that_does_not_read(self) -> None:
        """The slow server stops writing once the buffers are full, and goes on when drained.

        Twisted's own buffer (64 KiB) is never full here: the server's
        protocol is paused as a producer by its kernel's full send queue,
        through Twisted's transport.
        """
        factory = SlowPoetryFactory(POEM, 10, 1.0, self.server.reactor)
        self.server.reactor.listenTCP(PORT, factory, interface=SERVER_HOST)
        client = Recorder()
        self.connect(client)
        self.network.flush()  # the first chunk
        client.transport.pauseProducing()  # the client stops reading after the first chunk
        self.network.advance(len(POEM))  # ten chunks a second could all be written by now
        self.assertEqual(client.received, POEM[:10])
        self.assertNoResult(client.ended)
        client.transport.resumeProducing()
        self.network.advance(len(POEM))  # the rest, once the buffers drained
        self.assertEqual(self.successResultOf(client.ended), POEM)


class SlowServerShapeTests(SynchronousTestCase):
    """What the slow server's protocol is, and what it shares."""

    def test_push_producer(self) -> None:
        """The slow server's protocol provides L{IPushProducer} in full, as it declares."""
        self.assertTrue(verifyClass(IPushProducer, SlowPoetryProtocol))

    def test_one_view_for_all(self) -> None:
        """Two connections' protocols share one view of the poem (one each cost 300 bytes)."""
        factory = SlowPoetryFactory(POEM, 10, 1.0, Clock())
        first, second = factory.buildProtocol(None), factory.buildProtocol(None)
        self.assertIs(first._poem, second._poem)
        self.assertEqual(first._poem.tobytes(), POEM)
