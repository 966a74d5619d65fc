"""Tests for L{poetry.core.progress} and L{poetry.core.fetch_many}."""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import struct
import termios

from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.address import Address
from poetry.core.errors import PoemTooLargeError
from poetry.core.fetch_many import FetchState, fetch_many
from poetry.core.progress import ProgressReport, fit, terminal_columns
from tests.support import POEM, accept_client, refuse_client, serve_client

ONE = Address("127.0.0.1", 10001)
TWO = Address("127.0.0.1", 10002)


def redrawn_lines(stream: io.StringIO) -> list[str]:
    """Return each line a live report drew on ``stream``, without its control codes."""
    return [part.removesuffix("\x1b[K") for part in stream.getvalue().split("\r")[1:]]


class LiveProgressTests(SynchronousTestCase):
    """On a terminal, progress is one line redrawn in place."""

    def setUp(self) -> None:
        """Report on two addresses to a fake terminal, wide enough for the whole line."""
        self.stream = io.StringIO()
        self.report = ProgressReport(self.stream, [ONE, TWO], live=True, columns=lambda: 200)

    def test_redraws_one_line(self) -> None:
        """Each update rewrites the whole line from its start and clears what was after it."""
        self.report.listener(0)(ONE, FetchState.RECEIVING, 100)
        self.report.listener(1)(TWO, FetchState.DONE, 7)
        last = self.stream.getvalue().split("\r")[-1]
        self.assertEqual(last, "127.0.0.1:10001 100 bytes | 127.0.0.1:10002 done, 7 bytes\x1b[K")
        self.assertNotIn("\n", self.stream.getvalue())

    def test_waiting_addresses_shown_connecting(self) -> None:
        """Addresses not heard from yet are shown as connecting."""
        self.report.listener(0)(ONE, FetchState.FAILED, 3)
        self.assertIn("127.0.0.1:10002 connecting", self.stream.getvalue())
        self.assertIn("127.0.0.1:10001 failed after 3 bytes", self.stream.getvalue())

    def test_finish_ends_line(self) -> None:
        """Finishing ends the live line so what follows starts on its own line."""
        self.report.listener(0)(ONE, FetchState.RECEIVING, 1)
        self.report.finish()
        self.assertTrue(self.stream.getvalue().endswith("\n"))

    def test_repeated_address_is_two_entries(self) -> None:
        """The same address given twice is shown as two entries, each with its own state."""
        stream = io.StringIO()
        report = ProgressReport(stream, [ONE, ONE], live=True, columns=lambda: 200)
        report.listener(0)(ONE, FetchState.RECEIVING, 5)
        report.listener(1)(ONE, FetchState.DONE, 7)
        self.assertEqual(
            redrawn_lines(stream)[-1], "127.0.0.1:10001 5 bytes | 127.0.0.1:10001 done, 7 bytes"
        )


class LiveProgressWidthTests(SynchronousTestCase):
    """The live line never wraps, however narrow the terminal."""

    def test_cut_to_terminal_width(self) -> None:
        """A line wider than the terminal is cut to one column less than its width."""
        stream = io.StringIO()
        report = ProgressReport(stream, [ONE] * 5, live=True, columns=lambda: 40)
        for index in range(5):
            report.listener(index)(ONE, FetchState.RECEIVING, 100)
        lines = redrawn_lines(stream)
        self.assertEqual([len(line) for line in lines], [39] * 5)
        self.assertEqual(lines[0], "127.0.0.1:10001 100 bytes | 127.0.0." + "...")

    def test_width_measured_at_each_redraw(self) -> None:
        """A terminal resized between redraws gets lines of its new width."""
        widths = iter([30, 20])
        stream = io.StringIO()
        report = ProgressReport(stream, [ONE, TWO], live=True, columns=lambda: next(widths))
        report.listener(0)(ONE, FetchState.RECEIVING, 1)
        report.listener(1)(TWO, FetchState.RECEIVING, 1)
        self.assertEqual([len(line) for line in redrawn_lines(stream)], [29, 19])

    def test_fit(self) -> None:
        """A line that fits is kept whole; a cut one ends with dots, if there is room for them."""
        self.assertEqual(fit("abcdef", 6), "abcdef")
        self.assertEqual(fit("abcdef", 5), "ab...")
        self.assertEqual(fit("abcdef", 2), "ab")
        self.assertEqual(fit("abcdef", -1), "")

    def test_terminal_columns(self) -> None:
        """The width is that of the terminal the stream writes to."""
        controller, terminal = os.openpty()
        self.addCleanup(os.close, controller)
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 37, 0, 0))
        with os.fdopen(terminal, "w") as stream:
            self.assertEqual(terminal_columns(stream), 37)

    def test_terminal_columns_elsewhere(self) -> None:
        """A stream that is no terminal falls back to C{shutil.get_terminal_size}."""
        self.patch(shutil, "get_terminal_size", lambda: os.terminal_size((66, 20)))
        self.assertEqual(terminal_columns(io.StringIO()), 66)


