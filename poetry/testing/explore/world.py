"""A world for plans to run in: services in processes of their own, clients, and links.

A L{World} is a simulated network with servers (each a service built in a
process of its own at its address, started again after a crash), clients
(each started at its time in the client process, with the result it must
give), the links faults may cut or slow, and any checks of its own that
every run must pass. The links are a LAN's unless told otherwise
(L{LATENCY}, L{BANDWIDTH}, Ethernet's segment size), so that each phase of a
connection lasts a while: a reply of two segments is mid-reply between them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.application.service import IService
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import ClientFactory, Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.testing.kernel import KernelSettings
from poetry.testing.network import MemoryPoetryNetwork
from poetry.testing.processes import SimulatedProcess
from poetry.testing.reactor import NetworkReactor

CLIENT_HOST = "10.0.0.2"
"""The host the clients run on."""
LATENCY = 0.0005
"""Seconds each packet takes across a link, each way, unless a fault says otherwise."""
BANDWIDTH = 1_250_000.0
"""Bytes per second a link carries each way (10 Mbit/s), unless a fault says otherwise."""
SETTINGS = KernelSettings(segment_size=1448)
"""The hosts' TCP: Linux's, with Ethernet's segment size."""

Check = Callable[["World"], list[str]]
"""A world's own invariant: given the world once its run is over, the violations it finds.

Each violation starts with the invariant's name and a colon (C{"cache: ..."})."""


@dataclass
class Server:
    """A service in a process of its own: how to make it, and where it listens.

    ``make`` is given the process's reactor and the endpoint description to
    listen on (C{tcp:PORT:interface=ADDRESS}); it returns the service, not
    yet started.
    """

    name: str
    address: str
    port: int
    make: Callable[[NetworkReactor, str], IService]
    process: SimulatedProcess | None = None
    service: IService | None = None
    stopping: bool = False

    def start(self, network: MemoryPoetryNetwork) -> None:
        """Start (or start again) the service in a new process at its address."""
        self.process = network.process(self.name, self.address)
        self.service = self.make(self.process.reactor, f"tcp:{self.port}:interface={self.address}")
        self.service.startService()
        self.stopping = False

    @property
    def alive(self) -> bool:
        """Whether its process is alive."""
        return self.process is not None and self.process.alive


@dataclass
class Client:
    """A client: when it starts, what it must give, and what it gave (a result, or a failure).

    ``start`` is given the client process's reactor and returns the
    Deferred of the client's result. For a fetch from several servers,
    ``each`` is what each server must give, and the result is a list of
    objects whose C{poem} is each server's (None if it failed).
    """

    label: str
    at: float
    expected: bytes
    start: Callable[[NetworkReactor], Deferred[Any]]
    each: list[bytes] = field(default_factory=list)
    deferred: Deferred[Any] | None = None
    outcome: tuple[str, Any] | None = None
    outcomes: list[tuple[bytes, bytes | None]] = field(default_factory=list)
    """For a fetch from several servers: what each must give, and what it gave."""

    @property
    def kind(self) -> str:
        """What kind of client it is: its label without a trailing number."""
        return re.sub(r" \d+$", "", self.label)

    @property
    def shown(self) -> str:
        """The outcome in words: a result's size, or the failure's type."""
        if self.outcome is None:
            return "no result"
        kind, what = self.outcome
        return f"{len(what)} bytes" if kind == "result" else f"a failure ({what})"

    def fresh(self) -> Client:
        """A client like this one, not yet started."""
        return Client(self.kind, 0.0, self.expected, self.start, list(self.each))

    def run(self, reactor: NetworkReactor) -> Deferred[Any]:
        """Start the client now; note its outcome when it comes."""
        self.deferred = self.start(reactor)
        self.deferred.addCallbacks(self._got, self._failed)
        return self.deferred

    def _got(self, result: Any) -> None:
        if self.each:  # a fetch from several servers
            pairs = zip(self.each, result, strict=True)
            self.outcomes = [(expected, got.poem) for expected, got in pairs]
            result = b"".join(got or b"" for _, got in self.outcomes)
        self.outcome = ("result", result)

    def _failed(self, failure: Failure) -> None:
        self.outcome = ("failed", type(failure.value).__name__)


