"""What the simulated network remembers: every connection attempt, and every connection made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from poetry.testing.endpoints import Endpoint

OUTCOMES = {
    "ConnectionRefusedError": "refused",
    "TimeoutError": "timed out",
    "TCPTimedOutError": "timed out",
    "UserError": "cancelled",
    "DNSLookupError": "no such host",
}
"""How a failed attempt's reason names its outcome (any other reason is named by its type)."""


@dataclass(eq=False)
class MemoryConnection:
    """A connection on the simulated network: its two sides, and the faults put on it.

    C{client} and C{server} are the Twisted transports of its two sides (the
    server's once its process has accepted the connection). C{hold()} drops
    every packet of the connection, both ways, until C{release()}: TCP sends
    what was dropped again at its next retransmission after the release.
    """

    client_side: Endpoint
    opened: float | None = None
    """When the handshake completed, on the network's clock."""
    closed_at: float | None = None
    """When nothing was left of either side, on the network's clock."""
    held: bool = False
    server_side: Endpoint | None = field(default=None, repr=False)

    @property
    def listening(self) -> tuple[str, int] | None:
        """The address of the listening socket that took the connection."""
        listener = self.server_side.listener if self.server_side is not None else None
        return (listener.host, listener.port) if listener is not None else None

    @property
    def client(self) -> Any:
        """The client's Twisted transport."""
        return getattr(self.client_side.socket, "transport", None)

    @property
    def server(self) -> Any:
        """The server's Twisted transport, once the server's process accepted the connection."""
        side = self.server_side
        return getattr(side.socket, "transport", None) if side is not None else None

    @property
    def closed(self) -> bool:
        """Whether nothing is left of the connection on either side."""
        server_gone = self.server_side is None or self.server_side.gone
        return self.client_side.gone and server_gone

    def hold(self) -> None:
        """Drop this connection's packets, both ways, until released."""
        self.held = True

    def release(self) -> None:
        """Let this connection's packets through again (what was dropped is sent again)."""
        self.held = False

    def reset(self, side: str = "server") -> None:
        """Make ``side`` (C{"server"} or C{"client"}) abort the connection, as its process would.

        Like C{abortConnection}, the reset leaves on that reactor's next turn;
        a side its process has not accepted yet is reset by its kernel at once.
        """
        if side not in ("server", "client"):
            raise ValueError(f'side is "server" or "client", not {side!r}')
        transport = self.server if side == "server" else self.client
        endpoint = self.server_side if side == "server" else self.client_side
        if transport is not None:
            transport.abortConnection()
        elif endpoint is not None:
            endpoint.reset()

    # what the kernel tells the record

    def answered(self, server: Endpoint) -> None:
        """A listener answered the client's SYN with ``server``."""
        self.server_side = server

    def made(self, now: float) -> None:
        """The handshake completed at ``now``."""
        if self.opened is None:
            self.opened = now

    def changed(self, now: float) -> None:
        """A side may be gone: note when the whole connection is."""
        if self.closed_at is None and self.closed and self.opened is not None:
            self.closed_at = now


@dataclass(eq=False)
class ConnectionAttempt:
    """One C{connectTCP} on the network: where to, from where, when, and how it ended.

    ``outcome`` is C{"pending"} until it is one of C{"connected"},
    C{"refused"}, C{"timed out"}, C{"cancelled"} or C{"no such host"} (or the
    name of another failure's type); ``connection`` is the connection it made.
    """

    time: float
    host: str
    port: int
    source: str
    outcome: str = "pending"
    connection: MemoryConnection | None = None
    ended: float | None = None

    def settle(self, outcome: str, now: float) -> None:
        """Record how the attempt ended, and when."""
        self.outcome, self.ended = outcome, now
