"""A user's test module written against txpoetry's public API, as typed as mypy --strict wants.

C{tests/integration/test_typing.py} copies it into an empty folder and runs mypy there, so that
mypy sees the installed package, as in a user's project; then it runs the tests in it.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred, TimeoutError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase

from poetry import PoetryServerFactory, get_poetry
from poetry.testing import KernelSettings, MemoryPoetryNetwork, SimulatedProcess
from poetry.testing.leftovers import assert_nothing_left
from poetry.testing.trial import MemoryNetworkMixin


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


class NetworkTests(MemoryNetworkMixin, SynchronousTestCase):
    """A user's tests on poetry.testing's simulated network, under the mixin."""

    settings = KernelSettings(receive_buffer=25, send_buffer=25)

    def test_black_hole_times_out(self) -> None:
        """A server host that answers nothing: the fetch fails at its timeout, leaving nothing."""
        client: SimulatedProcess = self.network.process("client", "10.0.0.2")
        self.network.black_hole("10.0.0.1", 10000)
        poem: Deferred[bytes] = get_poetry(client.reactor, "10.0.0.1", 10000, timeout=5.0)
        self.network.advance(5.0)
        self.failureResultOf(poem, TimeoutError)

    def test_network_of_its_own(self) -> None:
        """A network made by hand is checked by hand."""
        network = MemoryPoetryNetwork()
        network.serve("127.0.0.1", 10000, PoetryServerFactory(b"a poem\n"))
        poem = get_poetry(network.reactor, "127.0.0.1", 10000, timeout=5)
        network.flush()
        self.assertEqual(self.successResultOf(poem), b"a poem\n")
        assert_nothing_left(network)
