"""Fakes for the unit tier: sockets Twisted's own TCP code can run on, transports that half-close.

A L{FakeSocket} is what a real port or connection holds as its C{socket},
recording what is done to it (options, shutdown, close) instead of asking a
kernel; given connections to hand out, it is a listening socket that a real
C{twisted.internet.tcp.Port} accepts from.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from twisted.internet.testing import StringTransport


class FakeSocket:
    """A TCP socket that records what is done to it, in order, in ``calls``.

    ``options`` holds the C{(level, name, value)} of each C{setsockopt}. With
    ``waiting`` connections it listens: each C{accept} hands out the next one,
    then fails as a non-blocking socket with nothing waiting does.
    """

    def __init__(
        self,
        family: int = socket.AF_INET,
        name: Any = ("127.0.0.1", 10000),
        waiting: list[FakeSocket] | None = None,
        descriptor: int = 1_000_000,
    ) -> None:
        self.family = family
        self.descriptor = descriptor
        self.name = name
        self.waiting = list(waiting or [])
        self.calls: list[tuple[Any, ...]] = []
        self.options: list[tuple[int, int, bytes]] = []
        self.accepts = 0

    def setsockopt(self, level: int, option: int, value: bytes) -> None:
        """Record the option."""
        self.options.append((level, option, value))
        self.calls.append(("setsockopt", level, option, value))

    def shutdown(self, how: int) -> None:
        """Record a shutdown."""
        self.calls.append(("shutdown", how))

    def close(self) -> None:
        """Record the close."""
        self.calls.append(("close",))

    def accept(self) -> tuple[FakeSocket, tuple[str, int]]:
        """Hand out the next waiting connection, or fail with C{EAGAIN}."""
        self.accepts += 1
        if not self.waiting:
            raise BlockingIOError(errno.EAGAIN, "no connection waiting")
        return self.waiting.pop(0), ("127.0.0.1", 50000 + self.accepts)

    def bind(self, address: Any) -> None:
        """Bind (in name only)."""

    def listen(self, backlog: int) -> None:
        """Listen (in name only)."""

    def setblocking(self, flag: bool) -> None:
        """Set blocking mode (in name only)."""

    def fileno(self) -> int:
        """Its descriptor: by default a number no real file has here.

        Some Twisted releases set close-on-exec on an accepted socket's
        descriptor: give those a real one (of the null device, say).
        """
        return self.descriptor

    def getsockname(self) -> Any:
        """The address it is bound to."""
        return self.name

    def getpeername(self) -> Any:
        """The other end's address."""
        return ("127.0.0.1", 50000)


class HalfClosingTransport(StringTransport):
    """A memory transport that can half-close, as a TCP transport can (StringTransport cannot).

    A protocol that ends its output with C{loseWriteConnection} takes, on a
    plain L{StringTransport}, the branch for transports that cannot: this one
    makes it take the branch real sockets take. ``write_closed`` says whether
    it was asked to.
    """

    write_closed = False

    def loseWriteConnection(self) -> None:
        """Record the half-close (Twisted would send the FIN once its buffer is empty)."""
        self.write_closed = True
