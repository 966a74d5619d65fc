"""Test helpers for code that uses txpoetry: real services on an in-memory network.

L{MemoryPoetryNetwork} owns a L{MemoryReactorClock}. Real txpoetry services (or
any server factory) listen on it, with C{listenTCP} or L{MemoryPoetryNetwork.serve};
real client code (C{get_poetry}, C{fetch_many}, C{transform_poem}, the proxy's
upstream fetch) connects with C{connectTCP} on the same reactor. Nothing moves
until the test says so: L{MemoryPoetryNetwork.flush} completes pending
connections (or refuses them, where nothing listens), runs what the reactor
would run on its next turn (calls due now), and moves bytes both ways until
the network is quiet; L{MemoryPoetryNetwork.advance} moves the clock.

The connections are modelled the way real TCP behaves under Twisted, where the
difference decides whether a peer sees a whole poem:

 - C{loseConnection} sends what is buffered, then a clean close (FIN);
 - C{abortConnection} drops what is buffered and stops reading at once, but, as
   on a real reactor, the reset happens on the reactor's next turn (a
   C{callLater(0)}); the peer then sees C{ConnectionLost};
 - C{loseWriteConnection} is a half-close: the peer's protocol hears
   C{readConnectionLost} if it provides C{IHalfCloseableProtocol}, and otherwise
   C{connectionLost(ConnectionDone)}, which closes its side (FIN) as Twisted does;
 - bytes sent to a peer that has closed its socket reset the sender;
 - a factory that declines a connection (C{buildProtocol} returns None) accepts
   it and closes it at once: the client sees a clean close with no bytes;
 - L{MemoryPoetryNetwork.exit_process} is a server process exiting: an abort
   still waiting for the reactor's next turn never happens, and the kernel
   closes every connection the process still had open with a FIN;
 - C{SO_LINGER} is honoured, as on Linux: set to 0 (through a port's
   C{socket} or a transport's C{getHandle()}), a socket closes with a reset,
   and connections accepted by a port inherit the port's setting.

Where the in-memory network differs from real TCP (see the contract tests in
``tests/unit/test_contract_memory.py`` and ``tests/integration/test_contract_tcp.py``):
bytes arrive in the same packets they were written in; a transport never pauses
its producer (no send buffer fills up); a connection attempt never times out by
itself; and there is no name resolution (hosts are matched as strings).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from itertools import count
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import (
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.interfaces import (
    IConsumer,
    IDelayedCall,
    IHalfCloseableProtocol,
    IListeningPort,
    IProtocol,
    IProtocolFactory,
    IPushProducer,
    IReactorTime,
    ITCPTransport,
)
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from zope.interface import implementer

WILDCARD_INTERFACES = ("", "0.0.0.0")
"""Interfaces that mean "every address" when listening."""

MAX_ROUNDS = 10_000
"""How many rounds of connecting and pumping ``flush`` allows before giving up."""

RESET = "connection reset by peer"
"""What a reset peer's C{ConnectionLost} says."""


ORDINARY_LINGER = struct.pack("ii", 0, 0)
"""C{SO_LINGER} off: a closed socket sends what it has, then a FIN."""

RESET_LINGER = struct.pack("ii", 1, 0)
"""C{SO_LINGER} on with no time: a closed socket sends a reset."""


class SocketOptions:
    """The socket options memory transports and ports honour: only C{SO_LINGER}."""

    family = socket.AF_INET

    def __init__(self, linger: bytes = ORDINARY_LINGER) -> None:
        self.linger = linger

    def setsockopt(self, level: int, option: int, value: bytes) -> None:
        """Set C{SO_LINGER}; other options have no effect in memory."""
        if (level, option) == (socket.SOL_SOCKET, socket.SO_LINGER):
            self.linger = bytes(value)

    def getsockopt(self, level: int, option: int, size: int = 0) -> bytes:
        """Return C{SO_LINGER} (the only option kept)."""
        return self.linger

    @property
    def resets_on_close(self) -> bool:
        """Whether closing the socket sends a reset (C{SO_LINGER} on, with no time)."""
        onoff, seconds = struct.unpack("ii", self.linger)
        return bool(onoff) and seconds == 0


class NetworkDidNotSettle(RuntimeError):  # noqa: N818 (it names a state, not an error kind)
    """Bytes kept moving through C{flush} for more than L{MAX_ROUNDS} rounds."""


