"""Tests for L{poetry.testing.kits}: kits made into test cases, and txpoetry's own servers checked.

The same kits run on the real kernel in ``tests/integration/test_kits_tcp.py``
(loopback) and ``tests/integration/test_kits_namespaces.py`` (two namespaces).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from twisted.internet.defer import Deferred, TimeoutError
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import Clock
from twisted.trial.unittest import SkipTest, SynchronousTestCase

from poetry.core.client import get_poetry
from poetry.testing.harnesses import MAX_WAIT, Harness
from poetry.testing.kernel import KernelSettings
from poetry.testing.kits import MemoryHarness, TransportChecks, in_memory, kernel_settings
from tests.support.kit_settings import SetChecks
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
        self.assertEqual(
            str(error),
            "name the test case: assign it at module level (Name = in_memory(Kit)),"
            " or pass name='Name'",
        )

    def test_kit_using_trials_names_refused(self) -> None:
        """A kit whose helper is named as one of trial's (C{run}, C{setUp}) is refused, named."""

        class Clashing(TransportChecks):
            def run(self) -> None:
                """Would replace trial's run, and no check would ever run."""

        error = self.assertRaises(TypeError, in_memory, Clashing, name="Clashing")
        self.assertEqual(
            str(error),
            "Clashing defines run, which trial's test case uses: rename them in the kit",
        )

    def test_clashes_all_named(self) -> None:
        """Every name of trial's a kit defines is named, in order."""

        class Clashing(TransportChecks):
            def run(self) -> None:
                """Would replace trial's run."""

            def fail(self) -> None:
                """Would replace trial's fail."""

        error = self.assertRaises(TypeError, in_memory, Clashing, name="Clashing")
        self.assertIn("Clashing defines fail, run,", str(error))

    def test_kit_on_its_harness_base_allowed(self) -> None:
        """A kit derived from its harness's base has the base's C{setUp}: that is allowed."""

        class Custom(MemoryHarness):
            """A harness of the user's, on the memory harness."""

        class OnMemory(MemoryHarness, TransportChecks):
            """A kit that is a memory harness itself."""

        case = in_memory(OnMemory, harness=Custom, name="OnMemory")
        self.assertIs(case.setUp, MemoryHarness.setUp)

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

    def test_kernel_settings_asked(self) -> None:
        """In memory, a check that asks for kernel settings runs on a network made with them."""
        case = in_memory(SetChecks, name="Set")
        asked, plain = case("test_set"), case("test_unset")
        for harness in (asked, plain):
            harness.setUp()
        self.assertEqual(asked.network.settings, KernelSettings(fin_timeout=2))
        self.assertEqual(plain.network.settings, KernelSettings())
        result = _run(case("test_set"))
        self.assertEqual((result.failures, result.errors), ([], []))

    def test_kernel_settings_refused(self) -> None:
        """Impossible or unknown settings are refused when a check is marked."""
        self.assertRaises(ValueError, kernel_settings, fin_timeout=-1)
        self.assertRaises(TypeError, kernel_settings, fin_timeoutt=2)

    def test_memory_harness_hosts(self) -> None:
        """In memory, the server and the client run in processes of their own, on two hosts."""
        harness = _harness()
        self.assertEqual(
            [(p.name, p.address) for p in (harness.server_process, harness.client_process)],
            [("server", MemoryHarness.server_host), ("client", MemoryHarness.client_host)],
        )
        self.assertEqual(harness.world, "memory")


