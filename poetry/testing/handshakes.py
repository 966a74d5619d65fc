"""How a TCP connection is opened, on each side: SYN, SYN-ACK and ACK, with Linux's retries.

A client sends its SYN again on Linux's schedule until it is answered, refused
(an RST) or given up; a listener answers with a SYN-ACK, again until the
client's ACK (or any segment of the client's) completes the handshake.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from poetry.testing.kernel import Kernel
from poetry.testing.timeline import KernelEvent

CONNECTING, HALF_OPEN, OPEN, CLOSED = "connecting", "half open", "open", "closed"


class Handshake:
    """The opening of a connection, for one side (an endpoint, which mixes this in)."""

    kernel: Kernel
    host: str
    state: str
    peer: Any
    target: tuple[str, int] | None
    connection: Any
    listener: Any
    stalled: bool
    _timer: KernelEvent | None
    _tries: int

    if TYPE_CHECKING:  # what the endpoint that mixes this in provides

        def _send(self, host: str, arrive: Any, what: str) -> bool: ...

        def _disarm(self) -> None: ...

        def _close_with(self, error: int | None) -> None: ...

        def _changed(self) -> None: ...

        def reset_arrived(self) -> None:
            """The peer reset the connection (or refused it)."""
            ...

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
            self.kernel.carry(host, self.host, self.reset_arrived, "RST")
        else:
            listener.syn(self)

    def synack_arrived(self, server: Any) -> None:
        """The listener answered: the connection is made (or, if we gave up, reset)."""
        if self.state == CONNECTING:
            self._disarm()
            self.peer, self.state, self._tries = server, OPEN, 0
            if self.connection is not None:
                self.connection.made(self.kernel.now)
            self._changed()
        if self.state == OPEN and self.peer is server:
            self._send(server.host, server.handshake_acked, "ACK")
        else:
            self._send(server.host, server.reset_arrived, "RST")

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
            self._close_with(None)
            self.listener.forget(self)
        else:
            self.answer()

    def handshake_acked(self) -> None:
        """The client's ACK arrived: the connection waits to be accepted (or stalls)."""
        if self.state == HALF_OPEN and self._stall():
            return
        if self.state == HALF_OPEN:
            self.listener.complete(self)

    def _stall(self) -> bool:
        """Hold the connection now, if it is to stall: nothing more moves until released."""
        if not self.stalled:
            return False
        self.stalled = False
        if self.connection is not None:
            self.connection.hold()
        return True

    def established(self) -> None:
        """The listener queued this side for its application to accept."""
        self._disarm()
        self.state, self._tries = OPEN, 0
