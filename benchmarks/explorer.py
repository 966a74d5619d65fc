"""How fast the explorer runs plans: per core for each scenario, and with two jobs against one.

Each scenario's search runs in this process, one job, from a fixed seed: its
plans per CPU second (plans per second per core; the goal is at least 100)
and its simulated seconds per wall second (a plan's world runs its 3 s of
faults, then settles for 120 s at each of three stages: most of that time
is skipped, nothing being due). Then every scenario at once, as
C{python -m poetry.testing.explore --jobs 1} and C{--jobs 2} search it, one
after the other: the plans per wall second of each, and their ratio (2.0 is
linear on two idle cores).

Usage: python -m benchmarks.explorer [--quick]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from poetry.testing.explore.scenarios import SCENARIOS
from poetry.testing.explore.search import search, search_all
from poetry.testing.explore.world import World

GOAL = 100.0
"""Plans per second per core the explorer is to reach on the project's scenarios."""

SEED = 1
"""The seed of every search measured."""


def kept(make: Callable[[], World], worlds: list[World]) -> Callable[[], World]:
    """``make``, keeping each world it makes in ``worlds``."""

    def world() -> World:
        worlds.append(make())
        return worlds[-1]

    return world


def per_scenario(plans: int) -> list[tuple[str, ...]]:
    """Each scenario's plans per CPU second and simulated seconds per wall second, one job."""
    rows: list[tuple[str, ...]] = []
    for name in SCENARIOS:
        worlds: list[World] = []
        wall, cpu = time.perf_counter(), time.process_time()
        found = search(name, plans, SEED * 1000, scenarios={name: kept(SCENARIOS[name], worlds)})
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        simulated = sum(made.network.now for made in worlds)
        rate = found.plans / cpu
        rows.append(
            (
                f"explorer, {name}, plans/s per core",
                f"{rate:,.0f}",
                f"{GOAL:,.0f} (goal)",
                f"{rate / GOAL:.2f}",
                f"{found.plans} plans (seed {SEED}, one job) in {cpu:.1f} CPU s,"
                f" {wall:.1f} wall s; {simulated / wall:,.0f} simulated s per wall s"
                f" ({simulated / len(worlds):.0f} simulated s per world)"
                + ("" if found.failure is None else f"; FAILED: {found.failure.invariant}"),
            )
        )
    return rows


def scaling(plans: int) -> list[tuple[str, ...]]:
    """Plans per wall second of every scenario searched with two jobs and with one."""
    names = list(SCENARIOS)
    rates = {}
    load = os.getloadavg()[0]
    for jobs in (1, 2):
        began = time.perf_counter()
        found = search_all(names, plans, SEED, jobs)
        rates[jobs] = sum(f.plans for f in found) / (time.perf_counter() - began)
    return [
        (
            "explorer, every scenario, --jobs 2 vs --jobs 1, plans/s",
            f"{rates[2]:,.0f}",
            f"{rates[1]:,.0f} (--jobs 1)",
            f"{rates[2] / rates[1]:.2f}",
            f"{plans} plans per scenario each; 2.00 is linear on {os.cpu_count()} cores;"
            f" load average {load:.1f} before (other work shares the cores)",
        )
    ]


def rows(quick: bool) -> list[tuple[str, ...]]:
    """The table rows: each scenario per core, then the jobs' scaling."""
    return per_scenario(40 if quick else 400) + scaling(20 if quick else 300)


def main() -> None:
    """Print the explorer's figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.explorer")
    parser.add_argument("--quick", action="store_true", help="small loads: check they run")
    for row in rows(parser.parse_args().quick):
        print("  ".join(row))


if __name__ == "__main__":
    main()
