"""Misuses of txpoetry's public API that mypy must report: each line's error code follows C{E:}.

Were the package untyped to mypy (no C{py.typed}) or its names typed as C{Any}, none would be.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock

from poetry import PartialPoemError, PoetryServerFactory, get_poetry

reactor = MemoryReactorClock()
get_poetry(reactor, "127.0.0.1", "10000")  # E: arg-type
poem: Deferred[str] = get_poetry(reactor, "127.0.0.1", 10000)  # E: assignment
get_poetry(reactor, "127.0.0.1", 10000, timout=5.0)  # E: call-arg
PoetryServerFactory("a poem, not bytes")  # E: arg-type


def what_arrived(error: PartialPoemError) -> str:
    """Return the bytes received before the loss, as the wrong type."""
    return error.partial  # E: return-value
