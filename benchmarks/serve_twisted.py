"""A peer for the fast server: the smallest Twisted server that sends the same bytes.

Usage: python -m benchmarks.serve_twisted POEM_FILE. Prints ``listening on HOST:PORT``.
A protocol that writes the poem and calls ``loseConnection``: no logging, no connection
tracking, no half-close, no linger. What Twisted itself costs per poem.
"""

from __future__ import annotations

import sys

from twisted.internet import reactor
from twisted.internet.protocol import Factory, Protocol


class Poem(Protocol):
    """Write the poem, then close."""

    def connectionMade(self) -> None:
        """Send the poem and close."""
        self.transport.write(self.factory.poem)
        self.transport.loseConnection()


def main(poem: bytes) -> None:
    """Serve ``poem`` to every client until killed."""
    factory = Factory.forProtocol(Poem)
    factory.noisy = False
    factory.poem = poem  # type: ignore[attr-defined]
    port = reactor.listenTCP(0, factory, backlog=4096, interface="127.0.0.1")
    print(f"listening on 127.0.0.1:{port.getHost().port}", flush=True)
    reactor.run()


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as file:
        main(file.read())
