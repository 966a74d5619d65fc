"""Kits made into test cases on the real kernel: over loopback TCP, and across namespaces.

With C{concurrent=True}, a case's first test runs every check at once, each
with its own harness (across namespaces, one shared pair of namespaces,
each check's faults on its own ports), and each test reports its own
check's outcome: the same tests, in the time of the slowest.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from twisted.internet.defer import Deferred, DeferredList
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from poetry.testing.cases import Check, calling_module, case_name, checks_of, make_case
from poetry.testing.kernel_harnesses import NamespaceHarness, RealKernelHarness, TCPHarness


def over_tcp(
    kit: type,
    harness: type[RealKernelHarness] = TCPHarness,
    name: str | None = None,
    concurrent: bool = False,
) -> type:
    """Return a test case running ``kit``'s checks over loopback TCP, on the real reactor.

    Assign it to a name at module level of an integration-tier test module.
    """
    case = make_case(case_name(name), harness, kit, TestCase)
    if concurrent:
        _run_together(case, checks_of(kit))
    case.__module__ = calling_module()
    return case


def in_namespaces(
    kit: type,
    harness: type[NamespaceHarness] = NamespaceHarness,
    name: str | None = None,
    concurrent: bool = False,
) -> type:
    """Return a test case running ``kit``'s checks across two network namespaces.

    Needs root (it skips, saying why, otherwise). Assign it to a name at
    module level of an integration-tier test module.
    """
    case = make_case(case_name(name), harness, kit, TestCase)
    if concurrent:
        _run_together(case, checks_of(kit))
    case.__module__ = calling_module()
    return case


def _run_together(case: type, checks: dict[str, Check]) -> None:
    """Make ``case``'s first test run every check at once; each test reports its own.

    Setting up and tearing down block (making and removing namespaces runs
    commands): every check's harness is set up first, then all checks run
    together, then each harness is torn down, so that none disturbs the
    timing of another.
    """
    outcomes: dict[str, object] = {}

    def report(name: str) -> Check:
        @wraps(checks[name])
        async def test(self: Any) -> None:
            if not outcomes:
                await _together(case, checks, outcomes)
            result = outcomes[name]
            if isinstance(result, Failure):
                result.raiseException()

        return test

    for name in checks:
        setattr(case, name, report(name))


async def _together(case: type, checks: dict[str, Check], outcomes: dict[str, object]) -> None:
    """Run every check of ``case`` at once, each with its own harness; keep their outcomes."""
    case.begin_batch()  # type: ignore[attr-defined]
    try:
        await _checks_together(case, checks, outcomes)
    finally:
        case.end_batch()  # type: ignore[attr-defined]


async def _checks_together(
    case: type, checks: dict[str, Check], outcomes: dict[str, object]
) -> None:
    """Set every check's harness up, run the checks together, then tear the harnesses down."""
    ready = {}
    for name in checks:
        instance = case(name)
        try:
            instance.setUp()
        except BaseException:
            outcomes[name] = Failure()
        else:
            ready[name] = instance
    running = [
        Deferred.fromCoroutine(checks[name](instance)).addBoth(_keep, outcomes, name)
        for name, instance in ready.items()
    ]
    await DeferredList(running)
    for instance in ready.values():
        await instance.finish()


def _keep(result: object, outcomes: dict[str, object], name: str) -> None:
    """Keep a check's outcome (its failure too, which is then handled)."""
    outcomes[name] = result
