"""Keep a listening port within a limit of open connections: pause it when full, size batches."""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from twisted.internet.interfaces import IDelayedCall, IListeningPort, IReactorTime

from poetry.operations import internals
from poetry.operations.endpoints import DEFAULT_BACKLOG
from poetry.operations.limit_warning import LimitWarning

ACCEPT_REACH = 2 * DEFAULT_BACKLOG
"""How close to its connection limit a server is when one batch of accepts may go past it.

A batch takes what waits in the listen backlog (L{DEFAULT_BACKLOG} unless an
endpoint sets its own; the kernel caps any at C{somaxconn}) and what arrives
meanwhile. Further from the limit, the port's own batch sizes are left alone:
re-limiting them after every batch made them as large as the room, and a
server pacing 10,000 slow clients, accepted in such batches, fell seconds
behind (`python -m benchmarks`, the 0.1 s pace).
"""


class AcceptLimiter:
    """Pause the port it watches once ``limit`` connections are open, resume it when one closes.

    ``open_connections`` is the collection of open connections, whose size
    the limiter reads (it is told when one opens or closes). With a ``clock``,
    near the limit, it also limits the port's batch of accepts again after
    each batch. Reaching the limit is warned through a L{LimitWarning}.
    """

    def __init__(
        self,
        open_connections: Sized,
        limit: int | None,
        clock: IReactorTime | None = None,
    ) -> None:
        self.limit = limit
        self._open = open_connections
        self._clock = clock
        self._warning = LimitWarning(clock)
        self._port: Any = None
        self._paused = False
        self._clamp_again: IDelayedCall | None = None

    @property
    def full(self) -> bool:
        """Whether the limit of open connections is reached."""
        return self.limit is not None and len(self._open) >= self.limit

    def watch(self, port: IListeningPort | None) -> None:
        """Pause and resume ``port`` to keep within the limit (None: stop doing so)."""
        self._port = port
        self._limit_accepts()
        if port is None and self._clamp_again is not None:
            self._clamp_again.cancel()
            self._clamp_again = None

    def opened(self) -> None:
        """A connection is open: limit the next batch; pause the port once the limit is reached."""
        self._limit_accepts()
        self._limit_after_batch()
        if self.full and not self._paused and self._port is not None:
            self._paused = True
            self._warning.reached(len(self._open))
            internals.pause_accepting(self._port)

    def closed(self) -> None:
        """A connection is closed: resume a paused port once there is room."""
        self._limit_accepts()
        if self._paused and not self.full:
            self._paused = False
            if self._port is not None:
                self._warning.resumed()
                internals.resume_accepting(self._port)

    def _limit_accepts(self) -> None:
        """Let the port's next accept loop take no more connections than there is room for.

        A Twisted TCP port accepts a batch of up to C{numberAccepts} connections
        each time it is readable, and does not look at being paused until the
        batch is over: without this, a burst would go past the limit and the
        extra clients would be reset instead of waiting in the backlog. After a
        batch the port sets its next batch size itself (the size of that batch,
        or 20 more), which may be more than the room: so, with a clock and
        within L{ACCEPT_REACH} of the limit, the size is limited again on the
        reactor's next turn, before the port next accepts.
        """
        if self._port is not None and self.limit is not None:
            internals.set_accept_batch(self._port, max(1, self.limit - len(self._open)))

    def _limit_after_batch(self) -> None:
        """Near the limit, once the accept loop now running is over, limit the next batch again."""
        if self._clock is None or self._port is None or self.limit is None:
            return
        if self._clamp_again is None and self.limit - len(self._open) <= ACCEPT_REACH:
            self._clamp_again = self._clock.callLater(0, self._after_batch)

    def _after_batch(self) -> None:
        """Limit the port's next batch again, after its own adjustment."""
        self._clamp_again = None
        self._limit_accepts()
