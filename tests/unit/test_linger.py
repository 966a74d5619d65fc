"""Tests for the lingering close: a tracked TCP connection, its poem out, waits for the client."""

from __future__ import annotations

import socket

from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.descriptors import poem_delivered
from poetry.graceful import LINGER_SECONDS, ConnectionTracker
from tests.support import assert_no_delayed_calls, connect_server
from tests.support.peers import HalfCloseableRecorder


class FakeSocket:
    """A TCP socket that records its options."""

    family = socket.AF_INET

    def __init__(self) -> None:
        self.options: list[tuple[int, int, bytes]] = []

    def setsockopt(self, level: int, name: int, value: bytes) -> None:
        """Record the option."""
        self.options.append((level, name, value))


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

    def tearDown(self) -> None:
        """Check the test left no timer behind."""
        assert_no_delayed_calls(self, self.clock)

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
