"""Simulated processes: each with its own reactor, timers and sockets, ending alone.

A process that crashes (SIGKILL, or any death) runs nothing more: its timers
are gone, its protocols hear nothing, and its kernel closes every socket it
had open as C{close()} does, which for a connection means a FIN after the
bytes already in the kernel, or a reset if it had bytes unread or
C{SO_LINGER} 0. What Twisted still buffered in the process is lost. The other
processes' timers and connections are untouched.
"""

from __future__ import annotations

from collections.abc import Callable

from poetry.testing.kernel import Kernel
from poetry.testing.names import HostsTable, normalised
from poetry.testing.ordering import Order
from poetry.testing.reactor import NetworkReactor
from poetry.testing.records import ConnectionAttempt
from poetry.testing.sockets import KernelSocket


class SimulatedProcess:
    """A process on the simulated network: a name, a host address, and a reactor of its own.

    Hand C{reactor} to the code that runs in the process. Its connections
    come from C{address} (by default C{127.0.0.1}, or C{::1} to an IPv6
    address) unless it binds another.
    """

    def __init__(
        self,
        name: str,
        address: str | None,
        kernel: Kernel,
        hosts: HostsTable,
        attempts: list[ConnectionAttempt],
        move: Callable[[float], None],
        now: float,
        order: Order,
    ) -> None:
        self.name = name
        self.address = normalised(address) if address is not None else None
        self.alive = True
        self._sockets: dict[KernelSocket, None] = {}
        self.reactor = NetworkReactor(kernel, hosts, self, attempts, move, order)
        self.reactor.rightNow = now

    def __repr__(self) -> str:
        state = "" if self.alive else ", dead"
        return f"<SimulatedProcess {self.name!r} at {self.address or 'localhost'}{state}>"

    @property
    def sockets(self) -> list[KernelSocket]:
        """The sockets this process has open, oldest first."""
        return list(self._sockets)

    def adopt(self, sock: KernelSocket) -> None:
        """``sock`` is one of this process's (it made or accepted it)."""
        if not self.alive:
            raise RuntimeError(f"{self!r} has ended: it cannot open a socket")
        self._sockets[sock] = None  # pragma: no mutate (values never read)

    def forget(self, sock: KernelSocket) -> None:
        """``sock`` is closed (it closes once: it is still this process's)."""
        del self._sockets[sock]

    def step_clock(self, seconds: float) -> None:
        """Step this process's wall clock by ``seconds`` (back, if negative), as NTP may.

        Twisted's reactor reads the wall clock: a timer set before the step
        fires that much later (or sooner), on the network's clock. Other
        processes, and the kernel's own timers, are not moved.
        """
        self.reactor.offset += seconds
        self.reactor.rightNow += seconds

    def crash(self) -> None:
        """The process dies now (SIGKILL): nothing more runs; its kernel closes its sockets."""
        if not self.alive:
            return
        self.alive = False
        for connector in self.reactor.connectors:
            if connector.attempt.outcome == "pending":
                connector.attempt.settle("ended with its process", self.reactor.seconds())
        for call in list(self.reactor.getDelayedCalls()):
            call.cancel()
        self.reactor.removeAll()
        for sock in self.sockets:
            sock.close()
