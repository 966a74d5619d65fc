"""txpoetry's own worlds: its services as its commands build them, and its clients.

Each server runs a service as its command makes it (graceful shutdown,
connection tracking, lingering for the client's end of input) with a grace
of L{GRACE}; each client gives up after L{TIMEOUT}. The poem is two
segments long, so that a connection is mid-poem between them.

 - C{fast}: the fast server; six fetches over the first 1.2 s, and two
   clients that keep their side open a while after the poem (the server
   lingers for their end of input).
 - C{slow}: the slow server pacing the poem; the same clients.
 - C{transform}: the transform service; six transform clients, and two that
   half-close once their request is sent.
 - C{proxy}: the caching proxy in front of a slow upstream; six fetches
   through it, the later ones after the first has been cached, and a
   lingering client.
 - C{get-many}: a fast and a slow server; fetches from both at once, and
   fetches from each, and a lingering client of the fast one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.application.service import IService
from twisted.internet.defer import Deferred

from poetry.core.address import Address
from poetry.core.catalog import load_poem
from poetry.core.client import get_poetry
from poetry.core.fetch_many import fetch_many
from poetry.core.transform_client import transform_poem
from poetry.core.transforms import TRANSFORMS
from poetry.operations.recipes import POETRY, PROXY, TRANSFORM, ServiceRecipe
from poetry.testing.explore.world import CLIENT_HOST, Client, Server, World, lingering
from poetry.testing.reactor import NetworkReactor

SERVER_HOST, UPSTREAM_HOST = "10.0.0.1", "10.0.0.3"
POEM = load_poem("ecstasy")
SHOUTED = TRANSFORMS["shout"](POEM)
TIMEOUT = 5.0
"""Seconds each client waits for its result."""
GRACE = 1.0
"""Seconds a stopping server lets its poems in flight finish."""
FETCHES = (0.0, 0.05, 0.3, 0.6, 0.9, 1.2)
"""When a scenario's plain clients start, in seconds."""
LINGERING = (0.1, 0.8)
"""When its clients that keep their side open after the reply start."""


def _server(name: str, address: str, port: int, recipe: ServiceRecipe, **settings: Any) -> Server:
    """A server running ``recipe``'s service with ``settings``, as its command makes it."""

    def make(reactor: NetworkReactor, listen: str) -> IService:
        every = {"listen": listen, "grace": GRACE, "max_connections": 64, **settings}
        return recipe.make_service(reactor, every)

    return Server(name, address, port, make)


def _poetry(name: str, address: str, **settings: Any) -> Server:
    return _server(name, address, 10000, POETRY, poem="ecstasy", **settings)


def _fetch(server: Server) -> Callable[[NetworkReactor], Deferred[bytes]]:
    """Start a fetch of ``server``'s poem."""
    return lambda reactor: get_poetry(reactor, server.address, server.port, timeout=TIMEOUT)


def _fetches(scenario: str, server: Server) -> World:
    clients = [Client(f"fetch {n}", at, POEM, _fetch(server)) for n, at in enumerate(FETCHES)]
    clients += [
        Client(f"lingering client {n}", at, POEM, lingering(server, timeout=TIMEOUT))
        for n, at in enumerate(LINGERING)
    ]
    return World(scenario, [server], clients, [(CLIENT_HOST, server.address)])


def fast() -> World:
    """The fast server and its clients."""
    return _fetches("fast", _poetry("server", SERVER_HOST))


def slow() -> World:
    """The slow server, pacing the poem 300 bytes every 0.1 s, and its clients."""
    return _fetches("slow", _poetry("server", SERVER_HOST, chunk_bytes=300, delay=0.1))


def _netstring(payload: bytes) -> bytes:
    return b"%d:%s," % (len(payload), payload)


def transform() -> World:
    """The transform service, shouting the poem, and its clients."""
    server = _server("server", SERVER_HOST, 10001, TRANSFORM)

    def shout(reactor: NetworkReactor) -> Deferred[bytes]:
        return transform_poem(reactor, server.address, server.port, "shout", POEM, timeout=TIMEOUT)

    clients = [Client(f"transform {n}", at, SHOUTED, shout) for n, at in enumerate(FETCHES)]
    request, reply = _netstring(b"shout." + POEM), _netstring(SHOUTED)
    clients += [
        Client(f"half-closing client {n}", at, reply, lingering(server, request, TIMEOUT))
        for n, at in enumerate(LINGERING)
    ]
    return World("transform", [server], clients, [(CLIENT_HOST, SERVER_HOST)])


def proxy() -> World:
    """The caching proxy in front of a slow upstream (400 bytes every 0.05 s), and its clients."""
    upstream = _poetry("upstream", UPSTREAM_HOST, chunk_bytes=400, delay=0.05)
    proxying = _server(
        "server",
        SERVER_HOST,
        10002,
        PROXY,
        upstream=Address(UPSTREAM_HOST, 10000),
        upstream_timeout=TIMEOUT,
        failure_ttl=0,
    )
    times = (0.0, 0.05, 0.1, 0.5, 1.0, 1.4)
    clients = [Client(f"fetch {n}", at, POEM, _fetch(proxying)) for n, at in enumerate(times)]
    clients.append(Client("lingering client", 0.8, POEM, lingering(proxying, timeout=TIMEOUT)))
    links = [(CLIENT_HOST, SERVER_HOST), (SERVER_HOST, UPSTREAM_HOST)]
    return World("proxy", [proxying, upstream], clients, links)


def get_many() -> World:
    """A fast and a slow server, and clients fetching from both at once and from each."""
    quick = _poetry("server", SERVER_HOST)
    paced = _poetry("slow server", UPSTREAM_HOST, chunk_bytes=300, delay=0.1)
    addresses = [Address(quick.address, quick.port), Address(paced.address, paced.port)]

    def both(reactor: NetworkReactor) -> Deferred[Any]:
        return fetch_many(reactor, addresses, timeout=TIMEOUT)

    clients = [
        Client("fetch from both 0", 0.0, POEM + POEM, both, each=[POEM, POEM]),
        Client("fetch from the fast server 0", 0.1, POEM, _fetch(quick)),
        Client("fetch from the slow server", 0.2, POEM, _fetch(paced)),
        Client("lingering client", 0.4, POEM, lingering(quick, timeout=TIMEOUT)),
        Client("fetch from both 1", 0.7, POEM + POEM, both, each=[POEM, POEM]),
        Client("fetch from the fast server 1", 1.2, POEM, _fetch(quick)),
    ]
    links = [(CLIENT_HOST, SERVER_HOST), (CLIENT_HOST, UPSTREAM_HOST)]
    return World("get-many", [quick, paced], clients, links)


SCENARIOS: dict[str, Callable[[], World]] = {
    "fast": fast,
    "slow": slow,
    "transform": transform,
    "proxy": proxy,
    "get-many": get_many,
}
"""txpoetry's worlds, by the name of the service they explore."""
