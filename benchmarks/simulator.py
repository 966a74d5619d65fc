"""How fast the simulated network runs, now and before its kernel model, side by side.

Two workloads, each run in a subprocess of its own against this tree and
against the simulator as it was before the kernel model (``BEFORE``, taken
from git into a temporary folder): fetches per second (a client fetching the
fast server's poem, one connection after another), and simulated seconds per
wall second (the slow server pacing its poem to many clients at once).

Usage: python -m benchmarks.simulator [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BEFORE = "24be11e"
"""The last revision with the old in-memory transports (before the kernel model of issue #20)."""

WORKLOAD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore", DeprecationWarning)
from poetry.client import get_poetry
from poetry.server import PoetryServerFactory
from poetry.slow_server import SlowPoetryFactory
from poetry.testing import MemoryPoetryNetwork

fetches, clients = int(sys.argv[1]), int(sys.argv[2])
poem = b"Tyger Tyger, burning bright,\n" * 40
network = MemoryPoetryNetwork()
network.serve("127.0.0.1", 10000, PoetryServerFactory(poem))
started = time.perf_counter()
fetched = []
for _ in range(fetches):
    get_poetry(network.reactor, "127.0.0.1", 10000, timeout=5).addBoth(fetched.append)
    network.flush()
assert fetched == [poem] * fetches, fetched[-1]
fetch_seconds = time.perf_counter() - started

network = MemoryPoetryNetwork()
slow = SlowPoetryFactory(poem, 100, 0.1, network.reactor)
network.reactor.listenTCP(10001, slow, backlog=1024, interface="127.0.0.1")
paced = []
for _ in range(clients):
    get_poetry(network.reactor, "127.0.0.1", 10001, timeout=60).addBoth(paced.append)
started = time.perf_counter()
simulated = 0.0
while len(paced) < clients:
    network.advance(0.1)
    simulated += 0.1
pace_seconds = time.perf_counter() - started
assert paced == [poem] * clients, paced[-1]
print(json.dumps({"fetches per second": fetches / fetch_seconds,
                  "simulated seconds per wall second": simulated / pace_seconds}))
"""


def measure(tree: Path, fetches: int, clients: int) -> dict[str, float]:
    """Run the workload with the simulator of ``tree``; return its figures."""
    done = subprocess.run(
        [sys.executable, "-c", WORKLOAD, str(fetches), str(clients)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
    )
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def before_tree(directory: str) -> Path | None:
    """The package as it was at L{BEFORE}, unpacked into ``directory``; None without git history."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BEFORE, "poetry"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", directory], input=archive.stdout, check=True)
    return Path(directory)


def rows(quick: bool) -> list[tuple[str, ...]]:
    """The table rows: each figure now, before, and their ratio (now / before)."""
    fetches, clients = (300, 50) if quick else (3_000, 500)
    now = measure(ROOT, fetches, clients)
    with tempfile.TemporaryDirectory() as directory:
        tree = before_tree(directory)
        then = measure(tree, fetches, clients) if tree is not None else None
    table = []
    for name, value in now.items():
        if then is None:
            table.append((f"simulator: {name}", f"{value:,.0f}", "-", "-", "no git history"))
        else:
            ratio = value / then[name]
            note = f"before: {BEFORE}; {fetches} fetches, {clients} slow clients"
            table.append(
                (f"simulator: {name}", f"{value:,.0f}", f"{then[name]:,.0f}", f"{ratio:.2f}", note)
            )
    return table


def main() -> None:
    """Print the simulator's figures, now and before."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.simulator")
    parser.add_argument("--quick", action="store_true", help="small loads: check they run")
    for row in rows(parser.parse_args().quick):
        print("  ".join(row))


if __name__ == "__main__":
    main()
