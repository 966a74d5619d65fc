"""Say that a server's connection limit is reached, and that it accepts again, without flooding."""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

LIMIT_LOG_PERIOD = 10.0
"""Seconds after a connection-limit warning during which reaching the limit again is only counted.

A server under a burst at its limit fills up again with every connection
that closes: it warns once, says once that it accepts again, and warns again
only after this long, with how many times it filled up since.
"""


class LimitWarning:
    """The warnings of one server's connection limit: at most one per L{LIMIT_LOG_PERIOD}.

    L{reached} warns (or only counts, within the period of the last warning);
    L{resumed} says, once after each warning, that connections are accepted
    again. Without a clock every time the limit is reached is warned.
    """

    _log = Logger()

    def __init__(self, clock: IReactorTime | None = None) -> None:
        self._clock = clock
        self._fills = 0  # times the limit was reached since the last warning
        self._warned_at: float | None = None
        self._resume_to_log = False

    def reached(self, count: int) -> None:
        """The limit is reached with ``count`` connections open: warn, unless said lately."""
        self._fills += 1
        now = self._clock.seconds() if self._clock is not None else None
        if now is not None and self._warned_at is not None:
            if 0 <= now - self._warned_at < LIMIT_LOG_PERIOD:  # a clock set back warns
                return
        again = (
            " (full {times} times since the last warning)"  # pragma: no mutate (log text)
            if self._fills > 1
            else ""  # pragma: no mutate (log text)
        )
        self._log.warn(
            "{count} connections open, the limit for this "  # pragma: no mutate (log text)
            "process's file descriptors:"  # pragma: no mutate (log text)
            " new clients wait in the listen backlog" + again,  # pragma: no mutate (log text)
            event="connection-limit-reached",
            count=count,
            times=self._fills,
        )
        self._fills = 0
        self._warned_at = now
        self._resume_to_log = True

    def resumed(self) -> None:
        """Connections are accepted again: say so, if a warning was given since it was last said."""
        if self._resume_to_log:
            self._resume_to_log = False
            self._log.info(
                "accepting connections again",  # pragma: no mutate (log text)
                event="accepting-again",
            )
