"""The peer for the fast server: a minimal asyncio server sending the same bytes.

Usage: python -m benchmarks.serve_asyncio POEM_FILE. Prints ``listening on HOST:PORT``.
"""

from __future__ import annotations

import asyncio
import sys


async def main(poem: bytes) -> None:
    """Serve ``poem`` to every client, then close, until killed."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(poem)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"listening on {host}:{port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as file:
        asyncio.run(main(file.read()))
