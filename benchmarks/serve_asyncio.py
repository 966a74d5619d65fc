"""A peer for the fast server: a minimal asyncio server sending the same bytes.

Usage: python -m benchmarks.serve_asyncio POEM_FILE [--uvloop]. Prints ``listening on HOST:PORT``.
With ``--uvloop`` it runs on uvloop (the ``bench`` extra), and exits with status 3 and one line
if uvloop is not installed.
"""

from __future__ import annotations

import asyncio
import sys

UVLOOP_MISSING = 3
"""Exit status when ``--uvloop`` is asked for and uvloop is not installed."""


class Poem(asyncio.Protocol):
    """Write the poem, then close (the transport sends what is buffered first)."""

    def __init__(self, poem: bytes) -> None:
        self.poem = poem

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the poem and close."""
        transport.write(self.poem)  # type: ignore[attr-defined]
        transport.close()


async def main(poem: bytes) -> None:
    """Serve ``poem`` to every client, then close, until killed."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Poem(poem), "127.0.0.1", 0, backlog=4096)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as file:
        poem = file.read()
    if "--uvloop" in sys.argv[2:]:
        try:
            import uvloop
        except ImportError:
            print("uvloop is not installed (pip install -e '.[bench]')", file=sys.stderr)
            sys.exit(UVLOOP_MISSING)
        uvloop.run(main(poem))
    else:
        asyncio.run(main(poem))
