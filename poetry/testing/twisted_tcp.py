"""Twisted's own TCP port, connector and transports, on sockets of the simulated kernel.

Each class here only says where its socket comes from: everything else is
Twisted's C{twisted.internet.tcp}, unchanged. So the simulated network runs
the code a real reactor runs above the socket: how a port accepts in batches,
how a transport buffers, pauses a producer, half-closes, closes in order
(C{shutdown}, then C{close}) and aborts (C{SO_LINGER} 0, on the next turn).
"""

from __future__ import annotations

from typing import Any

from twisted.internet import tcp
from twisted.internet.interfaces import IAddress, IProtocol
from twisted.python.failure import Failure

from poetry.testing.records import OUTCOMES, ConnectionAttempt


class MemoryServer(tcp.Server):
    """Twisted's server-side TCP transport, on a simulated socket."""

    def __init__(self, sock: Any, *args: Any) -> None:
        sock.transport = self
        super().__init__(sock, *args)


class MemoryPort(tcp.Port):
    """Twisted's TCP port, listening on a simulated socket of its process."""

    transport = MemoryServer  # type: ignore[assignment]  # a subclass of Twisted's Server

    def createInternetSocket(self) -> Any:
        """A simulated socket of this port's process, instead of a real one."""
        reactor: Any = self.reactor
        sock = reactor.make_socket(self.addressFamily)
        sock.transport = self
        return sock

    @property
    def key(self) -> tuple[str, int]:
        """The address listened on: host and port."""
        address: Any = self.getHost()  # type: ignore[no-untyped-call]
        return address.host, address.port


class MemoryClient(tcp.Client):
    """Twisted's client-side TCP transport, on a simulated socket."""

    def __init__(self, host: str, port: int, bindAddress: Any, connector: Any, reactor: Any):
        self.reactor = reactor  # Twisted sets it only after making the socket
        super().__init__(host, port, bindAddress, connector, reactor)  # type: ignore[no-untyped-call]

    def createInternetSocket(self) -> Any:
        """A simulated socket of this client's process, instead of a real one."""
        reactor: Any = self.reactor
        sock = reactor.make_socket(self.addressFamily)
        sock.transport = self
        return sock


class MemoryConnector(tcp.Connector):
    """Twisted's TCP connector, making simulated clients, each attempt on the network's record."""

    attempt: ConnectionAttempt

    def _makeTransport(self) -> MemoryClient:
        return MemoryClient(self.host, self.port, self.bindAddress, self, self.reactor)

    def connect(self) -> None:
        """Start an attempt, and put it on record."""
        reactor: Any = self.reactor
        self.attempt = reactor.record_attempt(self.host, self.port, self.bindAddress)
        super().connect()

    def buildProtocol(self, addr: IAddress) -> IProtocol | None:
        """The attempt connected."""
        self.attempt.settle("connected", self.reactor.seconds())
        transport: Any = self.transport
        self.attempt.connection = transport.socket.connection
        return super().buildProtocol(addr)

    def connectionFailed(self, reason: Failure) -> None:
        """The attempt failed: refused, timed out, cancelled, or no such host."""
        name = type(reason.value).__name__
        self.attempt.settle(OUTCOMES.get(name, name), self.reactor.seconds())
        super().connectionFailed(reason)
