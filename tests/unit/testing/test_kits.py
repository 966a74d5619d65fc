"""Tests for L{poetry.testing.kits}: kits made into test cases, and txpoetry's own servers checked.

The same kits run on the real kernel in ``tests/integration/test_kits_tcp.py``
(loopback) and ``tests/integration/test_kits_namespaces.py`` (two namespaces).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from twisted.internet.defer import Deferred, TimeoutError
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.client import get_poetry
from poetry.testing.kits import MemoryHarness, TransportChecks, in_memory
from tests.support.server_checks import (
    ClientChecks,
    FastServerChecks,
    SlowServerChecks,
    TrackedServerChecks,
)

TransportConformance = in_memory(TransportChecks)
FastServerConformance = in_memory(FastServerChecks)
SlowServerConformance = in_memory(SlowServerChecks)
TrackedServerConformance = in_memory(TrackedServerChecks)
ClientConformance = in_memory(ClientChecks)


class LeavingChecks:
    """A kit whose one check leaves a connection open."""

    async def test_leaves(self: Any) -> None:
        """Connect, and never close."""
        port = self.listen(Factory.forProtocol(Protocol))
        await self.connect(port, Protocol())


class PatientChecks:
    """A kit whose one check waits for a client's timeout, without letting time pass itself."""

    async def test_waits(self: Any) -> None:
        """A fetch from a server that never answers fails at its timeout, 30 s on."""
        port = self.listen(Factory.forProtocol(Protocol))
        address: Any = port.getHost()
        poem: Deferred[bytes] = get_poetry(self.reactor, address.host, address.port, timeout=30)
        with self.assertRaises(TimeoutError):
            await self.wait(poem)
        self.assertGreaterEqual(self.now(), 30)


class MakingTests(SynchronousTestCase):
    """C{in_memory} names its case, checks that nothing is left, and lets time pass in C{wait}."""

    def test_named_as_assigned(self) -> None:
        """A case is named after the name it is assigned to, so that trial's id reruns it."""
        self.assertEqual(TransportConformance.__name__, "TransportConformance")
        self.assertEqual(TransportConformance.__module__, __name__)
        named = in_memory(TransportChecks, name="Given")
        self.assertEqual(named.__name__, "Given")

    def test_named_through_a_wrapper(self) -> None:
        """A case made through a tool's wrapper of C{in_memory} (mutmut's) is named as assigned."""
        tool = SimpleNamespace(in_memory=_wrapped(in_memory))
        Wrapped = tool.in_memory(TransportChecks)  # noqa: N806 (a case, named as a class)
        self.assertEqual((Wrapped.__name__, Wrapped.__module__), ("Wrapped", __name__))

    def test_unnamed_refused(self) -> None:
        """A case that is neither named nor assigned is refused, saying how to name it."""
        error = self.assertRaises(TypeError, lambda: [in_memory(TransportChecks)])
        self.assertIn("name=", str(error))

    def test_kit_using_trials_names_refused(self) -> None:
        """A kit whose helper is named as one of trial's (C{run}, C{setUp}) is refused, named."""

        class Clashing(TransportChecks):
            def run(self) -> None:
                """Would replace trial's run, and no check would ever run."""

        error = self.assertRaises(TypeError, in_memory, Clashing, name="Clashing")
        self.assertIn("Clashing defines run", str(error))

    def test_kit_declaring_harness_hooks_allowed(self) -> None:
        """A kit may declare what its harness gives (a hook the harness fills in)."""

        class Declaring(TransportChecks):
            def listen(self, factory: Any) -> Any:
                """Given by the harness."""
                raise NotImplementedError

        self.assertIs(in_memory(Declaring, name="Declaring").listen, MemoryHarness.listen)

    def test_left_behind_fails(self) -> None:
        """A check that leaves a connection open fails, naming it."""
        leaving = in_memory(LeavingChecks, name="Leaving")
        result = _run(leaving("test_leaves"))
        [(_, failure)] = result.failures + result.errors
        self.assertIn("left things behind", str(failure))

    def test_wait_lets_time_pass(self) -> None:
        """C{wait} lets simulated time pass, timer by timer, until the result comes."""
        patient = in_memory(PatientChecks, name="Patient")
        result = _run(patient("test_waits"))
        self.assertEqual((result.failures, result.errors), ([], []))

    def test_memory_harness_hosts(self) -> None:
        """In memory, the server and the client run in processes of their own, on two hosts."""
        harness = in_memory(TransportChecks, name="Hosts")("test_close_sends_queued_then_fin")
        harness.setUp()
        self.assertEqual(
            (harness.server_process.address, harness.client_process.address),
            (MemoryHarness.server_host, MemoryHarness.client_host),
        )
        self.assertEqual(harness.world, "memory")


def _wrapped(function: Any) -> Any:
    """``function``, called through a wrapper of mutmut's (as its trampolines call it)."""
    namespace = {"__name__": "mutmut.mutation.trampoline", "function": function}
    exec("def wrapper(*args, **kwargs):\n    return function(*args, **kwargs)\n", namespace)
    return namespace["wrapper"]


def _run(case: SynchronousTestCase) -> Any:
    """Run one test case; return its result."""
    from twisted.trial.reporter import TestResult

    result = TestResult()
    case.run(result)
    return result
