"""Tests for L{poetry.testing.queues}: what a socket sends until acknowledged, what it got."""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from poetry.testing.queues import Inbox, Outbox


class OutboxTests(SynchronousTestCase):
    """Bytes stay until acknowledged; a loss sends from the oldest again; a reset drops all."""

    def test_sent_then_acknowledged(self) -> None:
        """Bytes taken are in flight until acknowledged, and counted until then."""
        out = Outbox()
        out.append(b"Tyger Tyger")
        self.assertEqual(out.take(5), (0, b"Tyger"))
        self.assertEqual((out.unsent, out.queued, out.in_flight), (6, 11, True))
        self.assertTrue(out.acknowledge(5, False))
        self.assertIs(out.acknowledge(5, False), False)
        self.assertEqual((out.queued, out.in_flight, out.take(100)), (6, False, (5, b" Tyger")))

    def test_fin_acknowledged_after_the_last_byte(self) -> None:
        """The FIN counts as acknowledged only with every byte before it."""
        out = Outbox()
        out.append(b"x")
        out.fin = out.fin_sent = True
        out.take(1)
        self.assertFalse(out.fin_acked or out.acknowledge(0, True))
        self.assertTrue(out.acknowledge(1, True))
        self.assertEqual((out.fin_acked, out.in_flight), (True, False))

    def test_go_back(self) -> None:
        """After a loss, everything not acknowledged is sent again, the FIN too."""
        out = Outbox()
        out.append(b"abc")
        out.take(3)
        out.fin = out.fin_sent = True
        out.acknowledge(1, False)
        out.go_back()
        self.assertEqual((out.take(10), out.fin_sent), ((1, b"bc"), False))

    def test_discard(self) -> None:
        """A reset leaves nothing to send and nothing in flight."""
        out = Outbox()
        out.append(b"abc")
        out.take(2)
        out.fin = True
        out.discard()
        self.assertEqual((out.queued, out.unsent, out.in_flight, out.fin), (0, 0, False, False))


class InboxTests(SynchronousTestCase):
    """Segments are taken in order; the FIN after every byte before it."""

    def test_in_order_and_duplicates(self) -> None:
        """A segment out of order is dropped; the new part of a repeated one is kept."""
        inbox = Inbox()
        inbox.accept(3, b"def", False)
        self.assertEqual(inbox.received, 0)
        inbox.accept(0, b"abc", False)
        inbox.accept(1, b"bcdef", True)
        self.assertEqual((inbox.received, inbox.queued, inbox.fin), (6, 6, True))
        self.assertEqual([inbox.read(4), inbox.read(4)], [b"abc", b"def"])

    def test_read_splits_a_segment(self) -> None:
        """A read smaller than a segment leaves the rest for the next read."""
        inbox = Inbox()
        inbox.accept(0, b"abcdef", False)
        self.assertEqual((inbox.read(2), inbox.read(10)), (b"ab", b"cdef"))
        self.assertEqual(inbox.queued, 0)

    def test_fin_waits_for_missing_bytes(self) -> None:
        """A FIN after bytes not yet received is dropped with its segment."""
        inbox = Inbox()
        inbox.accept(2, b"", True)
        self.assertFalse(inbox.fin)
