"""How a connection's bytes and FIN move, one side's view: windows, acknowledgements, retries.

A side sends what its peer's receive window takes; each segment is
acknowledged when it arrives in order; what is not acknowledged in time is
sent again from the oldest byte, the timeout doubling each try (with nothing
in flight, the timer probes a closed window instead, and never gives up on a
peer that is there).
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from poetry.testing.handshakes import HALF_OPEN, OPEN
from poetry.testing.kernel import Kernel
from poetry.testing.queues import Inbox, Outbox
from poetry.testing.timeline import KernelEvent


class Stream:
    """The data path of one side of a connection (an endpoint, which mixes this in)."""

    kernel: Kernel
    host: str
    state: str
    peer: Any
    listener: Any
    outbox: Outbox
    inbox: Inbox
    read_shut: bool
    _timer: KernelEvent | None
    _tries: int
    _probes: int
    """Window probes sent since the window last opened."""
    _segments: int
    """Segments sent and not acknowledged since the last acknowledgement."""

    if TYPE_CHECKING:  # what the endpoint that mixes this in provides

        @property
        def gone(self) -> bool:
            """Whether nothing is left of this side in its kernel."""
            ...

        def _send(self, host: str, arrive: Any, what: str, size: int = 0) -> bool: ...

        def _close_with(self, error: int | None) -> None: ...

        def _changed(self) -> None: ...

        def _await_fin(self) -> None: ...

        def _stall(self) -> bool: ...

        def reset(self) -> None:
            """Send an RST now."""
            ...

    # data

    def transmit(self) -> None:
        """Send what the peer's window takes now, and the FIN once every byte is out."""
        if self.state != OPEN:
            return
        peer, out, settings = self.peer, self.outbox, self.kernel.settings
        segments = self._segments
        in_flight = max(0, out.next - peer.inbox.received)
        window = settings.receive_buffer - peer.inbox.queued - in_flight
        recovering = self._tries > 1  # a timeout (past the tail loss probe) since the last ACK
        if recovering:
            window = min(window, out.high - out.next)  # only what was sent: no new data yet
        if out.unsent and window > 0:  # pragma: no mutate (taking no byte sends nothing)
            sequence, chunk = out.take(window)
            for piece in self.kernel.links.segments(chunk):
                for start in range(0, len(piece), settings.segment_size):
                    part = piece[start : start + settings.segment_size]
                    self._send_data(sequence, part, False)
                    sequence += len(part)
                    self._segments += 1
        if (
            out.fin
            and not out.fin_sent
            and not out.unsent
            and not (recovering and not out.fin_was_sent)
        ):
            out.fin_sent = out.fin_was_sent = True
            self._send_data(out.end, b"", True)
            self._segments += 1
        probing = self._timer is not None and self._timer.what == "window probe"
        if (out.in_flight and probing) or (self._segments > segments and self._tries == 0):
            self._disarm()  # the tail loss probe is timed from the last segment sent
        if self._timer is None and (out.in_flight or out.unsent):
            self._arm(probe=not out.in_flight)

    def _send_data(self, sequence: int, data: bytes, fin: bool) -> None:
        peer = self.peer
        assert peer is not None
        what = "FIN" if fin else f"{len(data)} bytes"
        arrive = lambda: peer.segment_arrived(self, sequence, data, fin)  # noqa: E731
        self._send(peer.host, arrive, what, len(data))

    def segment_arrived(self, sender: Any, sequence: int, data: bytes, fin: bool) -> None:
        """Bytes (or a FIN) from the peer: queue them, acknowledge, or answer with an RST."""
        if self.state == HALF_OPEN:
            if self._stall():
                return
            self.listener.complete(self)
        if self.gone:
            self._send(sender.host, sender.reset_arrived, "RST")
            return
        if self.read_shut and self.outbox.fin and sequence + len(data) > self.inbox.received:
            self.reset()
            return
        self.inbox.accept(sequence, data, fin)
        self._changed()
        received, got_fin = self.inbox.received, self.inbox.fin
        self._send(sender.host, lambda: sender.acknowledged(received, got_fin), "ACK")

    def acknowledged(self, received: int, fin: bool) -> None:
        """The peer acknowledged what it received: the next try starts afresh; send more."""
        if self.state == OPEN and self.outbox.acknowledge(received, fin):
            self._disarm()
            self._tries = self._segments = self._probes = 0
            self._changed()
            self._await_fin()
        self.transmit()

    def read(self, limit: int) -> bytes:
        """Hand the application up to ``limit`` bytes; the peer may send more now."""
        data = self.inbox.read(limit)
        peer = self.peer
        if peer is not None and peer.outbox.unsent:
            self._send(peer.host, peer.transmit, "window update")
        return data

    # timers

    def _arm(self, probe: bool = False) -> None:
        """Set the retransmission timer (or, with nothing in flight, the window probe timer)."""
        assert self.peer is not None
        round_trip = self.kernel.round_trip(self.host, self.peer.host)
        settings = self.kernel.settings
        tries = self._probes if probe else self._tries
        interval = settings.retransmit_interval(round_trip, tries + 1, self._segments)
        what = "window probe" if probe else "retransmission"
        self._timer = self.kernel.later(interval, self._retransmit, what)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _retransmit(self) -> None:
        """Nothing was acknowledged in time: send again from the oldest byte, or give up.

        With nothing in flight the timer was a probe of a closed window: it
        backs off the same way, but a peer that is there never times out.
        """
        self._timer = None
        if self.state != OPEN:
            return
        if not self.outbox.in_flight:
            self._probes += 1
            self.transmit()
            return
        self._tries += 1
        if self._tries > self.kernel.settings.retries + 1:
            self._close_with(errno.ETIMEDOUT)
            return
        self.outbox.go_back()
        self.transmit()
