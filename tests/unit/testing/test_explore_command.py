"""Tests for C{python -m poetry.testing.explore}: its output, its exit status, its pasted test."""

from __future__ import annotations

import json
import sys
from io import StringIO

from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.explore import __main__ as command
from poetry.testing.explore.__main__ import main
from tests.support.planted import plant


class Ticking:
    """A wall clock for the command that moves a second each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        """The time: a second later than last time."""
        self.now += 1.0
        return self.now


def run(*argv: str) -> tuple[int, str, str]:
    """Run the command with ``argv``; return its exit status, its stdout and its stderr."""
    out, err = StringIO(), StringIO()
    status = main(list(argv), out, err, Ticking())
    return status, out.getvalue(), err.getvalue()


def pasted(output: str) -> type[SynchronousTestCase]:
    """The test the command printed, pasted into a test case of its own."""
    lines = output.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("    def test_"))
    end = next(n for n, line in enumerate(lines) if line.startswith("coverage"))
    source = "\n".join(["class Pasted(SynchronousTestCase):", *lines[start:end]])
    namespace: dict[str, object] = {"SynchronousTestCase": SynchronousTestCase}
    exec(source, namespace)
    case = namespace["Pasted"]
    assert isinstance(case, type) and issubclass(case, SynchronousTestCase)
    return case


def outcome(case: type[SynchronousTestCase]) -> tuple[int, int]:
    """Run every test of ``case``; return how many failed and how many passed."""
    result = TestResult()
    for name in [name for name in vars(case) if name.startswith("test_")]:
        case(name).run(result)
    return len(result.failures) + len(result.errors), result.successes


class UsageTests(SynchronousTestCase):
    """Bad arguments exit 2, saying what was wrong."""

    def usage_error(self, *argv: str) -> str:
        """Run the command, expecting a usage error; return what it said on stderr."""
        err = StringIO()
        self.patch(sys, "stderr", err)
        error = self.assertRaises(SystemExit, main, list(argv), StringIO(), err, Ticking())
        self.assertEqual(error.code, 2)
        return err.getvalue()

    def test_unknown_scenario(self) -> None:
        """An unknown scenario is named, with the ones there are."""
        said = self.usage_error("fast", "nope")
        self.assertIn("no such scenario: nope (choose from fast, slow, transform", said)

    def test_plans_must_be_positive(self) -> None:
        """Zero plans, or a number that is not one, is refused."""
        self.assertIn("0 is less than 1", self.usage_error("--plans", "0"))
        self.assertIn("'many' is not a whole number", self.usage_error("--plans", "many"))

    def test_seed_not_negative(self) -> None:
        """A negative seed is refused."""
        self.assertIn("-1 is negative", self.usage_error("--seed", "-1"))


class OutputTests(SynchronousTestCase):
    """What the command prints, and how it exits."""

    def test_nothing_broken(self) -> None:
        """No invariant broken: exit 0, each scenario said, the coverage, and the JSON summary."""
        status, out, err = run("fast", "get-many", "--plans", "3", "--json")
        self.assertEqual(status, 0)
        lines = out.splitlines()
        self.assertEqual(lines[0], "fast: 3 plans, no invariant broken")
        self.assertEqual(lines[1], "get-many: 3 plans, no invariant broken")
        self.assertIn("coverage (each kind of fault while a connection is in each phase):", lines)
        summary = json.loads(lines[-1])
        self.assertEqual(
            {key: summary[key] for key in ("plans", "failed", "faults", "invariant")},
            {"plans": 6, "failed": False, "faults": None, "invariant": None},
        )
        self.assertIsInstance(summary["seconds"], float)
        self.assertEqual(
            err.splitlines()[:2],
            ["exploring fast, get-many: 3 plans each, seed 1, 1 job", "fast: 1 of 3 plans"],
        )

    def test_interrupted(self) -> None:
        """Interrupted (Ctrl-C): exit 130, a line on stderr, no result and no traceback."""

        def interrupted(*arguments: object) -> None:
            raise KeyboardInterrupt

        self.patch(command, "search_all", interrupted)
        status, out, err = run("fast", "--plans", "3", "--json")
        self.assertEqual((status, out), (130, ""))
        self.assertEqual(err.splitlines()[1:], ["interrupted: no result"])

    def test_missed_coverage_fails_when_required(self) -> None:
        """With --require-coverage, a goal never reached fails the run."""
        self.assertEqual(run("fast", "--plans", "3", "--require-coverage")[0], 1)

    def test_broken_invariant(self) -> None:
        """A broken invariant: exit 1, the violation, the plan shrunk, and a test to paste."""
        plant(self)
        status, out, _ = run("slow", "--plans", "200", "--json")
        self.assertEqual(status, 1)
        self.assertIn("slow: an invariant broke", out)
        self.assertIn("  the plan, shrunk to 1 fault:", out)
        self.assertIn("    def test_slow_integrity(self) -> None:", out)
        summary = json.loads(out.splitlines()[-1])
        self.assertEqual((summary["failed"], summary["invariant"]), (True, "integrity"))

    def test_pasted_test_fails_until_the_bug_is_fixed(self) -> None:
        """The printed test, pasted into a test case, fails with the bug and passes without it."""
        bug = plant(self)
        case = pasted(run("slow", "--plans", "200")[1])
        self.assertEqual(outcome(case), (1, 0))
        bug.restore()
        self.assertEqual(outcome(case), (0, 1))
