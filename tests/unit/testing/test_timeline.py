"""Tests for L{poetry.testing.timeline}: the kernel's own events, by time."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.timeline import Timeline


class TimelineTests(SynchronousTestCase):
    """Events happen in the order they are due, ties in the order they were scheduled."""

    def test_order(self) -> None:
        """Earlier events first; at the same time, the one scheduled first."""
        timeline, ran = Timeline(), []
        timeline.at(2, lambda: ran.append("late"))
        timeline.at(1, lambda: ran.append("first"))
        timeline.at(1, lambda: ran.append("second"))
        self.assertEqual(timeline.next_time(), 1)
        self.assertTrue(timeline.run_due(1))
        self.assertEqual(ran, ["first", "second"])
        self.assertIs(timeline.run_due(1.5), False)
        timeline.run_due(2)
        self.assertEqual(ran, ["first", "second", "late"])
        self.assertIsNone(timeline.next_time())

    def test_scheduled_while_running(self) -> None:
        """An event scheduled for now by a running one runs in the same call."""
        timeline, ran = Timeline(), []
        timeline.at(0, lambda: timeline.at(0, lambda: ran.append("then")))
        timeline.run_due(0)
        self.assertEqual(ran, ["then"])

    def test_cancelled(self) -> None:
        """A cancelled event never happens and is no longer pending."""
        timeline, ran = Timeline(), []
        event = timeline.at(1, lambda: ran.append("never"), "a timer")
        kept = timeline.at(2, lambda: None, "kept")
        event.cancel()
        self.assertEqual(timeline.pending(), [kept])
        self.assertEqual(timeline.next_time(), 2)
        timeline.run_due(5)
        self.assertEqual(ran, [])

    def test_times_to_the_nanosecond(self) -> None:
        """Times are kept to the nanosecond, so sums of timeouts land where expected."""
        timeline = Timeline()
        event = timeline.at(0.2 + 0.4 + 0.8, lambda: None)
        self.assertEqual(event.time, 1.4)

    def test_finer_than_a_nanosecond_dropped(self) -> None:
        """A time finer than the nanosecond is the nanosecond's: a tenth of one is no time."""
        self.assertEqual(Timeline().at(1.0000000001, lambda: None).time, 1.0)

    def test_unnamed(self) -> None:
        """An event scheduled without saying what it is has an empty name."""
        self.assertEqual(Timeline().at(1, lambda: None).what, "")
