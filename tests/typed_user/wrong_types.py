"""Misuses of txpoetry's public API that mypy must report: each line's error code follows C{E:}.

Were the package untyped to mypy (no C{py.typed}) or its names typed as C{Any}, none would be.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock

from poetry import PartialPoemError, PoetryServerFactory, get_poetry
from poetry.testing import KernelSettings, MemoryPoetryNetwork
from poetry.testing.leftovers import assert_nothing_left
from poetry.testing.trial import MemoryNetworkMixin

reactor = MemoryReactorClock()
get_poetry(reactor, "127.0.0.1", "10000")  # E: arg-type
poem: Deferred[str] = get_poetry(reactor, "127.0.0.1", 10000)  # E: assignment
get_poetry(reactor, "127.0.0.1", 10000, timout=5.0)  # E: call-arg
PoetryServerFactory("a poem, not bytes")  # E: arg-type


def what_arrived(error: PartialPoemError) -> str:
    """Return the bytes received before the loss, as the wrong type."""
    return error.partial  # E: return-value


network = MemoryPoetryNetwork(settings={"receive_buffer": 25})  # E: arg-type
network.advance("5")  # E: arg-type
network.serve("127.0.0.1", "10000", PoetryServerFactory(b"a poem"))  # E: arg-type
network.process("client", 10)  # E: arg-type
assert_nothing_left(reactor)  # E: arg-type
KernelSettings(receive_buffer="big")  # E: arg-type
now: str = network.now  # E: assignment


class Settings(MemoryNetworkMixin):
    """A test case whose kernels' settings are of the wrong type."""

    settings = 25  # E: assignment
