"""``txpoetry demo``: run every service in one process on free ports, use each, and exit."""

from __future__ import annotations

import argparse
import math
from collections.abc import Awaitable
from typing import IO, Any

from poetry.core.address import Address, listening_address
from poetry.core.catalog import DEFAULT_POEM, load_poem
from poetry.core.client import get_poetry
from poetry.core.transform_client import transform_poem
from poetry.core.transforms import TRANSFORMS
from poetry.operations.graceful import GracefulServerService
from poetry.operations.recipes import POETRY, PROXY, TRANSFORM, ServiceRecipe
from poetry.operations.running import start

NAME = "demo"
HELP = "run a fast and a slow poetry server, the transform service and the proxy; use each"

SLOW_CHUNK_BYTES = 100
"""The slow server's chunk size, unless the poem would then take more than L{SLOW_MAX_CHUNKS}."""
SLOW_MAX_CHUNKS = 40
"""The most chunks the slow server sends, so that any poem is paced out in two seconds."""
SLOW_DELAY = 0.05
TIMEOUT = 10.0


def slow_chunk_bytes(poem: bytes) -> int:
    """Return the slow server's chunk size for ``poem``: 100 bytes, more for a long poem."""
    return max(SLOW_CHUNK_BYTES, math.ceil(len(poem) / SLOW_MAX_CHUNKS))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the poem to demonstrate with."""
    parser.add_argument(
        "poem",
        nargs="?",
        default=DEFAULT_POEM,
        help="a bundled poem's name or a file path (default %(default)s)",
    )


class Demo:
    """The running services of the demo, and what it has seen so far."""

    def __init__(self, reactor: Any, out: IO[bytes]) -> None:
        self.reactor = reactor
        self.out = out
        self.services: list[GracefulServerService] = []
        self.all_as_expected = True

    def say(self, line: str = "") -> None:
        """Print one line of the report."""
        self.out.write(f"{line}\n".encode())

    async def start(self, recipe: ServiceRecipe, label: str, **settings: Any) -> Address:
        """Start a service on a free loopback port; report and return its address."""
        defaults = {"listen": "tcp:0", "grace": 1.0}
        service, port = await start(self.reactor, recipe, {**defaults, **settings})
        self.services.append(service)
        address = listening_address(port)
        self.say(f"  {label:<18} {address}")
        return address

    async def timed(self, label: str, fetch: Awaitable[bytes], expected: bytes) -> bytes:
        """Await ``fetch``, report its size and time, and check it against ``expected``."""
        began = self.reactor.seconds()
        result = await fetch
        seconds = self.reactor.seconds() - began
        verdict = "as expected" if result == expected else "NOT AS EXPECTED"
        self.all_as_expected &= result == expected
        self.say(f"{label:<34} {len(result):>6} bytes in {seconds:6.3f} s, {verdict}")
        return result

    async def stop(self) -> None:
        """Stop every service, gracefully."""
        for service in self.services:
            await service.stopService()


async def run(reactor: Any, args: argparse.Namespace, out: IO[bytes], err: IO[str]) -> int:
    """Start the four services, fetch through each, print a report and the poem, stop."""
    poem = load_poem(args.poem)
    chunk_bytes = slow_chunk_bytes(poem)
    demo = Demo(reactor, out)
    demo.say("txpoetry demo: four services on free ports of 127.0.0.1")
    try:
        fast = await demo.start(POETRY, "fast server", poem=args.poem)
        slow = await demo.start(
            POETRY, "slow server", poem=args.poem, chunk_bytes=chunk_bytes, delay=SLOW_DELAY
        )
        transform = await demo.start(TRANSFORM, "transform service")
        proxy = await demo.start(PROXY, "caching proxy", upstream=fast)
        demo.say()

        def fetch(address: Address) -> Awaitable[bytes]:
            return get_poetry(reactor, address.host, address.port, timeout=TIMEOUT)

        await demo.timed(f"fast server ({args.poem})", fetch(fast), poem)
        await demo.timed(f"slow server ({chunk_bytes} B/{SLOW_DELAY} s)", fetch(slow), poem)
        await demo.timed("proxy, first request (miss)", fetch(proxy), poem)
        await demo.timed("proxy, second request (hit)", fetch(proxy), poem)
        lowered = await demo.timed(
            "transform service (cummingsify)",
            transform_poem(
                reactor, transform.host, transform.port, "cummingsify", poem, timeout=TIMEOUT
            ),
            TRANSFORMS["cummingsify"](poem),
        )
    finally:
        await demo.stop()
    demo.say()
    demo.say("The poem, as the transform service cummingsified it:")
    demo.say()
    out.write(lowered)
    return 0 if demo.all_as_expected else 1
