"""A simulated process's timers: Twisted's delayed calls, on a clock its own, run by the network.

Each process's clock reads the network's, stepped by its offset (a clock
step, as NTP makes); the network asks each process when its next timer is
due and tells it the time, and the process runs what is due in one turn, as
a real reactor's loop does.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable

from twisted.internet.base import DelayedCall
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.testing import MemoryReactorClock

from poetry.testing.ordering import Order
from poetry.testing.sockets import Owner


class ProcessTimers(MemoryReactorClock):
    """The timers of one simulated process, kept in order, on the process's own clock."""

    owner: Owner
    offset: float
    """How far this process's clock is ahead of the network's (behind, if negative)."""
    _order: Order
    _move: Callable[[float], None]

    def advance(self, amount: float) -> None:
        """Let ``amount`` seconds pass on the whole network (every process, every byte)."""
        self._move(amount)

    def callLater(
        self, delay: float, callable: Callable[..., object], *args: object, **kw: object
    ) -> IDelayedCall:
        """Call ``callable`` after ``delay`` seconds of this process's clock.

        As C{Clock.callLater}, but the calls are kept in order as they are
        added, not sorted every time: a process with many timers (a client's
        timeout per connection) would spend its time sorting. A call put off
        (reset to later, or delayed) keeps its place until it comes first, as
        in Twisted's own reactor, which is not told of it. As Twisted's reactor
        does, it refuses a negative delay; a process that has ended runs
        nothing more.
        """
        assert delay >= 0, f"{delay} is not greater than or equal to 0 seconds"
        if not self.owner.alive:
            raise RuntimeError(f"{self.owner!r} has ended: nothing more runs in it")
        call = DelayedCall(
            self.seconds() + delay,
            callable,
            args,
            kw,
            self.calls.remove,
            self._resort,
            self.seconds,
        )
        insort(self.calls, call, key=_set_for)
        return call

    def _resort(self, call: IDelayedCall) -> None:
        """A call was brought forward (Twisted says so only then): put the calls in order again."""
        self.calls.sort(key=_set_for)

    def _put_off_calls_in_place(self) -> None:
        """Move each call put off since it was set, once it comes first, to its new place.

        The calls are in order of the times they were set for; one reset to
        later or delayed is due later still, so the first call not put off
        is the earliest (Twisted's reactor does the same).
        """
        calls = self.calls
        while calls and calls[0].delayed_time:
            call = calls.pop(0)
            call.activate_delay()
            insort(calls, call, key=_set_for)

    def set_time(self, now: float) -> None:
        """The network's clock reads ``now``: this process's reads that, stepped by its offset.

        A timer due by the network's clock is due by the process's, though
        adding the offset back may round a hair below the timer's time.
        """
        self.rightNow = now + self.offset
        for call in self.calls:
            if call.time - self.offset > now:
                break  # in order of the times they were set for: none after is due
            if call.getTime() - self.offset <= now:  # not put off past now
                self.rightNow = max(self.rightNow, call.getTime())

    def next_call(self) -> float | None:
        """When the earliest timer is due, on the network's clock, if any."""
        self._put_off_calls_in_place()
        return self.calls[0].getTime() - self.offset if self.calls else None

    def run_due(self) -> bool:
        """Run the timers due now; return whether any ran.

        As a real reactor's turn does, it runs the timers that were due when
        it began: one a timer sets for now (C{callLater(0)}) waits for the
        next round. Timers due at the same time run in the network's order
        for ties.
        """
        self._put_off_calls_in_place()
        if not self.calls or self.calls[0].getTime() > self.rightNow:
            return False  # the first is the earliest: nothing is due
        due = sorted(
            (call for call in self.calls if call.getTime() <= self.rightNow),
            key=DelayedCall.getTime,
        )
        ran = False
        while due:
            first = due[0].getTime()
            ties = [call for call in due if call.getTime() == first]
            call = self._order.pick(ties)
            due.remove(call)
            if call not in self.calls:
                continue  # cancelled by a timer that ran before it
            self.calls.remove(call)
            call.called = 1
            call.func(*call.args, **call.kw)
            ran = True
        return ran


def _set_for(call: DelayedCall) -> float:
    """The time ``call`` was last set for (not counting a delay since: see C{activate_delay})."""
    return call.time
