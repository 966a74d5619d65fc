"""Tests for L{poetry.testing.explore.plans} and its strategies: plans, as lines and as code."""

from __future__ import annotations

from hypothesis import given
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.explore import KINDS, PHASES, Plan, Step, plans
from poetry.testing.explore.strategies import VALUES, sweep


class StepTests(SynchronousTestCase):
    """A step reads as a line a person understands."""

    def test_timed_step_on_a_connection(self) -> None:
        """A step at its time names the connection it strikes."""
        self.assertEqual(
            Step(0.1, "reset server side", 1).line(), "t=0.10 reset server side of connection 1"
        )

    def test_step_waiting_for_a_phase(self) -> None:
        """A step that waits for a phase says so, and strikes the connection in it."""
        step = Step(0.25, "hold", when="mid-poem")
        self.assertEqual(step.line(), "t>=0.25, once a connection is mid-poem: hold of it")

    def test_steps_with_values(self) -> None:
        """Steps that take a value show it, in the units they take."""
        self.assertEqual(
            Step(1.0, "latency", 0, 0.2).line(), "t=1.00 set the latency to server 0 to 0.2 s"
        )
        self.assertEqual(
            Step(0.0, "clock step", 1, -10.0).line(), "t=0.00 step server 1's clock by -10 s"
        )

    def test_step_on_a_server(self) -> None:
        """A step on a server or its link names the server."""
        self.assertEqual(Step(0.5, "crash", 1).line(), "t=0.50 crash (server 1)")


class PlanTests(SynchronousTestCase):
    """A plan reads as lines, and as code that makes it again."""

    def test_lines_in_time_order(self) -> None:
        """A plan's lines give the scenario and the order of ties, then its steps by time."""
        plan = Plan("fast", (Step(0.5, "crash"), Step(0.1, "partition")), order=7)
        self.assertEqual(
            plan.lines(),
            [
                "scenario fast; events due at the same instant: drawn from seed 7",
                "t=0.10 partition (server 0)",
                "t=0.50 crash (server 0)",
            ],
        )

    @given(plans("proxy"))
    def test_source_makes_the_plan_again(self, plan: Plan) -> None:
        """The code a plan prints evaluates to the same plan."""
        self.assertEqual(eval(plan.source(), {"Plan": Plan, "Step": Step}), plan)

    def test_faults(self) -> None:
        """A plan's faults are its steps."""
        self.assertEqual(Plan("fast", (Step(0, "hold"), Step(1, "release"))).faults, 2)


class SweepTests(SynchronousTestCase):
    """The sweep tries each kind of fault alone in each phase."""

    def test_every_kind_in_every_phase(self) -> None:
        """One plan per kind and phase, each of one step at its strongest value."""
        plans_of_one = sweep("slow")
        self.assertEqual(len(plans_of_one), len(KINDS) * len(PHASES))
        steps = {(plan.steps[0].kind, plan.steps[0].when) for plan in plans_of_one}
        self.assertEqual(steps, {(kind, phase) for kind in KINDS for phase in PHASES})
        latency = next(p.steps[0] for p in plans_of_one if p.steps[0].kind == "latency")
        self.assertEqual(latency.value, VALUES["latency"][-1])
