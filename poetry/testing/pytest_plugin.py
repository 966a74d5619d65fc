"""For pytest users: the C{poetry_network} fixture, a fresh simulated network per test.

pytest loads this plugin in every session where txpoetry is installed (its
C{pytest11} entry point, C{txpoetry}); nothing else imports it, so
C{poetry.testing} works without pytest. A test that takes C{poetry_network}
gets a fresh L{MemoryPoetryNetwork}; at its teardown,
L{poetry.testing.leftovers.assert_nothing_left} fails it (pytest reports an
error at teardown), naming each thing left, if it left a connection open, a
connection attempt pending, a timer set, a producer registered or a packet
due::

    def test_my_client_gives_up(poetry_network):
        poetry_network.black_hole("127.0.0.1", 10000)
        fetched = my_client.fetch(poetry_network.reactor, "127.0.0.1", 10000)
        poetry_network.advance(30)  # past its timeout: it gives up, and stops connecting
        assert fetched.called

C{docs/testing-library.md} (Under pytest) has a whole module. The network's
kernels take their settings from the C{poetry_kernel_settings} fixture:
C{None} (Linux's defaults) unless a test module or a C{conftest.py} overrides
it. trial users get the same from L{poetry.testing.trial}.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from poetry.testing.kernel import KernelSettings
    from poetry.testing.network import MemoryPoetryNetwork


@pytest.fixture
def poetry_kernel_settings() -> KernelSettings | None:
    """The settings of C{poetry_network}'s kernels: override this fixture to give others."""
    return None


@pytest.fixture
def poetry_network(poetry_kernel_settings: KernelSettings | None) -> Iterator[MemoryPoetryNetwork]:
    """A fresh simulated network; the test fails at teardown if it left anything on it."""
    # Imported only here: pytest loads this module in every session, and only a test that
    # takes the fixture needs the simulator (importing it takes a tenth of a second).
    from poetry.testing.leftovers import assert_nothing_left
    from poetry.testing.network import MemoryPoetryNetwork

    network = MemoryPoetryNetwork(poetry_kernel_settings)
    yield network
    try:
        assert_nothing_left(network)
    except AssertionError as left:
        failure = str(left)
    else:
        return
    pytest.fail(failure, pytrace=False)  # what was left, without the simulator's traceback
