"""A TCP socket's two queues: bytes it sends until they are acknowledged, bytes it received.

Sequence numbers count the bytes of one direction of a connection from 0; the
FIN, if any, comes after the last byte.
"""

from __future__ import annotations

from collections import deque


class Outbox:
    """What one side sends: bytes not yet acknowledged by its peer, then perhaps a FIN."""

    def __init__(self) -> None:
        self.data = bytearray()
        """The bytes not yet acknowledged, from sequence number L{acked}."""
        self.acked = 0
        self.next = 0
        """The sequence number of the next byte to send."""
        self.fin = False
        """Whether a FIN follows the data (the socket was shut down or closed)."""
        self.fin_sent = False
        self.fin_acked = False
        self.high = 0  # pragma: no mutate (1 differs only where no byte was sent: none can be)
        """The sequence number after the last byte ever sent (retransmissions go up to it)."""
        self.fin_was_sent = False
        """Whether the FIN was ever sent (a retransmission may send it again)."""

    @property
    def end(self) -> int:
        """The sequence number after the last byte."""
        return self.acked + len(self.data)

    @property
    def unsent(self) -> int:
        """Bytes not yet sent (not counting those to send again)."""
        return self.end - self.next

    @property
    def in_flight(self) -> bool:
        """Whether something sent is not yet acknowledged."""
        return self.next > self.acked or (self.fin_sent and not self.fin_acked)

    @property
    def queued(self) -> int:
        """Bytes held for the peer, sent or not: what counts against the send buffer."""
        return len(self.data)

    def append(self, data: bytes) -> None:
        """Queue ``data`` to send."""
        self.data += data

    def take(self, limit: int) -> tuple[int, bytes]:
        """Take up to ``limit`` unsent bytes to send; return their sequence number and them."""
        start = self.next - self.acked
        chunk = bytes(self.data[start : start + limit])
        sequence, self.next = self.next, self.next + len(chunk)
        self.high = max(self.high, self.next)
        return sequence, chunk

    def acknowledge(self, received: int, fin: bool) -> bool:
        """The peer has ``received`` bytes (and the FIN, if ``fin``); return if that is news."""
        news = False
        if received > self.acked:
            del self.data[: received - self.acked]
            self.acked, self.next, news = received, max(self.next, received), True
        if fin and self.fin_sent and not self.fin_acked and received == self.end:
            self.fin_acked = news = True
        return news

    def go_back(self) -> None:
        """Send again everything not acknowledged, from the oldest byte (after a loss)."""
        self.next = self.acked
        self.fin_sent = self.fin_acked

    def discard(self) -> None:
        """Drop everything not yet acknowledged: a reset leaves nothing to send."""
        self.acked, self.next = self.end, self.end
        self.data.clear()
        self.fin = self.fin_sent = self.fin_acked


class Inbox:
    """What one side received, in order, that its application has not read yet."""

    def __init__(self) -> None:
        self._segments: deque[bytes] = deque()
        self.queued = 0
        """Bytes received and not read."""
        self.received = 0
        """The sequence number of the next byte expected."""
        self.fin = False
        """Whether the peer's FIN has arrived, after every byte before it."""

    def accept(self, sequence: int, data: bytes, fin: bool) -> None:
        """Take a segment in; one that does not come next in order is dropped (and sent again)."""
        if sequence > self.received:
            return
        new = data[self.received - sequence :]
        if new:
            self._segments.append(new)
            self.queued += len(new)
            self.received += len(new)
        if fin and sequence + len(data) == self.received:
            self.fin = True

    def read(self, limit: int) -> bytes:
        """Read up to ``limit`` bytes of the oldest segment not yet read."""
        first = self._segments.popleft()
        if len(first) > limit:
            self._segments.appendleft(first[limit:])
            first = first[:limit]
        self.queued -= len(first)
        return first