@implementer(ITCPTransport, IConsumer)
class MemoryTransport:
    """One end of an in-memory TCP connection, closing, aborting and half-closing as TCP does.

    Bytes written wait in C{outgoing} until the network moves them to the peer.
    """

    def __init__(
        self,
        protocol: IProtocol,
        clock: IReactorTime,
        host: IPv4Address,
        peer_address: IPv4Address,
        options: SocketOptions | None = None,
    ) -> None:
        self.protocol = protocol
        self.socket = SocketOptions() if options is None else options
        self.peer: MemoryTransport | None = None
        self.outgoing: list[bytes] = []
        self.connected = True
        self.disconnecting = False
        self.disconnected = False
        self.producer: IPushProducer | None = None
        self._clock = clock
        self._host = host
        self._peer_address = peer_address
        self._write_closing = False
        self._write_closed = False
        self._reading = True
        self._reset_call: IDelayedCall | None = None

    # ITransport

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the peer (dropped once this side is closing or closed)."""
        if data and not (self.disconnecting or self._write_closing or self.disconnected):
            self.outgoing.append(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Queue each piece of ``data`` for the peer, as one write."""
        self.write(b"".join(data))

    def loseConnection(self) -> None:
        """Stop reading; close cleanly once everything queued has been sent."""
        self.disconnecting = True
        self._reading = False

    def abortConnection(self) -> None:
        """Drop what is queued and stop reading; reset on the reactor's next turn."""
        if self.disconnected or self._reset_call is not None:
            return
        self.outgoing = []
        self._reading = False
        self.disconnecting = True
        self._reset_call = self._clock.callLater(0, self._reset)

    def loseWriteConnection(self) -> None:
        """Half-close: send a FIN once everything queued has been sent; keep reading."""
        self._write_closing = True

    def getHandle(self) -> SocketOptions:
        """Return this end's socket options (the handle of a real socket)."""
        return self.socket

    def getPeer(self) -> IPv4Address:
        """Return the address of the other end."""
        return self._peer_address

    def getHost(self) -> IPv4Address:
        """Return the address of this end."""
        return self._host

    # ITCPTransport options, which have no effect in memory

    def getTcpNoDelay(self) -> bool:
        """Nagle's algorithm has no meaning in memory."""
        return True

    def setTcpNoDelay(self, enabled: bool) -> None:
        """Nagle's algorithm has no meaning in memory."""

    def getTcpKeepAlive(self) -> bool:
        """Keep-alives have no meaning in memory."""
        return False

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """Keep-alives have no meaning in memory."""

    # IConsumer

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """Remember the producer; a pull producer is asked for data at once."""
        self.producer = producer
        if not streaming:
            producer.resumeProducing()

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        self.producer = None

    # moved by the network

    @property
    def closed(self) -> bool:
        """Whether this end is closed (cleanly, by a reset, or by its process exiting)."""
        return self.disconnected

    def send(self) -> bool:
        """Move queued bytes to the peer, then any close that waited for them; return if any."""
        moved = False
        while self.outgoing and not self.disconnected:
            data = self.outgoing.pop(0)
            moved = True
            if self._other.disconnected:
                self.outgoing = []
                self._lost(ConnectionLost(RESET))
            else:
                self._other.receive(data)
        if self.disconnected or self.outgoing:
            return moved
        if self.disconnecting and self._reset_call is None:
            self._close(ConnectionDone())
            return True
        if self._write_closing and not self._write_closed:
            self._write_closed = True
            self._other.end_of_stream()
            half_closeable = IHalfCloseableProtocol(self.protocol, None)
            if half_closeable is not None:
                half_closeable.writeConnectionLost()
            return True
        return moved

    def _close(self, reason: Exception) -> None:
        """Close the socket: a FIN to the peer, or a reset if C{SO_LINGER} is 0."""
        if self.socket.resets_on_close:
            self._reset_peer()
            self._lost(reason)
        else:
            self._lost(reason)
            self._other.end_of_stream()

    def receive(self, data: bytes) -> None:
        """Deliver bytes from the peer, unless this end has stopped reading."""
        if self._reading and not self.disconnected:
            self.protocol.dataReceived(data)

    def end_of_stream(self) -> None:
        """The peer sent a FIN: half-close if the protocol can, else close as Twisted does."""
        if self.disconnected or not self._reading:
            return
        self._reading = False
        half_closeable = IHalfCloseableProtocol(self.protocol, None)
        if half_closeable is not None:
            half_closeable.readConnectionLost()
        else:
            self.outgoing = []
            self._close(ConnectionDone())

    def exit_process(self) -> None:
        """The process owning this end exits: a pending reset never happens; the kernel closes it.

        The peer gets a FIN, or a reset if C{SO_LINGER} is 0. This end's
        protocol hears nothing: its process is gone.
        """
        if self.disconnected:
            return
        if self._reset_call is not None and self._reset_call.active():
            self._reset_call.cancel()
        self.outgoing = []
        self.disconnected, self.connected = True, False
        if self.socket.resets_on_close:
            self._reset_peer()
        else:
            self._other.end_of_stream()

    @property
    def _other(self) -> MemoryTransport:
        """The other end of the connection."""
        assert self.peer is not None, "a memory transport is used before it is connected"
        return self.peer

    def _reset(self) -> None:
        """Carry out an abort: the socket closes with a reset, then this end's protocol hears of it.

        As in Twisted, the reset is on the wire before the aborting protocol's
        C{connectionLost} runs.
        """
        self._reset_peer()
        self._lost(ConnectionAborted())

    def _reset_peer(self) -> None:
        """Send a reset: the peer drops what it had queued and loses the connection."""
        self._other.outgoing = []
        self._other._lost(ConnectionLost(RESET))

    def _lost(self, reason: Exception) -> None:
        """Close this end for good and tell its producer and protocol why."""
        if self.disconnected:
            return
        self.disconnected, self.connected, self.disconnecting = True, False, True
        self._reading = False
        producer, self.producer = self.producer, None
        if producer is not None:
            producer.stopProducing()
        self.protocol.connectionLost(Failure(reason))


