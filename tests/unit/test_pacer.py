"""Tests for L{poetry.core.pacer}: the pacer's documented invariants, through a fake writer."""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.pacer import Pacer


class FakeWriter:
    """A paced writer with ``chunks`` chunks to send, recording the clock time of each."""

    def __init__(self, clock: Clock, chunks: int, on_send: Callable[[], object] | None = None):
        self.clock = clock
        self.left = chunks
        self.sent_at: list[float] = []
        self.paused = False
        self._on_send = on_send

    def send_next_chunk(self) -> bool:
        """Record the send; return whether chunks remain."""
        self.sent_at.append(self.clock.seconds())
        self.left -= 1
        if self._on_send is not None:
            self._on_send()
        return self.left > 0


class PacerTests(SynchronousTestCase):
    """One timer for every writer, each on its own exact schedule."""

    def setUp(self) -> None:
        """A pacer with a one-second interval on a fresh clock."""
        self.clock = Clock()
        self.pacer = Pacer(self.clock, 1.0)

    def writer(self, chunks: int, on_send: Callable[[], object] | None = None) -> FakeWriter:
        """Add a writer with ``chunks`` chunks now; return it."""
        writer = FakeWriter(self.clock, chunks, on_send)
        self.pacer.add(writer)
        return writer

    def test_exact_schedule_from_when_added(self) -> None:
        """A writer added at t is sent to at t + 1, t + 2, ... and left when it has no more."""
        self.clock.advance(0.25)  # the writer joins at t=0.25
        writer = self.writer(3)
        self.clock.pump([1] * 3)  # three ticks, each one second after the last
        self.assertEqual(writer.sent_at, [1.25, 2.25, 3.25])
        self.assertEqual(len(self.pacer), 0)

    def test_one_timer_for_many_writers(self) -> None:
        """However many writers, at most one delayed call is pending."""
        writers = []
        for _ in range(5):
            writers.append(self.writer(2))
            self.clock.advance(0.125)  # each writer on its own schedule (exact in binary)
            self.assertEqual(len(self.clock.getDelayedCalls()), 1)
        self.clock.pump([0.125] * 24)  # three seconds, an eighth at a time: everyone done
        self.assertEqual(
            [w.sent_at for w in writers], [[t, t + 1] for t in (1, 1.125, 1.25, 1.375, 1.5)]
        )

    def test_writers_due_together_share_one_call(self) -> None:
        """Writers due at the same instant are all served when the timer fires once."""
        writers = [self.writer(1) for _ in range(3)]
        self.clock.advance(1)  # the shared due time
        self.assertEqual([w.sent_at for w in writers], [[1.0]] * 3)

    def test_late_timer_catches_up_one_chunk_per_call(self) -> None:
        """A timer that fires late keeps the schedule: the missed chunks follow, one per call."""
        writer = self.writer(4)
        self.clock.advance(2.5)  # late: chunks were due at 1 and 2
        self.assertEqual(writer.sent_at, [2.5, 2.5])
        self.clock.advance(0.5)  # back on schedule at 3
        self.assertEqual(writer.sent_at, [2.5, 2.5, 3.0])
        self.clock.advance(1)  # the last, at 4
        self.assertEqual(writer.sent_at, [2.5, 2.5, 3.0, 4.0])

    def test_paused_writer_parked_then_sent_on_resume(self) -> None:
        """A writer paused when due sends nothing; on resume it sends at once, then paces again."""
        writer = self.writer(3)
        writer.paused = True
        self.clock.advance(1)  # due, but paused: parked
        self.assertEqual(writer.sent_at, [])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(0.5)  # half a second parked: nothing is due
        writer.paused = False
        self.pacer.resume(writer)
        self.assertEqual(writer.sent_at, [1.5])
        self.clock.pump([1, 1])  # two ticks, one second apart from the resume
        self.assertEqual(writer.sent_at, [1.5, 2.5, 3.5])

    def test_resume_of_unparked_writer_sends_nothing(self) -> None:
        """Pausing and resuming between ticks sends no chunk early, however often it happens."""
        writer = self.writer(2)
        for _ in range(2):
            writer.paused = True
            writer.paused = False
            self.pacer.resume(writer)
        self.assertEqual(writer.sent_at, [])
        self.clock.pump([1, 1])  # the two chunks, on schedule
        self.assertEqual(writer.sent_at, [1.0, 2.0])

    def test_second_resume_after_a_parked_chunk_sends_nothing(self) -> None:
        """Once a parked writer's held chunk has left on resume, resuming again sends nothing."""
        writer = self.writer(3)
        writer.paused = True
        self.clock.advance(1)  # due, but paused: parked
        writer.paused = False
        self.pacer.resume(writer)  # the held chunk leaves
        self.pacer.resume(writer)
        self.assertEqual(writer.sent_at, [1.0])
        self.clock.pump([1, 1])  # the last two chunks, on schedule from the resume
        self.assertEqual(writer.sent_at, [1.0, 2.0, 3.0])

    def test_parked_writer_removed_is_not_sent_to_on_resume(self) -> None:
        """A parked writer that leaves the pacer gets nothing when it is later resumed."""
        writer, other = self.writer(3), self.writer(3)
        writer.paused = True
        self.clock.advance(1)  # both due: the paused one is parked
        self.pacer.remove(writer)
        writer.paused = False
        self.pacer.resume(writer)
        self.assertEqual(writer.sent_at, [])
        self.clock.pump([1, 1])  # the other writer's last two chunks
        self.assertEqual(other.sent_at, [1.0, 2.0, 3.0])

    def test_writer_leaving_mid_batch(self) -> None:
        """A writer removed by another's send in the same batch is not sent to."""
        second = FakeWriter(self.clock, 3)
        first = self.writer(3, on_send=lambda: self.pacer.remove(second))
        self.pacer.add(second)
        self.clock.pump([1, 1, 1])  # the first writer's three ticks
        self.assertEqual((first.sent_at, second.sent_at), ([1.0, 2.0, 3.0], []))

    def test_one_writer_leaving_does_not_stall_others(self) -> None:
        """Removing one writer leaves the others on their schedules."""
        leaving, staying = self.writer(5), self.writer(3)
        self.clock.advance(1)  # both writers' first tick
        self.pacer.remove(leaving)
        self.clock.pump([1, 1])  # the staying writer's last two chunks
        self.assertEqual((leaving.sent_at, staying.sent_at), ([1.0], [1.0, 2.0, 3.0]))

    def test_rearms_after_last_writer_left_with_tick_pending(self) -> None:
        """After the last writer left with a tick pending, the next writer gets every chunk."""
        self.pacer.remove(self.writer(3))
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(0.5)  # no timer pending: the next writer joins at t=0.5
        writer = self.writer(3)
        self.clock.pump([1, 1, 1])  # its three ticks
        self.assertEqual(writer.sent_at, [1.5, 2.5, 3.5])

    def test_remove_unknown_writer(self) -> None:
        """Removing a writer the pacer does not serve changes nothing."""
        writer = self.writer(1)
        self.pacer.remove(FakeWriter(self.clock, 1))
        self.clock.advance(1)  # the known writer's chunk
        self.assertEqual(writer.sent_at, [1.0])

    def test_interval_must_be_positive(self) -> None:
        """A zero or negative interval is refused."""
        for interval in (0, -1.0):
            error = self.assertRaises(ValueError, Pacer, self.clock, interval)
            self.assertEqual(str(error), f"interval must be positive, got {interval!r}")
        self.assertEqual(self.pacer.interval, 1.0)
