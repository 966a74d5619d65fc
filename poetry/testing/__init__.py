"""A deterministic simulated TCP network for testing Twisted code, txpoetry's and yours.

L{MemoryPoetryNetwork} is a network of simulated processes on simulated
hosts. Each process (L{MemoryPoetryNetwork.process}) has its own reactor,
with its own timers: hand it to the code that runs in that process. The
network's C{reactor} is the reactor of a process called C{main}, on
C{127.0.0.1}. Real services listen with C{listenTCP} (or an endpoint string
such as C{tcp:0:interface=10.0.0.1}); real clients connect with
C{connectTCP} or a C{HostnameEndpoint}.

What is simulated, and what is Twisted's own
============================================

The transports, ports and connectors are Twisted's own (C{twisted.internet.tcp}),
running on sockets of a simulated kernel (L{KernelSocket}): how a transport
buffers, pauses a producer, half-closes, closes in order (C{shutdown}, then
C{close}) and aborts on the reactor's next turn is Twisted's code, unchanged.
Below the socket, the kernel is a model of Linux's TCP, each rule measured
on a real kernel (C{docs/fidelity.md} shows each fault, by phase of the
connection, in memory, on loopback and across two network namespaces):

 - a connection has a send queue and a receive queue per side
   (L{KernelSettings}: sizes as Linux's loopback shows them); the kernel
   completes the handshake into the listener's backlog before any
   C{accept()}, and drops a SYN that finds the backlog full;
 - bytes, the FIN and the RST travel in order, each after the link's latency;
 - C{close()} with bytes received and not read, or with C{SO_LINGER} 0,
   sends an RST, which drops every byte not yet sent; Twisted's orderly
   close sends its FIN first, so a reader that has the bytes sees a clean
   close; bytes sent to a closed socket earn the sender an RST;
 - what a cut link or a held connection drops is sent again at the next
   retransmission (doubling timeouts); a connect sends its SYN again on
   Linux's schedule (C{tcp_syn_retries}, C{tcp_syn_linear_timeouts}); an RST
   is never sent again;
 - a side its application closed, its FIN acknowledged, waits for the
   peer's FIN C{tcp_fin_timeout} (at least three and a half retransmission
   timeouts), then is dropped: a peer whose reset was lost holds it no longer;
 - a process that dies (L{SimulatedProcess.crash}) runs nothing more; its
   kernel closes its sockets as C{close()} does; other processes live on.

Moving the network
==================

Nothing moves until the test says so. C{network.flush()} runs, in every
process, what a real reactor would run now: timers due now, then one read or
write on each ready socket, again and again until nothing moves; it never
moves the clock. C{network.advance(seconds)} lets time pass, firing each
timer and delivering each packet at its own time. Any process's
C{reactor.advance} is the same call: time passes for the whole network.

Faults
======

 - C{connection.reset(side)}: that side aborts the connection (on its
   reactor's next turn); C{connection.hold()} / C{release()}: drop the
   connection's packets both ways until released. C{network.connections}
   lists the connections made and not yet closed.
 - C{network.partition(a, b, both_ways=True)} / C{network.heal(a, b)}: drop
   packets between two hosts (or one way only), as a firewall's drop rule.
 - C{network.black_hole(host, port=None)}: drop new connections' SYNs (the
   connect retries until its timeout); C{network.refuse(host, port=None)}:
   answer them with a reset; C{network.restore(host, port=None)} undoes both.
 - C{network.set_latency(a, b, seconds)}: each packet between two hosts takes
   that long, each way (the handshake too).
 - C{network.fragment(sizes=[...])} or C{network.fragment(seed=...)}: cut each
   write into segments of those sizes, or at seeded random points.
 - C{process.crash()}: the process dies now.

Names and records
=================

C{network.hosts.add(name, *addresses)} is the one hosts table, read by
C{connectTCP}, C{reactor.resolve} and the resolver of C{HostnameEndpoint}; an
unknown name fails with C{DNSLookupError}. C{network.attempts} lists every
connection attempt (L{ConnectionAttempt}: when C{connectTCP} was called, from
where, to where, and how it ended) and the connection it made
(L{MemoryConnection}). L{leftovers.assert_nothing_left} fails a test that
left a connection open, a timer set, a producer registered or a packet due.

Where it differs from real TCP
==============================

 - Packets between processes of one test arrive exactly when the model says;
   on a real kernel, scheduling adds jitter (measured: a few milliseconds).
 - A receiver's window is known to its sender at once (a real sender learns it
   from ACKs); lost window updates are covered by a probe timer, as on Linux.
 - Out-of-order segments are dropped and sent again, not queued (there is no
   SACK): the bytes arrive at the same retransmission either way.
 - Send buffers do not grow or shrink (Linux autotunes them); TIME_WAIT,
   keepalives, Nagle's algorithm and congestion control are not modelled.
 - The file-descriptor limit, and Twisted's EMFILE recovery, exist only on
   real processes (C{tests/integration/test_integrity.py}).
 - Every address answers: a connect to an address where nothing listens is
   refused at once. On a real kernel an address with no route fails at once
   with C{ENETUNREACH}, and one routed to no host times out after its SYN
   retries (L{MemoryPoetryNetwork.black_hole} gives that).
 - Retransmission timeouts start from the model's round trip (its latency);
   across a real veth pair the round trip adds some microseconds, so the
   kernel's retransmissions come as much later (the fidelity cells allow it).
 - This machine's kernel has no netem, so latency is checked in memory only.
"""

import warnings
from typing import Any

from twisted.internet import tcp
from twisted.internet.abstract import FileDescriptor

from poetry.testing.kernel import KernelSettings
from poetry.testing.names import HostsResolver, HostsTable
from poetry.testing.network import MAX_ROUNDS, MemoryPoetryNetwork, NetworkDidNotSettle
from poetry.testing.processes import SimulatedProcess
from poetry.testing.reactor import NetworkReactor
from poetry.testing.records import ConnectionAttempt, MemoryConnection
from poetry.testing.sockets import ORDINARY_LINGER, RESET_LINGER, KernelSocket
from poetry.testing.twisted_tcp import MemoryPort

__all__ = [
    "MAX_ROUNDS",
    "ORDINARY_LINGER",
    "RESET_LINGER",
    "ConnectionAttempt",
    "HostsResolver",
    "HostsTable",
    "KernelSettings",
    "KernelSocket",
    "MemoryConnection",
    "MemoryPoetryNetwork",
    "MemoryPort",
    "NetworkDidNotSettle",
    "NetworkReactor",
    "SimulatedProcess",
]

_MOVED: dict[str, tuple[Any, str]] = {
    "MemoryTransport": (tcp.Connection, "transports are Twisted's own: twisted.internet.tcp"),
    "SocketOptions": (KernelSocket, "use poetry.testing.KernelSocket"),
    "BUFFER_SIZE": (FileDescriptor.bufferSize, "Twisted's own transport buffer is used"),
    "RESET": ("connection reset by peer", "a reset is Twisted's own ConnectionLost"),
}


def _deprecated_name(name: str, qualified: str) -> Any:
    """Return a name that moved or went, with a warning saying what to use instead."""
    if name not in _MOVED:
        raise AttributeError(f"module has no attribute {name!r}")
    value, instead = _MOVED[name]
    warnings.warn(f"{qualified} is deprecated: {instead}", DeprecationWarning, stacklevel=3)
    return value


def __getattr__(name: str) -> Any:
    """Give a moved name, with a deprecation warning."""
    return _deprecated_name(name, f"poetry.testing.{name}")
