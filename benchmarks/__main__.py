"""Run every benchmark and print one table of ratios measured side by side.

Usage: python -m benchmarks [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.explorer import rows as explorer_rows
from benchmarks.loadgen import NoCompilerError, build, load, rate
from benchmarks.processes import TIMEOUT, server
from benchmarks.simulator import rows as simulator_rows
from poetry.core.catalog import load_poem

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
        "minimal Twisted, same close": (
            ["-m", "benchmarks.serve_twisted", path, "--same-close"],
            True,
        ),
        "asyncio": (["-m", "benchmarks.serve_asyncio", path], True),
        "C, blocking": ([str(binary), "serve", path], False),
    }
    workers = ["-m", "poetry", "serve", path, "--listen", LISTEN, "--workers"]
    servers["serve --workers 1"] = ([*workers, "1"], True)
    servers["serve --workers 2"] = ([*workers, "2"], True)
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
                    if "--workers" in argv:
                        time.sleep(1.5)  # the parent announces before its workers are up
                    measured = load(binary, port, total, concurrency, expect=len(POEM))
                rates[name].append(rate(measured))
                cpu[name].append(measured["cpu"] / measured["seconds"])
                failures[name] += measured["failures"]
    median = {name: statistics.median(values) for name, values in rates.items()}
    ours = ("txpoetry serve", "proxy hits", "serve --workers 1", "serve --workers 2")
    peers = [name for name in servers if name not in ours]
    fastest = max(peers, key=median.__getitem__)
    ceiling = median[fastest]
    twisted = median["minimal Twisted"]
    same_close = median["minimal Twisted, same close"]
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
        rows.append(
            (
                f"{label} vs a Twisted server closing the same way, poems/s",
                f"{ours:,.0f}",
                f"{same_close:,.0f} (minimal Twisted, same close)",
                f"{ours / same_close:.2f}",
                "goal >= 0.9 of this peer (benchmarks/README.md, the decision); what txpoetry"
                " adds to the integrity rules' close (half-close, linger switch, close at the"
                " client's end of input): logging, tracking, limits; the"
                f" same close costs the minimal server {1 - same_close / twisted:.0%} of its rate",
            )
        )
    one, two = median["serve --workers 1"], median["serve --workers 2"]
    rows.append(
        (
            f"serve --workers 2 vs --workers 1, {concurrency} concurrent, poems/s",
            f"{two:,.0f}",
            f"{one:,.0f} (--workers 1)",
            f"{two / one:.2f}",
            f"2 cores shared with the generator; {two / ceiling:.2f} of the ceiling;"
            f" failures {failures['serve --workers 2']:.0f}/{failures['serve --workers 1']:.0f}",
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
            f"slow server pacing in memory, {clients:,} clients, p99 lateness ms",
            f"{ours['p99_ms']:.2f}",
            f"{peer['p99_ms']:.2f} (timer each)",
            f"{ours['p99_ms'] / max(peer['p99_ms'], 1e-9):.2f}",
            f"p50 {ours['p50_ms']:.2f}/{peer['p50_ms']:.2f},"
            f" p99 after 1 s {ours['warm_p99_ms']:.2f}/{peer['warm_p99_ms']:.2f},"
            f" max {ours['max_ms']:.1f}/{peer['max_ms']:.1f}",
        ),
        (
            f"slow server pacing in memory, {clients:,} clients, CPU s",
            f"{ours['cpu_seconds']:.2f}",
            f"{peer['cpu_seconds']:.2f} (timer each)",
            f"{ours['cpu_seconds'] / peer['cpu_seconds']:.2f}",
            f"{ours['chunks']:,.0f}/{peer['chunks']:,.0f} chunks in {seconds:g} s",
        ),
    ]


def rss_kib(pid: int) -> int:
    """Return the resident set size of process ``pid`` in KiB (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def slow_clients(
    binary: Path, clients: int, hold: float, directory: str, delay: float = 1.0
) -> list[Row]:
    """Memory per held connection and chunk lateness of ``serve --chunk-bytes 10 --delay 1``.

    Real sockets: the compiled generator opens ``clients`` connections over 2 s and reads
    what arrives; the server's RSS is read before and once all are open.
    """
    path = poem_file(directory)
    argv = [sys.executable, "-m", "poetry", "serve", path, "--listen", LISTEN]
    argv += ["--chunk-bytes", "10", "--delay", str(delay)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        port = process.stdout.readline().rsplit(":", 1)[1].strip()
        time.sleep(0.5)
        idle = rss_kib(process.pid)
        generator = subprocess.Popen(
            [str(binary), "slow", port, str(clients), "2", str(hold), "10", str(delay)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert generator.stdout is not None
        connected = int(generator.stdout.readline().split()[1])
        time.sleep(min(1.0, hold / 2))  # every connection has had its first chunks
        held = rss_kib(process.pid)
        result = json.loads(generator.stdout.readline())
        generator.wait(timeout=TIMEOUT)
    finally:
        process.terminate()
        process.wait(timeout=60)
    per_connection = 1024 * (held - idle) / max(connected, 1)
    return [
        (
            f"slow server, {clients:,} real clients, delay {delay:g} s, RSS per connection, B",
            f"{per_connection:,.0f}",
            "1,536 (goal)",
            f"{per_connection / 1536:.2f}",
            f"RSS {idle / 1024:.1f} MiB idle, {held / 1024:.1f} MiB with {connected:,} held",
        ),
        (
            f"slow server, {clients:,} real clients, delay {delay:g} s, lateness p99 ms",
            f"{result['p99_ms']:.1f}",
            "50 (goal)",
            f"{result['p99_ms'] / 50:.2f}",
            f"as the clients see it: p50 {result['p50_ms']:.1f}, max {result['max_ms']:.1f};"
            f" {result['reads']:,} reads in {hold:g} s held; failures {result['failures']}",
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


TRIVIAL_TEST = '''"""The unit tier's floor: trial and the third-party modules the tier imports."""

import hypothesis  # noqa: F401
import twisted.internet.testing  # noqa: F401
from twisted.trial.unittest import SynchronousTestCase


class Trivial(SynchronousTestCase):
    """One test that does nothing."""

    def test_nothing(self) -> None:
        """Nothing."""
'''
"""A trivial test module, written to a temporary directory and run by trial as the floor."""


def unit_tier(rounds: int) -> list[Row]:
    """Wall time of the unit tier against trial running one trivial test, alternately; medians."""

    def timed(*names: str, path: str | None = None) -> tuple[float, int]:
        environment = dict(os.environ)
        if path is not None:
            environment["PYTHONPATH"] = os.pathsep.join([path, environment.get("PYTHONPATH", "")])
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "twisted.trial", *names],
            env=environment,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=True,
        )
        ran = int(done.stdout.split("\nRan ")[1].split()[0])
        return time.perf_counter() - began, ran

    floors, wholes = [], []
    with tempfile.TemporaryDirectory() as floor_directory:
        trivial = Path(floor_directory) / "trivial_floor.py"
        trivial.write_text(TRIVIAL_TEST)
        for _ in range(rounds):
            floors.append(timed("trivial_floor", path=floor_directory)[0])
            seconds, count = timed("tests.unit")
            wholes.append(seconds)
    floor, whole = statistics.median(floors), statistics.median(wholes)
    return [
        (
            "unit tier, wall s",
            f"{whole:.2f}",
            f"{floor:.2f} (one trivial test)",
            f"{whole / floor:.2f}",
            f"goal <= 3; the trivial test imports hypothesis and twisted.internet.testing;"
            f" median of {rounds}, alternating; {count} tests,"
            f" {count / max(whole - floor, 1e-9):,.0f} tests/s above the floor",
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
            rows += slow_clients(binary, clients, seconds, directory)
            if not quick:
                rows += slow_clients(binary, clients, seconds, directory, delay=0.1)[1:]
        rows += pacing(clients, seconds)
        if not quick:
            rows += pacing(1_000, seconds)
    rows += unit_tier(1 if quick else 5)
    rows += simulator_rows(quick)
    rows += explorer_rows(quick)
    header = ("benchmark", "txpoetry", "peer", "ratio", "notes")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


if __name__ == "__main__":
    main()
