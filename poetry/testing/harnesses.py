"""How a kit's checks reach the world: the simulated network, loopback TCP, or two namespaces.

A check is an ``async`` method that touches the world only through its
harness: it listens, connects, lets time pass, waits for a result, and puts
faults on the connection. The same check then runs on each harness:

 - L{MemoryHarness}: the simulated network; time moves only as the check
   says, exactly. The server runs in a process of its own at C{10.0.0.1}, the
   client at C{10.0.0.2}.
 - L{TCPHarness}: the real reactor and loopback TCP in real time. A fault
   loopback cannot express (a partition, a held connection, a black hole, a
   refusal, latency) skips the check, saying so.
 - L{NamespaceHarness}: the real reactor, with the server and the client in
   two Linux network namespaces joined by a veth pair; faults are nftables
   rules (L{poetry.testing.namespaces}). Needs root; skips otherwise. Only
   latency cannot be expressed: this kernel has no netem.

A check may ask for kernels with other settings (L{kernel_settings}): in
memory the network's L{KernelSettings}, across namespaces the sysctls of a
pair of its own (loopback's kernel is the host's, and is not a test's to
change: the check skips there).

L{Harness.server_sockets} says what the server's kernel keeps of a port's
connections, in the same terms in each world: the TCP state of each socket,
as C{ss} names it.

A process's death (L{Harness.crash_server}) is the kernel closing the
server's sockets: in memory, the server process crashes; on the real kernel
the test process cannot die, so the harness closes the server's sockets as
the kernel does at exit (a FIN, or a reset where C{SO_LINGER} is 0), before
the reactor turns again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IListeningPort, IProtocol, IProtocolFactory
from twisted.trial.unittest import SkipTest

from poetry.testing.kernel import KernelSettings
from poetry.testing.network import MemoryPoetryNetwork
from poetry.testing.reactor import NetworkReactor

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

Direction = Literal["to_server", "to_client", "both"]
"""Which way a partition drops packets."""

MAX_WAIT = 300.0
"""Simulated seconds the memory harness lets pass, timer by timer, for a result to come."""


def kernel_settings(**settings: Any) -> Callable[[F], F]:
    """Mark a check to run on kernels with these L{KernelSettings} (C{fin_timeout=2}, ...).

    In memory the network is made with them; across namespaces the check has
    a pair of its own whose sysctls are set to them (it skips if a setting
    has none); on loopback it skips. Settings no kernel could have are
    refused here, at once.
    """
    KernelSettings(**settings)  # refuses an unknown name or an impossible value

    def mark(check: F) -> F:
        check.kernel_settings = dict(settings)  # type: ignore[attr-defined]
        return check

    return mark


class Harness:
    """How a check reaches the world. Mixed into a trial test case with a kit."""

    reactor: Any
    """The reactor clients use."""
    server_reactor: Any
    """The reactor servers use (the same reactor on a real kernel; another process's in memory)."""
    server_host: str
    """The address servers listen on."""
    client_host: str
    """The address clients connect from."""
    addCleanup: Callable[..., object]
    world: str
    """What the harness runs on: C{"memory"}, C{"loopback"} or C{"namespaces"}."""

    def asked_settings(self) -> dict[str, Any]:
        """The kernel settings the running check asks for (L{kernel_settings}), by name."""
        check = getattr(type(self), getattr(self, "_testMethodName", ""), None)
        return dict(getattr(check, "kernel_settings", {}))

    def listen(self, factory: IProtocolFactory) -> IListeningPort:
        """Serve ``factory`` on a free port of the server host until the check ends."""
        raise NotImplementedError

    async def server_sockets(self, port: IListeningPort) -> list[str]:
        """The TCP states of the server host's sockets of connections to ``port``, sorted.

        As C{ss} names them (C{"ESTAB"}, C{"FIN-WAIT-2"}, ...); the listening
        socket and sockets closed for good are not listed.
        """
        raise NotImplementedError

    async def elapse(self, seconds: float) -> None:
        """Let ``seconds`` pass, moving bytes as they would move."""
        raise NotImplementedError

    async def wait(self, d: Deferred[T]) -> T:
        """Let the world run until ``d`` fires; return its result."""
        raise NotImplementedError

    def now(self) -> float:
        """The time on the client's clock, in seconds."""
        return float(self.reactor.seconds())

    async def connect(self, port: IListeningPort, protocol: IProtocol) -> None:
        """Connect ``protocol`` from the client host to the address ``port`` listens on."""
        await self.wait(self.start_connecting(port, protocol))

    def start_connecting(self, port: IListeningPort, protocol: IProtocol) -> Deferred[Any]:
        """Start connecting ``protocol`` to ``port``; return the Deferred of the connection."""
        address: Any = port.getHost()
        endpoint = TCP4ClientEndpoint(self.reactor, address.host, address.port, timeout=10)
        return self.as_client(lambda: connectProtocol(endpoint, protocol))

    def as_client(self, start: Callable[[], T]) -> T:
        """Run ``start`` (code that starts connecting) on the client host; return what it returns.

        Across namespaces, the sockets it makes at once belong to the client
        host; one made later (a C{HostnameEndpoint}'s second attempt) would not.
        """
        return start()

    # faults, each on this harness's hosts

    async def partition(self, direction: Direction = "both") -> None:
        """Drop the packets between the hosts going ``direction``, until L{heal}."""
        self._cannot("partition its hosts")

    async def heal(self) -> None:
        """Let packets between the hosts through again."""
        self._cannot("partition its hosts")

    async def hold(self, protocol: IProtocol) -> None:
        """Drop the packets of ``protocol``'s connection, both ways, until L{release}."""
        self._cannot("hold a connection's packets")

    async def release(self, protocol: IProtocol) -> None:
        """Let the packets of ``protocol``'s connection through again."""
        self._cannot("hold a connection's packets")

    async def black_hole(self, port: IListeningPort) -> None:
        """Leave new connections to ``port`` unanswered, until L{restore}."""
        self._cannot("drop connection attempts")

    async def refuse(self, port: IListeningPort) -> None:
        """Answer new connections to ``port`` with a reset, until L{restore}."""
        self._cannot("refuse connection attempts with a reset")

    async def restore(self, port: IListeningPort) -> None:
        """Undo L{black_hole} and L{refuse} for ``port``."""
        self._cannot("drop or refuse connection attempts")

    async def set_latency(self, seconds: float) -> None:
        """Make every packet between the hosts take ``seconds``, each way."""
        self._cannot("add latency (this kernel has no netem)")

    def crash_server(self) -> None:
        """The server's process dies: its kernel closes the server's sockets."""
        raise NotImplementedError

    def _cannot(self, what: str) -> None:
        raise SkipTest(f"{type(self).__name__} cannot {what}")


def port_of(protocol: IProtocol) -> int:
    """The client-side port of ``protocol``'s connection."""
    transport: Any = protocol.transport  # type: ignore[attr-defined]
    address: Any = transport.getHost()
    return int(address.port)


class MemoryHarness(Harness):
    """The simulated network: nothing moves until the check says; time moves exactly.

    The server runs in the process C{server_process} at C{10.0.0.1}, the
    client in C{client_process} at C{10.0.0.2}. L{wait} lets simulated time
    pass, timer by timer, until the result comes (a client with backoff timers
    can be checked), up to L{MAX_WAIT} seconds.
    """

    server_host, client_host = "10.0.0.1", "10.0.0.2"
    world = "memory"
    reactor: NetworkReactor
    server_reactor: NetworkReactor

    def setUp(self) -> None:
        """Make a fresh network (with the settings the check asks for), and the two processes."""
        self.network = MemoryPoetryNetwork(KernelSettings(**self.asked_settings()))
        self.server_process = self.network.process("server", self.server_host)
        self.client_process = self.network.process("client", self.client_host)
        self.reactor = self.client_process.reactor
        self.server_reactor = self.server_process.reactor

    def listen(self, factory: IProtocolFactory) -> IListeningPort:
        """Serve on a free port of the server host, in the server process."""
        return self.server_reactor.listenTCP(0, factory, interface=self.server_host)

    async def server_sockets(self, port: IListeningPort) -> list[str]:
        """The states of the server sides of ``port``'s connections not yet gone."""
        address = (self.server_host, listening_port(port))
        sides = [c.server_side for c in self.network.every_connection]
        states = [s.tcp_state for s in sides if s is not None and (s.host, s.port) == address]
        return sorted(state for state in states if state != "CLOSED")

    async def elapse(self, seconds: float) -> None:
        """Advance the network's clock exactly, timer by timer."""
        self.network.advance(seconds)

    async def wait(self, d: Deferred[T]) -> T:
        """Move the network, timer by timer if need be, until ``d`` fires."""
        self.network.flush()
        deadline = self.network.now + MAX_WAIT
        while not _fired(d):
            due = self.network.next_due()
            if due is None or due > deadline:
                break
            self.network.advance(max(0.0, due - self.network.now))
        if not _fired(d):
            raise AssertionError("the check waited for something the simulated network never did")
        return await d

    def now(self) -> float:
        """The network's clock."""
        return self.network.now

    async def partition(self, direction: Direction = "both") -> None:
        """Cut the link between the hosts, one way or both."""
        source, destination = self.server_host, self.client_host
        if direction == "to_server":
            source, destination = destination, source
        self.network.partition(source, destination, both_ways=direction == "both")

    async def heal(self) -> None:
        """Mend the link between the hosts."""
        self.network.heal(self.server_host, self.client_host)

    async def hold(self, protocol: IProtocol) -> None:
        """Hold ``protocol``'s connection."""
        self._connection(protocol).hold()

    async def release(self, protocol: IProtocol) -> None:
        """Release ``protocol``'s connection."""
        self._connection(protocol).release()

    def _connection(self, protocol: IProtocol) -> Any:
        port = port_of(protocol)
        [connection] = [c for c in self.network.connections if c.client_side.port == port]
        return connection

    async def black_hole(self, port: IListeningPort) -> None:
        """Swallow SYNs to ``port``."""
        self.network.black_hole(self.server_host, listening_port(port))

    async def refuse(self, port: IListeningPort) -> None:
        """Refuse SYNs to ``port``."""
        self.network.refuse(self.server_host, listening_port(port))

    async def restore(self, port: IListeningPort) -> None:
        """Let SYNs to ``port`` through again."""
        self.network.restore(self.server_host, listening_port(port))

    async def set_latency(self, seconds: float) -> None:
        """Make packets between the hosts take ``seconds`` each way."""
        self.network.set_latency(self.server_host, self.client_host, seconds)

    def crash_server(self) -> None:
        """The server's process crashes."""
        self.server_process.crash()


def _fired(d: Deferred[Any]) -> bool:
    """Whether ``d`` has its result (not waiting on another Deferred)."""
    return bool(d.called and not d.paused)


def listening_port(port: IListeningPort) -> int:
    """The port number ``port`` listens on."""
    address: Any = port.getHost()
    return int(address.port)
