"""Start servers and the load generator as child processes, bounded in time."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

TIMEOUT = 300
"""No child process of a benchmark may run longer than this many seconds."""


@contextmanager
def server(*argv: str, log: IO[bytes] | None = None) -> Iterator[int]:
    """Run ``python ARGV...`` until the block ends; yield the port from its first line.

    Its stderr (the log) goes to ``log``, or nowhere.
    """
    stderr = subprocess.DEVNULL if log is None else log
    process = subprocess.Popen(
        [sys.executable, *argv], stdout=subprocess.PIPE, stderr=stderr, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"{argv} did not start: {line!r}")
        yield int(line.rsplit(":", 1)[1])
    finally:
        process.terminate()
        process.wait(timeout=30)


def load(port: int, total: int, concurrency: int, request: bytes = b"") -> dict[str, float]:
    """Run the load generator against ``port``; return its measurements."""
    argv = [sys.executable, "-m", "benchmarks.load", str(port), str(total), str(concurrency)]
    with tempfile.NamedTemporaryFile() as file:
        if request:
            file.write(request)
            file.flush()
            argv.append(file.name)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=True)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def rate(measured: dict[str, float]) -> float:
    """Successful exchanges per second."""
    return (measured["exchanges"] - measured["failures"]) / measured["seconds"]
