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
own check's outcome: the same tests, in the time of the slowest. A check
marked C{@kernel_settings(fin_timeout=2)} runs on kernels set so: in memory
a network with those L{KernelSettings}, across namespaces a pair of its own
with those sysctls; on loopback (the host's own kernel) it skips.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.cases import Check, calling_module, case_name, checks_of, make_case
from poetry.testing.checks import (
    PoetryClientChecks,
    PoetryServerChecks,
    Recorder,
    TransportChecks,
)
from poetry.testing.harnesses import Harness, MemoryHarness, kernel_settings
from poetry.testing.kernel_harnesses import NamespaceHarness, RealKernelHarness, TCPHarness
from poetry.testing.kernel_kits import in_namespaces, over_tcp
from poetry.testing.leftovers import assert_nothing_left

__all__ = [
    "Harness",
    "MemoryHarness",
    "NamespaceHarness",
    "RealKernelHarness",
    "PoetryClientChecks",
    "PoetryServerChecks",
    "Recorder",
    "TCPHarness",
    "TransportChecks",
    "in_memory",
    "in_namespaces",
    "kernel_settings",
    "over_tcp",
]


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
    case = make_case(case_name(name), harness, kit, SynchronousTestCase)
    for attribute, check in checks_of(kit).items():
        setattr(case, attribute, driven(check))
    case.__module__ = calling_module()
    return case
