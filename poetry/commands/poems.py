"""``txpoetry poems``: list the bundled poems."""

from __future__ import annotations

import argparse
from typing import IO, Any

from poetry.core.catalog import bundled_names

NAME = "poems"
HELP = "list the bundled poems"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add nothing: the command takes no arguments."""


async def run(reactor: Any, args: argparse.Namespace, out: IO[bytes], err: IO[str]) -> int:
    """Write the name of each bundled poem on its own line."""
    out.write("".join(f"{name}\n" for name in bundled_names()).encode())
    return 0
