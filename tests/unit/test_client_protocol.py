"""Tests for L{poetry.core.client.PoetryClientProtocol}: collecting one poem."""

from __future__ import annotations

from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.client import PoetryClientProtocol
from poetry.core.errors import EmptyPoemError, PartialPoemError, PoemTooLargeError
from tests.support import POEM

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
