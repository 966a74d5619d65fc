"""Tests for L{poetry.operations.graceful}: serving as a service that drains on stop."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, TimeoutError
from twisted.internet.endpoints import TCP4ServerEndpoint, serverFromString
from twisted.internet.error import CannotListenError, ConnectionAborted, ConnectionDone
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.internet.testing import RaisingMemoryReactor, StringTransport
from twisted.logger import formatEvent
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.client import get_poetry
from poetry.core.errors import PartialPoemError
from poetry.core.server import PoetryServerFactory
from poetry.core.slow_server import SlowPoetryFactory
from poetry.operations.accept_limit import ACCEPT_REACH
from poetry.operations.graceful import GracefulServerService
from poetry.operations.limit_warning import LIMIT_LOG_PERIOD
from poetry.operations.tracking import ConnectionTracker
from poetry.testing import MemoryPoetryNetwork
from tests.support import (
    POEM,
    FakeListeningPort,
    FakeServerEndpoint,
    captured_events,
    connect_server,
)
from tests.support.peers import CountingFactory, HalfCloseableRecorder, silent_server


def silent_service_with_client() -> tuple[
    MemoryPoetryNetwork, GracefulServerService, Deferred[bytes]
]:
    """Serve, with a grace period of 5 s, a server that never sends; connect one client.

    Returns the network, the service and the client's poem.
    """
    network = MemoryPoetryNetwork()
    endpoint = serverFromString(network.reactor, "tcp:10000:interface=127.0.0.1")
    service = GracefulServerService(endpoint, silent_server(), network.reactor, grace_period=5)
    service.startService()
    poem = get_poetry(network.reactor, "127.0.0.1", 10000)
    network.flush()
    return network, service, poem


class GracefulServerServiceTests(SynchronousTestCase):
    """Stopping stops listening, then waits for open connections up to a grace period."""

    def setUp(self) -> None:
        """Start a service on a fake endpoint with a 5-second grace period."""
        self.clock = Clock()
        self.endpoint = FakeServerEndpoint()
        self.service = GracefulServerService(
            self.endpoint, Factory.forProtocol(Protocol), self.clock, grace_period=5
        )
        self.service.startService()

    def test_listens_on_start(self) -> None:
        """Starting the service listens on the endpoint; C{listening} fires with the port."""
        self.assertTrue(self.endpoint.port.listening)
        assert self.service.listening is not None
        self.assertIs(self.successResultOf(self.service.listening), self.endpoint.port)

    def test_logs_listening_address(self) -> None:
        """Once listening, the service logs the address it listens on."""
        network = MemoryPoetryNetwork()
        endpoint = serverFromString(network.reactor, "tcp:10007:interface=127.0.0.1")
        service = GracefulServerService(endpoint, silent_server(), network.reactor)
        with captured_events() as events:
            service.startService()
        [listening] = events.named("listening")
        self.assertEqual(listening["address"], "127.0.0.1:10007")
        stopped = service.stopService()
        network.flush()  # the port closes on the reactor's next turn
        self.successResultOf(stopped)

    def test_stop_without_connections(self) -> None:
        """With nothing in flight, stopping stops listening and finishes at once."""
        self.successResultOf(self.service.stopService())
        self.assertFalse(self.endpoint.port.listening)

    def test_stop_waits_for_connection(self) -> None:
        """A connection in flight holds the stop until it closes, and is not cut off."""
        _, transport = self.endpoint.connect()
        stopped = self.service.stopService()
        self.assertFalse(self.endpoint.port.listening)
        self.clock.advance(4.9)  # just short of the 5-second grace period
        self.assertNoResult(stopped)
        self.assertFalse(transport.disconnected)
        transport.loseConnection()
        self.successResultOf(stopped)

    def test_grace_period_aborts_stragglers(self) -> None:
        """Connections still open when the grace period ends are aborted, and that is logged."""
        _, first = self.endpoint.connect()
        _, second = self.endpoint.connect()
        stopped = self.service.stopService()
        with captured_events() as events:
            self.clock.advance(5)  # the grace period ends
        self.assertTrue(first.disconnected)
        self.assertTrue(second.disconnected)
        self.successResultOf(stopped)
        [ended] = events.named("grace-period-ended")
        self.assertEqual((ended["how"], ended["count"]), ("over", 2))

    def test_stop_finishes_once_aborted_connections_are_reset(self) -> None:
        """The stop is done only when each aborted connection is really lost, not when asked.

        A real reactor resets an aborted connection on its next turn; a stop
        done before then would let the process exit first and the kernel
        close the cut connection with a FIN.
        """
        network, service, poem = silent_service_with_client()
        stopped = service.stopService()
        [connection] = network.connections
        assert connection.server_side is not None
        server_gone_when_stopped: list[bool] = []
        stopped.addCallback(lambda _: server_gone_when_stopped.append(connection.server_side.gone))
        network.advance(5)  # the grace period ends: the connection is aborted, then reset
        self.assertEqual(server_gone_when_stopped, [True])
        self.assertEqual(self.failureResultOf(poem, PartialPoemError).value.partial, b"")

    def test_end_grace_resets_at_once(self) -> None:
        """Ending the grace period early aborts what is open; the stop waits for the resets."""
        network, service, poem = silent_service_with_client()
        stopped = service.stopService()
        network.advance(1)  # a second into the grace period
        with captured_events() as events:
            service.end_grace()
        self.assertNoResult(stopped)  # the abort resets the connection on the next turn
        network.flush()
        self.successResultOf(stopped)
        self.assertEqual(self.failureResultOf(poem, PartialPoemError).value.partial, b"")
        self.assertEqual(network.open_connections, 0)
        self.assertEqual(network.reactor.getDelayedCalls(), [])
        [ended] = events.named("grace-period-ended")
        self.assertEqual((ended["how"], ended["count"]), ("cut short", 1))

    def test_end_grace_when_not_stopping(self) -> None:
        """Ending the grace period while the service runs, or once stopped, does nothing."""
        _, transport = self.endpoint.connect()
        self.service.end_grace()
        self.assertFalse(transport.disconnected)
        transport.loseConnection()
        self.successResultOf(self.service.stopService())
        self.service.end_grace()

    def test_stop_twice(self) -> None:
        """A second stop finds nothing left to do."""
        self.successResultOf(self.service.stopService())
        self.successResultOf(self.service.stopService())


class TrackedProtocolTests(SynchronousTestCase):
    """The tracker's wrapper passes a half-close on exactly when its protocol can hear it."""

    def test_half_closeable_protocol(self) -> None:
        """A half-closeable protocol keeps the interface through the wrapper; hears both halves."""
        recorder = HalfCloseableRecorder()
        tracker = ConnectionTracker(Factory.forProtocol(lambda: recorder))
        wrapper, _ = connect_server(tracker)
        self.assertTrue(IHalfCloseableProtocol.providedBy(wrapper))
        wrapper.readConnectionLost()
        wrapper.writeConnectionLost()
        self.assertEqual(recorder.events, [("read closed",), ("write closed",)])

    def test_plain_protocol(self) -> None:
        """A protocol that cannot be half-closed is not made to look as if it could."""
        wrapper, _ = connect_server(ConnectionTracker(Factory.forProtocol(Protocol)))
        self.assertFalse(IHalfCloseableProtocol.providedBy(wrapper))


