"""txpoetry's own servers and client, checked with the public kits (``poetry.testing.kits``).

The same classes run in memory (``tests/unit/testing/test_kits.py``) and over loopback
TCP (``tests/integration/test_kits_tcp.py``).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IProtocolFactory

from poetry.core.catalog import load_poem
from poetry.core.client import get_poetry
from poetry.core.server import PoetryServerFactory
from poetry.core.slow_server import SlowPoetryFactory
from poetry.operations.tracking import ConnectionTracker
from poetry.testing.kits import PoetryClientChecks, PoetryServerChecks

SLOW_CHUNK_BYTES = 300
SLOW_DELAY = 0.02


class FastServerChecks(PoetryServerChecks):
    """The fast server serves Blake's Tyger."""

    poem = load_poem("tyger")

    def server_factory(self, reactor: Any) -> IProtocolFactory:
        """The fast server."""
        return PoetryServerFactory(self.poem)


class SlowServerChecks(PoetryServerChecks):
    """The slow server serves Blake's Tyger in chunks, on its reactor's clock."""

    poem = load_poem("tyger")
    seconds_per_poem = (len(poem) // SLOW_CHUNK_BYTES + 1) * SLOW_DELAY

    def server_factory(self, reactor: Any) -> IProtocolFactory:
        """The slow server."""
        return SlowPoetryFactory(self.poem, SLOW_CHUNK_BYTES, SLOW_DELAY, reactor)


class TrackedServerChecks(FastServerChecks):
    """The fast server behind the connection tracker every server command uses."""

    def server_factory(self, reactor: Any) -> IProtocolFactory:
        """The fast server, tracked."""
        return ConnectionTracker(super().server_factory(reactor), max_connections=10)


class ClientChecks(PoetryClientChecks):
    """txpoetry's own client, C{get_poetry}."""

    def fetch(self, reactor: Any, host: str, port: int) -> Deferred[bytes]:
        """Fetch with C{get_poetry}, bounded in time."""
        return get_poetry(reactor, host, port, timeout=10)
