"""Conformance kits: the same checks, on the simulated network and on the real kernel.

A kit is a class of ``async`` checks (L{poetry.testing.checks},
L{poetry.testing.fidelity}) that reach the world only through a harness
(L{poetry.testing.harnesses}). L{in_memory}, L{over_tcp} and L{in_namespaces}
make a trial test case of a kit on each; the same test names must pass on
each, which is the evidence that the simulated network tells the truth::

    class MyServerChecks(PoetryServerChecks):
        poem = b"Tyger Tyger, burning bright"

        def server_factory(self, reactor):
            return MyPoetryFactory(self.poem)

    MyServerInMemory = in_memory(MyServerChecks)          # tests/unit/...
    MyServerOverTCP = over_tcp(MyServerChecks)            # tests/integration/...
    MyServerInNamespaces = in_namespaces(MyServerChecks)  # tests/integration/... (root)

The name the test case is assigned to is its name (trial prints it, and
reruns it by it); pass C{name=...} where it is not assigned on one line. In
memory, every check must leave nothing behind (L{leftovers.assert_nothing_left});
on the real kernel, trial's own check of the reactor does the same. With
C{concurrent=True}, a real-kernel case runs all its checks at once (each
with its own harness) when its first test runs, and each test reports its
own check's outcome: the same tests, in the time of the slowest.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any

from twisted.internet.defer import Deferred, DeferredList
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase, TestCase

from poetry.testing.checks import (
    PoetryClientChecks,
    PoetryServerChecks,
    Recorder,
    TransportChecks,
)
from poetry.testing.harnesses import (
    Harness,
    MemoryHarness,
    NamespaceHarness,
    RealKernelHarness,
    TCPHarness,
)
from poetry.testing.leftovers import assert_nothing_left

__all__ = [
    "Harness",
    "MemoryHarness",
    "NamespaceHarness",
    "PoetryClientChecks",
    "PoetryServerChecks",
    "Recorder",
    "TCPHarness",
    "TransportChecks",
    "in_memory",
    "in_namespaces",
    "over_tcp",
]

Check = Callable[[Any], Coroutine[Any, Any, None]]

_ASSIGNED = re.compile(r"\s*(\w+)\s*(?::[^=]*)?=\s*(?:\w+\.)*(in_memory|over_tcp|in_namespaces)\(")


def _name(name: str | None, depth: int = 2) -> str:
    """The test case's name: given, or the name its making is assigned to."""
    if name is not None:
        return name
    frame = sys._getframe(depth)
    context = inspect.getframeinfo(frame).code_context or [""]
    assigned = _ASSIGNED.match(context[0])
    if assigned is None:
        raise TypeError(
            "name the test case: assign it at module level (Name = in_memory(Kit)),"
            " or pass name='Name'"
        )
    return assigned.group(1)


def _checks(kit: type) -> dict[str, Check]:
    """The kit's checks by name, the most derived class's winning."""
    found: dict[str, Check] = {}
    for klass in reversed(kit.__mro__):
        found.update((n, c) for n, c in vars(klass).items() if n.startswith("test_"))
    return found


def driven(check: Check) -> Callable[[Any], None]:
    """Make an ``async`` check run to completion synchronously, then leave nothing behind."""

    @wraps(check)
    def run(self: Any) -> None:
        outcome: list[object] = []
        Deferred.fromCoroutine(check(self)).addBoth(outcome.append)
        if not outcome:
            raise AssertionError("the check waited for something the simulated network never did")
        if isinstance(outcome[0], Failure):
            outcome[0].raiseException()
        assert_nothing_left(self.network)

    return run


def in_memory(
    kit: type, harness: type[MemoryHarness] = MemoryHarness, name: str | None = None
) -> type:
    """Return a synchronous test case running ``kit``'s checks on the simulated network.

    Assign it to a name at module level of a unit-tier test module.
    """
    case = type(_name(name), (harness, kit, SynchronousTestCase), {})
    for attribute, check in _checks(kit).items():
        setattr(case, attribute, driven(check))
    case.__module__ = sys._getframe(1).f_globals["__name__"]
    return case


def over_tcp(
    kit: type,
    harness: type[RealKernelHarness] = TCPHarness,
    name: str | None = None,
    concurrent: bool = False,
) -> type:
    """Return a test case running ``kit``'s checks over loopback TCP, on the real reactor.

    Assign it to a name at module level of an integration-tier test module.
    """
    case = type(_name(name), (harness, kit, TestCase), {})
    if concurrent:
        _run_together(case, _checks(kit))
    case.__module__ = sys._getframe(1).f_globals["__name__"]
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
    case = type(_name(name), (harness, kit, TestCase), {})
    if concurrent:
        _run_together(case, _checks(kit))
    case.__module__ = sys._getframe(1).f_globals["__name__"]
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
