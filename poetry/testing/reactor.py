"""A simulated process's reactor: its own timers, and Twisted's TCP on the simulated kernel.

It is a C{MemoryReactorClock} whose timers are the process's own
(L{poetry.testing.timers}), whose C{listenTCP} and C{connectTCP} make
Twisted's own TCP port and connector on simulated sockets, whose reader and
writer sets are polled by the network as a real reactor polls its sockets
(L{poetry.testing.selectables}), and whose name resolver answers from the
network's hosts table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import (
    IProtocolFactory,
)
from twisted.internet.posixbase import _DisconnectSelectableMixin

from poetry.testing.kernel import Kernel
from poetry.testing.names import HostsResolver, HostsTable, is_ip, is_ipv6, normalised
from poetry.testing.ordering import Order
from poetry.testing.records import ConnectionAttempt
from poetry.testing.selectables import PolledDescriptors
from poetry.testing.sockets import KernelSocket, Owner, source_address
from poetry.testing.timers import ProcessTimers
from poetry.testing.twisted_tcp import MemoryConnector, MemoryPort


class NetworkReactor(_DisconnectSelectableMixin, PolledDescriptors, ProcessTimers):
    """The reactor of one simulated process.

    A descriptor whose read or write ends its connection is disconnected by
    Twisted's own rule (C{_disconnectSelectable}: a half-close is heard as one).

    Time passes for every process at once: C{advance} (and C{pump}) on any
    process's reactor moves the whole network, timers and bytes alike.
    """

    def __init__(
        self,
        kernel: Kernel,
        hosts: HostsTable,
        owner: Owner,
        attempts: list[ConnectionAttempt],
        move: Callable[[float], None],
        order: Order,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.kernel, self.owner, self._order = kernel, owner, order
        self.offset = 0.0
        """How far this process's clock is ahead of the network's (behind, if negative)."""
        self._hosts, self._attempts, self._move = hosts, attempts, move
        self._readers: dict[Any, None] = {}
        self._writers: dict[Any, None] = {}
        self._woken: dict[Any, None] = {}
        self.ports: list[MemoryPort] = []
        """Every port listened on with this reactor."""
        self.installNameResolver(HostsResolver(hosts))

    # TCP

    def make_socket(self, family: int) -> KernelSocket:
        """A new socket of this process in the simulated kernel."""
        return KernelSocket(self.kernel, family, self.owner)

    def listenTCP(
        self, port: int, factory: IProtocolFactory, backlog: int = 50, interface: str = ""
    ) -> MemoryPort:
        """Listen with Twisted's TCP port, on a simulated socket."""
        self.tcpServers.append((port, factory, backlog, interface))
        listening = MemoryPort(port, factory, backlog, interface, self)
        listening.startListening()
        self.ports.append(listening)
        return listening

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: Any,
        timeout: float = 30,
        bindAddress: Any = None,
    ) -> MemoryConnector:
        """Connect with Twisted's TCP connector, from a simulated socket."""
        self.tcpClients.append((host, port, factory, timeout, bindAddress))  # type: ignore[arg-type]
        connector = MemoryConnector(host, port, factory, timeout, bindAddress, self)
        self.connectors.append(connector)
        connector.connect()
        return connector

    def record_attempt(self, host: str, port: int, bind: Any) -> ConnectionAttempt:
        """Put a new connection attempt on the network's record."""
        source = normalised(bind[0]) if bind else source_address(self.owner, host)
        attempt = ConnectionAttempt(self.seconds(), host, port, source)
        self._attempts.append(attempt)
        return attempt

    def resolve(self, name: str, timeout: Any = None) -> Deferred[str]:
        """Look ``name`` up in the hosts table (its first IPv4 address)."""
        addresses = [a for a in self._hosts.lookup(name) if is_ip(a) and not is_ipv6(a)]
        if not addresses:
            return fail(DNSLookupError(name))
        return succeed(addresses[0])
