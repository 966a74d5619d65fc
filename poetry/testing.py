"""Test helpers for code that uses txpoetry: real services on an in-memory network.

L{MemoryPoetryNetwork} owns a L{MemoryReactorClock}. Real txpoetry services (or
any server factory) listen on it, with C{listenTCP} or L{MemoryPoetryNetwork.serve};
real client code (C{get_poetry}, C{fetch_many}, C{transform_poem}, the proxy's
upstream fetch) connects with C{connectTCP} on the same reactor. Nothing moves
until the test calls L{MemoryPoetryNetwork.flush}: then pending connections are
completed (or refused, where nothing listens) and bytes are pumped both ways
until the network is quiet. Time never moves by itself: the test owns the clock
(C{network.reactor.advance}).

Where the in-memory network differs from real TCP (see the contract tests in
``tests/unit/test_contract_memory.py`` and ``tests/integration/test_contract_tcp.py``):
bytes arrive in the same packets they were written in; a transport never pauses
its producer (no send buffer fills up); a connection attempt never times out by
itself; and there is no name resolution (hosts are matched as strings). An
aborted connection is modelled as a reset: unsent bytes are dropped and the peer
sees C{ConnectionLost}.
"""

from __future__ import annotations

from itertools import count
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import (
    ConnectionAborted,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.test import iosim
from zope.interface import implementer

WILDCARD_INTERFACES = ("", "0.0.0.0")
"""Interfaces that mean "every address" when listening."""

MAX_ROUNDS = 10_000
"""How many rounds of connecting and pumping ``flush`` allows before giving up."""


class NetworkDidNotSettle(RuntimeError):  # noqa: N818 (it names a state, not an error kind)
    """Bytes kept moving through C{flush} for more than L{MAX_ROUNDS} rounds."""


class _MemoryTransport(iosim.FakeTransport):
    """An iosim transport whose abort is a reset, as on real TCP."""

    peer: _MemoryTransport | None = None
    disconnectReason: Exception = iosim.FakeTransport.disconnectReason  # type: ignore[assignment]

    def abortConnection(self) -> None:
        """Drop unsent bytes and close; the peer sees the connection lost uncleanly."""
        self.stream = []
        self.disconnectReason = ConnectionAborted()
        if self.peer is not None:
            self.peer.disconnectReason = ConnectionLost("connection reset by peer")
        self.loseConnection()


@implementer(IListeningPort)
class _MemoryPort:
    """A listening port on the in-memory network."""

    def __init__(self, network: MemoryPoetryNetwork, address: IPv4Address) -> None:
        self._network = network
        self._address = address

    def startListening(self) -> None:
        """Already listening once made."""

    def stopListening(self) -> Deferred[None]:
        """Stop accepting connections: later attempts are refused."""
        self._network.stop_serving(self._address.host, self._address.port)
        return succeed(None)

    def getHost(self) -> IPv4Address:
        """Return the address listened on."""
        return self._address


class _NetworkReactor(MemoryReactorClock):
    """A memory reactor whose C{listenTCP} puts services on the network."""

    def __init__(self, network: MemoryPoetryNetwork) -> None:
        super().__init__()
        self._network = network

    def listenTCP(
        self, port: int, factory: IProtocolFactory, backlog: int = 50, interface: str = ""
    ) -> IListeningPort:
        """Serve ``factory`` on the network (a free port when ``port`` is 0)."""
        super().listenTCP(port, factory, backlog, interface)
        host = interface or "0.0.0.0"
        return self._network.serve(host, port, factory)


class MemoryPoetryNetwork:
    """An in-memory TCP network of real services, moved only when the test says."""

    def __init__(self) -> None:
        self.reactor = _NetworkReactor(self)
        self._services: dict[tuple[str, int], IProtocolFactory] = {}
        self._pumps: list[iosim.IOPump] = []
        self._free_ports = count(40000)
        self._client_ports = count(50000)

    def serve(self, host: str, port: int, factory: IProtocolFactory) -> IListeningPort:
        """Put ``factory`` at ``host``:``port`` (a free port when ``port`` is 0).

        Returns the listening port; its C{getHost} gives the real address, and
        C{stopListening} takes the service off the network.
        """
        if port == 0:
            port = next(self._free_ports)
        if (host, port) in self._services:
            raise ValueError(f"something already listens on {host}:{port}")
        factory.doStart()
        self._services[(host, port)] = factory
        return _MemoryPort(self, IPv4Address("TCP", host, port))

    def stop_serving(self, host: str, port: int) -> None:
        """Take the service at ``host``:``port`` off the network (open connections stay)."""
        self._services.pop((host, port)).doStop()

    def flush(self) -> None:
        """Complete or refuse pending connections and move bytes until nothing moves.

        Raises L{NetworkDidNotSettle} if bytes never stop moving. Never moves
        the clock.
        """
        for _ in range(MAX_ROUNDS):
            moved = self._complete_connections()
            for pump in list(self._pumps):
                if pump.pump(advanceClock=False):
                    moved = True
                if pump.clientIO.disconnected and pump.serverIO.disconnected:
                    self._pumps.remove(pump)
            if not moved:
                return
        raise NetworkDidNotSettle(f"still moving after {MAX_ROUNDS} rounds")

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass: fire each timer at its own time, flushing after each.

        This is the only way the network moves the clock, and only when asked.
        """
        self.flush()
        target = self.reactor.seconds() + seconds
        while True:
            due = [c.getTime() for c in self.reactor.getDelayedCalls() if c.getTime() <= target]
            if not due:
                break
            self.reactor.advance(max(0.0, min(due) - self.reactor.seconds()))
            self.flush()
        self.reactor.advance(target - self.reactor.seconds())
        self.flush()

    @property
    def open_connections(self) -> int:
        """The number of connections not yet closed on both sides."""
        return len(self._pumps)

    def _service_at(self, host: str, port: int) -> IProtocolFactory | None:
        """Return the factory listening at ``host``:``port``, if any."""
        for interface in (host, *WILDCARD_INTERFACES):
            if (interface, port) in self._services:
                return self._services[(interface, port)]
        return None

    def _complete_connections(self) -> bool:
        """Connect or refuse every pending connection attempt; return whether there were any."""
        attempted = False
        while self.reactor.tcpClients:
            host, port, client_factory, _timeout, _bind = self.reactor.tcpClients.pop(0)
            connector = self.reactor.connectors.pop(0)
            attempted = True
            if connector.stoppedConnecting:
                continue
            server_factory = self._service_at(host, port)
            if server_factory is None:
                client_factory.clientConnectionFailed(
                    connector, Failure(ConnectionRefusedError(f"nothing listens on {host}:{port}"))
                )
            else:
                self._connect(host, port, client_factory, server_factory, connector)
        return attempted

    def _connect(
        self,
        host: str,
        port: int,
        client_factory: Any,
        server_factory: IProtocolFactory,
        connector: Any,
    ) -> None:
        """Wire a new client protocol to a new server protocol through memory transports."""
        server_address = IPv4Address("TCP", host, port)
        client_address = IPv4Address("TCP", "127.0.0.1", next(self._client_ports))
        server = server_factory.buildProtocol(client_address)
        if server is None:
            client_factory.clientConnectionFailed(connector, Failure(ConnectionRefusedError()))
            return
        client = client_factory.buildProtocol(server_address)
        client_transport = _MemoryTransport(client, False, client_address, server_address)
        server_transport = _MemoryTransport(server, True, server_address, client_address)
        client_transport.peer, server_transport.peer = server_transport, client_transport
        pump = iosim.connect(
            server, server_transport, client, client_transport, greet=False, clock=self.reactor
        )
        self._pumps.append(pump)
