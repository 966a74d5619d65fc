"""Start servers as child processes, bounded in time."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

TIMEOUT = 300
"""No child process of a benchmark may run longer than this many seconds."""


@contextmanager
def server(*argv: str, log: IO[bytes] | None = None, python: bool = True) -> Iterator[int]:
    """Run ``python ARGV...`` (or ``ARGV...``) until the block ends; yield its announced port.

    The port comes from its first line, ``listening on HOST:PORT``. Its stderr (the log) goes
    to ``log``, or nowhere.
    """
    stderr = subprocess.DEVNULL if log is None else log
    command = [sys.executable, *argv] if python else list(argv)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"{argv} did not start: {line!r}")
        yield int(line.rsplit(":", 1)[1])
    finally:
        process.terminate()
        process.wait(timeout=30)
