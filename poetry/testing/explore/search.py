"""The search: each fault alone in each phase, then plans drawn by Hypothesis, shrunk on failure.

First each kind of fault is tried alone, once a connection is in each phase
(L{sweep}); then Hypothesis draws plans for a scenario from a seed, runs
each, and once one breaks an invariant, shrinks it to the smallest plan that
still breaks one (fewer steps, earlier, simpler, the same-instant order as
added where it can). One plan in L{DETERMINISM_EVERY} is run twice, and must give the same
trace both times. With several jobs, each searches with a seed of its own in
a process of its own, and tries its share of the faults alone; the failure
of the first job that found one counts, so that one seed always gives one
result.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.queues import SimpleQueue

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from poetry.testing.explore.plans import Plan
from poetry.testing.explore.runner import Cell, Outcome, Scenarios, run_plan
from poetry.testing.explore.scenarios import SCENARIOS
from poetry.testing.explore.strategies import plans, sweep

DETERMINISM_EVERY = 10
"""One plan in this many is run twice, to check the same plan gives the same trace."""

Progress = Callable[[str, int], None]
"""Told the scenario and how many plans have run, after each plan."""


@dataclass
class Search:
    """What a search of one scenario found: how many plans ran, what they reached, the failure."""

    scenario: str
    plans: int = 0
    cells: set[Cell] = field(default_factory=set)
    failure: Outcome | None = None


def run_checked(plan: Plan, twice: bool, scenarios: Scenarios = SCENARIOS) -> Outcome:
    """Run ``plan`` (twice, if asked: a different trace the second time is a violation)."""
    outcome = run_plan(plan, scenarios)
    if twice and not outcome.violations:
        again = run_plan(plan, scenarios)
        if again.trace_hash != outcome.trace_hash:
            outcome.violations.append(
                "determinism: the same plan gave another trace when run again"
            )
    return outcome


def search(
    scenario: str,
    budget: int,
    seed: int,
    progress: Progress | None = None,
    scenarios: Scenarios = SCENARIOS,
    share: tuple[int, int] = (0, 1),
    alone: bool = True,
) -> Search:
    """Search ``scenario`` with ``budget`` plans drawn from ``seed``; shrink the first failure.

    First (unless not ``alone``) each fault is tried alone in each phase;
    with ``share`` (C{(j, n)}), only every ``n``-th of those, from the
    ``j``-th (job ``j`` of ``n``). The plans counted include those run while
    shrinking.
    """
    found = Search(scenario)

    def breaks(plan: Plan) -> bool:
        found.plans += 1
        outcome = run_checked(plan, found.plans % DETERMINISM_EVERY == 1, scenarios)
        found.cells |= outcome.cells
        if progress is not None:
            progress(scenario, found.plans)
        return bool(outcome.violations)

    index, count = share
    for plan in sweep(scenario)[index::count][:budget] if alone else []:
        if breaks(plan):
            found.failure = run_checked(plan, True, scenarios)
            break
    left = budget - found.plans
    if found.failure is None and left > 0:
        found.failure = _drawn(scenario, left, seed, breaks, scenarios)
    return found


def _drawn(
    scenario: str, budget: int, seed: int, breaks: Callable[[Plan], bool], scenarios: Scenarios
) -> Outcome | None:
    """Draw ``budget`` plans from ``seed`` until one ``breaks``; shrink it, and run it again."""
    try:
        minimal = find(
            plans(scenario),
            breaks,
            settings=settings(
                max_examples=budget,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate, Phase.shrink],
            ),
            random=random.Random(seed),
        )
    except NoSuchExample:
        return None
    return run_checked(minimal, True, scenarios)


_reports: SimpleQueue[tuple[str, int, int]] | None = None
"""In a job's process: where it reports its scenario, its number and its plans run so far."""


def _start_job(reports: SimpleQueue[tuple[str, int, int]]) -> None:
    """In a job's process: keep where to report; leave Ctrl-C to the parent, which ends the jobs."""
    global _reports
    _reports = reports
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _job(arguments: tuple[str, int, int, Scenarios, tuple[int, int]]) -> Search:
    """Search one job's share, reporting each plan run."""
    scenario, budget, seed, scenarios, share = arguments

    def report(scenario: str, done: int) -> None:
        assert _reports is not None
        _reports.put((scenario, share[0], done))

    return search(scenario, budget, seed, report, scenarios, share)


def search_all(
    names: Sequence[str],
    budget: int,
    seed: int,
    jobs: int = 1,
    progress: Progress | None = None,
    scenarios: Scenarios = SCENARIOS,
) -> list[Search]:
    """Search each scenario of ``names`` with ``budget`` plans; ``jobs`` processes share each.

    Job ``j`` of a scenario searches its share with the seed C{seed * 1000 + j};
    of the jobs that found a failure, the first job's counts. With more than
    one job, ``scenarios`` must be importable by name (module-level functions).
    """
    if jobs <= 1:
        return [search(name, budget, seed * 1000, progress, scenarios) for name in names]
    shares = [budget // jobs + (1 if j < budget % jobs else 0) for j in range(jobs)]
    work = [
        (name, part, seed * 1000 + j, scenarios, (j, jobs))
        for name in names
        for j, part in enumerate(shares)
    ]
    context = get_context("fork")
    reports: SimpleQueue[tuple[str, int, int]] = context.SimpleQueue()
    pool = context.Pool(jobs, initializer=_start_job, initargs=(reports,))
    try:
        pending = [pool.apply_async(_job, (arguments,)) for arguments in work]
        done: dict[tuple[str, int], int] = {}
        while not all(result.ready() for result in pending) or not reports.empty():
            if reports.empty():
                pending[-1].wait(0.05)
                continue
            scenario, job, plans_run = reports.get()
            done[scenario, job] = plans_run
            if progress is not None:
                progress(scenario, sum(n for (name, _), n in done.items() if name == scenario))
        parts = [result.get() for result in pending]
    finally:
        pool.terminate()
        pool.join()
    merged = []
    for index, scenario in enumerate(names):
        share = parts[index * jobs : (index + 1) * jobs]
        total = Search(
            scenario, sum(p.plans for p in share), set().union(*(p.cells for p in share))
        )
        total.failure = next((p.failure for p in share if p.failure is not None), None)
        merged.append(total)
    return merged
