"""The faults a test puts on the simulated network: cut links, latency, refusals, black holes."""

from __future__ import annotations

from collections.abc import Sequence

from poetry.testing.links import Links


class NetworkFaults:
    """Faults on links and addresses (the network mixes this in; it keeps C{links})."""

    links: Links

    def refuse(self, host: str, port: int | None = None) -> None:
        """Answer new connections to ``host`` (``port``, or any) with a reset, listening or not."""
        self.links.refuse(host, port)

    def black_hole(self, host: str, port: int | None = None) -> None:
        """Drop new connections' SYNs to ``host`` (``port``, or any): attempts hang.

        A connect sends its SYN again and again (see L{KernelSettings}) until
        its timeout fails it or it is cancelled; once restored, the next SYN
        gets through.
        """
        self.links.swallow(host, port)

    def restore(self, host: str, port: int | None = None) -> None:
        """Undo L{refuse}, L{black_hole} and L{stall} for ``host`` (and ``port``)."""
        self.links.restore(host, port)

    def partition(self, host: str, other: str, both_ways: bool = True) -> None:
        """Drop every packet from ``host`` to ``other`` (and back, unless one way).

        Like a firewall's drop rule: TCP sends what was dropped again, and it
        arrives at the first retransmission after L{heal}; an RST is never
        sent again, so one sent across the partition is lost.
        """
        self.links.cut(host, other, both_ways)

    def heal(self, host: str, other: str) -> None:
        """Let packets between two hosts through again, both ways."""
        self.links.mend(host, other)

    def set_latency(self, host: str, other: str, seconds: float) -> None:
        """Make every packet between two hosts take ``seconds``, each way."""
        self.links.set_latency(host, other, seconds)

    def fragment(self, sizes: Sequence[int] | None = None, seed: int | None = None) -> None:
        """Send later writes in segments of ``sizes`` (the last repeated), or cut by ``seed``."""
        self.links.fragment(sizes, seed)

    def set_bandwidth(self, host: str, other: str, bytes_per_second: float | None) -> None:
        """Let at most ``bytes_per_second`` cross between two hosts, each way (None: no limit).

        Each segment leaves after the one before it has gone through, so a
        fault can cut one write in the middle.
        """
        self.links.set_bandwidth(host, other, bytes_per_second)

    def stall(self, host: str, port: int | None = None) -> None:
        """Hold the next connection made to ``host`` (``port``, or any) as its handshake ends.

        A stall before the first byte: the client is connected, but nothing
        moves until the connection (then in C{network.connections}) is released.
        """
        self.links.stall(host, port)
