"""Tests for the lingering close: a tracked TCP connection, its poem out, waits for the client."""

from __future__ import annotations

from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.closing import poem_delivered
from poetry.operations.lingering import Lingering
from poetry.operations.tracking import LINGER_SECONDS, ConnectionTracker
from tests.support import captured_events, connect_server
from tests.support.fakes import FakeSocket
from tests.support.peers import HalfCloseableRecorder


class TCPTransport(StringTransport):
    """A transport with a TCP socket, its reactor, and the outermost protocol, as Twisted's has."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.reactor = clock
        self.socket = FakeSocket()

    def getHandle(self) -> FakeSocket:
        """The socket."""
        return self.socket


class LingerTests(SynchronousTestCase):
    """The poem out, the connection is closed on the client's end of input, or after a while."""

    def setUp(self) -> None:
        """A tracked half-closeable connection on a TCP transport with a clock."""
        self.clock = Clock()
        self.transport = TCPTransport(self.clock)
        self.tracker = ConnectionTracker(Factory.forProtocol(HalfCloseableRecorder))
        self.wrapper, _ = connect_server(self.tracker, self.transport)
        self.transport.protocol = self.wrapper  # type: ignore[attr-defined]

    def test_waits_for_client_end_of_input(self) -> None:
        """Ordinary close back at once; the close itself once the client has closed its side."""
        poem_delivered(self.transport)
        self.assertEqual(len(self.transport.socket.options), 1)
        self.assertFalse(self.transport.disconnecting)
        self.wrapper.readConnectionLost()  # type: ignore[attr-defined]
        self.assertTrue(self.transport.disconnecting)
        self.wrapper.connectionLost(Failure(ConnectionDone()))  # the close is done: nothing left

    def test_closes_after_a_while(self) -> None:
        """A client that never closes its side is closed after the linger time."""
        poem_delivered(self.transport)
        self.clock.advance(LINGER_SECONDS - 0.01)  # just short of the lingering close's limit
        self.assertFalse(self.transport.disconnecting)
        self.clock.advance(0.01)  # the limit: the close goes ahead
        self.assertTrue(self.transport.disconnecting)
        self.wrapper.connectionLost(Failure(ConnectionDone()))  # the close is done
        self.assertEqual(self.tracker.protocols, {})  # forgotten: it no longer counts

    def test_client_already_closed_its_side(self) -> None:
        """A client that has half-closed already: closed at once."""
        self.wrapper.readConnectionLost()  # type: ignore[attr-defined]
        poem_delivered(self.transport)
        self.assertTrue(self.transport.disconnecting)

    def test_connection_lost_while_lingering(self) -> None:
        """A connection lost while lingering (a reset, an abort) leaves no timer."""
        poem_delivered(self.transport)
        self.wrapper.connectionLost(Failure(ConnectionDone()))
        self.assertFalse(self.transport.disconnecting)


class Closable:
    """A protocol whose transport records that it was asked to close."""

    def __init__(self) -> None:
        self.transport = StringTransport()


