"""``txpoetry serve``: serve one poem until stopped."""

from __future__ import annotations

import argparse
from typing import IO, Any

from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort

from poetry.address import DEFAULT_LISTEN, listening_address, server_endpoint
from poetry.catalog import load_poem
from poetry.errors import UsageError
from poetry.server import PoetryServerFactory

NAME = "serve"
HELP = "serve a poem to every client that connects"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the poem and the endpoint to listen on."""
    parser.add_argument(
        "poem", nargs="?", default="ecstasy", help="a bundled poem's name or a file path"
    )
    parser.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="ENDPOINT",
        help="Twisted server endpoint (default %(default)s; tcp:0 picks a free port)",
    )


async def listen(reactor: Any, description: str, factory: Any) -> IListeningPort:
    """Listen with ``factory`` on the endpoint ``description``.

    A bad endpoint or port raises L{UsageError}; an address that cannot be
    bound raises L{CannotListenError}.
    """
    endpoint = server_endpoint(reactor, description)
    try:
        port: IListeningPort = await endpoint.listen(factory)
    except OverflowError as error:
        raise UsageError(f"bad endpoint {description!r}: {error}") from error
    return port


def listening_line(port: IListeningPort) -> bytes:
    """Return the ``listening on HOST:PORT`` line announcing ``port``."""
    return f"listening on {listening_address(port)}\n".encode()


async def run(reactor: Any, args: argparse.Namespace, out: IO[bytes], err: IO[str]) -> int:
    """Listen, announce the real address on ``out``, and serve until the reactor stops."""
    factory = PoetryServerFactory(load_poem(args.poem))
    try:
        port = await listen(reactor, args.listen, factory)
    except CannotListenError as error:
        err.write(f"txpoetry serve: error: {error}\n")
        return 1
    out.write(listening_line(port))
    out.flush()
    await Deferred()
    return 0
