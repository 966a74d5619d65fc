"""My own code's test, written with poetry.testing: real txpoetry services, all in memory."""

from twisted.trial.unittest import SynchronousTestCase

from poetry import PoetryServerFactory, get_poetry
from poetry.testing import MemoryPoetryNetwork


class UserExampleTests(SynchronousTestCase):
    """Code under test fetches poems from txpoetry services: no socket, no real time."""

    def test_my_code_gets_the_poem(self) -> None:
        """Code under test fetches a poem from a real poetry server, all in memory."""
        network = MemoryPoetryNetwork()
        network.serve("127.0.0.1", 10000, PoetryServerFactory(b"Tyger Tyger, burning bright\n"))
        poem = get_poetry(network.reactor, "127.0.0.1", 10000, timeout=5)
        network.flush()
        self.assertEqual(self.successResultOf(poem), b"Tyger Tyger, burning bright\n")
