"""A simulated process's reactor: its own timers, and Twisted's TCP on the simulated kernel.

It is a C{MemoryReactorClock} whose C{listenTCP} and C{connectTCP} make
Twisted's own TCP port and connector on simulated sockets, whose reader and
writer sets are polled by the network as a real reactor polls its sockets,
and whose name resolver answers from the network's hosts table.
"""

from __future__ import annotations

import sys
from bisect import insort
from collections.abc import Callable
from typing import Any

from twisted.internet.base import DelayedCall
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import (
    IDelayedCall,
    IProtocolFactory,
    IReadDescriptor,
    IWriteDescriptor,
)
from twisted.internet.posixbase import _DisconnectSelectableMixin
from twisted.internet.testing import MemoryReactorClock
from twisted.python import log

from poetry.testing.kernel import Kernel
from poetry.testing.names import HostsResolver, HostsTable, is_ip, is_ipv6, normalised
from poetry.testing.ordering import Order
from poetry.testing.records import ConnectionAttempt
from poetry.testing.sockets import KernelSocket, Owner, source_address
from poetry.testing.twisted_tcp import MemoryConnector, MemoryPort


class NetworkReactor(_DisconnectSelectableMixin, MemoryReactorClock):
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

    # time

    def advance(self, amount: float) -> None:
        """Let ``amount`` seconds pass on the whole network (every process, every byte)."""
        self._move(amount)

    def callLater(
        self, delay: float, callable: Callable[..., object], *args: object, **kw: object
    ) -> IDelayedCall:
        """Call ``callable`` after ``delay`` seconds of this process's clock.

        As C{Clock.callLater}, but the calls are kept in order as they are
        added, not sorted every time: a process with many timers (a client's
        timeout per connection) would spend its time sorting. A call put off
        (reset to later, or delayed) keeps its place until it comes first, as
        in Twisted's own reactor, which is not told of it. As Twisted's reactor
        does, it refuses a negative delay; a process that has ended runs
        nothing more.
        """
        assert delay >= 0, f"{delay} is not greater than or equal to 0 seconds"
        if not self.owner.alive:
            raise RuntimeError(f"{self.owner!r} has ended: nothing more runs in it")
        call = DelayedCall(
            self.seconds() + delay,
            callable,
            args,
            kw,
            self.calls.remove,
            self._resort,
            self.seconds,
        )
        insort(self.calls, call, key=_set_for)
        return call

    def _resort(self, call: IDelayedCall) -> None:
        """A call was brought forward (Twisted says so only then): put the calls in order again."""
        self.calls.sort(key=_set_for)

    def _put_off_calls_in_place(self) -> None:
        """Move each call put off since it was set, once it comes first, to its new place.

        The calls are in order of the times they were set for; one reset to
        later or delayed is due later still, so the first call not put off
        is the earliest (Twisted's reactor does the same).
        """
        calls = self.calls
        while calls and calls[0].delayed_time:
            call = calls.pop(0)
            call.activate_delay()
            insort(calls, call, key=_set_for)

    def set_time(self, now: float) -> None:
        """The network's clock reads ``now``: this process's reads that, stepped by its offset.

        A timer due by the network's clock is due by the process's, though
        adding the offset back may round a hair below the timer's time.
        """
        self.rightNow = now + self.offset
        for call in self.calls:
            if call.time - self.offset > now:
                break  # in order of the times they were set for: none after is due
            if call.getTime() - self.offset <= now:  # not put off past now
                self.rightNow = max(self.rightNow, call.getTime())

    def next_call(self) -> float | None:
        """When the earliest timer is due, on the network's clock, if any."""
        self._put_off_calls_in_place()
        return self.calls[0].getTime() - self.offset if self.calls else None

    def run_due(self) -> bool:
        """Run the timers due now; return whether any ran.

        As a real reactor's turn does, it runs the timers that were due when
        it began: one a timer sets for now (C{callLater(0)}) waits for the
        next round. Timers due at the same time run in the network's order
        for ties.
        """
        self._put_off_calls_in_place()
        due = sorted(
            (call for call in self.calls if call.getTime() <= self.rightNow),
            key=DelayedCall.getTime,
        )
        ran = False
        while due:
            first = due[0].getTime()
            ties = [call for call in due if call.getTime() == first]
            call = self._order.pick(ties)
            due.remove(call)
            if call not in self.calls:
                continue  # cancelled by a timer that ran before it
            self.calls.remove(call)
            call.called = 1
            call.func(*call.args, **call.kw)
            ran = True
        return ran

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

    # the descriptors the network polls, in the order they were added

    def addReader(self, reader: IReadDescriptor) -> None:
        """Poll ``reader``'s socket for reading."""
        self._readers[reader] = None  # pragma: no mutate (values never read)
        self.wake(reader)

    def addWriter(self, writer: IWriteDescriptor) -> None:
        """Poll ``writer``'s socket for writing."""
        self._writers[writer] = None  # pragma: no mutate (values never read)
        self.wake(writer)

    def wake(self, selectable: Any) -> None:
        """Poll ``selectable`` on the next round: its socket may be ready."""
        self._woken[selectable] = None  # pragma: no mutate (values never read)

    def removeReader(self, reader: IReadDescriptor) -> None:
        """Stop polling ``reader``."""
        self._readers.pop(reader, None)

    def removeWriter(self, writer: IWriteDescriptor) -> None:
        """Stop polling ``writer``."""
        self._writers.pop(writer, None)

    def removeAll(self) -> list[IReadDescriptor | IWriteDescriptor]:
        """Stop polling anything; return what was polled."""
        every = list(dict.fromkeys([*self._readers, *self._writers]))
        self._readers.clear()
        self._writers.clear()
        return every

    def getReaders(self) -> list[IReadDescriptor]:
        """What is polled for reading."""
        return list(self._readers)

    def getWriters(self) -> list[IWriteDescriptor]:
        """What is polled for writing."""
        return list(self._writers)

    def poll(self) -> bool:
        """Let each descriptor whose socket is ready read or write once; return whether any did.

        Only descriptors whose sockets may be ready are looked at: those the
        kernel touched or that were added since the last round, and those that
        read or wrote in it (a socket stays ready until drained, as epoll's
        level-triggered readiness does).
        """
        woken, self._woken = self._woken, {}
        moved = False
        for selectable in self._order.arrange(list(woken)):
            if self._serve(selectable):
                moved = True
                self._woken[selectable] = None  # pragma: no mutate (values never read)
        return moved

    def _serve(self, selectable: Any) -> bool:
        """Read or write once, as a real reactor's loop does when the socket is ready."""
        sock = getattr(selectable, "socket", None)
        if not isinstance(sock, KernelSocket):
            return False
        why, is_read, served = None, False, False  # pragma: no mutate (is_read: set again)
        try:
            if selectable in self._readers and sock.readable():
                is_read = served = True
                why = selectable.doRead()
            if not why and selectable in self._writers and sock.writable():
                is_read, served = False, True
                why = selectable.doWrite()
        except BaseException:
            why = sys.exc_info()[1]
            log.err()
        if why:
            self._disconnectSelectable(selectable, why, is_read)  # type: ignore[no-untyped-call]
        return served


def _set_for(call: DelayedCall) -> float:
    """The time ``call`` was last set for (not counting a delay since: see C{activate_delay})."""
    return call.time
