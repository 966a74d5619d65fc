"""Run every benchmark and print one table of ratios measured side by side.

Usage: python -m benchmarks [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.loadgen import NoCompilerError, build, load, rate
from benchmarks.processes import TIMEOUT, server
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


CEILING = 0.9
"""A rate at or above this share of the fastest peer's is at the generator's ceiling."""

Row = tuple[str, ...]


def uvloop_installed() -> bool:
    """Whether uvloop (the ``bench`` extra) is installed."""
    return importlib.util.find_spec("uvloop") is not None


def throughput(
    binary: Path, total: int, concurrency: int, rounds: int, directory: str
) -> list[Row]:
    """Poems per second of txpoetry's fast server and proxy hits against peers, round by round.

    Each round starts each server afresh, in an order that rotates from round to round, and
    loads it with the compiled generator; the median of the rounds counts. The fastest peer
    is the ceiling: the generator is shown to reach at least that rate on this machine in this
    run, so only a rate clearly below it says something about the server.
    """
    path = poem_file(directory)
    servers: dict[str, tuple[list[str], bool]] = {
        "txpoetry serve": (["-m", "poetry", "serve", path, "--listen", LISTEN], True),
        "proxy hits": ([], True),
        "minimal Twisted": (["-m", "benchmarks.serve_twisted", path], True),
        "asyncio": (["-m", "benchmarks.serve_asyncio", path], True),
        "C, blocking": ([str(binary), "serve", path], False),
    }
    skipped = []
    if uvloop_installed():
        servers["asyncio+uvloop"] = (["-m", "benchmarks.serve_asyncio", path, "--uvloop"], True)
    else:
        skipped.append("uvloop not installed (pip install -e '.[bench]'): its peer skipped")
    rates: dict[str, list[float]] = {name: [] for name in servers}
    cpu: dict[str, list[float]] = {name: [] for name in servers}
    failures = dict.fromkeys(servers, 0.0)
    names = list(servers)
    with server("-m", "poetry", "serve", path, "--listen", LISTEN) as upstream:
        proxy = ["-m", "poetry", "proxy", "--upstream", str(upstream), "--listen", LISTEN]
        servers["proxy hits"] = (proxy, True)
        for n in range(rounds):
            for name in names[n % len(names) :] + names[: n % len(names)]:
                argv, python = servers[name]
                with server(*argv, python=python) as port:
                    if name == "proxy hits":
                        load(binary, port, 1, 1, expect=len(POEM))  # warm the cache
                    measured = load(binary, port, total, concurrency, expect=len(POEM))
                rates[name].append(rate(measured))
                cpu[name].append(measured["cpu"] / measured["seconds"])
                failures[name] += measured["failures"]
    median = {name: statistics.median(values) for name, values in rates.items()}
    peers = [name for name in servers if name not in ("txpoetry serve", "proxy hits")]
    fastest = max(peers, key=median.__getitem__)
    ceiling = median[fastest]
    twisted = median["minimal Twisted"]
    uvloop = median.get("asyncio+uvloop")
    rows: list[Row] = [
        (
            f"load generator ceiling, {concurrency} concurrent, poems/s",
            "-",
            f"{ceiling:,.0f} ({fastest})",
            "-",
            f"the fastest peer; generator CPU {100 * statistics.median(cpu[fastest]):.0f}% of a"
            f" core at that rate; peers: "
            + ", ".join(f"{name} {median[name]:,.0f}" for name in peers)
            + "".join(f"; {note}" for note in skipped),
        )
    ]
    for name, label in [
        ("txpoetry serve", "fast server (default logging)"),
        ("proxy hits", "proxy cache hits (default logging)"),
    ]:
        ours = median[name]
        where = (
            "at the generator's ceiling: the ratio is a floor"
            if ours >= CEILING * ceiling
            else f"clearly below the ceiling ({ours / ceiling:.2f} of it): the ratio counts"
        )
        beside = f"; {ours / uvloop:.2f}x asyncio+uvloop" if uvloop else ""
        rows.append(
            (
                f"{label}, {concurrency} concurrent, poems/s",
                f"{ours:,.0f}",
                f"{twisted:,.0f} (minimal Twisted)",
                f"{ours / twisted:.2f}",
                f"{where}{beside}; median of {rounds} rounds; failures {failures[name]:.0f}"
                f" (peers {sum(failures[p] for p in peers):.0f})",
            )
        )
    return rows


def pacing(clients: int, seconds: float) -> list[Row]:
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


def cold_misses(binary: Path, concurrency: int, directory: str) -> list[Row]:
    """Upstream connections for a burst of first requests to a cold proxy (goal: one)."""
    path = poem_file(directory)
    half = str(len(POEM) // 2 + 1)
    with tempfile.TemporaryFile() as log:
        slow = ["-m", "poetry", "serve", path, "--chunk-bytes", half, "--delay", "0.5"]
        with server(*slow, "--listen", LISTEN, log=log) as upstream:
            cold = ["-m", "poetry", "proxy", "--upstream", str(upstream), "--listen", LISTEN]
            with server(*cold) as port:
                misses = load(binary, port, concurrency, concurrency, expect=len(POEM))
            time.sleep(0.5)  # let the upstream log its last lines (benchmark, not test)
        log.seek(0)
        upstream_log = log.read()
        upstream_connections = upstream_log.count(b"poem served") + upstream_log.count(
            b"gone early"
        )
    return [
        (
            f"proxy, {concurrency} concurrent cold misses, upstream conns",
            str(upstream_connections),
            "1 (goal)",
            f"{upstream_connections / 1:.2f}",
            f"failures {misses['failures']:.0f}",
        )
    ]


def transform(binary: Path, total: int, concurrency: int) -> list[Row]:
    """Requests per second of the transform service, for a small and a large poem."""
    rows = []
    with server("-m", "poetry", "transform", "--listen", LISTEN) as port:
        for label, poem in [("small", POEM), ("large", POEM * 300)]:
            request = netstring(b"cummingsify." + poem)
            count = total if label == "small" else max(total // 20, 10)
            measured = load(binary, port, count, concurrency, request)
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


def unit_tier() -> list[Row]:
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
    total, concurrency, rounds = (2_000, 50, 1) if quick else (20_000, 50, 5)
    clients, seconds = (500, 1.0) if quick else (10_000, 5.0)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as directory:
        try:
            binary = build()
        except NoCompilerError as missing:
            print(f"skipping the throughput benchmarks: {missing}", file=sys.stderr)
        else:
            rows += throughput(binary, total, concurrency, rounds, directory)
            rows += cold_misses(binary, 200, directory)
            rows += transform(binary, total // 4, concurrency)
        rows += pacing(clients, seconds)
        if not quick:
            rows += pacing(1_000, seconds)
    rows += unit_tier()
    header = ("benchmark", "txpoetry", "peer", "ratio", "notes")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


if __name__ == "__main__":
    main()