class _Connection:
    """A client end and a server end, and the listening address that accepted them."""

    def __init__(self, client: MemoryTransport, server: MemoryTransport, listening: Any) -> None:
        self.client, self.server = client, server
        client.peer, server.peer = server, client
        self.listening = listening

    def pump(self) -> bool:
        """Move bytes and closes both ways once; return whether anything moved."""
        sent = self.client.send()
        return self.server.send() or sent

    @property
    def closed(self) -> bool:
        """Whether both ends are closed."""
        return self.client.closed and self.server.closed


@implementer(IListeningPort)
class _MemoryPort:
    """A listening port on the in-memory network."""

    def __init__(self, network: MemoryPoetryNetwork, address: IPv4Address, key: Any) -> None:
        self._network = network
        self._address = address
        self.key = key
        self.socket = SocketOptions()
        """The listening socket's options, which accepted connections inherit."""
        self.numberAccepts = 100
        """How many connections the next batch may accept at most (as on Twisted's TCP port)."""

    def accepted_batch(self, accepted: int) -> None:
        """Adjust the batch size after a batch, as Twisted's TCP port does."""
        if accepted == self.numberAccepts:
            self.numberAccepts += 20
        else:
            self.numberAccepts = max(1, accepted)

    def startListening(self) -> None:
        """Already listening once made."""

    def stopReading(self) -> None:
        """Stop accepting for now: new connection attempts wait, as in a listen backlog."""
        self._network.paused.add(self.key)

    def startReading(self) -> None:
        """Accept again, the waiting attempts first."""
        self._network.paused.discard(self.key)

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
        self._ports: dict[tuple[str, int], _MemoryPort] = {}
        self.paused: set[tuple[str, int]] = set()
        """Listening addresses not accepting for now: their attempts wait in the backlog."""
        self._connections: list[_Connection] = []
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
        listening = _MemoryPort(self, IPv4Address("TCP", host, port), (host, port))
        self._ports[(host, port)] = listening
        return listening

    def stop_serving(self, host: str, port: int) -> None:
        """Take the service at ``host``:``port`` off the network (open connections stay)."""
        self._services.pop((host, port)).doStop()

    def exit_process(self, *ports: IListeningPort) -> None:
        """The process listening on ``ports`` exits, as a real one does once its reactor stops.

        The ports stop listening. Every connection they accepted that is still
        open is closed by the kernel with a FIN: its peer sees a clean close
        after the bytes already delivered, even if the process had asked for
        an abort that was still waiting for the reactor's next turn. The
        process's own protocols hear nothing.
        """
        keys = [port.key for port in ports if isinstance(port, _MemoryPort)]
        for key in keys:
            if key in self._services:
                self.stop_serving(*key)
        for connection in self._connections:
            if connection.listening in keys:
                connection.server.exit_process()

    def flush(self) -> None:
        """Complete or refuse pending connections and move bytes until nothing moves.

        Each round also runs what a real reactor runs on its next turn: calls
        due at the current time (a C{callLater(0)}, such as an abort's reset).
        Raises L{NetworkDidNotSettle} if bytes never stop moving. Never moves
        the clock.
        """
        for _ in range(MAX_ROUNDS):
            due_now = [c for c in self.reactor.getDelayedCalls() if c.getTime() <= self.now]
            self.reactor.advance(0)
            moved = self._complete_connections() or bool(due_now)
            for connection in list(self._connections):
                if connection.pump():
                    moved = True
                if connection.closed:
                    self._connections.remove(connection)
            if not moved:
                return
        raise NetworkDidNotSettle(f"still moving after {MAX_ROUNDS} rounds")

    @property
    def now(self) -> float:
        """The network's clock, in seconds."""
        return self.reactor.seconds()

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass: fire each timer at its own time, flushing after each.

        This is the way to move time in a test of the network: moving the
        reactor's clock by itself would fire timers without moving the bytes
        between them.
        """
        self.flush()
        target = self.now + seconds
        while True:
            due = [c.getTime() for c in self.reactor.getDelayedCalls() if c.getTime() <= target]
            if not due:
                break
            self.reactor.advance(max(0.0, min(due) - self.now))
            self.flush()
        self.reactor.advance(target - self.now)
        self.flush()

    @property
    def open_connections(self) -> int:
        """The number of connections not yet closed on both sides."""
        return sum(not connection.closed for connection in self._connections)

    def _service_at(self, host: str, port: int) -> tuple[tuple[str, int], IProtocolFactory] | None:
        """Return the address and factory listening for ``host``:``port``, if any."""
        for interface in (host, *WILDCARD_INTERFACES):
            if (interface, port) in self._services:
                return (interface, port), self._services[(interface, port)]
        return None

    def _complete_connections(self) -> bool:
        """Connect or refuse every pending connection attempt; return whether there were any.

        As Twisted's ports do, each port accepts its waiting attempts in a
        batch of up to its C{numberAccepts}, without looking at whether it was
        paused in the middle of the batch, then adjusts C{numberAccepts} as
        Twisted does. Attempts to a port paused before its batch stay pending,
        in order.
        """
        attempted = False
        waiting: list[tuple[Any, Any]] = []
        batches: dict[tuple[str, int], list[int]] = {}  # accepted so far, the batch's limit
        while self.reactor.tcpClients:
            attempt = self.reactor.tcpClients.pop(0)
            connector = self.reactor.connectors.pop(0)
            host, port, client_factory, _timeout, _bind = attempt
            if connector.stoppedConnecting:
                attempted = True
                continue
            service = self._service_at(host, port)
            if service is not None and not self._accepts(service[0], batches):
                waiting.append((attempt, connector))
                continue
            attempted = True
            if service is None:
                client_factory.clientConnectionFailed(
                    connector, Failure(ConnectionRefusedError(f"nothing listens on {host}:{port}"))
                )
            else:
                batches[service[0]][0] += 1
                self._connect(host, port, client_factory, service)
        for key, (accepted, _limit) in batches.items():
            self._ports[key].accepted_batch(accepted)
        for attempt, connector in waiting:
            self.reactor.tcpClients.append(attempt)
            self.reactor.connectors.append(connector)
        return attempted

    def _accepts(self, key: tuple[str, int], batches: dict[tuple[str, int], list[int]]) -> bool:
        """Whether the port at ``key`` accepts one more attempt in this round's batch.

        A batch starts only if the port is not paused; its limit is the port's
        C{numberAccepts} when it starts.
        """
        if key not in batches:
            if key in self.paused:
                return False
            batches[key] = [0, self._ports[key].numberAccepts]
        accepted, limit = batches[key]
        return accepted < limit

    def _connect(
        self,
        host: str,
        port: int,
        client_factory: Any,
        service: tuple[tuple[str, int], IProtocolFactory],
    ) -> None:
        """Wire a new client protocol to a new server protocol through memory transports.

        A factory that declines (builds no protocol) has accepted the
        connection all the same, and closes it at once, as Twisted does on TCP.
        """
        listening, server_factory = service
        server_address = IPv4Address("TCP", host, port)
        client_address = IPv4Address("TCP", "127.0.0.1", next(self._client_ports))
        server = server_factory.buildProtocol(client_address)
        declined = server is None
        if server is None:
            server = Protocol()
        client = client_factory.buildProtocol(server_address)
        inherited = SocketOptions(self._ports[listening].socket.linger)
        connection = _Connection(
            MemoryTransport(client, self.reactor, client_address, server_address),
            MemoryTransport(server, self.reactor, server_address, client_address, inherited),
            listening,
        )
        self._connections.append(connection)
        server.makeConnection(connection.server)
        if declined:
            connection.server.loseConnection()
        client.makeConnection(connection.client)
