"""Connections waiting, their poem out, for the client to close its side: one timer for them all.

A server that has handed the whole poem to the kernel keeps the connection
open until the client's end of input, so that no late request byte turns the
close into a reset (see L{poetry.core.closing.poem_delivered}), but not for
ever. Every connection waits the same time, so their deadlines come in the
order they began to wait: they are kept in that order, and one timer, set for
the earliest, closes those that are due. A timer per connection cost the
fast server about 3% of its rate, and a bare Twisted server that closes
the same way about a tenth (measured side by side, `benchmarks/README.md`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

from twisted.internet.interfaces import IDelayedCall, IReactorTime, ITransport
from twisted.logger import Logger


class Waiting(Protocol):
    """A connection that waits: anything with the transport to close."""

    @property
    def transport(self) -> ITransport:
        """The connection's transport."""


class Lingering:
    """Connections (by protocol) closed at their deadline unless let go before it.

    ``add`` starts a connection's wait of ``seconds``; ``release`` ends it
    early (the client closed its side, or the connection is gone). At its
    deadline, a connection still waiting has its transport's
    C{loseConnection} called. No timer is left once none waits.
    """

    _log = Logger()

    def __init__(self, clock: IReactorTime, seconds: float) -> None:
        self._clock = clock
        self._seconds = seconds
        self._deadlines: OrderedDict[Waiting, float] = OrderedDict()
        self._timer: IDelayedCall | None = None

    def add(self, protocol: Waiting) -> None:
        """Close ``protocol``'s connection in ``seconds`` unless it is released before then."""
        deadline = self._clock.seconds() + self._seconds
        if self._deadlines and deadline < next(reversed(self._deadlines.values())):
            self._clock_went_back(deadline)
        self._deadlines[protocol] = deadline
        if self._timer is None:
            self._timer = self._clock.callLater(self._seconds, self._close_due)

    def _clock_went_back(self, deadline: float) -> None:
        """The clock was set back: no connection waiting now may wait past ``deadline``.

        Deadlines stay in order, so a new one is never held behind an old one
        that the clock's step put far off; the timer is set again for the first.
        """
        for protocol, old in self._deadlines.items():
            self._deadlines[protocol] = min(old, deadline)
        if self._timer is not None:
            self._timer.cancel()
        self._time_the_first(self._clock.seconds())

    def _time_the_first(self, now: float) -> None:
        """Set the timer for the earliest deadline; none if no connection waits."""
        self._timer = None
        if self._deadlines:
            first = next(iter(self._deadlines.values()))
            self._timer = self._clock.callLater(max(0.0, first - now), self._close_due)

    def release(self, protocol: Waiting) -> bool:
        """Stop waiting for ``protocol``; return whether it was waiting."""
        if self._deadlines.pop(protocol, None) is None:
            return False
        if not self._deadlines and self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return True

    def _close_due(self) -> None:
        """Close every connection whose deadline has come; set the timer for the next one.

        The due connections are taken out and the timer set before any is
        closed: closing one may run its protocol's code, which may start
        another wait or fail, and neither may leave the others without a timer.
        """
        now = self._clock.seconds()
        due = []
        while self._deadlines:
            protocol, deadline = next(iter(self._deadlines.items()))
            if deadline > now:
                break
            del self._deadlines[protocol]
            due.append(protocol)
        self._time_the_first(now)
        for protocol in due:
            try:
                protocol.transport.loseConnection()
            except Exception:
                self._log.failure(
                    "closing a lingering connection failed",  # pragma: no mutate (log text)
                    event="linger-close-failed",
                )
