"""Build and run the compiled load generator (``benchmarks/loadgen.c``).

A Python client would measure itself: the asyncio generator this replaces topped out near
5,400 poems/s, below every server it loaded. The C one is built by the benchmark with gcc, once
per version of its source, into a cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``, else the
temporary directory); without gcc the throughput benchmarks are skipped with a message.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("loadgen.c")
TIMEOUT = 300


class NoCompilerError(Exception):
    """gcc is not on this machine: the load generator cannot be built."""


def _cache_directory() -> Path:
    """Where built generators are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    if not os.access(os.path.dirname(base) or "/", os.W_OK) and not os.path.isdir(base):
        base = tempfile.gettempdir()
    return Path(base) / "txpoetry-benchmarks"


def build() -> Path:
    """Return the built generator, compiling it first if this version of the source is not built.

    Raises L{NoCompilerError} without gcc, and C{CalledProcessError} if it does not compile.
    """
    source = SOURCE.read_bytes()
    binary = _cache_directory() / f"loadgen-{hashlib.sha256(source).hexdigest()[:16]}"
    if binary.exists():
        return binary
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise NoCompilerError("gcc not found: the throughput benchmarks need it to build loadgen.c")
    binary.parent.mkdir(parents=True, exist_ok=True)
    building = binary.with_suffix(f".{os.getpid()}.tmp")
    subprocess.run([gcc, "-O2", "-o", str(building), str(SOURCE)], check=True, timeout=TIMEOUT)
    building.replace(binary)
    return binary


def load(
    binary: Path, port: int, total: int, concurrency: int, request: bytes = b"", expect: int = 0
) -> dict[str, float]:
    """Run ``total`` exchanges against ``port``, ``concurrency`` at a time; return measurements.

    An exchange is a success only on a clean close after ``expect`` bytes (any, if 0). The
    result has the generator's own CPU seconds as ``cpu``.
    """
    with tempfile.NamedTemporaryFile() as file:
        file.write(request)
        file.flush()
        argv = [str(binary), "load", str(port), str(total), str(concurrency)]
        argv += [file.name if request else "", str(expect)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, float] = json.loads(done.stdout)
    result["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


def rate(measured: dict[str, float]) -> float:
    """Successful exchanges per second."""
    return (measured["exchanges"] - measured["failures"]) / measured["seconds"]
