"""In-memory TCP connections: closing, aborting, half-closing and pushing back as under Twisted."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import ConnectionAborted, ConnectionDone, ConnectionLost
from twisted.internet.interfaces import (
    IConsumer,
    IDelayedCall,
    IHalfCloseableProtocol,
    IProtocol,
    IPushProducer,
    IReactorTime,
    ITCPTransport,
)
from twisted.python.failure import Failure
from zope.interface import implementer

if TYPE_CHECKING:
    from poetry.testing.network import MemoryPoetryNetwork

Address = IPv4Address | IPv6Address

ORDINARY_LINGER = struct.pack("ii", 0, 0)
"""C{SO_LINGER} off: a closed socket sends what it has, then a FIN."""

RESET_LINGER = struct.pack("ii", 1, 0)
"""C{SO_LINGER} on with no time: a closed socket sends a reset."""

RESET = "connection reset by peer"
"""What a reset peer's C{ConnectionLost} says."""

BUFFER_SIZE = 65536
"""Bytes a transport holds for a peer that does not read before it pauses its producer.

Twisted's own transports pause their producer past 64 KiB of buffered data.
"""


class SocketOptions:
    """The socket options memory transports and ports honour: only C{SO_LINGER}."""

    def __init__(self, family: int = socket.AF_INET, linger: bytes = ORDINARY_LINGER) -> None:
        self.family = family
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


@dataclass
class _Segment:
    """Bytes on their way to the peer, and the clock time they may arrive."""

    data: bytes
    arrives: float


@dataclass(eq=False)
class MemoryConnection:
    """A connection on the in-memory network: its two ends, and the faults put on it.

    C{hold()} keeps every byte, and every close, from moving either way until
    C{release()}; C{reset()} resets the connection at once, as if the server
    (or, with C{side="client"}, the client) had aborted it.
    """

    client: MemoryTransport
    server: MemoryTransport
    listening: Any
    network: MemoryPoetryNetwork
    opened: float
    held: bool = False
    closed_at: float | None = field(default=None)

    def __post_init__(self) -> None:
        self.client.link = self.server.link = self
        self.client.peer, self.server.peer = self.server, self.client

    def hold(self) -> None:
        """Hold this connection's bytes and closes, both ways, until released."""
        self.held = True

    def release(self) -> None:
        """Let held bytes and closes move again (on the next flush)."""
        self.held = False  # pragma: no mutate (a flag: None is as false)

    def reset(self, side: str = "server") -> None:
        """Reset the connection now: ``side`` drops its queued bytes, the other sees a reset."""
        end = self.server if side == "server" else self.client
        if not end.disconnected:
            end.outgoing = []
            end.reset_now(ConnectionAborted())

    @property
    def closed(self) -> bool:
        """Whether both ends are closed."""
        return self.client.closed and self.server.closed

    @property
    def delayed(self) -> bool:
        """Whether bytes cannot move now: the connection is held or its hosts are partitioned."""
        return self.held or self.network.partitioned(self.client.getHost(), self.server.getHost())

    def pump(self) -> bool:
        """Move what may move both ways once; return whether anything moved."""
        sent = self.client.send()
        return self.server.send() or sent

    def next_arrival(self) -> float | None:
        """The clock time the next delayed segment may arrive, if one is waiting for latency."""
        times = [s.arrives for end in (self.client, self.server) for s in end.outgoing[:1]]
        future = [t for t in times if t > self.network.now]
        return min(future) if future else None


