"""Tests for L{poetry.operations.tracking}: the tracker's protocol wrapper, L{TrackedProtocol}."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.operations.tracking import ConnectionTracker, TrackedProtocol
from tests.support import connect_server
from tests.support.peers import DecliningFactory, RecordingProtocol

ADDRESS = IPv4Address("TCP", "127.0.0.1", 5000)


class Named(Protocol):
    """A protocol with a log prefix of its own."""

    def logPrefix(self) -> str:
        """Name it."""
        return "named"


class Plain:
    """A protocol that is not a L{Protocol}: no C{logPrefix}."""

    def makeConnection(self, transport: object) -> None:
        """Do nothing."""


class TrackedProtocolTests(SynchronousTestCase):
    """The wrapper hands the wrapped protocol the real transport and tells the tracker."""

    def test_wrapped_protocol_gets_the_real_transport(self) -> None:
        """The wrapped protocol writes to the transport itself, not through the wrapper."""
        recorder = RecordingProtocol()
        wrapper, transport = connect_server(
            ConnectionTracker(Factory.forProtocol(lambda: recorder))
        )
        self.assertIs(recorder.transport, transport)
        self.assertIs(wrapper.transport, transport)

    def test_bytes_passed_on(self) -> None:
        """Bytes received reach the wrapped protocol."""
        recorder = RecordingProtocol()
        wrapper, _ = connect_server(ConnectionTracker(Factory.forProtocol(lambda: recorder)))
        wrapper.dataReceived(b"hello")
        self.assertEqual(recorder.events, [("data", b"hello")])

    def test_tracked_while_open(self) -> None:
        """A connection is tracked from its start; once lost, it is not, then its protocol hears."""
        recorder = RecordingProtocol()
        tracker = ConnectionTracker(Factory.forProtocol(lambda: recorder))
        wrapper, _ = connect_server(tracker, StringTransport())
        self.assertEqual(list(tracker.protocols), [wrapper])
        idle = tracker.when_idle()
        wrapper.connectionLost(Failure(ConnectionDone()))
        self.assertEqual((tracker.protocols, recorder.events), ({}, [("lost", ConnectionDone)]))
        self.successResultOf(idle)
        self.assertFalse(wrapper.connected)

    def test_declined_connection_declined(self) -> None:
        """A connection the wrapped factory declines is declined (Twisted then closes it)."""
        self.assertIsNone(ConnectionTracker(DecliningFactory()).buildProtocol(ADDRESS))

    def test_log_prefix(self) -> None:
        """The wrapper and the tracker log as what they wrap does, or by its class name."""
        self.assertEqual(
            TrackedProtocol(ConnectionTracker(Factory()), Named()).logPrefix(), "named"
        )
        plain = TrackedProtocol(ConnectionTracker(Factory()), Plain())  # type: ignore[arg-type]
        self.assertEqual(plain.logPrefix(), "Plain")
        self.assertEqual(ConnectionTracker(Factory()).logPrefix(), "Factory")
        self.assertEqual(ConnectionTracker(Plain()).logPrefix(), "Plain")  # type: ignore[arg-type]

        class NamedFactory(Factory):
            def logPrefix(self) -> str:
                return "poems"

        self.assertEqual(ConnectionTracker(NamedFactory()).logPrefix(), "poems")

    def test_cancelled_wait_for_idle(self) -> None:
        """A cancelled wait for idleness is forgotten: the last close later does not touch it."""
        tracker = ConnectionTracker(Factory.forProtocol(Protocol))
        _, transport = connect_server(tracker)
        waiting = tracker.when_idle()
        waiting.cancel()
        self.failureResultOf(waiting, CancelledError)
        transport.loseConnection()  # the last connection closes: nobody is waiting any more
        self.assertEqual(tracker.protocols, {})

    def test_start_and_stop_reach_wrapped_factory(self) -> None:
        """Starting and stopping the tracker (a port listening) starts and stops what it wraps."""
        wrapped = Factory()
        tracker = ConnectionTracker(wrapped)
        tracker.doStart()
        self.assertEqual((wrapped.numPorts, tracker.numPorts), (1, 1))
        tracker.doStop()
        self.assertEqual((wrapped.numPorts, tracker.numPorts), (0, 0))

    def test_limit_is_public(self) -> None:
        """The limit the tracker keeps to is readable as C{max_connections} (None: no limit)."""
        self.assertEqual(ConnectionTracker(Factory(), max_connections=3).max_connections, 3)
        self.assertIsNone(ConnectionTracker(Factory()).max_connections)
