"""For trial users: a fresh simulated network per test, checked for leftovers at the end.

Mix L{MemoryNetworkMixin} into a C{SynchronousTestCase} (or an
asynchronous C{TestCase}), before it::

    class MyClientTests(MemoryNetworkMixin, SynchronousTestCase):
        def test_fetch(self) -> None:
            self.network.serve("127.0.0.1", 10000, PoetryServerFactory(b"a poem"))
            poem = get_poetry(self.network.reactor, "127.0.0.1", 10000, timeout=5)
            self.network.flush()
            self.assertEqual(self.successResultOf(poem), b"a poem")

pytest users get the same from the C{poetry_network} fixture
(L{poetry.testing.pytest_plugin}).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from poetry.testing.kernel import KernelSettings
from poetry.testing.leftovers import assert_nothing_left
from poetry.testing.network import MemoryPoetryNetwork

if TYPE_CHECKING:
    from twisted.trial.unittest import SynchronousTestCase

    _TestCase = SynchronousTestCase
else:
    _TestCase = object

__all__ = ["MemoryNetworkMixin"]


class MemoryNetworkMixin(_TestCase):
    """A fresh L{MemoryPoetryNetwork} for each test, as C{self.network}.

    The test fails at its cleanup if it left anything on the network: a
    connection open, a connection attempt pending, a timer set, a producer
    registered or a packet due (L{assert_nothing_left} names each). The
    check runs after the test's own cleanups, so what a test closes in a
    cleanup of its own is closed by then. A C{setUp} of your own must call
    C{super().setUp()} first.
    """

    settings: KernelSettings | None = None
    """The settings of the network's kernels: C{None} for Linux's defaults (L{KernelSettings})."""

    network: MemoryPoetryNetwork
    """This test's network."""

    def setUp(self) -> None:
        """Make this test's network, and check it at the test's cleanup."""
        super().setUp()
        self.network = MemoryPoetryNetwork(self.settings)
        self.addCleanup(self.check_nothing_left)

    def check_nothing_left(self) -> None:
        """Fail the test if it left anything on its network (run at its cleanup)."""
        assert_nothing_left(self.network)
