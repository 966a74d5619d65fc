"""Tests for L{poetry.core.client}: the protocol collecting one poem, and L{get_poetry}.

L{get_poetry} runs on a L{MemoryReactorClock}: connecting, timeouts, cancellation.
"""

from __future__ import annotations

from twisted.internet.defer import CancelledError, TimeoutError
from twisted.internet.error import ConnectionDone, ConnectionLost, ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.client import PoetryClientProtocol, get_poetry
from poetry.core.errors import EmptyPoemError, PartialPoemError, PoemTooLargeError
from poetry.core.server import PoetryServerFactory
from poetry.testing import MemoryPoetryNetwork
from tests.support import POEM, accept_client, assert_no_delayed_calls, refuse_client

CLEAN = Failure(ConnectionDone())
RESET = Failure(ConnectionLost())


class PoetryClientProtocolTests(SynchronousTestCase):
    """The client protocol turns a clean close into a poem and anything else into an error."""

    def setUp(self) -> None:
        """Start each test afresh."""
        self.protocol = PoetryClientProtocol()
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)

    def test_poem_in_every_split(self) -> None:
        """The poem arrives whole whatever the size of the packets it came in."""
        for size in range(1, len(POEM) + 1):
            protocol = PoetryClientProtocol()
            protocol.makeConnection(StringTransport())
            for start in range(0, len(POEM), size):
                protocol.dataReceived(POEM[start : start + size])
            protocol.connectionLost(CLEAN)
            self.assertEqual(self.successResultOf(protocol.poem), POEM, f"split size {size}")

    def test_no_result_before_close(self) -> None:
        """Bytes alone are not a poem: nothing fires until the connection closes."""
        self.protocol.dataReceived(POEM)
        self.assertNoResult(self.protocol.poem)

    def test_clean_close_without_bytes_is_an_error(self) -> None:
        """A clean close before any byte fails with L{EmptyPoemError}: an empty poem is no poem."""
        self.protocol.connectionLost(CLEAN)
        failure = self.failureResultOf(self.protocol.poem, EmptyPoemError)
        self.assertEqual(str(failure.value), "closed without sending a poem")

    def test_one_byte_then_clean_close_is_a_poem(self) -> None:
        """A single byte closed cleanly is a (short) poem."""
        self.protocol.dataReceived(b"O")
        self.protocol.connectionLost(CLEAN)
        self.assertEqual(self.successResultOf(self.protocol.poem), b"O")

    def test_sends_nothing(self) -> None:
        """The client writes nothing to the server."""
        self.protocol.dataReceived(POEM)
        self.assertEqual(self.transport.value(), b"")

    def test_reset_fails_with_partial_bytes(self) -> None:
        """A connection lost uncleanly fails with L{PartialPoemError} carrying what arrived."""
        self.protocol.dataReceived(POEM[:10])
        self.protocol.connectionLost(RESET)
        failure = self.failureResultOf(self.protocol.poem, PartialPoemError)
        self.assertEqual(failure.value.partial, POEM[:10])
        self.assertIs(failure.value.reason, RESET)

    def test_partial_error_says_how_much_arrived(self) -> None:
        """The partial-poem error's message names the byte count and the cause."""
        self.protocol.dataReceived(POEM[:10])
        self.protocol.connectionLost(RESET)
        message = str(self.failureResultOf(self.protocol.poem).value)
        self.assertIn("after 10 bytes", message)

    def test_too_large_aborts(self) -> None:
        """One byte past the limit aborts the connection and fails with L{PoemTooLargeError}."""
        protocol = PoetryClientProtocol(max_bytes=len(POEM) - 1)
        transport = StringTransport()
        protocol.makeConnection(transport)
        protocol.dataReceived(POEM)
        self.assertTrue(transport.disconnected)
        failure = self.failureResultOf(protocol.poem, PoemTooLargeError)
        self.assertEqual(failure.value.limit, len(POEM) - 1)
        self.assertIn(str(len(POEM) - 1), str(failure.value))

    def test_exactly_at_limit_is_a_poem(self) -> None:
        """A poem exactly as large as the limit is accepted."""
        protocol = PoetryClientProtocol(max_bytes=len(POEM))
        protocol.makeConnection(StringTransport())
        protocol.dataReceived(POEM)
        protocol.connectionLost(CLEAN)
        self.assertEqual(self.successResultOf(protocol.poem), POEM)

    def test_bytes_after_limit_ignored(self) -> None:
        """Bytes and the close that follow an oversize abort change nothing."""
        protocol = PoetryClientProtocol(max_bytes=1)
        protocol.makeConnection(StringTransport())
        protocol.dataReceived(b"ab")
        protocol.dataReceived(b"cd")
        protocol.connectionLost(RESET)
        self.failureResultOf(protocol.poem, PoemTooLargeError)

    def test_cancel_aborts(self) -> None:
        """Cancelling the poem aborts the connection and fails with L{CancelledError}."""
        self.protocol.dataReceived(POEM[:5])
        self.protocol.poem.cancel()
        self.assertTrue(self.transport.disconnected)
        self.failureResultOf(self.protocol.poem, CancelledError)

    def test_close_after_cancel_ignored(self) -> None:
        """The connection loss that follows a cancellation does not fire the poem again."""
        self.protocol.poem.cancel()
        self.protocol.connectionLost(Failure(ConnectionLost()))
        self.failureResultOf(self.protocol.poem, CancelledError)

    def test_progress_reports_bytes_so_far(self) -> None:
        """The progress callback sees the running byte count after each packet."""
        seen: list[int] = []
        protocol = PoetryClientProtocol(on_progress=seen.append)
        protocol.makeConnection(StringTransport())
        protocol.dataReceived(POEM[:3])
        protocol.dataReceived(POEM[3:10])
        self.assertEqual(seen, [3, 10])


class GetPoetryTests(SynchronousTestCase):
    """C{get_poetry} connects where it is told and reports every outcome once."""

    def setUp(self) -> None:
        """Start each test afresh."""
        self.reactor = MemoryReactorClock()

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
