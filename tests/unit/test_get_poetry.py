"""Tests for L{poetry.core.client.get_poetry} driven through a L{MemoryReactorClock}."""

from __future__ import annotations

from twisted.internet.defer import CancelledError, TimeoutError
from twisted.internet.error import ConnectionDone, ConnectionLost, ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.client import get_poetry
from poetry.core.errors import PartialPoemError, PoemTooLargeError
from poetry.core.server import PoetryServerFactory
from poetry.testing import MemoryPoetryNetwork
from tests.support import POEM, accept_client, assert_no_delayed_calls, refuse_client


class GetPoetryTests(SynchronousTestCase):
    """C{get_poetry} connects where it is told and reports every outcome once."""

    def setUp(self) -> None:
        """Start each test afresh."""
        self.reactor = MemoryReactorClock()

    def tearDown(self) -> None:
        """Check the test left no timer behind."""
        assert_no_delayed_calls(self, self.reactor)

    def test_connects_to_host_and_port(self) -> None:
        """A TCP connection is requested to the given host and port, and nothing fires yet."""
        d = get_poetry(self.reactor, "127.0.0.1", 10000)
        self.assertNoResult(d)
        [(host, port, *_)] = self.reactor.tcpClients
        self.assertEqual((host, port), ("127.0.0.1", 10000))

    def test_ipv6_host(self) -> None:
        """An IPv6 literal host is connected to as given."""
        get_poetry(self.reactor, "::1", 10000)
        self.assertEqual(self.reactor.tcpClients[0][0], "::1")

    def test_poem_on_clean_close(self) -> None:
        """The bytes received before a clean close are the result."""
        d = get_poetry(self.reactor, "127.0.0.1", 10000)
        protocol, _ = accept_client(self.reactor)
        protocol.dataReceived(POEM)
        self.assertNoResult(d)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(d), POEM)

    def test_refused(self) -> None:
        """A refused connection fails with L{ConnectionRefusedError}."""
        d = get_poetry(self.reactor, "127.0.0.1", 10000)
        refuse_client(self.reactor, 0)
        self.failureResultOf(d, ConnectionRefusedError)

    def test_reset_mid_poem(self) -> None:
        """A reset mid-poem fails with the partial bytes, never a poem."""
        d = get_poetry(self.reactor, "127.0.0.1", 10000)
        protocol, _ = accept_client(self.reactor)
        protocol.dataReceived(POEM[:7])
        protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(self.failureResultOf(d, PartialPoemError).value.partial, POEM[:7])

    def test_too_large(self) -> None:
        """More than C{max_bytes} aborts the connection and fails with L{PoemTooLargeError}."""
        d = get_poetry(self.reactor, "127.0.0.1", 10000, max_bytes=4)
        protocol, transport = accept_client(self.reactor)
        protocol.dataReceived(POEM)
        self.assertTrue(transport.disconnected)
        self.failureResultOf(d, PoemTooLargeError)

    def test_timeout_while_connecting(self) -> None:
        """A timeout before the connection is made stops the attempt and fails with TimeoutError."""
        d = get_poetry(self.reactor, "127.0.0.1", 10000, timeout=5)
        self.reactor.advance(4.9)  # just short of the 5-second timeout
        self.assertNoResult(d)
        self.reactor.advance(0.1)  # reaches the 5-second timeout
        self.failureResultOf(d, TimeoutError)
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)

    def test_timeout_while_receiving(self) -> None:
        """A server that never closes is aborted at the timeout, failing with TimeoutError."""
        d = get_poetry(self.reactor, "127.0.0.1", 10000, timeout=5)
        protocol, transport = accept_client(self.reactor)
        protocol.dataReceived(POEM[:3])
        self.reactor.advance(4.9)  # just short of the 5-second timeout
        self.assertNoResult(d)
        self.assertFalse(transport.disconnected)
        self.reactor.advance(0.1)  # reaches the 5-second timeout
        self.assertTrue(transport.disconnected)
        self.failureResultOf(d, TimeoutError)

    def test_success_cancels_timeout(self) -> None:
        """A poem that arrives in time leaves no timeout pending (checked in tearDown)."""
        d = get_poetry(self.reactor, "127.0.0.1", 10000, timeout=5)
        protocol, _ = accept_client(self.reactor)
        protocol.dataReceived(POEM)
        protocol.connectionLost(Failure(ConnectionDone()))
        self.successResultOf(d)

    def test_cancel_while_connecting(self) -> None:
        """Cancelling before the connection is made stops connecting."""
        d = get_poetry(self.reactor, "127.0.0.1", 10000, timeout=5)
        d.cancel()
        self.failureResultOf(d, CancelledError)
        self.assertTrue(self.reactor.connectors[0].stoppedConnecting)

    def test_cancel_while_receiving(self) -> None:
        """Cancelling mid-poem aborts the connection."""
        d = get_poetry(self.reactor, "127.0.0.1", 10000, timeout=5)
        protocol, transport = accept_client(self.reactor)
        protocol.dataReceived(POEM[:3])
        d.cancel()
        self.assertTrue(transport.disconnected)
        self.failureResultOf(d, CancelledError)

    def test_cancel_after_done(self) -> None:
        """Cancelling after the poem arrived changes nothing."""
        d = get_poetry(self.reactor, "127.0.0.1", 10000)
        protocol, transport = accept_client(self.reactor)
        protocol.dataReceived(POEM)
        protocol.connectionLost(Failure(ConnectionDone()))
        d.cancel()
        self.assertEqual(self.successResultOf(d), POEM)
        self.assertFalse(transport.disconnected)


class ClientServerInMemoryTests(SynchronousTestCase):
    """The real client and the real server, wired together in memory."""

    def test_client_gets_server_poem(self) -> None:
        """A client connected to a poetry server in memory receives its poem whole."""
        network = MemoryPoetryNetwork()
        network.reactor.listenTCP(10000, PoetryServerFactory(POEM), interface="127.0.0.1")
        d = get_poetry(network.reactor, "127.0.0.1", 10000, timeout=5)
        network.flush()
        self.assertEqual(self.successResultOf(d), POEM)
        assert_no_delayed_calls(self, network.reactor)
