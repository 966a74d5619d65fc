"""Tests for L{poetry.testing.trial}: a fresh network per test, checked for leftovers at cleanup."""

from __future__ import annotations

import unittest

from twisted.internet.protocol import ClientFactory, Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import KernelSettings, MemoryPoetryNetwork
from poetry.testing.trial import MemoryNetworkMixin


def run(case: SynchronousTestCase) -> list[str]:
    """Run ``case``; return the text of each error and failure it had (none if it passed)."""
    result = unittest.TestResult()
    case.run(result)
    return [text for _, text in result.errors + result.failures]


class MemoryNetworkMixinTests(SynchronousTestCase):
    """A test case with the mixin has C{self.network}, and fails if it leaves anything on it."""

    def test_fresh_network_per_test(self) -> None:
        """Each test gets a network of its own, made before it runs."""
        seen: list[MemoryPoetryNetwork] = []

        class Two(MemoryNetworkMixin, SynchronousTestCase):
            def test_one(self) -> None:
                seen.append(self.network)

            def test_two(self) -> None:
                seen.append(self.network)

        self.assertEqual(run(Two("test_one")) + run(Two("test_two")), [])
        self.assertIsInstance(seen[0], MemoryPoetryNetwork)
        self.assertIsNot(seen[0], seen[1])

    def test_settings(self) -> None:
        """The class's C{settings} are the network's kernels' settings."""
        settings = KernelSettings(receive_buffer=25, send_buffer=25)
        seen: list[KernelSettings] = []

        class Small(MemoryNetworkMixin, SynchronousTestCase):
            def test_it(self) -> None:
                seen.append(self.network.settings)

        Small.settings = settings
        self.assertEqual(run(Small("test_it")), [])
        self.assertEqual(seen, [settings])

    def test_open_connection_fails_the_test(self) -> None:
        """A test that leaves a connection open fails at its cleanup, naming the connection."""

        class Open(MemoryNetworkMixin, SynchronousTestCase):
            def test_it(self) -> None:
                self.network.serve("10.0.0.1", 10000, Factory.forProtocol(Protocol))
                client = self.network.process("client", "10.0.0.2")
                client.reactor.connectTCP("10.0.0.1", 10000, ClientFactory.forProtocol(Protocol))
                self.network.flush()

        case = Open("test_it")
        [error] = run(case)
        self.assertIn("an open connection from 10.0.0.2:", error)
        for process in case.network.processes:
            process.crash()

    def test_pending_timer_fails_the_test(self) -> None:
        """A test that leaves a timer set fails at its cleanup, naming the timer."""

        class Timer(MemoryNetworkMixin, SynchronousTestCase):
            def test_it(self) -> None:
                self.network.reactor.callLater(5, lambda: None)

        case = Timer("test_it")
        errors = run(case)
        self.assertTrue([e for e in errors if "a timer in process 'main'" in e], errors)
        case.network.reactor.getDelayedCalls()[0].cancel()

    def test_own_cleanups_run_first(self) -> None:
        """What a test undoes in a cleanup of its own is undone before the check."""

        class Tidy(MemoryNetworkMixin, SynchronousTestCase):
            def test_it(self) -> None:
                call = self.network.reactor.callLater(5, lambda: None)
                self.addCleanup(call.cancel)

        self.assertEqual(run(Tidy("test_it")), [])

    def test_own_set_up(self) -> None:
        """A C{setUp} of the test case's own that calls C{super().setUp()} finds the network."""
        seen: list[MemoryPoetryNetwork] = []

        class Own(MemoryNetworkMixin, SynchronousTestCase):
            def setUp(self) -> None:
                super().setUp()
                seen.append(self.network)

            def test_it(self) -> None:
                seen.append(self.network)

        self.assertEqual(run(Own("test_it")), [])
        self.assertIs(seen[0], seen[1])
