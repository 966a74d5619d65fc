"""Explore txpoetry's scenarios: C{python -m poetry.testing.explore [SCENARIO ...] --plans N}.

Exits 0 when no invariant broke, 1 when one did (the shrunk plan and a
trial test that reproduces it are printed), 2 on a usage error, 130 when
interrupted (Ctrl-C: nothing but a line on stderr, no result). With
C{--json}, the last line of stdout is one JSON object: C{plans}, C{failed},
C{faults} (in the shrunk plan, or null), C{invariant} (or null),
C{seconds}, C{missed} (coverage goals no plan reached) and C{scenarios}.
Everything printed but the seconds is the same for the same arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from poetry.testing.explore.coverage import missed, report
from poetry.testing.explore.scenarios import SCENARIOS
from poetry.testing.explore.search import Search, search_all

SHOWN = 10
"""How many goals never reached the report names per scenario (it counts the rest)."""


def _count(text: str) -> int:
    """A whole number of at least 1, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


def _seed(text: str) -> int:
    """A whole number of at least 0, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def parser() -> argparse.ArgumentParser:
    """The command's arguments."""
    made = argparse.ArgumentParser(
        prog="python -m poetry.testing.explore",
        description="Search fault plans on txpoetry's services for broken invariants.",
    )
    made.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help=f"the scenarios to explore: {', '.join(SCENARIOS)} (default: all)",
    )
    made.add_argument("--plans", type=_count, default=500, help="plans per scenario (500)")
    made.add_argument("--seed", type=_seed, default=1, help="the search's seed (1)")
    made.add_argument("--jobs", type=_count, default=1, help="processes to search in (1)")
    made.add_argument("--json", action="store_true", help="end with a JSON summary line")
    made.add_argument(
        "--require-coverage",
        action="store_true",
        help="fail (exit 1) when a coverage goal was never reached",
    )
    return made


class Progress:
    """Tells how many plans have run: a live line on a terminal, a line now and then elsewhere."""

    def __init__(self, stream: TextIO, budget: int, clock: Callable[[], float]) -> None:
        self.stream, self.budget, self.clock = stream, budget, clock
        self.live = stream.isatty()
        self._last: float | None = None

    def __call__(self, scenario: str, done: int) -> None:
        """``done`` plans of ``scenario`` have run."""
        now = self.clock()
        if self._last is not None and now - self._last < (0.1 if self.live else 10.0):
            return
        self._last = now
        line = f"{scenario}: {done} of {self.budget} plans"
        self.stream.write(f"\r{line:<60}" if self.live else line + "\n")
        self.stream.flush()

    def end(self) -> None:
        """The search is over: end the live line."""
        if self.live and self._last is not None:
            self.stream.write("\n")
            self.stream.flush()


def describe(found: Search) -> list[str]:
    """What the search of one scenario found, as lines."""
    failure = found.failure
    if failure is None:
        return [f"{found.scenario}: {found.plans} plans, no invariant broken"]
    plan = failure.plan
    name = f"test_{found.scenario.replace('-', '_')}_{failure.invariant}"
    lines = [f"{found.scenario}: an invariant broke ({found.plans} plans run)"]
    lines += [f"  {violation}" for violation in failure.violations]
    lines.append(f"  the plan, shrunk to {plan.faults} fault{'s' if plan.faults != 1 else ''}:")
    lines += [f"    {line}" for line in plan.lines()]
    lines.append("  a trial test that reproduces it (paste it into a SynchronousTestCase):")
    lines += plan.test(name, failure.violations[0]).splitlines()
    return lines


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    clock: Callable[[], float] | None = None,
) -> int:
    """Run the command (stdout, stderr and the wall clock unless given); return its exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    clock = clock or time.perf_counter
    parsing = parser()
    arguments = parsing.parse_args(argv)
    unknown = [name for name in arguments.scenarios if name not in SCENARIOS]
    if unknown:
        parsing.error(
            f"no such scenario: {', '.join(unknown)} (choose from {', '.join(SCENARIOS)})"
        )
    names = list(dict.fromkeys(arguments.scenarios)) or list(SCENARIOS)
    progress = Progress(err, arguments.plans, clock)
    jobs = arguments.jobs
    try:
        err.write(
            f"exploring {', '.join(names)}: {arguments.plans} plans each,"
            f" seed {arguments.seed}, {jobs} job{'s' if jobs != 1 else ''}\n"
        )
        err.flush()
        started = clock()
        found = search_all(names, arguments.plans, arguments.seed, jobs, progress)
    except KeyboardInterrupt:
        progress.end()
        err.write("interrupted: no result\n")
        return 130
    progress.end()
    seconds = clock() - started
    cells = set().union(*(f.cells for f in found))
    never = missed(names, cells)
    for search in found:
        out.write("\n".join(describe(search)) + "\n")
    out.write("coverage (each kind of fault while a connection is in each phase):\n")
    out.write("\n".join(f"  {line}" for line in report(names, cells, shown=SHOWN)) + "\n")
    first = next((f.failure for f in found if f.failure is not None), None)
    if arguments.json:
        summary = {
            "plans": sum(f.plans for f in found),
            "failed": first is not None,
            "faults": first.plan.faults if first is not None else None,
            "invariant": first.invariant if first is not None else None,
            "seconds": round(seconds, 3),
            "missed": len(never),
            "scenarios": {f.scenario: f.failure.invariant if f.failure else None for f in found},
        }
        out.write(json.dumps(summary) + "\n")
    failed = first is not None or (arguments.require_coverage and bool(never))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
