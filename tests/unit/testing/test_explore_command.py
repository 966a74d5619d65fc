"""Tests for C{python -m poetry.testing.explore}: its output, its exit status, its pasted test."""

from __future__ import annotations

import json
import sys
from io import StringIO

from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.explore import SCENARIOS, Plan, Step
from poetry.testing.explore import __main__ as command
from poetry.testing.explore.__main__ import Progress, main
from poetry.testing.explore.coverage import goals
from poetry.testing.explore.runner import Outcome
from poetry.testing.explore.search import Search
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
        """Each unknown scenario is named, with the ones there are."""
        said = self.usage_error("fast", "nope", "nada")
        self.assertIn("no such scenario: nope, nada (choose from fast, slow, transform", said)

    def test_plans_must_be_positive(self) -> None:
        """Zero plans, or a number that is not one, is refused."""
        self.assertIn("0 is less than 1", self.usage_error("--plans", "0"))
        self.assertIn("'many' is not a whole number", self.usage_error("--plans", "many"))

    def test_seed_not_negative(self) -> None:
        """A negative seed is refused."""
        self.assertIn("-1 is negative", self.usage_error("--seed", "-1"))

    def test_seed_a_whole_number(self) -> None:
        """A seed that is not a whole number is refused."""
        self.assertIn("'x' is not a whole number", self.usage_error("--seed", "x"))


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


def searched(case: SynchronousTestCase, *found: Search) -> list[tuple[object, ...]]:
    """Make the command's search give ``found`` (or nothing broken); return what it was asked."""
    asked: list[tuple[object, ...]] = []

    def search_all(names: list[str], budget: int, seed: int, jobs: int, progress: object) -> list:
        asked.append((names, budget, seed, jobs))
        return list(found) or [Search(name, budget) for name in names]

    case.patch(command, "search_all", search_all)
    return asked


def broken(scenario: str, *steps: Step) -> Search:
    """A search of ``scenario`` that found a liveness failure, shrunk to ``steps``."""
    failure = Outcome(Plan(scenario, steps), violations=["liveness: fetch 0 never finished"])
    return Search(scenario, 7, failure=failure)


class ArgumentTests(SynchronousTestCase):
    """What the command searches, as its arguments say."""

    def test_defaults(self) -> None:
        """With no arguments: every scenario, 500 plans each, seed 1, one job."""
        asked = searched(self)
        err = run()[2]
        self.assertEqual(asked, [(list(SCENARIOS), 500, 1, 1)])
        self.assertEqual(
            err.splitlines()[0],
            "exploring fast, slow, transform, proxy, get-many: 500 plans each, seed 1, 1 job",
        )

    def test_several_jobs(self) -> None:
        """The jobs asked for share the search, and are counted in the first line."""
        asked = searched(self)
        err = run("fast", "--jobs", "2", "--seed", "0", "--plans", "1")[2]
        self.assertEqual(asked, [(["fast"], 1, 0, 2)])
        self.assertEqual(err.splitlines()[0], "exploring fast: 1 plans each, seed 0, 2 jobs")

    def test_help(self) -> None:
        """The help says what the command does, its scenarios, and each option's default."""
        said = " ".join(command.parser().format_help().split())
        for text in (
            "usage: python -m poetry.testing.explore",
            "[SCENARIO ...]",
            "Search fault plans on txpoetry's services for broken invariants.",
            "the scenarios to explore: fast, slow, transform, proxy, get-many (default: all)",
            "--plans PLANS plans per scenario (500)",
            "--seed SEED the search's seed (1)",
            "--jobs JOBS processes to search in (1)",
            "--json end with a JSON summary line",
            "--require-coverage fail (exit 1) when a coverage goal was never reached",
        ):
            self.assertIn(text, said)


