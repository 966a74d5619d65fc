"""The simulated network: processes on hosts, the kernel between them, faults, and time.

L{MemoryPoetryNetwork} is what a test makes: it owns the processes (each with
its own reactor), the kernel all hosts share, the links between hosts, and
the one clock they all follow. Nothing moves until the test says:
L{MemoryPoetryNetwork.flush} moves what can move now, and
L{MemoryPoetryNetwork.advance} lets time pass.
"""

from __future__ import annotations

import warnings
from typing import Any

from twisted.internet.abstract import FileDescriptor
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IProtocolFactory

from poetry.testing.endpoints import Endpoint
from poetry.testing.faults import NetworkFaults
from poetry.testing.kernel import Kernel, KernelSettings
from poetry.testing.links import Links
from poetry.testing.names import HostsTable
from poetry.testing.ordering import Order
from poetry.testing.processes import SimulatedProcess
from poetry.testing.reactor import NetworkReactor
from poetry.testing.records import ConnectionAttempt, MemoryConnection
from poetry.testing.timeline import EPSILON, KernelEvent
from poetry.testing.twisted_tcp import MemoryPort
from poetry.testing.validation import ip_host
from poetry.testing.validation import seconds as checked_seconds

MAX_ROUNDS = 10_000
"""How many rounds of moving bytes ``flush`` allows before giving up."""

"""How close to the end of an advance a timer counts as due by then (sums of floats drift)."""


class DeprecatedNames:
    """What the old in-memory network had, kept with a warning: use processes and settings."""

    _connections: list[MemoryConnection]

    def exit_process(self, *ports: MemoryPort) -> None:
        """Deprecated: end only some sockets, as if their process died; use L{SimulatedProcess}.

        The ports and every connection they accepted are closed by the kernel
        as at a process's death; their protocols hear nothing. Timers stay.
        """
        warnings.warn(
            "MemoryPoetryNetwork.exit_process is deprecated: run the server in its own"
            " process (network.process(...)) and call its crash()",
            DeprecationWarning,
            stacklevel=2,
        )
        for listening in ports:
            for connection in self._connections:
                transport = connection.server
                if connection.listening == listening.key and transport is not None:
                    _close_as_exit(transport)
            _close_as_exit(listening)

    @property
    def buffer_size(self) -> int:
        """Deprecated: Twisted's own transport buffer is used, then the kernel's (L{settings})."""
        warnings.warn(
            "MemoryPoetryNetwork.buffer_size is deprecated: the buffers are Twisted's own and"
            " the kernel's (MemoryPoetryNetwork(settings=KernelSettings(...)))",
            DeprecationWarning,
            stacklevel=2,
        )
        return int(FileDescriptor.bufferSize)


class NetworkDidNotSettle(RuntimeError):  # noqa: N818 (it names a state, not an error kind)
    """Bytes kept moving through C{flush} for more than L{MAX_ROUNDS} rounds."""


