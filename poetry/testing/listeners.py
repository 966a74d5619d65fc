"""A listening socket in its kernel: connections half made, and those made but not yet accepted.

As on Linux, the kernel completes the handshake without the application: a
client is connected once its SYN is answered, whether or not the server has
called C{accept()}. A SYN that finds the accept queue fuller than the backlog
is dropped (the client sends it again). Closing the listener resets the
connections it made that were never accepted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from poetry.testing.endpoints import CLOSED, HALF_OPEN, Endpoint
from poetry.testing.kernel import Kernel


class Listener:
    """The kernel's side of a listening socket at ``host``:``port``."""

    def __init__(
        self,
        kernel: Kernel,
        host: str,
        port: int,
        backlog: int,
        prepare: Callable[[Endpoint], None],
        touch: Callable[[], None],
    ) -> None:
        self.kernel = kernel
        self.host, self.port = host, port
        self.backlog = max(0, min(backlog, kernel.settings.max_backlog))
        self._prepare, self._touch = prepare, touch
        self._half_open: dict[Endpoint, Endpoint] = {}
        self._queue: deque[Endpoint] = deque()

    def syn(self, client: Endpoint) -> None:
        """A client's SYN arrived: answer it, unless the accept queue is full."""
        if client in self._half_open:
            self._half_open[client].answer()
            return
        if self._full:
            return
        assert client.target is not None
        server = Endpoint(self.kernel, client.target[0], self.port)
        server.peer, server.state, server.listener = client, HALF_OPEN, self
        server.connection = client.connection
        server.stalled = self.kernel.links.stalls(server.host, self.port)
        if server.connection is not None:
            server.connection.answered(server)
        self._prepare(server)
        self._half_open[client] = server
        server.answer()

    @property
    def _full(self) -> bool:
        """Whether a new SYN finds no room: the queue and the handshakes under way past the backlog.

        On Linux each handshake over loopback or a LAN completes within its
        connect, so the next SYN finds it queued: as measured, a listener that
        does not accept takes the backlog and one more, and drops the SYNs after.
        """
        return len(self._queue) + len(self._half_open) > self.backlog

    def complete(self, server: Endpoint) -> None:
        """The handshake of ``server`` completed: queue it to be accepted.

        There is room: a SYN is answered only while the queue and the
        handshakes under way leave some (L{_full}).
        """
        assert server.peer is not None  # a server side has its client from the start
        del self._half_open[server.peer]
        server.established()
        self._queue.append(server)
        self._touch()

    def forget(self, server: Endpoint) -> None:
        """Drop a connection half made (reset, or never completed)."""
        if server.peer in self._half_open and self._half_open[server.peer] is server:
            del self._half_open[server.peer]

    @property
    def waiting(self) -> bool:
        """Whether a connection waits to be accepted."""
        return bool(self._queue)

    def accept(self) -> Endpoint | None:
        """The oldest connection made and not yet accepted, if any."""
        return self._queue.popleft() if self._queue else None

    def close(self) -> None:
        """Stop listening: reset what was made and never accepted, forget what was half made."""
        self.kernel.unlisten(self.host, self.port)
        for server in list(self._half_open.values()):
            server.close(reset=False)
        self._half_open.clear()
        while self._queue:
            server = self._queue.popleft()
            if server.state != CLOSED:
                server.reset()
