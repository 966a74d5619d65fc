"""The transform service and the caching proxy over real TCP."""

from __future__ import annotations

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from poetry.core.client import get_poetry
from poetry.core.errors import PartialPoemError, TransformError
from poetry.core.proxy import PoemCache, ProxyFactory
from poetry.core.server import PoetryServerFactory
from poetry.core.transform_client import transform_poem
from poetry.core.transform_server import TransformFactory
from tests.support import POEM
from tests.support.sockets import listen_on_free_port, refusing_port


class RealServicesTests(TestCase):
    """Real transform and proxy services on free loopback ports."""

    timeout = 30

    def proxy_for(self, upstream: int) -> int:
        """Start a caching proxy in front of ``upstream``; return its port."""
        cache = PoemCache(lambda: get_poetry(reactor, "127.0.0.1", upstream, timeout=5), reactor)
        return listen_on_free_port(self, ProxyFactory(cache))

    async def test_transform_round_trip(self) -> None:
        """A poem sent to the transform service comes back transformed."""
        port = listen_on_free_port(self, TransformFactory(reactor))
        reply = await transform_poem(reactor, "127.0.0.1", port, "shout", POEM, timeout=5)
        self.assertEqual(reply, POEM.upper())

    async def test_transform_error_reply(self) -> None:
        """An unknown transform is answered with an error, not silence."""
        port = listen_on_free_port(self, TransformFactory(reactor))
        with self.assertRaises(TransformError):
            await transform_poem(reactor, "127.0.0.1", port, "sing", POEM, timeout=5)

    async def test_proxy_serves_upstream_poem(self) -> None:
        """Clients of the proxy get the upstream poem, the second from the cache."""
        upstream = reactor.listenTCP(0, PoetryServerFactory(POEM), interface="127.0.0.1")
        proxy = self.proxy_for(upstream.getHost().port)
        self.assertEqual(await get_poetry(reactor, "127.0.0.1", proxy, timeout=5), POEM)
        await upstream.stopListening()
        self.assertEqual(await get_poetry(reactor, "127.0.0.1", proxy, timeout=5), POEM)

    async def test_upstream_down_fails_clients(self) -> None:
        """With upstream down, a proxy client fails (aborted), never getting an empty poem."""
        proxy = self.proxy_for(refusing_port(self.addCleanup))
        with self.assertRaises(PartialPoemError) as caught:
            await get_poetry(reactor, "127.0.0.1", proxy, timeout=5)
        self.assertEqual(caught.exception.partial, b"")
