"""The determinism guard really fires: each forbidden thing fails loudly in the unit tier."""

from __future__ import annotations

import _socket
import select
import socket
import subprocess
import sys
import threading
import time
import unittest

from twisted.internet.task import Clock
from twisted.logger import Logger, capturedLogs
from twisted.trial.unittest import SynchronousTestCase

from tests.support import guard
from tests.support.guard import DeterminismError, check_no_pending_calls


class DeterminismGuardTests(SynchronousTestCase):
    """Sockets, name lookups, sleeping and the global reactor are refused."""

    def test_socket(self) -> None:
        """Opening a socket fails."""
        self.assertRaises(DeterminismError, socket.socket)  # guard

    def test_socket_stays_a_class(self) -> None:
        """C{socket.socket} is still the class: C{isinstance} works on it in the unit tier."""
        self.assertIsInstance(socket.socket, type)
        self.assertFalse(isinstance(object(), socket.socket))
        self.assertTrue(issubclass(socket.SocketType, _socket.SocketType))

    def test_create_connection(self) -> None:
        """Connecting with C{socket.create_connection} fails before touching the network."""
        self.assertRaises(DeterminismError, socket.create_connection, ("127.0.0.1", 9))  # guard

    def test_name_lookup(self) -> None:
        """Resolving a name fails, even with the flag for numeric ports only."""
        self.assertRaises(DeterminismError, socket.getaddrinfo, "localhost", 80)
        only_numeric_ports = socket.AI_NUMERICSERV
        self.assertRaises(
            DeterminismError, socket.getaddrinfo, "localhost", 80, 0, 0, 0, only_numeric_ports
        )

    def test_numeric_address(self) -> None:
        """Parsing a numeric address (as Twisted does an IPv6 literal) asks no resolver: allowed."""
        numeric = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        [(_, _, _, _, address)] = socket.getaddrinfo("::1", 80, 0, socket.SOCK_STREAM, 0, numeric)
        self.assertEqual(address[:2], ("::1", 80))

    def test_sleep(self) -> None:
        """Sleeping fails, without sleeping."""
        self.assertRaises(DeterminismError, time.sleep, 10)  # guard

    def test_global_reactor(self) -> None:
        """The global reactor cannot be imported (pytest) or, if trial installed it, used."""
        try:
            from twisted.internet import reactor  # guard
        except DeterminismError:
            return
        self.assertRaises(DeterminismError, reactor.callLater, 0, lambda: None)
        self.assertRaises(DeterminismError, reactor.listenTCP, 0, None)

    def test_low_level_socket(self) -> None:
        """Opening a socket through the C module C{_socket} fails too."""
        self.assertRaises(DeterminismError, _socket.socket)  # guard

    def test_select_with_timeout(self) -> None:
        """Waiting on C{select.select} or C{select.poll} fails, without waiting."""
        self.assertRaises(DeterminismError, select.select, [], [], [], 10)  # guard
        self.assertRaises(DeterminismError, select.poll)  # guard

    def test_event_wait(self) -> None:
        """Waiting on a C{threading.Event} fails, without waiting."""
        self.assertRaises(DeterminismError, threading.Event().wait, 10)  # guard

    def test_subprocess(self) -> None:
        """Starting a process fails before anything is started."""
        self.assertRaises(DeterminismError, subprocess.run, [sys.executable, "-c", "1"])  # guard

    def test_real_time_read_by_test_code(self) -> None:
        """Test code reading real time fails, whichever clock it reads."""
        for read in (time.time, time.monotonic, time.perf_counter, time.time_ns):
            self.assertRaises(DeterminismError, lambda: read())  # noqa: B023  # guard

    def test_real_time_read_by_code_under_test(self) -> None:
        """Code of the package under test reading real time fails in the unit tier."""
        namespace = {"__name__": "poetry.clockless", "time": time}
        exec("def now():\n    return time.monotonic()\n", namespace)  # code as if in poetry/
        self.assertRaises(DeterminismError, namespace["now"])

    def test_real_time_read_by_a_library_allowed(self) -> None:
        """A library reading real time on its own account (Twisted's logger) is left alone."""
        with capturedLogs() as events:
            Logger().info("stamped with the real time")
        self.assertIsInstance(events[0]["log_time"], float)

    def test_clock_at_module_level(self) -> None:
        """A Clock made by unit-tier code outside any test (module level) is refused."""
        namespace = {"__name__": "tests.unit.module_level", "Clock": Clock}
        guard._running_tests, running = 0, guard._running_tests
        try:
            self.assertRaises(DeterminismError, exec, "Clock()", namespace)
        finally:
            guard._running_tests = running

    def test_pending_calls_detected(self) -> None:
        """A clock left with a delayed call fails the check run after every unit test."""
        clock = Clock()
        call = clock.callLater(1, lambda: None)
        self.assertRaises(DeterminismError, check_no_pending_calls)
        call.cancel()

    def test_every_unit_test_checked_for_pending_calls(self) -> None:
        """A unit test that leaves a delayed call fails, with no tearDown of its own."""

        class Example(SynchronousTestCase):
            def test_leaves_a_timer(self) -> None:
                self.clock = Clock()
                self.clock.callLater(1, lambda: None)

        result = unittest.TestResult()
        case = Example("test_leaves_a_timer")
        case.run(result)
        [(_, error)] = result.errors
        self.assertIn("the test left delayed calls pending", error)
        case.clock.advance(1)  # the timer, so that this test leaves none

    def test_async_test_method_fails(self) -> None:
        """An C{async def} test in a C{SynchronousTestCase} fails instead of passing unrun."""
        ran = []

        class Example(SynchronousTestCase):
            async def test_never_awaited(self) -> None:
                ran.append(True)

        result = unittest.TestResult()
        Example("test_never_awaited").run(result)
        self.assertEqual(ran, [])
        [(_, error)] = result.errors
        self.assertIn("async def test", error)
        self.assertFalse(result.wasSuccessful())
