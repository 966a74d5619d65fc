"""Tests for L{poetry.core.transform_client}: one request, one reply, every failure named."""

from __future__ import annotations

from twisted.internet.defer import CancelledError, TimeoutError
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.errors import TransformError
from poetry.core.transform_client import transform_poem
from poetry.core.transform_server import TransformFactory
from poetry.testing import MemoryPoetryNetwork
from tests.support import accept_client, assert_no_delayed_calls, netstring


class TransformClientTests(SynchronousTestCase):
    """C{transform_poem} sends one netstring and fires with the reply."""

    def setUp(self) -> None:
        """Ask for C{shout} of a short poem through a memory reactor."""
        self.reactor = MemoryReactorClock()
        self.reply = transform_poem(self.reactor, "127.0.0.1", 10001, "shout", b"hi", timeout=5)

    def test_sends_request(self) -> None:
        """The request is one netstring: name, dot, poem."""
        _, transport = accept_client(self.reactor)
        self.assertEqual(transport.value(), b"8:shout.hi,")
        self.assertNoResult(self.reply)
        self.reply.cancel()
        self.failureResultOf(self.reply, CancelledError)

    def test_reply(self) -> None:
        """The reply's payload is the result, and the client then closes."""
        protocol, transport = accept_client(self.reactor)
        protocol.dataReceived(b"2:HI,")
        self.assertEqual(self.successResultOf(self.reply), b"HI")
        self.assertTrue(transport.disconnecting)

    def test_second_reply_ignored(self) -> None:
        """A second netstring after the reply changes nothing."""
        protocol, _ = accept_client(self.reactor)
        protocol.dataReceived(netstring(b"HI") + netstring(b"error: late"))
        self.assertEqual(self.successResultOf(self.reply), b"HI")

    def test_error_reply(self) -> None:
        """An C{error:} reply fails with L{TransformError} carrying the reason."""
        protocol, _ = accept_client(self.reactor)
        protocol.dataReceived(netstring(b"error: unknown transform 'shout'"))
        failure = self.failureResultOf(self.reply, TransformError)
        self.assertEqual(str(failure.value), "unknown transform 'shout'")

    def test_error_reply_not_utf8(self) -> None:
        r"""An C{error:} reason that is not UTF-8 still fails with it, the odd bytes as C{\xNN}."""
        protocol, _ = accept_client(self.reactor)
        protocol.dataReceived(netstring(b"error: unknown transform '\xff'"))
        failure = self.failureResultOf(self.reply, TransformError)
        self.assertEqual(str(failure.value), "unknown transform '\\xff'")

    def test_closed_without_reply(self) -> None:
        """A connection closed before any reply fails with L{TransformError}."""
        protocol, _ = accept_client(self.reactor)
        protocol.connectionLost(Failure(ConnectionDone()))
        reason = str(self.failureResultOf(self.reply, TransformError).value)
        self.assertTrue(reason.startswith("connection closed without a reply: "), reason)

    def test_malformed_reply(self) -> None:
        """A reply that is not a netstring fails with L{TransformError}."""
        protocol, _ = accept_client(self.reactor)
        protocol.dataReceived(b"HI")
        protocol.connectionLost(Failure(ConnectionLost()))
        reason = str(self.failureResultOf(self.reply, TransformError).value)
        self.assertTrue(reason.startswith("malformed reply: "), reason)

    def test_timeout(self) -> None:
        """A service that never replies is aborted at the timeout."""
        _, transport = accept_client(self.reactor)
        self.reactor.advance(5)  # the timeout
        self.assertTrue(transport.disconnected)
        self.failureResultOf(self.reply, TimeoutError)


class TransformRoundTripTests(SynchronousTestCase):
    """The real client and the real service, in memory."""

    def test_round_trip(self) -> None:
        """A poem sent to the service comes back transformed."""
        network = MemoryPoetryNetwork()
        network.reactor.listenTCP(10001, TransformFactory(network.reactor))
        reply = transform_poem(
            network.reactor, "127.0.0.1", 10001, "cummingsify", b"The TYGER", timeout=5
        )
        network.flush()
        self.assertEqual(self.successResultOf(reply), b"the tyger")
        assert_no_delayed_calls(self, network.reactor)
