"""``txpoetry transform``: run the transform service until stopped."""

from __future__ import annotations

import argparse
from typing import IO, Any

from poetry.commands.serve import add_log_format, serve_until_stopped
from poetry.recipes import TRANSFORM

NAME = "transform"
HELP = "transform poems on request (cummingsify, shout, title-case, reverse-lines)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the endpoint, the request limits and the shutdown grace period."""
    TRANSFORM.add_arguments(parser)
    add_log_format(parser)


async def run(reactor: Any, args: argparse.Namespace, out: IO[bytes], err: IO[str]) -> int:
    """Serve transforms until the reactor stops."""
    return await serve_until_stopped(reactor, TRANSFORM, args, out, err)
