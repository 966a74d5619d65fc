"""A shared pacer: many paced writers on one clock, with one timer for them all."""

from __future__ import annotations

import heapq
from itertools import count
from typing import Protocol

from twisted.internet.interfaces import IDelayedCall, IReactorTime

_EPSILON = 1e-9
"""Slack for comparing clock times built by repeated float additions."""


class PacedWriter(Protocol):
    """Something that sends one chunk each time the pacer says it is due."""

    @property
    def paused(self) -> bool:
        """Whether its consumer asked it to stop producing for now."""

    def send_next_chunk(self) -> bool:
        """Send the next chunk; return whether more chunks remain."""


class Pacer:
    """Call each writer's ``send_next_chunk`` every ``interval`` seconds of ``clock``.

    A writer added at time t is due at t + interval, t + 2 * interval, ... until
    it has nothing more to send or is removed; one that falls behind (a busy
    process, a late timer) catches up a chunk per timer call, never two at once.
    Writers due at the same instant are served by one timer call, and at most
    one delayed call is pending, however many writers there are; none is
    pending when there are none.
    A writer that is paused when due is parked, and gets its next chunk at once
    when resumed, then every ``interval`` from then on.
    """

    def __init__(self, clock: IReactorTime, interval: float) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be positive, got {interval!r}")
        self._clock = clock
        self._interval = interval
        self._due: list[tuple[float, int, PacedWriter]] = []
        self._order = count()
        self._active: set[PacedWriter] = set()
        self._parked: set[PacedWriter] = set()
        self._timer: IDelayedCall | None = None

    @property
    def interval(self) -> float:
        """Seconds between a writer's chunks."""
        return self._interval

    def __len__(self) -> int:
        """Return the number of writers the pacer is serving (parked ones included)."""
        return len(self._active)

    def add(self, writer: PacedWriter) -> None:
        """Start pacing ``writer``: its next chunk is due one interval from now."""
        self._active.add(writer)
        self._enqueue(writer)
        self._ensure_timer()

    def remove(self, writer: PacedWriter) -> None:
        """Stop pacing ``writer`` at once; stop the timer if no writer is left."""
        self._active.discard(writer)
        self._parked.discard(writer)
        if not self._active:
            self._due.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def resume(self, writer: PacedWriter) -> None:
        """Send a parked writer's next chunk now, and pace it again from now on."""
        if writer in self._parked:
            self._parked.discard(writer)
            self._send(writer)
            self._ensure_timer()

    def _enqueue(self, writer: PacedWriter, due: float | None = None) -> None:
        """Make ``writer`` due at ``due``, or one interval from now."""
        if due is None:
            due = self._clock.seconds() + self._interval
        heapq.heappush(self._due, (due, next(self._order), writer))

    def _ensure_timer(self) -> None:
        """Set the one timer for the earliest due writer, unless it is set or none is due."""
        if self._timer is None and self._due:
            delay = max(0.0, self._due[0][0] - self._clock.seconds())
            self._timer = self._clock.callLater(delay, self._tick)

    def _send(self, writer: PacedWriter, due: float | None = None) -> None:
        """Send ``writer``'s next chunk; keep pacing it while it has more.

        A chunk that was due at ``due`` makes the next one due an interval
        later, so a late timer does not shift the schedule: a writer left behind
        catches up, one chunk per timer call, rather than being put back for good.
        """
        if writer.send_next_chunk() and writer in self._active:
            self._enqueue(writer, None if due is None else due + self._interval)
        else:
            self.remove(writer)

    def _tick(self) -> None:
        """Serve every writer that is due now (once each), then set the timer for the next."""
        self._timer = None
        now = self._clock.seconds()
        batch = []
        while self._due and self._due[0][0] <= now + _EPSILON:
            batch.append(heapq.heappop(self._due))
        for due, _, writer in batch:
            if writer not in self._active:
                continue
            if writer.paused:
                self._parked.add(writer)
            else:
                self._send(writer, due)
        self._ensure_timer()