def running_clock() -> Clock:
    """A clock well past zero, as a server's that has run a while."""
    clock = Clock()
    clock.advance(100)  # a server that has run a while
    return clock


class ConnectionLimitTests(SynchronousTestCase):
    """At its connection limit a server stops accepting; clients wait, then are served."""

    def test_clients_over_the_limit_wait_then_get_the_poem(self) -> None:
        """The third of three clients waits in the backlog while two are served, then is served."""
        network = MemoryPoetryNetwork()
        endpoint = serverFromString(network.reactor, "tcp:10000:interface=127.0.0.1")
        slow = SlowPoetryFactory(POEM, len(POEM) // 2 + 1, 1.0, network.reactor)
        service = GracefulServerService(endpoint, slow, network.reactor, max_connections=2)
        service.startService()
        with captured_events() as events:
            poems = [get_poetry(network.reactor, "127.0.0.1", 10000) for _ in range(3)]
            network.flush()
            self.assertEqual(len(service.tracker.protocols), 2)  # the third waits in the backlog
            network.advance(1)  # the first two get their second and last chunk
        self.assertEqual([self.successResultOf(p) for p in poems[:2]], [POEM, POEM])
        self.assertNoResult(poems[2])
        network.advance(1)  # the third, accepted once there was room, gets its last chunk
        self.assertEqual(self.successResultOf(poems[2]), POEM)
        [full] = events.named("connection-limit-reached")
        self.assertEqual((full["log_level"].name, full["count"]), ("warn", 2))
        self.assertEqual(len(events.named("accepting-again")), 1)
        stopped = service.stopService()
        network.flush()  # the port closes on the reactor's next turn
        self.successResultOf(stopped)

    def test_one_close_admits_one_waiting_client(self) -> None:
        """When one connection of a full server closes, one waiting client is let in, not two.

        The port's next accept loop is limited to the room that close made, so
        the second waiting client stays in the backlog instead of being
        accepted and reset.
        """
        network = MemoryPoetryNetwork()
        endpoint = serverFromString(network.reactor, "tcp:10000:interface=127.0.0.1")
        service = GracefulServerService(
            endpoint, silent_server(), network.reactor, grace_period=0, max_connections=2
        )
        service.startService()
        leaving = get_poetry(network.reactor, "127.0.0.1", 10000, timeout=1)
        staying = get_poetry(network.reactor, "127.0.0.1", 10000)
        network.flush()
        waiting = [get_poetry(network.reactor, "127.0.0.1", 10000) for _ in range(2)]
        network.flush()
        network.advance(1)  # the first client gives up: one place is free
        self.failureResultOf(leaving, TimeoutError)
        self.assertEqual(len(service.tracker.protocols), 2)
        self.assertNoResult(waiting[0])
        self.assertNoResult(waiting[1])
        stopped = service.stopService()
        network.advance(0)  # the grace period (none) ends: what is open is reset
        self.successResultOf(stopped)
        for poem in [staying, *waiting]:
            self.failureResultOf(poem)

    def test_clients_arriving_after_a_short_batch_wait(self) -> None:
        """Clients arriving after a batch shorter than the room wait; none is accepted and reset.

        After a batch that took every waiting client, a TCP port grows its next
        batch by 20: past the room, unless the tracker clamps it again before
        the port next accepts.
        """
        network = MemoryPoetryNetwork()
        endpoint = serverFromString(network.reactor, "tcp:10000:interface=127.0.0.1")
        slow = SlowPoetryFactory(POEM, len(POEM) // 2 + 1, 1.0, network.reactor)
        service = GracefulServerService(endpoint, slow, network.reactor, max_connections=2)
        service.startService()
        first = get_poetry(network.reactor, "127.0.0.1", 10000)
        network.flush()  # a batch of one, with room for two
        later = [get_poetry(network.reactor, "127.0.0.1", 10000) for _ in range(3)]
        network.flush()
        self.assertEqual(len(service.tracker.protocols), 2)  # the others wait in the backlog
        network.advance(2)  # each client, accepted as room is made, gets its two chunks
        self.assertEqual([self.successResultOf(p) for p in [first, *later]], [POEM] * 4)
        stopped = service.stopService()
        network.flush()  # the port closes on the reactor's next turn
        self.successResultOf(stopped)

    def test_batch_sizes_limited_again_only_near_the_limit(self) -> None:
        """Within ACCEPT_REACH of the limit a batch is limited again on the next turn, not before.

        Further away, the port's own sizing after a batch stands (no timer).
        """
        clock = Clock()
        tracker = ConnectionTracker(
            PoetryServerFactory(POEM), max_connections=ACCEPT_REACH + 2, clock=clock
        )
        port = FakeListeningPort()
        port.numberAccepts = 5  # type: ignore[attr-defined]
        tracker.watch(port)
        connect_server(tracker, StringTransport())
        self.assertEqual(clock.getDelayedCalls(), [])  # room: ACCEPT_REACH + 1
        connect_server(tracker, StringTransport())
        self.assertEqual(len(clock.getDelayedCalls()), 1)  # room: ACCEPT_REACH
        port.numberAccepts = ACCEPT_REACH + 20  # type: ignore[attr-defined]  # Twisted's growth
        clock.advance(0)  # the next turn
        self.assertEqual(port.numberAccepts, ACCEPT_REACH)  # type: ignore[attr-defined]

    def test_no_batch_limit_pending_once_unwatched(self) -> None:
        """A stop (no port watched) cancels a pending re-limit; watching again schedules anew."""
        clock = Clock()
        tracker = ConnectionTracker(PoetryServerFactory(POEM), max_connections=3, clock=clock)
        port = FakeListeningPort()
        port.numberAccepts = 5  # type: ignore[attr-defined]
        tracker.watch(port)
        connect_server(tracker, StringTransport())
        tracker.watch(None)
        self.assertEqual(clock.getDelayedCalls(), [])
        tracker.watch(port)  # a service started again
        connect_server(tracker, StringTransport())
        self.assertEqual(len(clock.getDelayedCalls()), 1)
        clock.advance(0)  # the next turn: the re-limit runs

    def test_no_batch_limit_timer_without_a_clock(self) -> None:
        """A tracker made without a clock limits each batch as connections come, and no more."""
        tracker = ConnectionTracker(PoetryServerFactory(POEM), max_connections=2)
        port = FakeListeningPort()
        port.numberAccepts = 5  # type: ignore[attr-defined]
        tracker.watch(port)
        connect_server(tracker, StringTransport())
        self.assertEqual(port.numberAccepts, 1)  # type: ignore[attr-defined]

    def full_again_and_again(self, clock: Clock, fills: int) -> ConnectionTracker:
        """A tracker with room for one on ``clock``, filled up and emptied ``fills`` times."""
        tracker = ConnectionTracker(PoetryServerFactory(POEM), max_connections=1, clock=clock)
        tracker.watch(FakeListeningPort())
        for _ in range(fills):
            wrapper, _ = connect_server(tracker, StringTransport())
            wrapper.connectionLost(Failure(ConnectionDone()))
        return tracker

    def test_limit_warned_once_per_period(self) -> None:
        """A server filling up again and again within a period warns once, resumes once."""
        clock = running_clock()
        with captured_events() as events:
            self.full_again_and_again(clock, 2)
        self.assertEqual(len(events.named("connection-limit-reached")), 1)
        self.assertEqual(len(events.named("accepting-again")), 1)
        clock.advance(0)  # the next turn: the batch size is limited again

    def test_next_warning_counts_the_fills(self) -> None:
        """The first fill after a period is warned, with how often the server filled up since."""
        clock = running_clock()
        with captured_events() as events:
            tracker = self.full_again_and_again(clock, 2)
            clock.advance(LIMIT_LOG_PERIOD)  # the period is over: the next fill is told
            connect_server(tracker, StringTransport())
        first, later = events.named("connection-limit-reached")
        self.assertEqual((first["times"], later["times"]), (1, 2))
        self.assertIn("full 2 times", formatEvent(later))
        self.assertNotIn("times", formatEvent(first))
        clock.advance(0)  # the next turn: the batch size is limited again

    def test_limit_warned_after_the_clock_is_set_back(self) -> None:
        """A clock set back does not silence the warning until it catches up."""
        clock = running_clock()
        with captured_events() as events:
            tracker = self.full_again_and_again(clock, 1)
            clock.rightNow -= 50  # the clock is set back
            connect_server(tracker, StringTransport())
        self.assertEqual(len(events.named("connection-limit-reached")), 2)
        clock.advance(50)  # caught up: the batch re-limit set before the step runs

    def test_reset_extra_leaves_the_port_paused(self) -> None:
        """A connection accepted while full (and reset) closing does not resume a full server."""
        tracker = ConnectionTracker(PoetryServerFactory(POEM), max_connections=1)
        port = FakeListeningPort()
        tracker.watch(port)
        connect_server(tracker, StringTransport())
        extra, _ = connect_server(tracker, StringTransport())  # accepted anyway: reset
        with captured_events() as events:
            extra.connectionLost(Failure(ConnectionAborted()))
        self.assertFalse(port.accepting)
        self.assertEqual(events.named("accepting-again"), [])

    def test_limit_warned_each_time_without_a_clock(self) -> None:
        """A tracker made without a clock warns each time it fills up."""
        tracker = ConnectionTracker(PoetryServerFactory(POEM), max_connections=1)
        tracker.watch(FakeListeningPort())
        with captured_events() as events:
            for _ in range(2):
                wrapper, _ = connect_server(tracker, StringTransport())
                wrapper.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(len(events.named("connection-limit-reached")), 2)
        self.assertEqual(len(events.named("accepting-again")), 2)

    def test_wrapped_factory_gets_the_client_address(self) -> None:
        """The served protocol is built for the client's address."""
        counting = CountingFactory(PoetryServerFactory(POEM))
        tracker = ConnectionTracker(counting)
        connect_server(tracker, StringTransport())
        self.assertEqual(counting.addresses, [IPv4Address("TCP", "127.0.0.1", 54321)])

    def test_full_resets_connections_accepted_anyway(self) -> None:
        """A connection accepted while full (late in an accept loop) is reset, not served."""
        tracker = ConnectionTracker(PoetryServerFactory(POEM), max_connections=1)
        _, served = connect_server(tracker, StringTransport())
        _, extra = connect_server(tracker, StringTransport())
        self.assertEqual(served.value(), POEM)
        self.assertEqual(extra.value(), b"")
        self.assertTrue(extra.disconnected)  # aborted, not closed cleanly

    def test_no_limit(self) -> None:
        """Without a limit, the tracker serves however many connections arrive."""
        tracker = ConnectionTracker(PoetryServerFactory(POEM))
        transports = [connect_server(tracker, StringTransport())[1] for _ in range(5)]
        self.assertEqual([t.value() for t in transports], [POEM] * 5)


class ListenFailureTests(SynchronousTestCase):
    """A listening failure surfaces when the service starts."""

    def test_raises_on_start(self) -> None:
        """An endpoint that cannot listen makes C{startService} raise its error."""
        reactor = RaisingMemoryReactor(CannotListenError("127.0.0.1", 1, OSError("in use")))
        service = GracefulServerService(
            TCP4ServerEndpoint(reactor, 1), Factory.forProtocol(Protocol), Clock()
        )
        self.assertRaises(CannotListenError, service.startService)
