"""The kernel's own timeline: segments in flight and TCP timers, due at simulated times.

Processes keep their timers on their own reactors; what the simulated kernels
do on their own account (a segment arriving after the link's latency, a
retransmission, a SYN retry) waits here, in the order it is due, ties in the
order it was scheduled.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

EPSILON = 1e-9
"""Seconds within which two simulated times are the same time (the timeline's resolution)."""


@dataclass
class KernelEvent:
    """Something a kernel does at a simulated time: ``action``, unless cancelled first."""

    time: float
    order: int
    action: Callable[[], object]
    what: str = ""
    cancelled: bool = False

    def cancel(self) -> None:
        """Make sure the event never happens."""
        self.cancelled = True


class Timeline:
    """Kernel events by the simulated time they are due."""

    def __init__(self) -> None:
        self._events: list[tuple[float, int, KernelEvent]] = []
        self._order = count()

    def at(self, time: float, action: Callable[[], object], what: str = "") -> KernelEvent:
        """Schedule ``action`` for ``time``; ``what`` says what it is, for reports.

        Times are kept to the nanosecond, so that sums of timeouts land where
        a test expects them (0.2 + 0.4 + 0.8 is 1.4, not 1.4000000000000001).
        """
        event = KernelEvent(round(time, 9), next(self._order), action, what)
        heapq.heappush(self._events, (event.time, event.order, event))
        return event

    def next_time(self) -> float | None:
        """The time of the earliest event still to happen, if any."""
        self._drop_cancelled()
        return self._events[0][0] if self._events else None

    def run_due(self, now: float) -> bool:
        """Run every event due by ``now``, in order (those they schedule too); return if any ran."""
        ran = False
        while True:
            self._drop_cancelled()
            if not self._events or self._events[0][0] > now:
                return ran
            _, _, event = heapq.heappop(self._events)
            event.action()
            ran = True

    def pending(self) -> list[KernelEvent]:
        """The events still to happen, earliest first."""
        return [event for _, _, event in sorted(self._events) if not event.cancelled]

    def _drop_cancelled(self) -> None:
        while self._events and self._events[0][2].cancelled:
            heapq.heappop(self._events)
