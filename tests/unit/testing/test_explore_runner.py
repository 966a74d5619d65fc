"""Tests for L{poetry.testing.explore.runner} and its faults: plans run, invariants held."""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet.defer import succeed
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.explore import SCENARIOS, Client, Plan, Server, Step, World, run_plan
from poetry.testing.explore.faults import phase, until
from poetry.testing.explore.scenarios import SHOUTED, fast, transform
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


class ScenarioTests(SynchronousTestCase):
    """txpoetry's worlds: their servers, their clients and when each starts, their links."""

    def layout(self, name: str) -> tuple[object, ...]:
        """The scenario's name, servers, clients (label and start) and links, as its world has."""
        world = SCENARIOS[name]()
        servers = [(s.name, s.address, s.port) for s in world.servers]
        return world.scenario, servers, [(c.label, c.at) for c in world.clients], world.links

    def test_fast_and_slow(self) -> None:
        """The poetry servers: six fetches over the first 1.2 s and two lingering clients."""
        clients = [(f"fetch {n}", at) for n, at in enumerate((0.0, 0.05, 0.3, 0.6, 0.9, 1.2))]
        clients += [("lingering client 0", 0.1), ("lingering client 1", 0.8)]
        for name in ("fast", "slow"):
            self.assertEqual(
                self.layout(name),
                (name, [("server", "10.0.0.1", 10000)], clients, [("10.0.0.2", "10.0.0.1")]),
            )

    def test_transform(self) -> None:
        """The transform service: six transform clients, two that half-close after the request."""
        times = (0.0, 0.05, 0.3, 0.6, 0.9, 1.2)
        clients = [(f"transform {n}", at) for n, at in enumerate(times)]
        clients += [("half-closing client 0", 0.1), ("half-closing client 1", 0.8)]
        self.assertEqual(
            self.layout("transform"),
            ("transform", [("server", "10.0.0.1", 10001)], clients, [("10.0.0.2", "10.0.0.1")]),
        )
        world = transform()
        self.assertEqual({c.expected for c in world.clients[:6]}, {SHOUTED})
        self.assertEqual(world.clients[6].expected, b"%d:%s," % (len(SHOUTED), SHOUTED))

    def test_proxy(self) -> None:
        """The proxy before its upstream: six fetches through it and a lingering client."""
        times = (0.0, 0.05, 0.1, 0.5, 1.0, 1.4)
        self.assertEqual(
            self.layout("proxy"),
            (
                "proxy",
                [("server", "10.0.0.1", 10002), ("upstream", "10.0.0.3", 10000)],
                [*((f"fetch {n}", at) for n, at in enumerate(times)), ("lingering client", 0.8)],
                [("10.0.0.2", "10.0.0.1"), ("10.0.0.1", "10.0.0.3")],
            ),
        )

    def test_get_many(self) -> None:
        """A fast and a slow server: fetches from both at once, from each, a lingering client."""
        self.assertEqual(
            self.layout("get-many"),
            (
                "get-many",
                [("server", "10.0.0.1", 10000), ("slow server", "10.0.0.3", 10000)],
                [
                    ("fetch from both 0", 0.0),
                    ("fetch from the fast server 0", 0.1),
                    ("fetch from the slow server", 0.2),
                    ("lingering client", 0.4),
                    ("fetch from both 1", 0.7),
                    ("fetch from the fast server 1", 1.2),
                ],
                [("10.0.0.2", "10.0.0.1"), ("10.0.0.2", "10.0.0.3")],
            ),
        )
