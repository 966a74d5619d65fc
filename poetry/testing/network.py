"""The in-memory network: services at addresses, connections between them, and faults."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TimeoutError
from twisted.internet.interfaces import IDelayedCall, IListeningPort, IProtocolFactory
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.testing.names import (
    Address,
    HostsResolver,
    HostsTable,
    is_ip,
    is_ipv6,
    normalised,
    tcp_address,
)
from poetry.testing.transport import (
    BUFFER_SIZE,
    MemoryConnection,
    MemoryTransport,
    SocketOptions,
)

MAX_ROUNDS = 10_000
"""How many rounds of connecting and pumping ``flush`` allows before giving up."""

Key = tuple[str, int]
"""A listening address: normalised host and port."""


class NetworkDidNotSettle(RuntimeError):  # noqa: N818 (it names a state, not an error kind)
    """Bytes kept moving through C{flush} for more than L{MAX_ROUNDS} rounds."""


@dataclass(eq=False)
class ConnectionAttempt:
    """One C{connectTCP} on the network: where to, from where, when, and how it ended.

    ``outcome`` is C{"pending"} until it is one of C{"connected"},
    C{"refused"}, C{"timed out"}, C{"cancelled"} or C{"no such host"};
    ``connection`` is the connection it made, if any.
    """

    time: float
    host: str
    port: int
    source: str
    outcome: str = "pending"
    connection: MemoryConnection | None = None
    ended: float | None = None


@implementer(IListeningPort)
class MemoryPort:
    """A listening port on the in-memory network.

    Like Twisted's TCP port it accepts waiting connections in batches of up
    to C{numberAccepts}, can stop and start accepting (C{stopReading},
    C{startReading}: meanwhile attempts wait, as in a listen backlog), and has
    a C{socket} whose C{SO_LINGER} accepted connections inherit.
    """

    def __init__(self, network: MemoryPoetryNetwork, key: Key) -> None:
        self._network = network
        self.key = key
        self.socket = SocketOptions()
        self.numberAccepts = 100
        self.reading = True

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
        self.reading = False  # pragma: no mutate (a flag: None is as false)

    def startReading(self) -> None:
        """Accept again, the waiting attempts first."""
        self.reading = True

    def stopListening(self) -> Deferred[None]:
        """Stop accepting connections: later attempts are refused."""
        self._network.stop_serving(*self.key)
        return succeed(None)

    def getHost(self) -> Address:
        """Return the address listened on."""
        return tcp_address(*self.key)


class NetworkReactor(MemoryReactorClock):
    """A memory reactor whose C{listenTCP} puts services on the network.

    Its name resolver answers from the network's hosts table. Move its clock
    with L{MemoryPoetryNetwork.advance}, not with its own C{advance}, which
    fires timers without moving bytes between them.
    """

    def __init__(self, network: MemoryPoetryNetwork) -> None:
        super().__init__()
        self._network = network
        self.installNameResolver(HostsResolver(network.hosts))

    def listenTCP(
        self, port: int, factory: IProtocolFactory, backlog: int = 50, interface: str = ""
    ) -> IListeningPort:
        """Serve ``factory`` on the network (a free port when ``port`` is 0)."""
        super().listenTCP(port, factory, backlog, interface)
        return self._network.serve(interface or "0.0.0.0", port, factory)


def _wildcards(host: str) -> tuple[str, ...]:
    """The listening hosts that take connections to ``host``: itself, then the wildcards.

    As on Linux by default, C{0.0.0.0} takes every IPv4 address and C{::}
    every address of both families.
    """
    return (host, "::") if is_ipv6(host) else (host, "0.0.0.0", "::")


class MemoryPoetryNetwork:
    """An in-memory TCP network of real services, moved only when the test says.

    See the package's documentation (L{poetry.testing}) for the faults it can
    put on connections and addresses, and how it differs from real TCP.
    """

    def __init__(self) -> None:
        self.hosts = HostsTable()
        """Names and their addresses: C{add(name, *addresses)}."""
        self.reactor = NetworkReactor(self)
        self.attempts: list[ConnectionAttempt] = []
        """Every connection attempt so far, in order, with its outcome."""
        self.buffer_size = BUFFER_SIZE
        """Bytes a transport buffers for a peer that does not read before pausing its producer."""
        self._services: dict[Key, IProtocolFactory] = {}
        self._ports: dict[Key, MemoryPort] = {}
        self._connections: list[MemoryConnection] = []
        self._pending: dict[int, tuple[ConnectionAttempt, IDelayedCall | None]] = {}
        self._refused: set[tuple[str, int | None]] = set()
        self._black_holes: set[tuple[str, int | None]] = set()
        self._partitions: set[frozenset[str]] = set()
        self._latencies: dict[frozenset[str], float] = {}
        self._segmenter: Callable[[bytes], list[bytes]] = lambda data: [data]
        self._random = random.Random()  # seeded by fragment(seed=...) before any use
        self._free_ports = count(40000)  # pragma: no mutate (any free port numbers will do)
        self._client_ports = count(50000)  # pragma: no mutate (any port numbers will do)

    # services

    def serve(self, host: str, port: int, factory: IProtocolFactory) -> MemoryPort:
        """Put ``factory`` at ``host``:``port`` (a free port when ``port`` is 0).

        Returns the listening port; its C{getHost} gives the real address, and
        C{stopListening} takes the service off the network.
        """
        host = normalised(host)
        if port == 0:
            port = next(self._free_ports)
        if (host, port) in self._services:
            raise ValueError(f"something already listens on {host}:{port}")
        factory.doStart()
        self._services[(host, port)] = factory
        listening = self._ports[(host, port)] = MemoryPort(self, (host, port))
        return listening

    def stop_serving(self, host: str, port: int) -> None:
        """Take the service at ``host``:``port`` off the network (open connections stay)."""
        key = (normalised(host), port)
        if key not in self._services:
            raise ValueError(f"nothing listens on {key[0]}:{port}")
        self._services.pop(key).doStop()

    def exit_process(self, *ports: IListeningPort) -> None:
        """The process listening on ``ports`` exits or dies, as a real one does.

        The ports stop listening. Every connection they accepted that is still
        open is closed by the kernel: its peer sees a FIN after the bytes
        already delivered (a reset where the socket's C{SO_LINGER} is 0), even
        if the process had asked for an abort that was still waiting for the
        reactor's next turn. The process's own protocols hear nothing.
        """
        keys = [port.key for port in ports if isinstance(port, MemoryPort)]
        for key in keys:
            if key in self._services:
                self.stop_serving(*key)
        for connection in self._connections:
            if connection.listening in keys:
                connection.server.exit_process()

    # faults

    def refuse(self, host: str, port: int | None = None) -> None:
        """Refuse connections to ``host`` (``port``, or any), even where a service listens."""
        self._refused.add((normalised(host), port))

    def black_hole(self, host: str, port: int | None = None) -> None:
        """Let connection attempts to ``host`` (``port``, or any) hang until the client gives up.

        The attempt fails with C{TimeoutError} when the connector's timeout
        passes on the clock, or stops when the client cancels it.
        """
        self._black_holes.add((normalised(host), port))

    def restore(self, host: str, port: int | None = None) -> None:
        """Undo L{refuse} and L{black_hole} for ``host`` (and ``port``)."""
        key = (normalised(host), port)
        self._refused.discard(key)
        self._black_holes.discard(key)

    def partition(self, host: str, other: str) -> None:
        """Cut the link between two hosts: bytes between them wait, new attempts hang.

        Like a pulled cable under TCP: nothing is lost, it arrives after L{heal}.
        """
        self._partitions.add(frozenset((normalised(host), normalised(other))))

    def heal(self, host: str, other: str) -> None:
        """Mend the link between two hosts: what waited moves on the next flush."""
        self._partitions.discard(frozenset((normalised(host), normalised(other))))

    def set_latency(self, host: str, other: str, seconds: float) -> None:
        """Make bytes between two hosts arrive ``seconds`` after they are written, on the clock."""
        if seconds < 0:
            raise ValueError(f"latency cannot be negative: {seconds!r}")
        self._latencies[frozenset((normalised(host), normalised(other)))] = seconds

    def fragment(self, sizes: Sequence[int] | None = None, seed: int | None = None) -> None:
        """Deliver each later write in segments: of ``sizes`` (the last one repeated), or random.

        With ``seed`` instead, each write is cut at random points drawn from a
        generator seeded with it: the same seed gives the same segments. With
        neither, writes arrive as they were written.
        """
        if sizes is not None:
            if not sizes or min(sizes) < 1:
                raise ValueError(f"segment sizes must be positive, got {sizes!r}")
            self._segmenter = lambda data: _cut(data, sizes)
        elif seed is not None:
            self._random.seed(seed)
            self._segmenter = self._random_cut
        else:
            self._segmenter = lambda data: [data]

    @property
    def connections(self) -> list[MemoryConnection]:
        """The connections not yet closed on both sides, oldest first."""
        return [connection for connection in self._connections if not connection.closed]

    @property
    def open_connections(self) -> int:
        """The number of connections not yet closed on both sides."""
        return len(self.connections)

    # what transports ask of the network

    def partitioned(self, address: Address, other: Address) -> bool:
        """Whether the link between two addresses' hosts is cut."""
        return frozenset((normalised(address.host), normalised(other.host))) in self._partitions

    def latency(self, address: Address, other: Address) -> float:
        """Seconds bytes take between two addresses' hosts."""
        key = frozenset((normalised(address.host), normalised(other.host)))
        return self._latencies.get(key, 0.0)

    def segments(self, data: bytes) -> list[bytes]:
        """Cut ``data`` into the segments it is delivered in."""
        return self._segmenter(data)

    # moving things

    @property
    def now(self) -> float:
        """The network's clock, in seconds."""
        return self.reactor.seconds()

    def flush(self) -> None:
        """Complete, refuse or hold pending connections, and move bytes until nothing moves.

        Each round also runs what a real reactor runs on its next turn: calls
        due at the current time (a C{callLater(0)}, such as an abort's reset).
        Raises L{NetworkDidNotSettle}, naming the connections still talking,
        if bytes never stop moving. Never moves the clock.
        """
        for _ in range(MAX_ROUNDS):
            due_now = [c for c in self.reactor.getDelayedCalls() if c.getTime() <= self.now]
            self.reactor.advance(0)
            moved = self._complete_connections() or bool(due_now)
            for connection in list(self._connections):
                if connection.pump():
                    moved = True
            if not moved:
                return
        talking = [
            f"{c.client.getHost().host}:{c.client.getHost().port}"
            f" -> {c.server.getHost().host}:{c.server.getHost().port}"
            for c in self.connections
            if c.client.outgoing or c.server.outgoing
        ]
        raise NetworkDidNotSettle(
            f"still moving after {MAX_ROUNDS} rounds; connections still talking: {talking}"
        )

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass: fire each timer, and deliver each delayed byte, at its own time.

        This is the way to move time in a test of the network: it flushes
        before and after each timer and each arrival.
        """
        self.flush()
        target = self.now + seconds
        while True:
            due = [c.getTime() for c in self.reactor.getDelayedCalls() if c.getTime() <= target]
            due += [t for c in self._connections if (t := c.next_arrival()) and t <= target]
            if not due:
                break
            self.reactor.advance(max(0.0, min(due) - self.now))
            self.flush()
        self.reactor.advance(target - self.now)
        self.flush()

    # connecting

    def _service_at(self, host: str, port: int) -> tuple[Key, IProtocolFactory] | None:
        """Return the listening address and factory taking connections to ``host``:``port``."""
        for interface in _wildcards(host):
            if (interface, port) in self._services:
                return (interface, port), self._services[(interface, port)]
        return None

    def _faulted(self, faults: set[tuple[str, int | None]], host: str, port: int) -> bool:
        """Whether ``host``:``port`` is among ``faults`` (by port, or for every port)."""
        return (host, port) in faults or (host, None) in faults

    def _complete_connections(self) -> bool:
        """Settle every pending connection attempt that can be settled; return whether any was.

        As Twisted's ports do, each port accepts its waiting attempts in a
        batch of up to its C{numberAccepts}, without looking at whether it was
        paused in the middle of the batch. Attempts to a paused port, a
        black-holed address or across a partition stay pending, in order.
        """
        settled = False  # pragma: no mutate (a flag: None is as false)
        waiting: list[tuple[Any, Any]] = []
        batches: dict[Key, list[int]] = {}  # accepted so far, the batch's limit
        while self.reactor.tcpClients:
            attempt = self.reactor.tcpClients.pop(0)
            connector = self.reactor.connectors.pop(0)
            if self._settle(attempt, connector, batches):
                settled = True
            else:
                waiting.append((attempt, connector))
        for key, (accepted, _limit) in batches.items():
            self._ports[key].accepted_batch(accepted)
        for attempt, connector in waiting:
            self.reactor.tcpClients.append(attempt)
            self.reactor.connectors.append(connector)
        return settled

    def _settle(self, attempt: Any, connector: Any, batches: dict[Key, list[int]]) -> bool:
        """Connect, refuse or fail one attempt; return False if it must wait."""
        host, port, factory, timeout, bind = attempt
        record, timer = self._pending.pop(id(connector), (None, None))
        if record is None:
            source = normalised(bind[0]) if bind else ("::1" if is_ipv6(host) else "127.0.0.1")
            record = ConnectionAttempt(self.now, host, port, source)
            self.attempts.append(record)
        if connector.stoppedConnecting:
            return self._end(record, timer, "cancelled")
        addresses = [a for a in self.hosts.lookup(host) if is_ip(a)]
        if not addresses:
            self._end(record, timer, "no such host")
            factory.clientConnectionFailed(connector, Failure(DNSLookupError(host)))
            return True
        address = addresses[0]
        service = self._service_at(address, port)
        hangs = self._faulted(self._black_holes, address, port) or (
            frozenset((record.source, address)) in self._partitions
        )
        if not hangs and (self._faulted(self._refused, address, port) or service is None):
            self._end(record, timer, "refused")
            factory.clientConnectionFailed(
                connector, Failure(ConnectionRefusedError(f"nothing listens on {host}:{port}"))
            )
            return True
        if hangs or service is None or not self._accepts(service[0], batches):
            if timer is None and hangs:
                timer = self.reactor.callLater(timeout, self._time_out, connector)
            self._pending[id(connector)] = (record, timer)
            return False
        self._end(record, timer, "connected")
        batches[service[0]][0] += 1
        record.connection = self._connect(record, address, factory, service)
        return True

    def _end(self, record: ConnectionAttempt, timer: IDelayedCall | None, outcome: str) -> bool:
        """Record how an attempt ended; stop its timeout."""
        if timer is not None and timer.active():
            timer.cancel()
        record.outcome, record.ended = outcome, self.now
        return True

    def _time_out(self, connector: Any) -> None:
        """The client's connect timeout passed on a hanging attempt: it fails."""
        record, _timer = self._pending.pop(id(connector))
        self._end(record, None, "timed out")
        index = self.reactor.connectors.index(connector)
        self.reactor.connectors.pop(index)
        _host, _port, factory, _timeout, _bind = self.reactor.tcpClients.pop(index)
        factory.clientConnectionFailed(connector, Failure(TimeoutError()))

    def _accepts(self, key: Key, batches: dict[Key, list[int]]) -> bool:
        """Whether the port at ``key`` accepts one more attempt in this round's batch.

        A batch starts only if the port is not paused; its limit is the port's
        C{numberAccepts} when it starts.
        """
        if key not in batches:
            if not self._ports[key].reading:
                return False
            batches[key] = [0, self._ports[key].numberAccepts]
        accepted, limit = batches[key]
        return accepted < limit

    def _connect(
        self,
        record: ConnectionAttempt,
        address: str,
        client_factory: Any,
        service: tuple[Key, IProtocolFactory],
    ) -> MemoryConnection:
        """Wire a new client protocol to a new server protocol through memory transports.

        A factory that declines (builds no protocol) has accepted the
        connection all the same, and closes it at once, as Twisted does on TCP.
        """
        listening, server_factory = service
        server_address = tcp_address(address, record.port)
        client_address = tcp_address(record.source, next(self._client_ports))
        server = server_factory.buildProtocol(client_address)
        declined = server is None
        if server is None:
            server = Protocol()
        client = client_factory.buildProtocol(server_address)
        inherited = SocketOptions(linger=self._ports[listening].socket.linger)
        connection = MemoryConnection(
            MemoryTransport(client, self.reactor, client_address, server_address),
            MemoryTransport(server, self.reactor, server_address, client_address, inherited),
            listening,
            self,
            self.now,
        )
        self._connections.append(connection)
        server.makeConnection(connection.server)
        if declined:
            connection.server.loseConnection()
        client.makeConnection(connection.client)
        return connection

    def _random_cut(self, data: bytes) -> list[bytes]:
        """Cut ``data`` at random points drawn from the network's seeded generator."""
        if len(data) < 2:
            return [data]
        cuts = sorted(self._random.sample(range(1, len(data)), self._random.randint(0, 3)))
        edges = [0, *cuts, len(data)]
        return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def _cut(data: bytes, sizes: Sequence[int]) -> list[bytes]:
    """Cut ``data`` into pieces of ``sizes``, the last size repeated."""
    pieces, start, index = [], 0, 0
    while start < len(data):
        size = sizes[min(index, len(sizes) - 1)]
        pieces.append(data[start : start + size])
        start, index = start + size, index + 1
    return pieces
