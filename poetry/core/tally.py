"""Count what a busy server does, and log it as one summary line now and then.

At thousands of poems a second, one log event per poem costs the fast server
most of its time (Twisted's logging builds, filters and formats every event,
then writes a line). A L{Tally} counts instead, and logs one line at info
level per period in which something happened, such as ``poems served: 29310
(81012840 bytes) in 10.0 s``. It keeps no timer: the line for a period is
written by the first event after it (or by L{Tally.flush}, which a server
calls when it stops), so an idle server writes nothing, and a server that has
just fallen idle reports its last busy period with its next event. The event
per poem is still there for whoever asks for it (``--log-level debug``):
``each`` says whether to emit it, so that nobody pays for building an event
that would be filtered out.
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger, LogLevel

SUMMARY_PERIOD = 10.0
"""Seconds between two summary lines of a busy server."""


class Tally:
    """Count events of one kind and their bytes; log a summary per period with any.

    ``what`` names the events in the summary (``poems served``);
    ``each``: whether the caller should also log each event (debug level).
    The summary of a period is logged by the first event after it, or by
    L{flush}.
    """

    def __init__(
        self,
        clock: IReactorTime,
        what: str,
        log: Logger,
        period: float = SUMMARY_PERIOD,
        each: bool = False,
    ) -> None:
        self.clock = clock
        self.what = what
        self.each = each
        self._log = log
        self._period = period
        self._count = 0
        self._bytes = 0
        self._since = 0.0

    def count(self, size: int = 0) -> None:
        """Count one event of ``size`` bytes, after summarising a period that is over."""
        now = self.clock.seconds()
        if self._count == 0:
            self._since = now
        elif now - self._since >= self._period:
            self._summarise(now)
            self._since = now
        self._count += 1
        self._bytes += size

    def _summarise(self, now: float) -> None:
        """Log the counts since the period began, and start afresh."""
        self._log.info(
            "{what}: {count} ({bytes} bytes) in {seconds:.1f} s",  # pragma: no mutate (log text)
            event="tally",
            count=self._count,
            what=self.what,
            bytes=self._bytes,
            seconds=now - self._since,
        )
        self._count = self._bytes = 0

    def flush(self) -> None:
        """Log what is counted now, if anything is."""
        if self._count:
            self._summarise(self.clock.seconds())


def counted(tally: Tally | None, size: int) -> LogLevel | None:
    """Count one ordinary event of ``size`` bytes; return the level to log it at, if any.

    Without a tally each event is logged at info; with one it is counted, and
    logged at debug only when the tally asks for each.
    """
    if tally is None:
        return LogLevel.info
    tally.count(size)
    return LogLevel.debug if tally.each else None
