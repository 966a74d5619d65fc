"""End-to-end behaviours written once, run in memory (unit tier) and over real TCP.

L{PoetryContract} holds the behaviours as ``async`` tests that only talk to
the world through the harness methods below. Services are started from their
recipes, as the commands and twistd plugins start them (the same graceful
service, connection tracker and wrappers), not as bare factories.
``tests/unit/test_contract_memory.py`` runs them on
L{poetry.testing.MemoryPoetryNetwork} with a fake clock;
``tests/integration/test_contract_tcp.py`` runs them on loopback TCP with the
real reactor. The same test names pass in both tiers: that is the evidence that the
in-memory world tells the truth about the real one, as far as these behaviours go.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from twisted.internet.defer import CancelledError, Deferred, TimeoutError
from twisted.internet.endpoints import connectProtocol
from twisted.internet.error import ConnectionLost, ConnectionRefusedError
from twisted.internet.interfaces import IListeningPort, IProtocolFactory

from poetry.core.address import Address, listening_address
from poetry.core.catalog import bundled_names, load_poem
from poetry.core.client import get_poetry
from poetry.core.connecting import tcp_endpoint
from poetry.core.errors import EmptyPoemError, PartialPoemError, PoemTooLargeError, TransformError
from poetry.core.fetch_many import fetch_many
from poetry.core.proxy import PoemCache, ProxyFactory
from poetry.core.server import PoetryServerFactory
from poetry.core.slow_server import SlowPoetryFactory
from poetry.core.transform_client import transform_poem
from poetry.core.transform_server import TransformFactory
from poetry.operations.graceful import GracefulServerService
from poetry.operations.recipes import POETRY, PROXY, TRANSFORM, ServiceRecipe
from poetry.testing.kits import Harness, Recorder
from tests.support import POEM, netstring
from tests.support.peers import (
    CountingFactory,
    DecliningFactory,
    broken_transform,
    closing_server,
    dropping_server,
    silent_server,
)

T = TypeVar("T")

SLOW_DELAY = 0.02
"""Seconds between the slow server's chunks in contract tests."""


