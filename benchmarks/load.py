"""A light load generator, run in its own process: fetch many poems over loopback.

Usage: python -m benchmarks.load PORT TOTAL CONCURRENCY [REQUEST_FILE]

Opens CONCURRENCY connections at a time to 127.0.0.1:PORT until TOTAL exchanges
are done; each exchange sends REQUEST (if any) and reads to EOF. Prints one JSON
line: exchanges, failures, bytes, seconds.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def exchange(port: int, request: bytes) -> int:
    """Connect, send ``request``, read to EOF; return the bytes read."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if request:
        writer.write(request)
    data = await reader.read()
    writer.close()
    return len(data)


async def main(port: int, total: int, concurrency: int, request: bytes) -> dict[str, float]:
    """Run ``total`` exchanges, ``concurrency`` at a time."""
    remaining = total
    failures = 0
    received = 0

    async def worker() -> None:
        nonlocal remaining, failures, received
        while remaining > 0:
            remaining -= 1
            try:
                received += await asyncio.wait_for(exchange(port, request), 30)
            except (OSError, asyncio.TimeoutError):
                failures += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - began
    return {"exchanges": total, "failures": failures, "bytes": received, "seconds": seconds}


if __name__ == "__main__":
    port, total, concurrency = (int(a) for a in sys.argv[1:4])
    request = b""
    if len(sys.argv) > 4:
        with open(sys.argv[4], "rb") as file:
            request = file.read()
    print(json.dumps(asyncio.run(main(port, total, concurrency, request))))