class SummaryTests(SynchronousTestCase):
    """What the command prints of a failure, and its JSON summary."""

    def test_failure_described(self) -> None:
        """A failure is said with its violation, its plan's faults counted, and a test to paste."""
        searched(self, broken("get-many", Step(0.0, "hold"), Step(0.5, "crash")))
        lines = run("get-many")[1].splitlines()
        self.assertEqual(
            lines[:6],
            [
                "get-many: an invariant broke (7 plans run)",
                "  liveness: fetch 0 never finished",
                "  the plan, shrunk to 2 faults:",
                "    scenario get-many; events due at the same instant: as added",
                "    t=0.00 hold of connection 0",
                "    t=0.50 crash (server 0)",
            ],
        )
        self.assertEqual(
            lines[6:8],
            [
                "  a trial test that reproduces it (paste it into a SynchronousTestCase):",
                "    def test_get_many_liveness(self) -> None:",
            ],
        )

    def test_json_summary_of_a_failure(self) -> None:
        """The summary counts the faults and the goals missed, names each scenario's invariant."""
        searched(self, broken("fast", Step(0.0, "hold")), Search("slow", 3))
        summary = json.loads(run("fast", "slow", "--json")[1].splitlines()[-1])
        self.assertEqual(
            summary,
            {
                "plans": 10,
                "failed": True,
                "faults": 1,
                "invariant": "liveness",
                "seconds": 1.0,
                "missed": len(goals(["fast", "slow"])),
                "scenarios": {"fast": "liveness", "slow": None},
            },
        )

    def test_seconds_of_the_search(self) -> None:
        """The summary gives the seconds the search took by the wall clock, to the millisecond."""
        searched(self)
        readings = iter([5.0, 6.23456])
        out = StringIO()
        main(["fast", "--json"], out, StringIO(), lambda: next(readings))
        self.assertEqual(json.loads(out.getvalue().splitlines()[-1])["seconds"], 1.235)

    def test_coverage_report_names_ten_goals_missed(self) -> None:
        """The coverage report names the first ten goals never reached, and counts the rest."""
        searched(self)
        lines = run("fast")[1].splitlines()
        start = lines.index("coverage (each kind of fault while a connection is in each phase):")
        total = len(goals(["fast"]))
        self.assertEqual(lines[start + 1], f"  fast: 0 of {total} goals reached")
        self.assertEqual(
            lines[start + 2 : start + 3],
            ["    never: reset server side while a connection is connecting"],
        )
        self.assertEqual(lines[start + 12 :], [f"    and {total - 10} more"])


class ProgressTests(SynchronousTestCase):
    """How the command tells the plans run: a live line on a terminal, a line a while elsewhere."""

    def progress(self, terminal: bool) -> tuple[Progress, StringIO, list[float]]:
        """A progress of 9 plans on a stream (a terminal, or not), and the times its clock reads."""
        stream = Terminal() if terminal else StringIO()
        times = [100.0]
        return Progress(stream, 9, lambda: times[0]), stream, times

    def test_a_line_every_ten_seconds(self) -> None:
        """Elsewhere than a terminal, a line when the first plan ends, then one every 10 s."""
        progress, stream, times = self.progress(terminal=False)
        for now, done in ((100.0, 1), (109.9, 2), (110.0, 3), (119.0, 4), (120.0, 5)):
            times[0] = now
            progress("fast", done)
        progress.end()
        self.assertEqual(
            stream.getvalue(), "fast: 1 of 9 plans\nfast: 3 of 9 plans\nfast: 5 of 9 plans\n"
        )

    def test_a_live_line_on_a_terminal(self) -> None:
        """On a terminal, one line written over at most every 0.1 s, ended when the search is."""
        progress, stream, times = self.progress(terminal=True)
        for now, done in ((100.0, 1), (100.05, 2), (100.5, 3)):
            times[0] = now
            progress("fast", done)
        progress.end()
        line = "{:<60}"
        self.assertEqual(
            stream.getvalue(),
            "\r"
            + line.format("fast: 1 of 9 plans")
            + "\r"
            + line.format("fast: 3 of 9 plans")
            + "\n",
        )

    def test_nothing_to_end(self) -> None:
        """A live line never started is not ended; elsewhere, nothing is written at the end."""
        for terminal in (True, False):
            progress, stream, _ = self.progress(terminal)
            progress.end()
            self.assertEqual(stream.getvalue(), "")
        progress, stream, _ = self.progress(terminal=False)
        progress("fast", 1)
        progress.end()
        self.assertEqual(stream.getvalue(), "fast: 1 of 9 plans\n")


class Terminal(StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        """It is one."""
        return True
