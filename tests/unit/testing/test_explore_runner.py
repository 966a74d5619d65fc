"""Tests for L{poetry.testing.explore.runner} and its faults: plans run, invariants held."""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet.defer import succeed
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.explore import SCENARIOS, Client, Plan, Server, Step, World, run_plan
from poetry.testing.explore.faults import phase, until
from poetry.testing.explore.scenarios import fast
from tests.support.planted import plant


def _quiet_world() -> World:
    """A world whose one client gives its result at once, with a check that always complains."""
    server = Server("server", "10.0.0.1", 10000, lambda reactor, listen: Service())
    client = Client("instant 0", 0.0, b"done", lambda reactor: succeed(b"done"))
    return World("quiet", [server], [client], [], checks=[lambda world: ["mine: always"]])


class RunTests(SynchronousTestCase):
    """A plan runs in a fresh world of its scenario, and names every invariant it breaks."""

    def test_every_scenario_keeps_its_invariants_without_faults(self) -> None:
        """With no faults, every scenario's clients get their results and nothing is left."""
        for name in SCENARIOS:
            self.assertEqual((name, run_plan(Plan(name)).violations), (name, []))

    def test_survived_fault(self) -> None:
        """A reset mid-poem fails a fetch, as it should: no invariant breaks."""
        plan = Plan("fast", (Step(0.0, "reset server side", when="mid-poem"),))
        outcome = run_plan(plan)
        self.assertEqual(outcome.violations, [])
        self.assertIn(("fast", "reset server side", "mid-poem"), outcome.cells)

    def test_planted_bug_breaks_integrity(self) -> None:
        """A client that takes a reset for the end of the poem breaks integrity, named."""
        plant(self)
        plan = Plan("slow", (Step(0.0, "reset server side", when="mid-poem"),))
        self.assertEqual(run_plan(plan).invariant, "integrity")

    def test_same_plan_same_trace(self) -> None:
        """The same plan, run twice, gives the same trace."""
        plan = Plan("proxy", (Step(0.1, "partition", 1), Step(0.6, "heal", 1)), order=3)
        self.assertEqual(run_plan(plan).trace_hash, run_plan(plan).trace_hash)

    def test_worlds_own_checks(self) -> None:
        """A world's own checks are run, and their violations reported under their names."""
        outcome = run_plan(Plan("quiet"), {"quiet": _quiet_world})
        self.assertEqual(outcome.violations, ["mine: always"])

    def test_step_waiting_for_a_phase_that_never_comes(self) -> None:
        """A step waiting for a phase no connection reaches does nothing, and says so."""
        outcome = run_plan(
            Plan("quiet", (Step(0.0, "crash", when="mid-poem"),)), {"quiet": _quiet_world}
        )
        self.assertEqual(outcome.cells, set())
        self.assertIn("(no connection was)", outcome.trace[-2])


class PhaseTests(SynchronousTestCase):
    """The phase of a connection, as its client sees it."""

    def test_phases_in_order(self) -> None:
        """A fetch goes through connecting, before the first byte, mid-poem, then closing."""
        world = fast()
        world.start()
        seen = []
        for wanted in ("connecting", "before the first byte", "mid-poem", "closing"):
            connection = until(world, wanted, 1.0)
            self.assertIsNotNone(connection)
            seen.append(phase(connection))
        self.assertEqual(seen, ["connecting", "before the first byte", "mid-poem", "closing"])
        world.network.advance(30)
        self.assertEqual(phase(world.network.every_connection[0]), "idle")

    def test_until_gives_up_at_the_deadline(self) -> None:
        """Waiting for a phase no connection reaches ends at the deadline, with None."""
        world = _quiet_world()
        world.start()
        self.assertIsNone(until(world, "mid-poem", 2.0))
        self.assertEqual(world.network.now, 2.0)