class MemoryHarnessTests(SynchronousTestCase):
    """The memory harness waits timer by timer, up to its limit, and puts faults where asked."""

    def test_waits_up_to_its_limit(self) -> None:
        """A result due at the limit (300 s on) comes; nothing due at all fails, saying so."""
        harness = _harness()
        due: Deferred[str] = Deferred()
        harness.reactor.callLater(MAX_WAIT, due.callback, "at the limit")
        self.assertEqual(self.successResultOf(_run_check(harness.wait(due))), "at the limit")
        never = _run_check(harness.wait(Deferred()))
        self.assertEqual(
            str(self.failureResultOf(never, AssertionError).value),
            "the check waited for something the simulated network never did",
        )

    def test_wait_takes_each_timer_at_its_time(self) -> None:
        """Waiting moves time timer by timer: a result due in 0.5 s comes at 0.5 s."""
        harness = _harness()
        due: Deferred[float] = Deferred()
        harness.reactor.callLater(0.5, lambda: due.callback(harness.now()))
        self.assertEqual(self.successResultOf(_run_check(harness.wait(due))), 0.5)

    def test_partition_to_the_server(self) -> None:
        """A partition "to_server" drops the client's packets only."""
        harness = _harness()
        _run_check(harness.partition("to_server"))
        links = harness.network.links
        self.assertEqual(
            (links.passes(harness.client_host, harness.server_host),
             links.passes(harness.server_host, harness.client_host)),
            (False, True),
        )  # fmt: skip

    def test_partition_both_ways(self) -> None:
        """A partition "both" drops the packets of both hosts."""
        harness = _harness()
        _run_check(harness.partition("both"))
        links = harness.network.links
        self.assertFalse(links.passes(harness.server_host, harness.client_host))
        self.assertFalse(links.passes(harness.client_host, harness.server_host))

    def test_refuse_one_port(self) -> None:
        """A refusal is on the listening port only."""
        harness = _harness()
        port = harness.listen(Factory.forProtocol(Protocol))
        _run_check(harness.refuse(port))
        links, number = harness.network.links, port.getHost().port
        self.assertEqual(
            (links.refuses(harness.server_host, number), links.refuses(harness.server_host, 1)),
            (True, False),
        )

    def test_connect_timeout(self) -> None:
        """A check's connection attempt gives up after 10 s."""
        harness = _harness()
        port = harness.listen(Factory.forProtocol(Protocol))
        _run_check(harness.black_hole(port))
        attempt = harness.start_connecting(port, Protocol())
        harness.network.advance(9.9)
        self.assertNoResult(attempt)
        harness.network.advance(0.1)
        self.failureResultOf(attempt)


class BaseHarnessTests(SynchronousTestCase):
    """A harness that cannot put a fault on skips the check, saying what it cannot do."""

    def test_faults_it_cannot(self) -> None:
        """Each fault the base harness is asked for skips, naming the harness and the fault."""
        bare, port = _Bare(), _Bare.port
        for fault, what in (
            (bare.partition(), "partition its hosts"),
            (bare.heal(), "partition its hosts"),
            (bare.hold(Protocol()), "hold a connection's packets"),
            (bare.release(Protocol()), "hold a connection's packets"),
            (bare.black_hole(port), "drop connection attempts"),
            (bare.refuse(port), "refuse connection attempts with a reset"),
            (bare.restore(port), "drop or refuse connection attempts"),
            (bare.set_latency(0.1), "add latency (this kernel has no netem)"),
        ):
            skipped = self.failureResultOf(_run_check(fault), SkipTest)
            self.assertEqual(str(skipped.value), f"_Bare cannot {what}")

    def test_now_is_the_clients_clock(self) -> None:
        """The time is the client's reactor's."""
        bare = _Bare()
        bare.reactor.advance(2.5)
        self.assertEqual(bare.now(), 2.5)


class _Bare(Harness):
    """A harness that can put no fault on, with a clock for a reactor."""

    port: Any = None

    def __init__(self) -> None:
        self.reactor = Clock()


def _harness() -> Any:
    """A memory harness, set up as trial sets it up for a check."""
    harness = in_memory(TransportChecks, name="Harnessed")("test_close_sends_queued_then_fin")
    harness.setUp()
    return harness


def _run_check(step: Any) -> Deferred[Any]:
    """Run a harness's coroutine as a check awaits it; return its Deferred."""
    return Deferred.fromCoroutine(step)


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