class PlainProgressTests(SynchronousTestCase):
    """Elsewhere, progress is a line per change of state, not per packet."""

    def test_one_line_per_state_change(self) -> None:
        """Several packets in a row give one line; done gives another."""
        stream = io.StringIO()
        report = ProgressReport(stream, [ONE], live=False)
        report.listener(0)(ONE, FetchState.RECEIVING, 10)
        report.listener(0)(ONE, FetchState.RECEIVING, 20)
        report.listener(0)(ONE, FetchState.DONE, 20)
        report.finish()
        self.assertEqual(
            stream.getvalue(), "127.0.0.1:10001: 10 bytes\n127.0.0.1:10001: done, 20 bytes\n"
        )

    def test_repeated_address_has_its_own_lines(self) -> None:
        """Each fetch from a repeated address reports its own changes of state."""
        stream = io.StringIO()
        report = ProgressReport(stream, [ONE, ONE], live=False)
        report.listener(0)(ONE, FetchState.RECEIVING, 10)
        report.listener(1)(ONE, FetchState.RECEIVING, 10)
        self.assertEqual(stream.getvalue(), "127.0.0.1:10001: 10 bytes\n" * 2)


class FetchManyTests(SynchronousTestCase):
    """Many fetches run at once; each address gets its own outcome and progress."""

    def setUp(self) -> None:
        """Start fetching from two addresses on one memory reactor, poems up to C{len(POEM)}."""
        self.reactor = MemoryReactorClock()
        self.events: list[tuple[Address, FetchState, int]] = []
        self.outcomes = fetch_many(
            self.reactor,
            [ONE, TWO],
            timeout=5,
            max_bytes=len(POEM),
            on_progress=lambda *event: self.events.append(event),
        )

    def test_cancel_gives_cancelled_outcomes(self) -> None:
        """Cancelling fires with every outcome: finished ones kept, the rest C{CancelledError}."""
        serve_client(self.reactor, POEM, 1)
        self.outcomes.cancel()
        first, second = self.successResultOf(self.outcomes)
        assert first.failure is not None
        self.assertTrue(first.failure.check(CancelledError))
        self.assertEqual(second.poem, POEM)

    def test_outcomes_in_order(self) -> None:
        """Outcomes come in address order, a poem for one and a failure for the other."""
        serve_client(self.reactor, POEM, 1)
        self.assertNoResult(self.outcomes)
        refuse_client(self.reactor, 0)
        first_outcome, second_outcome = self.successResultOf(self.outcomes)
        self.assertEqual((first_outcome.address, second_outcome.address), (ONE, TWO))
        assert first_outcome.failure is not None
        self.assertTrue(first_outcome.failure.check(ConnectionRefusedError))
        self.assertEqual(second_outcome.poem, POEM)

    def test_max_bytes_passed_on(self) -> None:
        """Each fetch keeps to C{max_bytes}: one byte more fails it with L{PoemTooLargeError}."""
        first, _ = accept_client(self.reactor, 0)
        second, second_transport = accept_client(self.reactor, 1)
        first.dataReceived(POEM)
        first.connectionLost(Failure(ConnectionDone()))
        second.dataReceived(POEM + b"!")
        self.assertTrue(second_transport.disconnecting)
        first_outcome, second_outcome = self.successResultOf(self.outcomes)
        self.assertEqual(first_outcome.poem, POEM)
        assert second_outcome.failure is not None
        self.assertTrue(second_outcome.failure.check(PoemTooLargeError))

    def test_progress_interleaved(self) -> None:
        """Progress events from interleaved connections name their own address and bytes."""
        first, _ = accept_client(self.reactor, 0)
        second, _ = accept_client(self.reactor, 1)
        first.dataReceived(b"abc")
        second.dataReceived(b"de")
        first.dataReceived(b"f")
        first.connectionLost(Failure(ConnectionDone()))
        second.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(
            self.events,
            [
                (ONE, FetchState.RECEIVING, 3),
                (TWO, FetchState.RECEIVING, 2),
                (ONE, FetchState.RECEIVING, 4),
                (ONE, FetchState.DONE, 4),
                (TWO, FetchState.DONE, 2),
            ],
        )
        self.successResultOf(self.outcomes)

    def test_timeouts_are_per_address(self) -> None:
        """A silent server times out without taking the others with it."""
        first, _ = accept_client(self.reactor, 0)
        accept_client(self.reactor, 1)
        first.dataReceived(POEM)
        first.connectionLost(Failure(ConnectionDone()))
        self.reactor.advance(5)  # the second fetch's timeout
        first_outcome, second_outcome = self.successResultOf(self.outcomes)
        self.assertEqual(first_outcome.poem, POEM)
        self.assertIsNotNone(second_outcome.failure)
        self.assertEqual(self.events[-1], (TWO, FetchState.FAILED, 0))