@implementer(ITCPTransport, IConsumer, IPushProducer)
class MemoryTransport:
    """One end of an in-memory TCP connection.

    Bytes written wait in C{outgoing} until the network moves them to the peer,
    in the segments and at the times the network's faults say. As on Twisted's
    TCP transports: C{loseConnection} sends what is queued, then closes;
    C{abortConnection} drops what is queued and resets on the reactor's next
    turn; C{loseWriteConnection} half-closes; a producer is paused when more
    than the network's buffer size is queued for a peer that does not read,
    and resumed once everything has drained; the transport is itself a push
    producer, whose C{pauseProducing} stops delivering bytes to its protocol.
    """

    link: MemoryConnection

    def __init__(
        self,
        protocol: IProtocol,
        clock: IReactorTime,
        host: Address,
        peer_address: Address,
        options: SocketOptions | None = None,
    ) -> None:
        self.protocol = protocol
        self.socket = SocketOptions() if options is None else options
        self.peer: MemoryTransport | None = None
        self.outgoing: list[_Segment] = []
        self.connected = True
        self.disconnecting = False  # pragma: no mutate (a flag: None is as false)
        self.disconnected = False  # pragma: no mutate (a flag: None is as false)
        self.producer: Any = None
        self._streaming = False  # pragma: no mutate (set before read)
        self._producer_paused = False  # pragma: no mutate (set before read)
        self._clock = clock
        self._host = host
        self._peer_address = peer_address
        self._write_closing = False  # pragma: no mutate (a flag: None is as false)
        self._write_closed = False  # pragma: no mutate (a flag: None is as false)
        self._reading = True
        self._reading_paused = False  # pragma: no mutate (a flag: None is as false)
        self._reset_call: IDelayedCall | None = None
        self._unread = False

    # ITransport

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the peer (dropped once this side is closing or closed)."""
        if not data or self.disconnecting or self._write_closing or self.disconnected:
            return
        arrives = self._clock.seconds() + self.link.network.latency(self._host, self._peer_address)
        self.outgoing.extend(_Segment(piece, arrives) for piece in self.link.network.segments(data))
        if (
            self.producer is not None
            and self._streaming
            and not self._producer_paused
            and self.queued > self.link.network.buffer_size
        ):
            self._producer_paused = True
            self.producer.pauseProducing()

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Queue each piece of ``data`` for the peer, as one write."""
        self.write(b"".join(data))

    def loseConnection(self) -> None:
        """Stop reading; close once everything queued has been sent."""
        self.disconnecting = True
        self._reading = False  # pragma: no mutate (a flag: None is as false)

    def abortConnection(self) -> None:
        """Drop what is queued and stop reading; reset on the reactor's next turn."""
        if self.disconnected or self._reset_call is not None:
            return
        self.outgoing = []
        self._reading = False  # pragma: no mutate (a flag: None is as false)
        self.disconnecting = True
        self._reset_call = self._clock.callLater(0, self.reset_now, ConnectionAborted())

    def loseWriteConnection(self) -> None:
        """Half-close: send a FIN once everything queued has been sent; keep reading."""
        self._write_closing = True

    def getHandle(self) -> SocketOptions:
        """Return this end's socket options (the handle of a real socket)."""
        return self.socket

    def getPeer(self) -> Address:
        """Return the address of the other end."""
        return self._peer_address

    def getHost(self) -> Address:
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
        self.producer, self._streaming, self._producer_paused = producer, streaming, False
        if not streaming:
            producer.resumeProducing()

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        self.producer = None

    # IPushProducer: this end reading from its peer

    def pauseProducing(self) -> None:
        """Stop delivering the peer's bytes to this end's protocol: a reader that does not read."""
        self._reading_paused = True

    def resumeProducing(self) -> None:
        """Deliver the peer's bytes again."""
        self._reading_paused = False  # pragma: no mutate (a flag: None is as false)

    def stopProducing(self) -> None:
        """Close the connection."""
        self.loseConnection()

    # moved by the network

    @property
    def queued(self) -> int:
        """Bytes written and not yet delivered to the peer."""
        return sum(len(segment.data) for segment in self.outgoing)

    @property
    def closed(self) -> bool:
        """Whether this end is closed (cleanly, by a reset, or by its process exiting)."""
        return self.disconnected

    def send(self) -> bool:
        """Move the segments that may arrive now to the peer, then any close that waited for them.

        Returns whether anything moved.
        """
        if self.link.delayed:
            return False
        moved = False  # pragma: no mutate (a flag: None is as false)
        now = self._clock.seconds()
        while self.outgoing and not self.disconnected and self.outgoing[0].arrives <= now:
            if self._other.disconnected:
                self.outgoing = []
                self.reset_now(ConnectionLost(RESET), tell_peer=False)
                return True
            if self._other.reading_paused:
                break
            self._other.receive(self.outgoing.pop(0).data)
            moved = True
        if self.disconnected or self.outgoing:
            return moved
        return self._drained() or moved

    def _drained(self) -> bool:
        """Everything queued is delivered: resume the producer, carry out a waiting close."""
        if self.producer is not None and (not self._streaming or self._producer_paused):
            self._producer_paused = False
            self.producer.resumeProducing()
            if self.outgoing:
                return True
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
        return False

    @property
    def reading_paused(self) -> bool:
        """Whether this end's protocol is not reading for now (its transport was paused)."""
        return self._reading_paused

    def receive(self, data: bytes) -> None:
        """Deliver bytes from the peer; once this end has stopped reading, they stay unread."""
        if self._reading and not self.disconnected:
            self.protocol.dataReceived(data)
        else:
            self._unread = True

    def end_of_stream(self) -> None:
        """The peer sent a FIN: half-close if the protocol can, else close as Twisted does."""
        if self.disconnected or not self._reading:
            return
        self._reading = False  # pragma: no mutate (a flag: None is as false)
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
            self._other.outgoing = []
            self._other.lose(ConnectionLost(RESET))
        else:
            self._other.end_of_stream()

    def reset_now(self, reason: Exception, tell_peer: bool = True) -> None:
        """Reset the connection: the peer (unless told otherwise) first, then this end.

        As in Twisted, the reset is on the wire before this end's protocol
        hears of the loss.
        """
        if tell_peer:
            self._other.outgoing = []
            self._other.lose(ConnectionLost(RESET))
        self.lose(reason)

    @property
    def _other(self) -> MemoryTransport:
        """The other end of the connection."""
        assert self.peer is not None, "a memory transport is used before it is connected"
        return self.peer

    def _close(self, reason: Exception) -> None:
        """Close the socket: a FIN to the peer, or a reset if C{SO_LINGER} is 0.

        As on Linux, a socket closed with bytes it never read sends a reset too.
        """
        if self.socket.resets_on_close or self._unread:
            self.reset_now(reason)
        else:
            self.lose(reason)
            self._other.end_of_stream()

    def lose(self, reason: Exception) -> None:
        """Close this end for good and tell its producer and protocol why."""
        if self.disconnected:
            return
        self.disconnected, self.connected, self.disconnecting = True, False, True
        self._reading = False  # pragma: no mutate (a flag: None is as false)
        self.link.closed_at = self._clock.seconds() if self._other.disconnected else None
        producer, self.producer = self.producer, None
        if producer is not None:
            producer.stopProducing()
        self.protocol.connectionLost(Failure(reason))
