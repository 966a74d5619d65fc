"""``txpoetry proxy``: run the caching proxy until stopped."""

from __future__ import annotations

import argparse
from typing import IO, Any

from poetry.commands.serve import add_log_format, serve_until_stopped
from poetry.recipes import PROXY

NAME = "proxy"
HELP = "serve an upstream poetry server's poem, fetched once and cached"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the endpoint, the upstream server, the cache settings and the grace period."""
    PROXY.add_arguments(parser)
    add_log_format(parser)


async def run(reactor: Any, args: argparse.Namespace, out: IO[bytes], err: IO[str]) -> int:
    """Serve the upstream poem until the reactor stops."""
    return await serve_until_stopped(reactor, PROXY, args, out, err)
