"""Tests for L{poetry.testing.explore.search}: txpoetry explored, and a planted bug found."""

from __future__ import annotations

import importlib
import signal

from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.explore import KINDS, PHASES, SCENARIOS, Plan, search
from poetry.testing.explore.coverage import goals, missed, report
from poetry.testing.explore.runner import Outcome, Scenarios
from poetry.testing.explore.search import run_checked, search_all
from poetry.testing.explore.strategies import sweep
from tests.support.planted import plant

searching = importlib.import_module("poetry.testing.explore.search")
"""The search's module (the package's C{search} is its function)."""

BOUNDED = 30
"""Plans drawn per scenario in the unit tier's exploration (about two seconds in all)."""


class BoundedExplorationTests(SynchronousTestCase):
    """A bounded exploration of every scenario, from a fixed seed, on every push."""

    def test_no_invariant_breaks(self) -> None:
        """Plans drawn from seed 1 break no invariant in any of txpoetry's scenarios."""
        for name in SCENARIOS:
            found = search(name, BOUNDED, seed=1, alone=False)
            failure = found.failure
            shown = [*failure.violations, *failure.plan.lines()] if failure else []
            self.assertEqual((name, shown), (name, []))
            self.assertEqual(found.plans, BOUNDED)


class FindingTests(SynchronousTestCase):
    """A planted bug is found, and its plan shrunk."""

    def test_found_alone(self) -> None:
        """Faults tried alone find the bug in one fault, and the plan breaks integrity."""
        plant(self)
        failure = search("slow", 200, seed=1).failure
        assert failure is not None
        self.assertEqual((failure.plan.faults, failure.invariant), (1, "integrity"))

    def test_drawn_shrunk_and_the_same_for_the_same_seed(self) -> None:
        """Drawn plans find the bug too, shrunk to at most three faults; the same seed, the same."""
        plant(self)
        first = search("slow", 200, seed=3, alone=False).failure
        second = search("slow", 200, seed=3, alone=False).failure
        assert first is not None and second is not None
        self.assertLessEqual(first.plan.faults, 3)
        self.assertEqual(first.invariant, "integrity")
        self.assertEqual(first.plan, second.plan)


class CoverageTests(SynchronousTestCase):
    """The goals a search must reach (the CI-sized run shows it reaches them all)."""

    def test_unreachable_goals_are_not_goals(self) -> None:
        """A phase a scenario never shows (named, with why) is no goal of it."""
        self.assertFalse(any(phase == "after the FIN" for _, _, phase in goals(["transform"])))
        self.assertEqual(len(goals(["proxy"])), len(KINDS) * len(PHASES))

    def test_missed_goals_named(self) -> None:
        """The goals cells did not reach are named, by kind then phase."""
        cells = {("fast", kind, phase) for kind in KINDS for phase in PHASES}
        cells -= {("fast", "crash", "mid-poem"), ("fast", "hold", "closing")}
        self.assertEqual(
            missed(["fast"], cells), [("fast", "hold", "closing"), ("fast", "crash", "mid-poem")]
        )
        self.assertEqual(
            report(["fast"], cells, shown=1),
            [
                "fast: 108 of 110 goals reached",
                "  never: hold while a connection is closing",
                "  and 1 more",
            ],
        )

    def test_every_goal_missed_named_unless_limited(self) -> None:
        """Without a limit, the report names every goal missed, and counts none more."""
        cells = {("fast", kind, phase) for kind in KINDS for phase in PHASES}
        cells -= {("fast", "crash", "mid-poem"), ("fast", "hold", "closing")}
        self.assertEqual(len(report(["fast"], cells)), 3)
        self.assertEqual(len(report(["fast"], cells, shown=2)), 3)


class Runs:
    """A stand-in for C{run_plan}: each run recorded, its trace the plan (or, ``varying``, not).

    The plans in ``failing`` break an invariant the first time they run.
    """

    def __init__(self, failing: tuple[Plan, ...] = (), varying: bool = False) -> None:
        self.varying = varying
        self.plans: list[Plan] = []
        self.scenarios: list[Scenarios] = []
        self.failing = list(failing)

    def __call__(self, plan: Plan, scenarios: Scenarios) -> Outcome:
        """Run ``plan``: say so, and give a trace of its own."""
        self.plans.append(plan)
        self.scenarios.append(scenarios)
        broke = ["liveness: planted"] if plan in self.failing else []
        if broke:
            self.failing.remove(plan)
        return Outcome(plan, broke, [f"run {len(self.plans)}" if self.varying else repr(plan)])


def runs(case: SynchronousTestCase, *failing: Plan, varying: bool = False) -> Runs:
    """Make the search run plans with a L{Runs}, for the rest of ``case``'s test."""
    made = Runs(failing, varying)
    case.patch(searching, "run_plan", made)
    return made