@implementer(IHalfCloseableProtocol)
class Lingering(Protocol):
    """A client that closes its side only a while after the reply: the server lingers meanwhile.

    With a request, it sends it and half-closes at once (a client that says
    it is done). Its result is the bytes received by the end of input (the
    server's FIN); a loss before then fails it.
    """

    transport: Any
    CLOSE_AFTER = 0.5
    """Seconds after the server's FIN that the client closes its own side."""

    def __init__(self, request: bytes = b"") -> None:
        self.request = request
        self.received = b""
        self.ended: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        """Send the request and half-close, if there is one."""
        if self.request:
            self.transport.write(self.request)
            self.transport.loseWriteConnection()

    def dataReceived(self, data: bytes) -> None:
        """Keep the bytes."""
        self.received += data

    def readConnectionLost(self) -> None:
        """The server sent its FIN: that is the whole reply; close our side a while later."""
        if not self.ended.called:
            self.ended.callback(self.received)
        self.transport.reactor.callLater(self.CLOSE_AFTER, self._close)

    def _close(self) -> None:
        if self.transport.connected:
            self.transport.loseConnection()

    def writeConnectionLost(self) -> None:
        """Our half-close is done."""

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """A loss before the end of input fails the client."""
        if not self.ended.called:
            self.ended.errback(reason)


def lingering(
    server: Server, request: bytes = b"", timeout: float = 5.0
) -> Callable[[NetworkReactor], Deferred[bytes]]:
    """Start a L{Lingering} client of ``server``: its result is the reply, if the end is clean."""

    def start(reactor: NetworkReactor) -> Deferred[bytes]:
        protocol = Lingering(request)
        factory = ClientFactory.forProtocol(lambda: protocol)
        reactor.connectTCP(server.address, server.port, factory, timeout=timeout)
        timer = reactor.callLater(timeout, _give_up, protocol)
        return protocol.ended.addBoth(_cancelling(timer))

    return start


def _give_up(protocol: Lingering) -> None:
    """A lingering client's timeout: abort, or fail if it never connected."""
    transport = getattr(protocol, "transport", None)
    if transport is not None:
        transport.abortConnection()
    elif not protocol.ended.called:
        protocol.ended.errback(Failure(TimeoutError("never connected")))


def _cancelling(timer: Any) -> Callable[[object], object]:
    def cancel(result: object) -> object:
        if timer.active():
            timer.cancel()
        return result

    return cancel


@dataclass
class World:
    """A scenario's network, servers, clients and links, as plans see them."""

    scenario: str
    servers: list[Server]
    clients: list[Client]
    links: list[tuple[str, str]]
    """The links faults can cut, slow or delay (pairs of hosts)."""
    checks: list[Check] = field(default_factory=list)
    """The world's own invariants, checked after the built-in ones."""
    settings: KernelSettings = SETTINGS
    latency: float = LATENCY
    """The links' latency when no fault changes it."""
    bandwidth: float | None = BANDWIDTH
    """The links' bandwidth when no fault changes it."""
    trace: list[str] = field(default_factory=list)
    network: MemoryPoetryNetwork = field(init=False)
    client: SimulatedProcess = field(init=False)
    """The process the clients run in, at L{CLIENT_HOST}."""

    def __post_init__(self) -> None:
        self.network = MemoryPoetryNetwork(self.settings)
        self.client = self.network.process("client", CLIENT_HOST)

    def note(self, what: str) -> None:
        """Add ``what`` to the trace, with the time."""
        self.trace.append(f"{self.network.now:.6f} {what}")

    def start(self) -> None:
        """Set the links, start every service now, and each client at its time."""
        for here, there in self.links:
            self.network.set_latency(here, there, self.latency)
            self.network.set_bandwidth(here, there, self.bandwidth)
        for server in self.servers:
            server.start(self.network)
        for client in self.clients:
            self.client.reactor.callLater(client.at, self._run, client)

    def _run(self, client: Client) -> None:
        self.note(f"start {client.label}")
        client.run(self.client.reactor).addBoth(self._done, client)

    def _done(self, result: object, client: Client) -> object:
        self.note(f"{client.label}: {client.shown}")
        return result