class MemoryPoetryNetwork(NetworkFaults, DeprecatedNames):
    """A simulated TCP network of real services in simulated processes, moved only when told.

    C{reactor} is the reactor of the process C{main}, at C{127.0.0.1};
    L{process} makes more. See the package's documentation (L{poetry.testing})
    for the faults it can put on connections and addresses, and how it
    differs from real TCP.
    """

    def __init__(self, settings: KernelSettings | None = None) -> None:
        if settings is not None and not isinstance(settings, KernelSettings):
            raise TypeError(f"settings is a KernelSettings, not {settings!r}")
        self.settings = settings if settings is not None else KernelSettings()
        """How the simulated kernels' TCP behaves (buffer sizes, timeouts, retries)."""
        self.hosts = HostsTable()
        """Names and their addresses: C{add(name, *addresses)}."""
        self.links = Links()
        """The links between hosts (their faults are set through the network's methods)."""
        self.attempts: list[ConnectionAttempt] = []
        """Every connection attempt so far, in order, with its outcome."""
        self._now = 0.0
        self.order = Order()
        """How events due at the same instant are ordered (L{shuffle})."""
        self.kernel = Kernel(self.settings, self.links, lambda: self._now)
        self.kernel.connection_made = self._record
        self._connections: list[MemoryConnection] = []
        self._processes: list[SimulatedProcess] = []
        self.main = self.process("main")
        """The process a test's code runs in unless it makes others."""
        self.reactor: NetworkReactor = self.main.reactor
        """The reactor of the process C{main}."""

    def process(self, name: str, address: str | None = None) -> SimulatedProcess:
        """Start a process called ``name`` on the host ``address`` (default: localhost)."""
        if address is not None:
            ip_host(address)
        made = SimulatedProcess(
            name,
            address,
            self.kernel,
            self.hosts,
            self.attempts,
            self.advance,
            self._now,
            self.order,
        )
        self._processes.append(made)
        return made

    @property
    def processes(self) -> list[SimulatedProcess]:
        """Every process started on the network, dead ones included, in order."""
        return list(self._processes)

    # services

    def serve(self, host: str, port: int, factory: IProtocolFactory) -> MemoryPort:
        """Listen with ``factory`` at ``host``:``port`` in the process C{main}; return the port."""
        return self.reactor.listenTCP(port, factory, interface=host)

    def stop_serving(self, host: str, port: int) -> Deferred[None]:
        """Stop the port listening at ``host``:``port`` (open connections stay)."""
        for process in self._alive():
            for listening in process.reactor.ports:
                if listening.connected and listening.key == (host, port):
                    stopped: Deferred[None] = listening.stopListening()  # type: ignore[no-untyped-call]
                    return stopped
        raise ValueError(f"nothing listens on {host}:{port}")

    @property
    def connections(self) -> list[MemoryConnection]:
        """The connections made and not yet closed on both sides, oldest first."""
        return [c for c in self._connections if c.opened is not None and not c.closed]

    @property
    def every_connection(self) -> list[MemoryConnection]:
        """Every connection made (or being made), closed ones too, in the order they began."""
        return list(self._connections)

    @property
    def open_connections(self) -> int:
        """How many connections are made and not yet closed on both sides."""
        return len(self.connections)

    # time

    @property
    def now(self) -> float:
        """The network's clock, in seconds."""
        return self._now

    def flush(self) -> None:
        """Move everything that can move now: packets, timers due now, reads and writes.

        Each round runs what a real reactor runs in one turn of its loop, in
        every process: the timers due now, then one read or write on each
        ready socket. Raises L{NetworkDidNotSettle} if that never stops.
        Never moves the clock.
        """
        for _ in range(MAX_ROUNDS):
            moved = self.kernel.timeline.run_due(self._now)
            for process in self.order.arrange(self._alive()):
                moved = process.reactor.run_due() or moved
            for process in self.order.arrange(self._alive()):
                moved = process.reactor.poll() or moved
            if not moved:
                return
        talking = [
            f"{c.client_side.host}:{c.client_side.port} -> {c.listening}" for c in self.connections
        ]
        raise NetworkDidNotSettle(
            f"still moving after {MAX_ROUNDS} rounds; connections still open: {talking}"
        )

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass: every timer and packet, in every process, at its own time.

        This is the one way time passes on the network (each process's
        C{reactor.advance} comes here too): it flushes at each time something
        is due.
        """
        target = self._now + checked_seconds(seconds, "time to advance")
        self.flush()
        stuck = False
        while True:
            soonest = self.next_due()
            if soonest is None or soonest > target + EPSILON:
                break
            # Due now after a flush: a timer set during it, whose process's clock reads a hair
            # before it (set the clocks again); twice, and it never will run.
            if stuck and soonest <= self._now:
                raise NetworkDidNotSettle(
                    f"something due at {soonest!r} never runs (now is {self._now!r})"
                )
            stuck = soonest <= self._now
            self._set_time(max(soonest, self._now))
            self.flush()
        self._set_time(max(target, self._now))
        self.flush()

    def pending(self) -> list[IDelayedCall | KernelEvent]:
        """What is still due: every live process's timers, then the kernel's own events."""
        calls: list[IDelayedCall | KernelEvent] = []
        for process in self._alive():
            calls += process.reactor.getDelayedCalls()
        return calls + list(self.kernel.timeline.pending())

    def next_due(self) -> float | None:
        """When the next timer of a live process, or the kernel's next event, is due."""
        due = [self.kernel.timeline.next_time()]
        due += [process.reactor.next_call() for process in self._alive()]
        return min((t for t in due if t is not None), default=None)

    def shuffle(self, seed: int | None) -> None:
        """Order events due at the same instant at random from ``seed`` (None: as added).

        The timers of a process due at the same time, the processes within a
        round, and the sockets ready in a round are taken in an order drawn
        from ``seed`` (a real reactor promises no order); each connection's
        packets stay in order.
        """
        self.order.shuffle(seed)

    def _set_time(self, time: float) -> None:
        self._now = time
        for process in self._alive():
            process.reactor.set_time(time)

    def _alive(self) -> list[SimulatedProcess]:
        return [process for process in self._processes if process.alive]

    def _record(self, client: Endpoint) -> MemoryConnection:
        connection = MemoryConnection(client)
        self._connections.append(connection)
        return connection


def _close_as_exit(selectable: Any) -> None:
    """Detach a port or transport from its reactor and close its socket as a dying process does."""
    reactor = selectable.reactor
    for call in list(reactor.getDelayedCalls()):
        if getattr(call.func, "__self__", None) is selectable:
            call.cancel()  # an abort waiting for the reactor's next turn never happens
    reactor.removeReader(selectable)
    reactor.removeWriter(selectable)
    sock = getattr(selectable, "socket", None)
    if sock is not None:
        sock.close()