class CheckedRunTests(SynchronousTestCase):
    """A plan run twice must give the same trace."""

    def test_another_trace_is_a_violation(self) -> None:
        """A plan whose second run gives another trace breaks determinism."""
        runs(self, varying=True)
        self.assertEqual(
            run_checked(Plan("fast"), True).violations,
            ["determinism: the same plan gave another trace when run again"],
        )

    def test_run_once_unless_asked(self) -> None:
        """A plan not to be checked is run once."""
        made = runs(self)
        self.assertEqual(run_checked(Plan("fast"), False).violations, [])
        self.assertEqual(len(made.plans), 1)

    def test_a_broken_plan_is_not_run_again(self) -> None:
        """A plan that broke an invariant is not run a second time."""
        made = runs(self, Plan("fast"))
        self.assertEqual(run_checked(Plan("fast"), True).violations, ["liveness: planted"])
        self.assertEqual(len(made.plans), 1)


class SearchTests(SynchronousTestCase):
    """Which plans a search runs, and how often."""

    def test_faults_alone_first(self) -> None:
        """A search runs the faults alone first, in the sweep's order, in the scenarios given."""
        made = runs(self)
        mine: Scenarios = dict(SCENARIOS)
        search("fast", 3, seed=1, scenarios=mine)
        self.assertEqual(made.plans[0], made.plans[1])  # the first is checked: run twice
        self.assertEqual(made.plans[1:], sweep("fast")[:3])
        self.assertEqual({id(s) for s in made.scenarios}, {id(mine)})

    def test_a_jobs_share(self) -> None:
        """Job 1 of 2 runs every other fault alone, from the second."""
        made = runs(self)
        search("fast", 3, seed=1, share=(1, 2))
        self.assertEqual(made.plans[1:], sweep("fast")[1::2][:3])

    def test_one_plan_in_ten_checked(self) -> None:
        """The first plan, and every tenth after it, is run twice."""
        made = runs(self)
        search("fast", 12, seed=1)
        self.assertEqual(len(made.plans), 14)
        self.assertEqual(made.plans[11], made.plans[12])

    def test_same_seed_same_plans(self) -> None:
        """Drawn plans come from the seed: the same seed draws the same, another seed others."""
        drawn = []
        for seed in (4, 4, 5):
            made = runs(self)
            search("fast", 5, seed=seed, alone=False)
            drawn.append(made.plans)
        self.assertEqual(drawn[0], drawn[1])
        self.assertNotEqual(drawn[0], drawn[2])

    def test_one_job_seeds(self) -> None:
        """One job searches each scenario with the seed times 1000, in the scenarios given."""
        asked = []

        def recorded(*arguments: object) -> searching.Search:
            asked.append(arguments)
            return searching.Search(str(arguments[0]))

        self.patch(searching, "search", recorded)
        mine: Scenarios = dict(SCENARIOS)
        found = search_all(["fast", "slow"], 2, 3, scenarios=mine)
        self.assertEqual([f.scenario for f in found], ["fast", "slow"])
        self.assertEqual(asked, [("fast", 2, 3000, None, mine), ("slow", 2, 3000, None, mine)])


class JobTests(SynchronousTestCase):
    """What a job does in its own process."""

    def test_job_reports_each_plan(self) -> None:
        """A job searches its share with its seed, reporting its scenario, number and plans run."""
        made = runs(self)
        reported: list[tuple[str, int, int]] = []
        self.patch(searching, "_reports", Reports(reported))
        found = searching._job(("fast", 2, 7, SCENARIOS, (1, 2)))
        self.assertEqual((found.scenario, found.plans), ("fast", 2))
        self.assertEqual(made.plans[1:], sweep("fast")[1::2][:2])
        self.assertEqual(reported, [("fast", 1, 1), ("fast", 1, 2)])

    def test_job_leaves_interrupts_to_the_parent(self) -> None:
        """A job ignores Ctrl-C (the parent ends the jobs), and keeps where to report."""
        handled: list[tuple[int, object]] = []
        self.patch(signal, "signal", lambda number, handler: handled.append((number, handler)))
        self.patch(searching, "_reports", None)
        reports = Reports([])
        searching._start_job(reports)  # type: ignore[arg-type]
        self.assertEqual(handled, [(signal.SIGINT, signal.SIG_IGN)])
        self.assertIs(searching._reports, reports)


class Reports:
    """A job's queue of reports, kept in a list."""

    def __init__(self, kept: list[tuple[str, int, int]]) -> None:
        self.kept = kept

    def put(self, report: tuple[str, int, int]) -> None:
        """Keep ``report``."""
        self.kept.append(report)
