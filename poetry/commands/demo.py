"""``txpoetry demo``: serve a bundled poem on a free port, fetch it, and exit."""

from __future__ import annotations

import argparse
from typing import IO, Any

from poetry.address import listening_address
from poetry.catalog import load_poem
from poetry.client import get_poetry
from poetry.commands.serve import start
from poetry.recipes import POETRY

NAME = "demo"
HELP = "serve a bundled poem on a free local port, fetch it back, and exit"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the poem to demonstrate with."""
    parser.add_argument("poem", nargs="?", default="ecstasy", help="a bundled poem's name")


async def run(reactor: Any, args: argparse.Namespace, out: IO[bytes], err: IO[str]) -> int:
    """Start a server, fetch its poem with the client, print it, then stop the server."""
    poem = load_poem(args.poem)
    service, port = await start(
        reactor, POETRY, {"poem": args.poem, "listen": "tcp:0", "grace": 1.0}
    )
    address = listening_address(port)
    try:
        received = await get_poetry(reactor, address.host, address.port, timeout=10)
    finally:
        await service.stopService()
    out.write(received)
    matches = "identical to" if received == poem else "DIFFERENT from"
    out.write(
        f"\n-- fetched {len(received)} bytes from {address}, {matches} the poem served\n".encode()
    )
    return 0 if received == poem else 1
