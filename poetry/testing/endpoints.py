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

from poetry.testing.kernel import Kernel, Lane
from poetry.testing.queues import Inbox, Outbox
from poetry.testing.timeline import KernelEvent

CONNECTING, HALF_OPEN, OPEN, CLOSED = "connecting", "half open", "open", "closed"


class Endpoint:
    """One side of a TCP connection: its queues, its state, and the packets it sends."""

    def __init__(self, kernel: Kernel, host: str, port: int) -> None:
        self.kernel = kernel
        self.host, self.port = host, port
        self.peer: Endpoint | None = None
        self.state = "new"
        self.outbox, self.inbox = Outbox(), Inbox()
        self.error: int | None = None
        """The error the application hears next (C{SO_ERROR}), if any."""
        self.closed_by_app = False
        self.read_shut = False
        self.connection: Any = None
        """The network's record of the connection (it says whether it is held)."""
        self.listener: Any = None
        self.target: tuple[str, int] | None = None
        self.socket: Any = None
        """The socket the application holds for this side, once it has one."""
        self.options: dict[tuple[int, int], Any] = {}
        """Socket options set before there was a socket (those of the listening socket)."""
        self.lane = Lane()
        self._timer: KernelEvent | None = None
        self._tries = 0

    @property
    def gone(self) -> bool:
        """Whether nothing is left of this side in its kernel."""
        return self.state == CLOSED or (
            self.closed_by_app and self.outbox.fin_acked and self.inbox.fin
        )

    # the handshake, client side

    def connect(self, host: str, port: int) -> None:
        """Start connecting to ``host``:``port``: a SYN now, again until answered or given up."""
        self.state, self.target = CONNECTING, (host, port)
        self._syn()

    def _syn(self) -> None:
        assert self.target is not None
        self._tries += 1
        host, port = self.target
        self._send(host, lambda: self._syn_arrived(host, port), "SYN")
        interval = self.kernel.settings.syn_interval(self._tries)
        self._timer = self.kernel.later(interval, self._syn_timed_out, "SYN retry")

    def _syn_timed_out(self) -> None:
        self._timer = None
        if self.state != CONNECTING:
            return
        if self._tries >= self.kernel.settings.syn_attempts:
            self._close_with(errno.ETIMEDOUT)
        else:
            self._syn()

    def _syn_arrived(self, host: str, port: int) -> None:
        """Our SYN reached ``host``: it is swallowed, refused or handed to a listener."""
        links = self.kernel.links
        if links.swallows(host, port):
            return
        listener = self.kernel.listener(host, port)
        if listener is None or links.refuses(host, port):
            self.kernel.carry(host, self.host, lambda: self.reset_arrived(None), "RST")
        else:
            listener.syn(self)

    def synack_arrived(self, server: Endpoint) -> None:
        """The listener answered: the connection is made (or, if we gave up, reset)."""
        if self.state == CONNECTING:
            self._disarm()
            self.peer, self.state, self._tries = server, OPEN, 0
            if self.connection is not None:
                self.connection.made(self.kernel.now)
        if self.state == OPEN and self.peer is server:
            self._send(server.host, lambda: server.handshake_acked(self), "ACK")
        else:
            self._send(server.host, lambda: server.reset_arrived(self), "RST")

    # the handshake, server side

    def answer(self) -> None:
        """Answer the client's SYN (again, until the handshake completes or we give up)."""
        assert self.peer is not None
        client = self.peer
        self._send(client.host, lambda: client.synack_arrived(self), "SYN-ACK")
        self._tries += 1
        interval = self.kernel.settings.syn_timeout * 2 ** (self._tries - 1)
        self._timer = self.kernel.later(interval, self._synack_timed_out, "SYN-ACK retry")

    def _synack_timed_out(self) -> None:
        self._timer = None
        if self.state != HALF_OPEN:
            return
        if self._tries > self.kernel.settings.synack_retries:
            self.state = CLOSED
            self.listener.forget(self)
        else:
            self.answer()

    def handshake_acked(self, client: Endpoint) -> None:
        """The client's ACK arrived: the connection waits to be accepted."""
        if self.state == HALF_OPEN:
            self.listener.complete(self)

    def established(self) -> None:
        """The listener queued this side for its application to accept."""
        self._disarm()
        self.state, self._tries = OPEN, 0

    # data

    def transmit(self) -> None:
        """Send what the peer's window takes now, and the FIN once every byte is out."""
        if self.state != OPEN or self.peer is None:
            return
        peer, out, settings = self.peer, self.outbox, self.kernel.settings
        in_flight = max(0, out.next - peer.inbox.received)
        window = settings.receive_buffer - peer.inbox.queued - in_flight
        if out.unsent and window > 0:
            sequence, chunk = out.take(window)
            for piece in self.kernel.links.segments(chunk):
                for start in range(0, len(piece), settings.segment_size):
                    part = piece[start : start + settings.segment_size]
                    self._send_data(sequence, part, False)
                    sequence += len(part)
        if out.fin and not out.fin_sent and not out.unsent:
            out.fin_sent = True
            self._send_data(out.end, b"", True)
        probing = self._timer is not None and self._timer.what == "window probe"
        if out.in_flight and probing:
            self._disarm()
        if self._timer is None and (out.in_flight or out.unsent):
            self._arm(probe=not out.in_flight)

    def _send_data(self, sequence: int, data: bytes, fin: bool) -> None:
        peer = self.peer
        assert peer is not None
        what = "FIN" if fin else f"{len(data)} bytes"
        self._send(peer.host, lambda: peer.segment_arrived(self, sequence, data, fin), what)

    def segment_arrived(self, sender: Endpoint, sequence: int, data: bytes, fin: bool) -> None:
        """Bytes (or a FIN) from the peer: queue them, acknowledge, or answer with an RST."""
        if self.state == HALF_OPEN:
            self.listener.complete(self)
            if self.state == HALF_OPEN:
                return  # the accept queue is full: the peer sends again
        if self.gone:
            self._send(sender.host, lambda: sender.reset_arrived(self), "RST")
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
            self._tries = 0
            self._changed()
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
        interval = self.kernel.settings.retransmit_interval(round_trip, self._tries + 1)
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
        self._tries += 1
        if self.outbox.in_flight and self._tries > self.kernel.settings.retries:
            self._close_with(errno.ETIMEDOUT)
            return
        self.outbox.go_back()
        self.transmit()

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
        if self.state == CONNECTING:
            self._close_with(None)
        elif self.state == OPEN and (reset or self.inbox.queued):
            self.reset()
        elif self.state == OPEN:
            self.shut_write()
        elif self.state == HALF_OPEN:
            self._close_with(None)  # a listener closing forgets connections half made

    def reset(self) -> None:
        """Send an RST now: every byte not yet sent is dropped; this side is gone."""
        if self.state == CLOSED:
            return
        self._close_with(None)
        peer = self.peer
        if peer is not None:
            self._send(peer.host, lambda: peer.reset_arrived(self), "RST")

    def reset_arrived(self, sender: Endpoint | None) -> None:
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
        """Tell the connection's record that this side may be gone now."""
        if self.connection is not None:
            self.connection.changed(self.kernel.now)

    def _send(self, host: str, arrive: Any, what: str) -> bool:
        connection = self.connection
        return self.kernel.carry(
            self.host,
            host,
            arrive,
            what,
            held=lambda: connection is not None and connection.held,
            lane=self.lane,
        )