class SharedDeadlineTests(SynchronousTestCase):
    """Lingering connections share one timer, set for the earliest deadline."""

    def setUp(self) -> None:
        """Two connections that begin to linger one second apart."""
        self.clock = Clock()
        self.lingering = Lingering(self.clock, LINGER_SECONDS)
        self.first, self.second = Closable(), Closable()
        self.lingering.add(self.first)
        self.clock.advance(1)  # the second begins to linger a second after the first
        self.lingering.add(self.second)

    def test_one_timer_for_all(self) -> None:
        """However many connections linger, one timer is set."""
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(LINGER_SECONDS)  # both are due by now

    def test_each_closed_at_its_own_deadline(self) -> None:
        """Each connection is closed at its own deadline, the later one by a timer set again."""
        self.clock.advance(LINGER_SECONDS - 1 - 0.01)  # just short of the first deadline
        self.assertFalse(self.first.transport.disconnecting)
        self.clock.advance(0.01)  # the first's deadline: it is closed
        self.assertTrue(self.first.transport.disconnecting)
        self.assertFalse(self.second.transport.disconnecting)
        self.clock.advance(1 - 0.01)  # just short of the second deadline
        self.assertFalse(self.second.transport.disconnecting)
        self.clock.advance(0.01)  # the second's deadline: closed by the timer set again
        self.assertTrue(self.second.transport.disconnecting)

    def test_one_due_a_moment_later_waits(self) -> None:
        """A connection due a moment after another is not closed with it."""
        third = Closable()
        self.clock.advance(0.01)  # a moment later, a third begins to linger
        self.lingering.add(third)
        self.clock.advance(LINGER_SECONDS - 0.01)  # the second's deadline, not the third's
        self.assertTrue(self.second.transport.disconnecting)
        self.assertFalse(third.transport.disconnecting)
        self.clock.advance(0.01)  # the third's deadline
        self.assertTrue(third.transport.disconnecting)

    def test_timer_set_again_after_all_closed(self) -> None:
        """Once every deadline has passed, a connection that begins to linger gets a timer again."""
        self.clock.advance(LINGER_SECONDS)  # past both deadlines: both closed, no timer left
        later = Closable()
        self.lingering.add(later)
        self.clock.advance(LINGER_SECONDS)  # the new connection's deadline
        self.assertTrue(later.transport.disconnecting)

    def test_clock_set_back(self) -> None:
        """A connection that begins to linger after the clock is set back is closed on time."""
        self.clock.rightNow -= 10  # the clock is set back ten seconds
        later = Closable()
        self.lingering.add(later)
        self.clock.advance(LINGER_SECONDS - 0.01)  # just short of the new connection's deadline
        self.assertFalse(self.first.transport.disconnecting)
        self.clock.advance(0.01)  # the new connection's deadline
        self.assertTrue(later.transport.disconnecting)
        self.assertTrue(self.first.transport.disconnecting)  # no later than the newcomer
        self.assertTrue(self.second.transport.disconnecting)

    def test_released_connection_is_not_closed(self) -> None:
        """A connection released before its deadline is left open; release says it was waiting."""
        self.assertTrue(self.lingering.release(self.first))
        self.assertFalse(self.lingering.release(self.first))
        self.clock.advance(LINGER_SECONDS)  # both deadlines pass
        self.assertFalse(self.first.transport.disconnecting)
        self.assertTrue(self.second.transport.disconnecting)

    def test_last_release_cancels_the_timer(self) -> None:
        """Once no connection lingers, no timer is left."""
        self.lingering.release(self.second)
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)  # the first still waits
        self.lingering.release(self.first)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        later = Closable()
        self.lingering.add(later)  # a timer again for a connection that lingers after that
        self.clock.advance(LINGER_SECONDS)  # its deadline
        self.assertTrue(later.transport.disconnecting)

    def test_same_deadline_keeps_the_timer(self) -> None:
        """A connection due at the same time as the last one leaves the timer as it is."""
        [timer] = self.clock.getDelayedCalls()
        self.lingering.add(Closable())  # the same moment as the second
        self.assertEqual(self.clock.getDelayedCalls(), [timer])
        self.clock.advance(LINGER_SECONDS)  # every deadline passes

    def test_clock_set_back_keeps_earlier_deadlines(self) -> None:
        """After the clock is set back, a connection due before the newcomer is closed on time."""
        self.clock.advance(0.5)  # t = 1.5: the first is due at 2, the second at 3
        third = Closable()
        self.lingering.add(third)  # due at 3.5
        self.clock.rightNow -= 0.25  # set back to t = 1.25: a newcomer is due at 3.25, before 3.5
        self.lingering.add(Closable())
        self.clock.advance(0.625)  # t = 1.875, short of the first's deadline (2)
        self.assertFalse(self.first.transport.disconnecting)
        self.clock.advance(0.125)  # the first's deadline
        self.assertTrue(self.first.transport.disconnecting)
        self.clock.advance(1.25)  # the newcomer's deadline, which the third's is brought in to
        self.assertTrue(third.transport.disconnecting)


class FailingClose:
    """A connection whose close raises, as a protocol's failing C{connectionLost} would."""

    class transport:  # noqa: N801 (stands for an attribute)
        """A transport that cannot close."""

        @staticmethod
        def loseConnection() -> None:
            """Fail."""
            raise RuntimeError("connectionLost failed")


class ClosingTests(SynchronousTestCase):
    """Closing one due connection cannot leave the others without their close or their timer."""

    def setUp(self) -> None:
        """A lingering set on a fresh clock."""
        self.clock = Clock()
        self.lingering = Lingering(self.clock, LINGER_SECONDS)

    def test_failing_close_spares_the_others(self) -> None:
        """A close that raises is logged; the other due connections and later ones still close."""
        fine, later = Closable(), Closable()
        self.lingering.add(FailingClose())
        self.lingering.add(fine)
        self.clock.advance(1)  # a second later, another begins to linger
        self.lingering.add(later)
        with captured_events() as events:
            self.clock.advance(LINGER_SECONDS - 1)  # the first two are due
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.assertEqual(events.names(), ["linger-close-failed"])
        self.assertTrue(fine.transport.disconnecting)
        self.clock.advance(1)  # the later one is due: its timer survived the failure
        self.assertTrue(later.transport.disconnecting)

    def test_wait_begun_while_closing_gets_one_timer(self) -> None:
        """A connection that begins to linger while another is closed leaves a single timer."""
        newcomer = Closable()
        closing = Closable()
        closing.transport.loseConnection = lambda: self.lingering.add(newcomer)  # type: ignore[method-assign]
        self.lingering.add(closing)
        self.clock.advance(LINGER_SECONDS)  # the first is closed; the newcomer begins to wait
        self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.advance(LINGER_SECONDS)  # the newcomer's deadline
        self.assertTrue(newcomer.transport.disconnecting)


class NoClockTests(SynchronousTestCase):
    """Without a clock to keep time, a connection whose poem is out closes at once."""

    def test_no_clock_closes_at_once(self) -> None:
        """A tracker without a clock, on a transport without a reactor: no lingering."""
        tracker = ConnectionTracker(Factory.forProtocol(HalfCloseableRecorder))
        transport = StringTransport()
        wrapper, _ = connect_server(tracker, transport)
        self.assertFalse(wrapper.linger_until_eof())  # type: ignore[attr-defined]
        self.assertFalse(tracker.stop_lingering(wrapper))
