"""One side of a TCP connection in its kernel: the handshake, data, FIN and RST, as Linux has them.

The rules that decide how a connection ends, each measured on Linux:

 - a FIN follows every byte sent before it; a peer that has read them and
   the FIN sees a clean close, even if an RST arrives after the FIN;
 - C{close()} with bytes received and not read, or with C{SO_LINGER} 0, sends
   an RST instead, which drops every byte not yet sent (the peer keeps what
   its own kernel already holds);
 - bytes arriving at a side that has closed, or shut down both ways, earn the
   sender an RST;
 - what a cut link or a held connection drops is sent again after the
   retransmission timeout, which doubles each try; a FIN too, but never an RST.
"""

from __future__ import annotations

import errno
from typing import Any

from poetry.testing.handshakes import CLOSED, CONNECTING, HALF_OPEN, OPEN, Handshake
from poetry.testing.kernel import Kernel, Lane
from poetry.testing.queues import Inbox, Outbox
from poetry.testing.streams import Stream
from poetry.testing.timeline import KernelEvent

__all__ = ["CLOSED", "CONNECTING", "HALF_OPEN", "OPEN", "Endpoint"]

_OPENING = {CONNECTING: "SYN-SENT", HALF_OPEN: "SYN-RECV"}
"""The TCP state, as C{ss} names it, of a side whose handshake is under way."""


class Endpoint(Stream, Handshake):
    """One side of a TCP connection: its queues, its state, and the packets it sends.

    How it is opened is L{Handshake}'s, how its bytes and FIN move is
    L{Stream}'s; how it ends (a FIN, or an RST) is this class's.
    """

    def __init__(self, kernel: Kernel, host: str, port: int) -> None:
        self.kernel = kernel
        self.host, self.port = host, port
        self.peer: Endpoint | None = None
        self.state = "new"  # pragma: no mutate (set before any read)
        self.outbox, self.inbox = Outbox(), Inbox()
        self.error: int | None = None
        """The error the application hears next (C{SO_ERROR}), if any."""
        self.closed_by_app = False
        self.read_shut = False
        self.connection: Any = None  # pragma: no mutate (set before any read)
        """The network's record of the connection (it says whether it is held)."""
        self.listener: Any = None
        self.target: tuple[str, int] | None = None  # pragma: no mutate (set before any read)
        self.socket: Any = None
        """The socket the application holds for this side, once it has one."""
        self.stalled = False
        """Whether the connection is to be held as its handshake ends (a stall)."""
        self.options: dict[tuple[int, int], Any] = {}  # pragma: no mutate (set before any read)
        """Socket options set before there was a socket (those of the listening socket)."""
        self.lane = Lane()
        self._timer: KernelEvent | None = None  # pragma: no mutate (set before any read)
        self._orphan_timer: KernelEvent | None = None
        self._tries = self._segments = self._probes = 0

    @property
    def gone(self) -> bool:
        """Whether nothing is left of this side in its kernel."""
        return self.state == CLOSED or (
            self.closed_by_app and self.outbox.fin_acked and self.inbox.fin
        )

    @property
    def tcp_state(self) -> str:
        """The side's TCP state, as Linux's C{ss} names it (C{"CLOSED"} when nothing is left).

        The simulator keeps no TIME-WAIT (a side closed both ways is gone) and
        does not tell a simultaneous close (CLOSING) from LAST-ACK: a side whose
        FIN waits for its ACK, the peer's FIN received, is C{"LAST-ACK"}.
        """
        if self.state in _OPENING:
            return _OPENING[self.state]
        if self.state != OPEN or self.gone:
            return "CLOSED"
        out, peer_done = self.outbox, self.inbox.fin
        if not out.fin:
            return "CLOSE-WAIT" if peer_done else "ESTAB"
        if not out.fin_acked:
            return "LAST-ACK" if peer_done else "FIN-WAIT-1"
        return "CLOSED" if peer_done else "FIN-WAIT-2"

    # ends

    def shut_write(self) -> None:
        """Send a FIN after every byte queued (C{shutdown(SHUT_WR)})."""
        if not self.outbox.fin:
            self.outbox.fin = True
            self.transmit()

    def close(self, reset: bool) -> None:
        """The application closes its socket (``reset``: with C{SO_LINGER} 0)."""
        self.closed_by_app = self.read_shut = True
        self._changed()
        if self.state in (CONNECTING, HALF_OPEN):
            self._close_with(None)  # a connect abandoned; a listener's connection half made
        elif self.state == OPEN and (reset or self.inbox.queued):
            self.reset()
        elif self.state == OPEN:
            self.shut_write()
        self._await_fin()

    def _await_fin(self) -> None:
        """Closed, its FIN acknowledged, no FIN from the peer: drop it after C{fin_timeout}.

        As Linux does with an orphaned socket in FIN-WAIT-2 (C{tcp_fin_timeout},
        at least three and a half retransmission timeouts): a peer that
        vanished without a word (its reset lost) would hold it for ever.
        """
        if (
            self.state == OPEN
            and self.closed_by_app
            and self.outbox.fin_acked
            and not self.inbox.fin
            and self._orphan_timer is None
        ):
            assert self.peer is not None  # an open side has one
            round_trip = self.kernel.round_trip(self.host, self.peer.host)
            wait = self.kernel.settings.fin_wait_timeout(round_trip)
            self._orphan_timer = self.kernel.later(
                wait, self._orphan_timed_out, "FIN-WAIT-2 timeout"
            )

    def _orphan_timed_out(self) -> None:
        self._orphan_timer = None
        if self.state == OPEN and not self.inbox.fin:
            self._close_with(None)

    def reset(self) -> None:
        """Send an RST now: every byte not yet sent is dropped; this side is gone."""
        if self.state == CLOSED:
            return
        self._close_with(None)
        peer = self.peer
        if peer is not None:
            self._send(peer.host, peer.reset_arrived, "RST")

    def reset_arrived(self) -> None:
        """The peer reset the connection (or, while connecting, refused it)."""
        if self.state == CONNECTING:
            self._close_with(errno.ECONNREFUSED)
        elif self.state in (OPEN, HALF_OPEN):
            self._close_with(errno.EPIPE if self.inbox.fin else errno.ECONNRESET)
            if self.listener is not None:
                self.listener.forget(self)

    def _close_with(self, error: int | None) -> None:
        self._disarm()
        self.outbox.discard()
        self.state = CLOSED
        if error is not None:
            self.error = error
        self._changed()

    def _changed(self) -> None:
        """Say this side changed: its record may see it gone, its socket may be ready."""
        orphan = self._orphan_timer
        if orphan is not None and (self.state != OPEN or self.inbox.fin):
            orphan.cancel()  # the peer's FIN came, or the side is gone: nothing to wait for
            self._orphan_timer = None
        if self.connection is not None:
            self.connection.changed(self.kernel.now)
        if self.socket is not None:
            self.socket.touch()

    def _send(self, host: str, arrive: Any, what: str, size: int = 0) -> bool:
        connection = self.connection
        return self.kernel.carry(
            self.host,
            host,
            arrive,
            what,
            held=lambda: connection is not None and connection.held,
            lane=self.lane,
            size=size,
        )
