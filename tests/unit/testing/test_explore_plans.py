"""Tests for L{poetry.testing.explore.plans} and its strategies: plans, as lines and as code."""

from __future__ import annotations

from hypothesis import find, given
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.explore import KINDS, PHASES, Plan, Step, plans
from poetry.testing.explore.strategies import VALUES, steps, sweep


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

    def test_lines_in_the_order_added(self) -> None:
        """A plan of order 0 says that events due at the same instant run as they were added."""
        self.assertEqual(
            Plan("fast", (Step(0.2, "hold"),)).lines()[0],
            "scenario fast; events due at the same instant: as added",
        )

    def test_source_laid_out_for_a_method(self) -> None:
        """A plan's code is laid out for the body of a test method, its lines indented by 8."""
        plan = Plan("fast", (Step(0.2, "hold"), Step(0.5, "latency", 1, 0.2)), order=3)
        self.assertEqual(
            plan.source(),
            "Plan(\n"
            '            "fast",\n'
            "            (\n"
            '                Step(0.2, "hold"),\n'
            '                Step(0.5, "latency", target=1, value=0.2),\n'
            "            ),\n"
            "            order=3,\n"
            "        )",
        )

    def test_test_method(self) -> None:
        """A plan's test is a method whose docstring gives what it found, wrapped at 88."""
        found = "liveness: " + "fetch 0 never finished; " * 4
        self.assertEqual(
            Plan("fast", order=1).test("test_fast_liveness", found),
            "    def test_fast_liveness(self) -> None:\n"
            '        """Found by poetry.testing.explore.\n'
            "\n"
            "        liveness: fetch 0 never finished; fetch 0 never finished;"
            " fetch 0 never finished; fetch\n"
            "        0 never finished;\n"
            '        """\n'
            "        from poetry.testing.explore import Plan, Step, run_plan\n"
            "\n"
            '        plan = Plan(\n            "fast",\n            (\n            ),\n'
            "            order=1,\n        )\n"
            "        self.assertEqual(run_plan(plan).violations, [])\n",
        )

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

    def test_each_at_the_start_on_the_first_target(self) -> None:
        """Each fault alone strikes from time 0 on target 0; a kind that takes no value has none."""
        plans_of_one = sweep("slow")
        self.assertEqual({(p.steps[0].at, p.steps[0].target) for p in plans_of_one}, {(0.0, 0)})
        valueless = {p.steps[0].value for p in plans_of_one if p.steps[0].kind not in VALUES}
        self.assertEqual(valueless, {0.0})


class StrategyTests(SynchronousTestCase):
    """What the strategies draw, and what they shrink to."""

    @given(steps())
    def test_steps_within_their_bounds(self, drawn: tuple[Step, ...]) -> None:
        """At most five steps, within 1.5 s, on targets 0 to 3, by default."""
        self.assertLessEqual(len(drawn), 5)
        for step in drawn:
            self.assertLessEqual(step.at, 1.5)
            self.assertIn(step.target, range(4))

    def test_steps_reach_their_bounds(self) -> None:
        """Five steps can be drawn, at 1.5 s, on target 3."""
        self.assertEqual(len(find(steps(), lambda s: len(s) == 5)), 5)
        self.assertEqual(find(steps(), lambda s: any(t.at >= 1.5 for t in s))[0].at, 1.5)
        self.assertEqual(find(steps(), lambda s: any(t.target >= 3 for t in s))[0].target, 3)

    @given(plans("fast", horizon=0.1, max_steps=1))
    def test_plans_within_the_horizon_and_steps_given(self, plan: Plan) -> None:
        """A plan's steps are as many, and as early, as it is told; its order at most 2**16."""
        self.assertLessEqual(len(plan.steps), 1)
        self.assertTrue(all(step.at <= 0.1 for step in plan.steps))
        self.assertIn(plan.order, range(2**16 + 1))

    def test_orders_from_none_past_two_to_the_fifteenth(self) -> None:
        """A plan's order is 0 (as added) at simplest, and goes past 2**15."""
        self.assertEqual(find(plans("fast"), lambda p: True).order, 0)
        self.assertEqual(find(plans("fast"), lambda p: p.order > 2**15).order, 2**15 + 1)