class PoetryContract(Harness):
    """The behaviours every harness must show. Mixed into a trial test case with a harness."""

    def unused_address(self) -> Address:
        """Return an address where nothing listens."""
        raise NotImplementedError

    def kill_process(self, service: GracefulServerService, port: IListeningPort) -> None:
        """The process running ``service`` dies now: nothing more runs in it.

        The kernel closes every connection it still has open, with a FIN or,
        where the socket says so (C{SO_LINGER} 0), a reset.
        """
        raise NotImplementedError

    def stop_process(self, service: GracefulServerService, port: IListeningPort) -> Deferred[None]:
        """Stop ``service`` as SIGTERM does, then exit its process as soon as the stop is done.

        The exit is what a real reactor and kernel do once the shutdown
        triggers have fired: nothing more runs, and the kernel closes what is
        still open (L{kill_process}).
        """
        stopped = service.stopService()
        stopped.addCallback(lambda _: self.kill_process(service, port))
        return stopped

    def keep_service(self, service: GracefulServerService) -> None:
        """Make sure ``service`` is stopped when the test ends."""

    async def start_service(
        self, recipe: ServiceRecipe, **settings: Any
    ) -> tuple[GracefulServerService, IListeningPort]:
        """Start ``recipe``'s service on a free loopback port, as its command does."""
        service = recipe.make_service(
            self.server_reactor, {"listen": "tcp:0:interface=127.0.0.1", **settings}
        )
        service.startService()
        self.keep_service(service)
        assert service.listening is not None
        return service, await self.wait(service.listening)

    async def service_address(self, recipe: ServiceRecipe, **settings: Any) -> Address:
        """Start ``recipe``'s service; return its address."""
        _, port = await self.start_service(recipe, **settings)
        return listening_address(port)

    async def talk(self, address: Address, client: Recorder) -> bytes:
        """Connect ``client`` to ``address``; return what it received until a clean close."""
        await self.wait(
            connectProtocol(tcp_endpoint(self.reactor, address.host, address.port), client)
        )
        return await self.wait(client.ended)

    def address(self, factory: IProtocolFactory) -> Address:
        """Serve ``factory``; return its address."""
        return listening_address(self.listen(factory))

    def fetch(self, address: Address, **kwargs: Any) -> Deferred[bytes]:
        """Start fetching the poem at ``address``."""
        return get_poetry(self.reactor, address.host, address.port, **kwargs)

    def proxy_for(self, upstream: Address) -> Address:
        """Serve a caching proxy in front of ``upstream``; return its address."""
        reactor = self.server_reactor
        cache = PoemCache(
            lambda: get_poetry(reactor, upstream.host, upstream.port, timeout=5), reactor
        )
        return self.address(ProxyFactory(cache))

    async def test_fetch_each_bundled_poem(self) -> None:
        """Each bundled poem is fetched from the fast server byte for byte."""
        for name in bundled_names():
            address = self.address(PoetryServerFactory(load_poem(name)))
            self.assertEqual(await self.wait(self.fetch(address)), load_poem(name))  # type: ignore[attr-defined]

    async def test_large_poem(self) -> None:
        """A poem much larger than any socket buffer arrives whole."""
        big = POEM * 20_000
        address = self.address(PoetryServerFactory(big))
        self.assertEqual(await self.wait(self.fetch(address)), big)  # type: ignore[attr-defined]

    async def test_client_bytes_ignored(self) -> None:
        """A client that sends bytes still gets the poem, unchanged."""
        address = self.address(PoetryServerFactory(POEM))
        client = Recorder(b"GET / HTTP/1.0\r\n\r\n")
        self.assertEqual(await self.talk(address, client), POEM)  # type: ignore[attr-defined]

    async def test_refused(self) -> None:
        """Fetching from an address with no server fails with L{ConnectionRefusedError}."""
        with self.assertRaises(ConnectionRefusedError):  # type: ignore[attr-defined]
            await self.wait(self.fetch(self.unused_address()))

    async def test_drop_mid_poem(self) -> None:
        """A server that resets mid-poem fails the fetch with exactly the partial bytes."""
        address = self.address(dropping_server(POEM[:9], self.server_reactor, 0.2))
        poem = self.fetch(address, timeout=5)
        await self.elapse(0.2)
        with self.assertRaises(PartialPoemError) as caught:  # type: ignore[attr-defined]
            await self.wait(poem)
        self.assertEqual(caught.exception.partial, POEM[:9])  # type: ignore[attr-defined]

    async def test_timeout(self) -> None:
        """A server that never sends or closes is given up at the timeout."""
        poem = self.fetch(self.address(silent_server()), timeout=0.2)
        await self.elapse(0.2)
        with self.assertRaises(TimeoutError):  # type: ignore[attr-defined]
            await self.wait(poem)

    async def test_cancel_while_connecting(self) -> None:
        """Cancelling before the connection is made fails with L{CancelledError}."""
        poem = self.fetch(self.address(PoetryServerFactory(POEM)))
        poem.cancel()
        with self.assertRaises(CancelledError):  # type: ignore[attr-defined]
            await self.wait(poem)

    async def test_cancel_while_receiving(self) -> None:
        """Cancelling a fetch in progress fails it with L{CancelledError}."""
        address = self.address(silent_server())
        poem = self.fetch(address)
        await self.elapse(0.05)
        poem.cancel()
        with self.assertRaises(CancelledError):  # type: ignore[attr-defined]
            await self.wait(poem)

    async def test_too_large(self) -> None:
        """A poem over the client's limit fails with L{PoemTooLargeError}."""
        address = self.address(PoetryServerFactory(POEM))
        with self.assertRaises(PoemTooLargeError):  # type: ignore[attr-defined]
            await self.wait(self.fetch(address, max_bytes=len(POEM) - 1))

    async def test_slow_poem_arrives_whole(self) -> None:
        """The slow server's poem arrives whole after its chunks have been paced out."""
        factory = SlowPoetryFactory(POEM, 10, SLOW_DELAY, self.server_reactor)
        poem = self.fetch(self.address(factory), timeout=5)
        await self.elapse(math.ceil(len(POEM) / 10) * SLOW_DELAY)
        self.assertEqual(await self.wait(poem), POEM)  # type: ignore[attr-defined]

    async def test_many_fetches_at_once(self) -> None:
        """Fetching from several servers at once gives each its own outcome, in order."""
        addresses = [self.address(PoetryServerFactory(load_poem(n))) for n in bundled_names()]
        outcomes = await self.wait(fetch_many(self.reactor, [*addresses, self.unused_address()]))
        self.assertEqual([o.poem for o in outcomes[:-1]], [load_poem(n) for n in bundled_names()])  # type: ignore[attr-defined]
        self.assertIsNotNone(outcomes[-1].failure)  # type: ignore[attr-defined]

    async def test_transform_request(self) -> None:
        """The transform service returns the transformed poem."""
        address = self.address(TransformFactory(self.server_reactor))
        reply = transform_poem(self.reactor, address.host, address.port, "shout", POEM)
        self.assertEqual(await self.wait(reply), POEM.upper())  # type: ignore[attr-defined]

    async def test_transform_error_replies(self) -> None:
        """An unknown transform and a transform that raises each get an error reply."""
        factory = TransformFactory(self.server_reactor, transforms={"broken": broken_transform})
        address = self.address(factory)
        for name, reason in [("sing", "unknown transform 'sing'"), ("broken", "out of ink")]:
            reply = transform_poem(self.reactor, address.host, address.port, name, POEM)
            with self.assertRaises(TransformError) as caught:  # type: ignore[attr-defined]
                await self.wait(reply)
            self.assertIn(reason, str(caught.exception))  # type: ignore[attr-defined]
        self.flushLoggedErrors(RuntimeError)  # type: ignore[attr-defined]

    async def test_proxy_miss_then_hit(self) -> None:
        """The proxy fetches once, then serves from its cache even with upstream gone."""
        upstream = self.listen(PoetryServerFactory(POEM))
        proxy = self.proxy_for(listening_address(upstream))
        self.assertEqual(await self.wait(self.fetch(proxy)), POEM)  # type: ignore[attr-defined]
        await self.wait(upstream.stopListening())
        self.assertEqual(await self.wait(self.fetch(proxy)), POEM)  # type: ignore[attr-defined]

    async def test_proxy_coalesces_concurrent_misses(self) -> None:
        """Clients arriving during one slow upstream fetch share it: one upstream connection."""
        upstream = CountingFactory(
            SlowPoetryFactory(POEM, len(POEM) // 2 + 1, 0.3, self.server_reactor)
        )
        proxy = self.proxy_for(self.address(upstream))
        poems = [self.fetch(proxy, timeout=5) for _ in range(5)]
        await self.elapse(0.3)
        for poem in poems:
            self.assertEqual(await self.wait(poem), POEM)  # type: ignore[attr-defined]
        self.assertEqual(upstream.connections, 1)  # type: ignore[attr-defined]

    async def test_proxy_upstream_failure_reaches_every_waiter(self) -> None:
        """When upstream resets, every waiting proxy client fails; none gets an empty poem."""
        proxy = self.proxy_for(self.address(dropping_server(POEM[:5], self.server_reactor, 0.2)))
        poems = [self.fetch(proxy, timeout=5) for _ in range(3)]
        await self.elapse(0.2)
        for poem in poems:
            with self.assertRaises(PartialPoemError):  # type: ignore[attr-defined]
                await self.wait(poem)

    async def test_half_closing_client_gets_whole_poem(self) -> None:
        """A client that closes its own side at once still gets the whole poem from each server."""
        tyger = load_poem("tyger")
        upstream = await self.service_address(POETRY, poem="tyger")
        for settings in [
            {"recipe": POETRY, "poem": "tyger"},
            {"recipe": POETRY, "poem": "tyger", "chunk_bytes": 300, "delay": SLOW_DELAY},
            {"recipe": PROXY, "upstream": upstream, "upstream_timeout": 5},
        ]:
            address = await self.service_address(**settings)
            client = Recorder(b"", half_close=True)
            connected = connectProtocol(tcp_endpoint(self.reactor, *address), client)
            await self.elapse(3 * SLOW_DELAY)  # every chunk of the slow server's poem
            await self.wait(connected)
            self.assertEqual(await self.wait(client.ended), tyger, settings)  # type: ignore[attr-defined]

    async def test_transform_half_close_after_request_gets_reply(self) -> None:
        """A transform client that half-closes once its request is sent still gets the reply."""
        address = await self.service_address(TRANSFORM)
        client = Recorder(netstring(b"shout." + POEM), half_close=True)
        self.assertEqual(await self.talk(address, client), netstring(POEM.upper()))  # type: ignore[attr-defined]

    async def test_transform_half_close_mid_request_gets_no_reply(self) -> None:
        """A client half-closing before its request is whole gets no reply: a reset."""
        address = await self.service_address(TRANSFORM)
        client = Recorder(b"100:shout.Tyger", half_close=True)
        with self.assertRaises(ConnectionLost):  # type: ignore[attr-defined]
            await self.talk(address, client)
        self.assertEqual(client.received, b"")  # type: ignore[attr-defined]

    async def test_shutdown_past_grace_is_a_reset(self) -> None:
        """A poem cut when the grace period ends reaches the client as a reset, never a clean close.

        The process exits as soon as the stop is done, as a real one does.
        """
        service, port = await self.start_service(
            POETRY, poem="tyger", chunk_bytes=10, delay=SLOW_DELAY, grace=2 * SLOW_DELAY
        )
        poem = self.fetch(listening_address(port), timeout=5)
        await self.elapse(SLOW_DELAY)  # a chunk or two are in
        stopped = self.stop_process(service, port)
        await self.elapse(2 * SLOW_DELAY)  # the grace period ends
        await self.wait(stopped)
        with self.assertRaises(PartialPoemError) as caught:  # type: ignore[attr-defined]
            await self.wait(poem)
        self.assertTrue(load_poem("tyger").startswith(caught.exception.partial))  # type: ignore[attr-defined]

    async def test_process_death_mid_poem_is_a_reset(self) -> None:
        """A server process that dies mid-poem (any signal, SIGKILL too) leaves its clients a reset.

        Until a poem is all in the kernel's hands, the connection's socket is
        set to reset on close, so the kernel's close at exit is a reset.
        """
        service, port = await self.start_service(
            POETRY, poem="tyger", chunk_bytes=10, delay=SLOW_DELAY
        )
        poem = self.fetch(listening_address(port), timeout=5)
        await self.elapse(SLOW_DELAY)  # a chunk or two are in
        self.kill_process(service, port)
        with self.assertRaises(PartialPoemError):  # type: ignore[attr-defined]
            await self.wait(poem)

    async def test_clean_close_without_bytes_is_an_error(self) -> None:
        """A server that closes cleanly without sending a byte fails the fetch: no empty poem."""
        with self.assertRaises(EmptyPoemError):  # type: ignore[attr-defined]
            await self.wait(self.fetch(self.address(closing_server())))

    async def test_declined_connection_is_an_error(self) -> None:
        """A server factory that declines a connection fails the fetch as an empty poem."""
        with self.assertRaises(EmptyPoemError):  # type: ignore[attr-defined]
            await self.wait(self.fetch(self.address(DecliningFactory())))

    async def test_proxy_never_caches_an_empty_upstream(self) -> None:
        """An upstream that closes with 0 bytes is an error for each proxy client, never cached."""
        upstream = CountingFactory(closing_server())
        proxy = await self.service_address(
            PROXY, upstream=self.address(upstream), upstream_timeout=5, failure_ttl=0
        )
        for _ in range(2):
            with self.assertRaises(PartialPoemError) as caught:  # type: ignore[attr-defined]
                await self.wait(self.fetch(proxy, timeout=5))
            self.assertEqual(caught.exception.partial, b"")  # type: ignore[attr-defined]
        self.assertEqual(upstream.connections, 2)  # type: ignore[attr-defined]
