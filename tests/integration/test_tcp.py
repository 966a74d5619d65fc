"""The client and server over real TCP on 127.0.0.1."""

from __future__ import annotations

from twisted.internet import reactor
from twisted.internet.error import ConnectionRefusedError
from twisted.trial.unittest import TestCase

from poetry.core.client import get_poetry
from poetry.core.server import PoetryServerFactory
from tests.support import POEM
from tests.support.sockets import listen_on_free_port, refusing_port


class RealTCPTests(TestCase):
    """A real client and a real server over loopback TCP."""

    timeout = 30

    async def test_client_gets_poem(self) -> None:
        """The client gets the whole poem from a live server."""
        port = listen_on_free_port(self, PoetryServerFactory(POEM))
        poem = await get_poetry(reactor, "127.0.0.1", port, timeout=10)
        self.assertEqual(poem, POEM)

    async def test_large_poem(self) -> None:
        """A poem much larger than a socket buffer arrives whole."""
        big = POEM * 50_000
        port = listen_on_free_port(self, PoetryServerFactory(big))
        poem = await get_poetry(reactor, "127.0.0.1", port, timeout=10)
        self.assertEqual(poem, big)

    async def test_refused(self) -> None:
        """Connecting to a port with no server fails with L{ConnectionRefusedError}."""
        with self.assertRaises(ConnectionRefusedError):
            await get_poetry(reactor, "127.0.0.1", refusing_port(self.addCleanup), timeout=10)
