"""A user's test module written against txpoetry's public API, as typed as mypy --strict wants.

C{tests/integration/test_typing.py} copies it into an empty folder and runs mypy there, so that
mypy sees the installed package, as in a user's project; then it runs the tests in it.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred, TimeoutError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase

from poetry import PoetryServerFactory, get_poetry


class FetchTests(SynchronousTestCase):
    """A user's tests of txpoetry's client and server, on Twisted's fakes."""

    def test_fetch_gives_up_at_its_timeout(self) -> None:
        """A fetch that never connects fails when its timeout passes."""
        reactor = MemoryReactorClock()
        poem: Deferred[bytes] = get_poetry(reactor, "127.0.0.1", 10000, timeout=5.0)
        self.assertNoResult(poem)
        reactor.advance(5.0)
        self.failureResultOf(poem, TimeoutError)

    def test_server_sends_its_poem(self) -> None:
        """The server writes its poem to a client as it connects."""
        factory = PoetryServerFactory(b"Tyger Tyger, burning bright\n")
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.assertEqual(transport.value(), b"Tyger Tyger, burning bright\n")
