"""txpoetry's own servers, checked with the public conformance kit (``poetry.testing.kits``).

The same classes run in memory (``tests/unit/test_kits.py``) and over loopback
TCP (``tests/integration/test_kits_tcp.py``).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IProtocolFactory

from poetry.catalog import load_poem
from poetry.graceful import ConnectionTracker
from poetry.server import PoetryServerFactory
from poetry.slow_server import SlowPoetryFactory
from poetry.testing.kits import PoetryServerChecks

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
        return ConnectionTracker(super().server_factory(reactor), max_connections=3)
