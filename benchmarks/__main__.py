"""Run every benchmark and print one table of ratios measured side by side.

Usage: python -m benchmarks [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.processes import TIMEOUT, load, rate, server
from poetry.catalog import load_poem

LISTEN = "tcp:0:backlog=1024:interface=127.0.0.1"
POEM = load_poem("ecstasy")


def netstring(payload: bytes) -> bytes:
    """Frame ``payload`` as a netstring."""
    return b"%d:%s," % (len(payload), payload)


def poem_file(directory: str) -> str:
    """Write the benchmark poem to a file; return its path."""
    path = Path(directory) / "poem.txt"
    path.write_bytes(POEM)
    return str(path)


ROUNDS = 3
"""Rounds of each side-by-side comparison, alternating the two sides; the median counts."""


def alternating(
    ours: list[str], peer: list[str], total: int, concurrency: int
) -> tuple[float, ...]:
    """Load two servers in alternating rounds; return median rates and total failures."""
    rates: dict[int, list[float]] = {0: [], 1: []}
    failures = [0.0, 0.0]
    for _ in range(ROUNDS):
        for side, argv in enumerate((ours, peer)):
            with server(*argv) as port:
                measured = load(port, total, concurrency)
            rates[side].append(rate(measured))
            failures[side] += measured["failures"]
    return statistics.median(rates[0]), statistics.median(rates[1]), *failures


def fast_server(total: int, concurrency: int, directory: str) -> list[tuple[str, ...]]:
    """Poems per second: txpoetry's fast server against a minimal asyncio server."""
    path = poem_file(directory)
    ours, peer, our_failures, peer_failures = alternating(
        ["-m", "poetry", "serve", path, "--listen", LISTEN],
        ["-m", "benchmarks.serve_asyncio", path],
        total,
        concurrency,
    )
    return [
        (
            f"fast server, {concurrency} concurrent, poems/s",
            f"{ours:,.0f}",
            f"{peer:,.0f} (asyncio)",
            f"{ours / peer:.2f}",
            f"median of {ROUNDS} alternating rounds;"
            f" failures {our_failures:.0f}/{peer_failures:.0f}",
        )
    ]


def pacing(clients: int, seconds: float) -> list[tuple[str, ...]]:
    """Lateness and CPU of the shared pacer against one timer per connection."""
    results = {}
    for mode in ("pacer", "timers"):
        argv = [sys.executable, "-m", "benchmarks.pacing", mode, str(clients), str(seconds), "0.1"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=True)
        results[mode] = json.loads(done.stdout)
    ours, peer = results["pacer"], results["timers"]
    return [
        (
            f"slow server, {clients:,} clients, p99 lateness ms",
            f"{ours['p99_ms']:.2f}",
            f"{peer['p99_ms']:.2f} (timer each)",
            f"{ours['p99_ms'] / max(peer['p99_ms'], 1e-9):.2f}",
            f"p50 {ours['p50_ms']:.2f}/{peer['p50_ms']:.2f},"
            f" p99 after 1 s {ours['warm_p99_ms']:.2f}/{peer['warm_p99_ms']:.2f},"
            f" max {ours['max_ms']:.1f}/{peer['max_ms']:.1f}",
        ),
        (
            f"slow server, {clients:,} clients, CPU s",
            f"{ours['cpu_seconds']:.2f}",
            f"{peer['cpu_seconds']:.2f} (timer each)",
            f"{ours['cpu_seconds'] / peer['cpu_seconds']:.2f}",
            f"{ours['chunks']:,.0f}/{peer['chunks']:,.0f} chunks in {seconds:g} s",
        ),
    ]


def proxy(total: int, concurrency: int, directory: str) -> list[tuple[str, ...]]:
    """Cache-hit throughput against the direct server; cold misses against upstream connections."""
    path = poem_file(directory)
    rows = []
    with server("-m", "poetry", "serve", path, "--listen", LISTEN) as upstream:
        direct = load(upstream, total, concurrency)
        with server(
            "-m", "poetry", "proxy", "--upstream", str(upstream), "--listen", LISTEN
        ) as port:
            load(port, 1, 1)  # warm the cache
            hits = load(port, total, concurrency)
    rows.append(
        (
            f"proxy cache hits, {concurrency} concurrent, poems/s",
            f"{rate(hits):,.0f}",
            f"{rate(direct):,.0f} (direct)",
            f"{rate(hits) / rate(direct):.2f}",
            "goal: within 10% of direct",
        )
    )
    half = str(len(POEM) // 2 + 1)
    with tempfile.TemporaryFile() as log:
        slow = ["-m", "poetry", "serve", path, "--chunk-bytes", half, "--delay", "0.5"]
        with server(*slow, "--listen", LISTEN, log=log) as upstream:
            cold = ["-m", "poetry", "proxy", "--upstream", str(upstream), "--listen", LISTEN]
            with server(*cold) as port:
                misses = load(port, concurrency, concurrency)
            time.sleep(0.5)  # let the upstream log its last lines (benchmark, not test)
        log.seek(0)
        upstream_log = log.read()
        upstream_connections = upstream_log.count(b"poem served") + upstream_log.count(
            b"gone early"
        )
    rows.append(
        (
            f"proxy, {concurrency} concurrent cold misses, upstream conns",
            str(upstream_connections),
            "1 (goal)",
            f"{upstream_connections / 1:.2f}",
            f"failures {misses['failures']:.0f}",
        )
    )
    return rows


def transform(total: int, concurrency: int) -> list[tuple[str, ...]]:
    """Requests per second of the transform service, for a small and a large poem."""
    rows = []
    with server("-m", "poetry", "transform", "--listen", LISTEN) as port:
        for label, poem in [("small", POEM), ("large", POEM * 300)]:
            request = netstring(b"cummingsify." + poem)
            count = total if label == "small" else max(total // 20, 10)
            measured = load(port, count, concurrency, request)
            rows.append(
                (
                    f"transform, {label} poem ({len(poem):,} B), requests/s",
                    f"{rate(measured):,.0f}",
                    "-",
                    "-",
                    f"failures {measured['failures']:.0f}",
                )
            )
    return rows


def unit_tier() -> list[tuple[str, ...]]:
    """Wall time of the unit tier against trial running one trivial test."""

    def timed(*names: str) -> tuple[float, int]:
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "twisted.trial", *names],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=True,
        )
        ran = int(done.stdout.split("\nRan ")[1].split()[0])
        return time.perf_counter() - began, ran

    floor, _ = timed("tests.unit.test_address.ParseAddressTests.test_host_and_port")
    whole, count = timed("tests.unit")
    return [
        (
            "unit tier, wall s",
            f"{whole:.2f}",
            f"{floor:.2f} (one trivial test)",
            f"{whole / floor:.2f}",
            f"{count} tests, {count / max(whole - floor, 1e-9):,.0f} tests/s above the floor",
        )
    ]


def main() -> None:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="small loads: check they run")
    quick = parser.parse_args().quick
    total, concurrency = (300, 20) if quick else (20_000, 200)
    clients, seconds = (500, 1.0) if quick else (10_000, 5.0)
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as directory:
        rows += fast_server(total, concurrency, directory)
        rows += pacing(clients, seconds)
        if not quick:
            rows += pacing(1_000, seconds)
        rows += proxy(total, concurrency, directory)
        rows += transform(total // 4, concurrency)
    rows += unit_tier()
    header = ("benchmark", "txpoetry", "peer", "ratio", "notes")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
