"""Pace many slow clients on the real reactor and measure lateness and CPU.

Usage: python -m benchmarks.pacing MODE CLIENTS SECONDS DELAY
MODE is ``pacer`` (txpoetry's shared pacer, one timer) or ``timers`` (one
``callLater`` per connection, each aimed at its exact due time). Transports are
in memory, so only the pacing is measured, not the sockets. Prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from array import array

from twisted.internet import reactor
from twisted.internet.protocol import Protocol
from twisted.internet.testing import StringTransport

from poetry.core.slow_server import SlowPoetryFactory

CHUNK = 10


class LatenessTransport(StringTransport):
    """Record how late each write is against the ideal schedule t0 + k * delay."""

    # Flat arrays of floats: half a million tuples would make the garbage collector's pauses
    # part of what is measured.
    due_times = array("d")
    lateness = array("d")

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.started = reactor.seconds()
        self.delay = delay
        self.writes = 0

    def write(self, data: bytes) -> None:
        """Record the lateness of this chunk; keep nothing."""
        due = self.started + self.writes * self.delay
        self.due_times.append(due)
        self.lateness.append(reactor.seconds() - due)
        self.writes += 1


class TimerPerConnection(Protocol):
    """The tutorial's pacing: each connection keeps its own timer, aimed at its due time."""

    def __init__(self, poem: bytes, delay: float) -> None:
        self.poem, self.delay, self.sent = poem, delay, 0

    def connectionMade(self) -> None:
        """Send the first chunk and start the timer chain."""
        self.started = reactor.seconds()
        self.send()

    def send(self) -> None:
        """Send a chunk and aim the timer at the next due time."""
        self.transport.write(self.poem[self.sent : self.sent + CHUNK])
        self.sent += CHUNK
        if self.sent < len(self.poem):
            due = self.started + (self.sent // CHUNK) * self.delay
            reactor.callLater(max(0.0, due - reactor.seconds()), self.send)


def main(mode: str, clients: int, seconds: float, delay: float) -> dict[str, float]:
    """Connect ``clients`` spread over one delay, run for ``seconds``, measure.

    ``warm_p99_ms`` leaves out chunks due in the first second (the connection burst).
    """
    poem = b"x" * CHUNK * (int(seconds / delay) + 2)
    factory = SlowPoetryFactory(poem, CHUNK, delay, reactor)

    def connect() -> None:
        if mode == "pacer":
            protocol: Protocol = factory.buildProtocol(None)
        else:
            protocol = TimerPerConnection(poem, delay)
        protocol.makeConnection(LatenessTransport(delay))

    for n in range(clients):
        reactor.callLater(delay * n / clients, connect)
    began = reactor.seconds()
    cpu = time.process_time()
    reactor.callLater(seconds, reactor.stop)
    reactor.run()
    cpu = time.process_time() - cpu
    late = sorted(LatenessTransport.lateness)
    warm = sorted(
        lateness
        for due, lateness in zip(
            LatenessTransport.due_times, LatenessTransport.lateness, strict=True
        )
        if due >= began + 1
    )
    return {
        "chunks": len(late),
        "cpu_seconds": cpu,
        "p50_ms": 1000 * statistics.median(late),
        "p99_ms": 1000 * late[int(len(late) * 0.99)],
        "max_ms": 1000 * late[-1],
        "warm_p99_ms": 1000 * warm[int(len(warm) * 0.99)] if warm else float("nan"),
    }


if __name__ == "__main__":
    mode, clients, seconds, delay = (
        sys.argv[1],
        int(sys.argv[2]),
        float(sys.argv[3]),
        float(sys.argv[4]),
    )
    print(json.dumps(main(mode, clients, seconds, delay)))
