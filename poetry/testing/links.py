"""What lies between the simulated hosts: cut links, latency, address faults and segmentation.

Hosts are IP addresses in their one canonical spelling (L{normalised}). A
link is cut one way or both ways, as a firewall rule that drops packets would
cut it: TCP retransmits what was dropped once the link is mended. An address
can refuse new connections (a TCP reset, as C{reject with tcp reset} gives)
or swallow them (their SYNs dropped, as a black hole does); either applies to
one port or to all, and neither touches connections already made.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

from poetry.testing.validation import ip_host, port_or_every, whole
from poetry.testing.validation import seconds as checked_seconds

Door = tuple[str, int | None]
"""An address fault's scope: a host, and one port of it or (None) all."""


def _door(address: str, port: int | None) -> Door:
    """An address fault's scope, checked: an IP address and a port (or None, every port)."""
    return ip_host(address), port_or_every(port)


class Links:
    """The conditions the simulated network puts on packets between hosts."""

    def __init__(self) -> None:
        self._cut: set[tuple[str, str]] = set()
        self._latency: dict[frozenset[str], float] = {}
        self._refused: set[Door] = set()
        self._swallowed: set[Door] = set()
        self._stalls: list[Door] = []
        self._bandwidth: dict[frozenset[str], float] = {}
        self._segmenter: Callable[[bytes], list[bytes]] = _whole
        self._random = random.Random()  # seeded by fragment(seed=...) before any use

    # links between hosts

    def cut(self, source: str, destination: str, both_ways: bool = True) -> None:
        """Drop packets from ``source`` to ``destination`` (and back, unless one way)."""
        if not isinstance(both_ways, bool):
            raise TypeError(f"both_ways is True or False, not {both_ways!r}")
        source, destination = ip_host(source), ip_host(destination)
        self._cut.add((source, destination))
        if both_ways:
            self._cut.add((destination, source))

    def mend(self, source: str, destination: str) -> None:
        """Let packets between the two hosts through again, both ways."""
        source, destination = ip_host(source), ip_host(destination)
        self._cut -= {(source, destination), (destination, source)}

    def passes(self, source: str, destination: str) -> bool:
        """Whether a packet from ``source`` to ``destination`` gets through now."""
        return (source, destination) not in self._cut

    def set_latency(self, host: str, other: str, seconds: float) -> None:
        """Make packets between two hosts take ``seconds`` each way."""
        delay = checked_seconds(seconds, "latency")
        self._latency[frozenset((ip_host(host), ip_host(other)))] = delay

    def latency(self, source: str, destination: str) -> float:
        """Seconds a packet takes from ``source`` to ``destination``."""
        return self._latency.get(frozenset((source, destination)), 0.0)

    def set_bandwidth(self, host: str, other: str, bytes_per_second: float | None) -> None:
        """Let at most ``bytes_per_second`` cross between two hosts, each way (None: no limit)."""
        key = frozenset((ip_host(host), ip_host(other)))
        if bytes_per_second is None:
            self._bandwidth.pop(key, None)
        elif not math.isfinite(bytes_per_second) or bytes_per_second <= 0:
            raise ValueError(f"bandwidth must be positive: {bytes_per_second!r}")
        else:
            self._bandwidth[key] = bytes_per_second

    def transmission(self, source: str, destination: str, size: int) -> float:
        """Seconds ``size`` bytes take to leave ``source`` for ``destination`` (the bandwidth's)."""
        bandwidth = self._bandwidth.get(frozenset((source, destination)))
        return size / bandwidth if bandwidth else 0.0

    # address faults

    def refuse(self, host: str, port: int | None) -> None:
        """Answer new connections to ``host`` (``port``, or any) with a reset."""
        self._refused.add(_door(host, port))

    def swallow(self, host: str, port: int | None) -> None:
        """Drop new connections' SYNs to ``host`` (``port``, or any): a black hole."""
        self._swallowed.add(_door(host, port))

    def restore(self, host: str, port: int | None) -> None:
        """Undo L{refuse}, L{swallow} and L{stall} for ``host`` and ``port``."""
        scope = _door(host, port)
        self._refused.discard(scope)
        self._swallowed.discard(scope)
        self._stalls = [stall for stall in self._stalls if stall != scope]

    def stall(self, host: str, port: int | None) -> None:
        """Hold the next connection made to ``host`` (``port``, or any) as its handshake ends.

        The client is connected in its own eyes; the server's side is not, and
        nothing moves either way until the connection is released.
        """
        self._stalls.append(_door(host, port))

    def stalls(self, host: str, port: int) -> bool:
        """Whether a connection to ``host``:``port`` is to be held (the stall is then used up)."""
        for scope in ((host, port), (host, None)):
            if scope in self._stalls:
                self._stalls.remove(scope)
                return True
        return False

    def refuses(self, host: str, port: int) -> bool:
        """Whether new connections to ``host``:``port`` are refused."""
        return (host, port) in self._refused or (host, None) in self._refused

    def swallows(self, host: str, port: int) -> bool:
        """Whether new connections' SYNs to ``host``:``port`` are dropped."""
        return (host, port) in self._swallowed or (host, None) in self._swallowed

    # segmentation

    def fragment(self, sizes: Sequence[int] | None = None, seed: int | None = None) -> None:
        """Cut later transmissions in segments of ``sizes`` (the last repeated), or at random.

        With ``seed``, the cuts come from a generator seeded with it: the same
        seed gives the same segments. With neither, a transmission is cut only
        at the kernel's segment size.
        """
        if sizes is not None and seed is not None:
            raise ValueError("fragment by sizes or by a seed, not both")
        if sizes is not None:
            if not sizes or not all(whole(size) and size >= 1 for size in sizes):
                raise ValueError(f"segment sizes must be positive whole numbers, got {sizes!r}")
            chosen = list(sizes)
            self._segmenter = lambda data: _cut(data, chosen)
        elif seed is not None:
            if not whole(seed):
                raise ValueError(f"a fragmentation seed is a whole number, not {seed!r}")
            self._random.seed(seed)
            self._segmenter = self._random_cut
        else:
            self._segmenter = _whole

    def segments(self, data: bytes) -> list[bytes]:
        """Cut ``data`` into the segments it is sent in."""
        return self._segmenter(data)

    def _random_cut(self, data: bytes) -> list[bytes]:
        """Cut ``data`` at up to three random points drawn from the seeded generator."""
        if len(data) < 2:
            return [data]
        count = min(self._random.randint(0, 3), len(data) - 1)
        cuts = sorted(self._random.sample(range(1, len(data)), count))
        edges = [0, *cuts, len(data)]
        return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def _whole(data: bytes) -> list[bytes]:
    """Leave ``data`` as one segment."""
    return [data]


def _cut(data: bytes, sizes: Sequence[int]) -> list[bytes]:
    """Cut ``data`` into pieces of ``sizes``, the last size repeated."""
    pieces, start, index = [], 0, 0
    while start < len(data):
        size = sizes[min(index, len(sizes) - 1)]
        pieces.append(data[start : start + size])
        start, index = start + size, index + 1
    return pieces
