"""The slow server over real TCP: paced chunks, early hang-ups."""

from __future__ import annotations

import math
import time

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from poetry.core.client import get_poetry
from poetry.core.slow_server import SlowPoetryFactory
from tests.support import POEM
from tests.support.sockets import listen_on_free_port

DELAY = 0.02


class FirstChunkThenHangUp(Protocol):
    """A client that aborts the connection as soon as the first bytes arrive."""

    def __init__(self) -> None:
        self.gone: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        """Hang up at once."""
        self.transport.abortConnection()

    def connectionLost(self, reason: Failure) -> None:
        """Report that the connection is gone."""
        self.gone.callback(None)


class RealSlowServerTests(TestCase):
    """A real slow server paces real clients independently."""

    timeout = 30

    def setUp(self) -> None:
        """Listen with a 10-bytes-every-20-ms server on a free loopback port."""
        self.factory = SlowPoetryFactory(POEM, chunk_bytes=10, delay=DELAY, clock=reactor)
        self.port = listen_on_free_port(self, self.factory)

    async def test_whole_poem_paced(self) -> None:
        """The whole poem arrives, and no sooner than its chunks can be paced."""
        chunks = math.ceil(len(POEM) / 10)
        started = time.monotonic()
        poem = await get_poetry(reactor, "127.0.0.1", self.port, timeout=10)
        self.assertEqual(poem, POEM)
        self.assertGreaterEqual(time.monotonic() - started, (chunks - 1) * DELAY * 0.9)

    async def test_early_hang_up_leaves_others_alone(self) -> None:
        """A client that hangs up after the first chunk does not disturb another client."""
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.port)
        quitter = FirstChunkThenHangUp()
        await connectProtocol(endpoint, quitter)
        poem = get_poetry(reactor, "127.0.0.1", self.port, timeout=10)
        await quitter.gone
        self.assertEqual(await poem, POEM)
        self.assertEqual(len(self.factory.pacer), 0)
