"""Tests for L{poetry.testing.explore.search}: txpoetry explored, and a planted bug found."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.explore import KINDS, PHASES, SCENARIOS, search
from poetry.testing.explore.coverage import goals, missed, report
from tests.support.planted import plant

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
