"""The simulated kernels' shared parts: their settings, the wire between them, ports and listeners.

Every host on the simulated network runs the same TCP, whose settings are
L{KernelSettings}: Linux's defaults, or those of the machine the test runs on
(L{KernelSettings.from_host}). L{Kernel} carries packets between hosts, in
order, after each link's latency, unless the link is cut or the connection
held when the packet leaves or when it arrives; it also keeps the ports in use
and the sockets listening on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from itertools import count
from pathlib import Path
from typing import Any, Protocol

from poetry.testing.links import Links
from poetry.testing.names import is_ipv6
from poetry.testing.timeline import KernelEvent, Timeline
from poetry.testing.validation import seconds, whole

_SIZES = ("receive_buffer", "send_buffer", "segment_size")
"""The settings that are sizes in bytes: none can be zero."""

SYSCTLS = {
    "retries": "ipv4/tcp_retries2",
    "syn_retries": "ipv4/tcp_syn_retries",
    "syn_linear_timeouts": "ipv4/tcp_syn_linear_timeouts",
    "synack_retries": "ipv4/tcp_synack_retries",
    "max_backlog": "core/somaxconn",
    "fin_timeout": "ipv4/tcp_fin_timeout",
}
"""The settings Linux has a sysctl for, each with its path under C{/proc/sys/net}: each is a
network namespace's own, in whole numbers (seconds, for C{fin_timeout})."""


def as_sysctls(settings: Mapping[str, float]) -> dict[str, int]:
    """The sysctls that give a real kernel these settings: C{{"net.ipv4.tcp_fin_timeout": 2}}.

    Raises C{ValueError} naming a setting Linux has no sysctl for, or a value
    its sysctl cannot take (they are whole numbers).
    """
    found = {}
    for name, value in settings.items():
        if name not in SYSCTLS:
            raise ValueError(f"{name} is no sysctl of Linux's (those are: {', '.join(SYSCTLS)})")
        if not float(value).is_integer():
            raise ValueError(f"{name} is a whole number on Linux, not {value!r}")
        found["net." + SYSCTLS[name].replace("/", ".")] = int(value)
    return found


@dataclass(frozen=True)
class KernelSettings:
    """How the simulated kernels' TCP behaves; Linux's defaults unless told otherwise.

    Buffer sizes are what Linux on loopback shows for a reader that does not
    read: its receive queue held C{receive_buffer} bytes, and the writer's
    send queue took C{send_buffer} more (C{tcp_rmem} and C{tcp_wmem}, after
    autotuning, which on loopback is at once). Bytes not acknowledged are
    sent again first as a tail loss probe (after the retransmission timeout
    with one segment out, after C{probe_min} with more), then after the
    timeout (the round trip plus C{rto_min}), doubling each try up to
    C{rto_max}, for C{retries} tries (C{tcp_retries2}). A connect sends its SYN again
    after C{syn_timeout}, the same again for the first C{syn_linear_timeouts}
    tries, then doubling, and gives up after C{syn_retries} tries more
    (C{tcp_syn_retries}, C{tcp_syn_linear_timeouts}); a listener answers a SYN
    again at most C{synack_retries} times. A listener's queue of connections
    not yet accepted holds its backlog, at most C{max_backlog} (C{somaxconn}).
    A socket its application closed, its FIN acknowledged, waits for the
    peer's FIN C{fin_timeout} seconds (at least three and a half
    retransmission timeouts), then is dropped (C{tcp_fin_timeout}).
    """

    receive_buffer: int = 128_512
    send_buffer: int = 4_163_072
    segment_size: int = 65_536
    rto_min: float = 0.2
    rto_max: float = 120.0
    probe_min: float = 0.01
    delayed_ack: float = 0.2
    retries: int = 15
    syn_timeout: float = 1.0
    syn_retries: int = 6
    syn_linear_timeouts: int = 4
    synack_retries: int = 5
    max_backlog: int = 4096
    fin_timeout: float = 60.0

    def __post_init__(self) -> None:
        """Refuse settings no kernel could have (a zero buffer, a negative time or count)."""
        for field in fields(self):
            value = getattr(self, field.name)
            if field.type in (float, "float"):
                seconds(value, field.name)
            elif not whole(value) or value < (1 if field.name in _SIZES else 0):
                least = "positive" if field.name in _SIZES else "not negative"
                raise ValueError(f"{field.name} must be a whole number, {least}: {value!r}")
        if self.rto_min > self.rto_max:
            raise ValueError(f"rto_min ({self.rto_min}) is more than rto_max ({self.rto_max})")

    @classmethod
    def from_host(cls, sysctl: Path = Path("/proc/sys/net")) -> KernelSettings:
        """Return the settings of the machine this runs on, as far as its sysctls say."""
        found: dict[str, Any] = {}
        for name, path in SYSCTLS.items():
            try:
                found[name] = int((sysctl / path).read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        if "syn_linear_timeouts" not in found and found:
            found["syn_linear_timeouts"] = 0  # a kernel without the setting backs off at once
        return replace(cls(), **found)

    def syn_interval(self, attempt: int) -> float:
        """Seconds between a connect's SYN number ``attempt`` (1 is the first) and the next."""
        doublings = max(0, attempt - self.syn_linear_timeouts - 1)
        return float(min(self.syn_timeout * 2**doublings, self.rto_max))

    @property
    def syn_attempts(self) -> int:
        """How many SYNs a connect sends before it gives up."""
        return 1 + self.syn_retries + self.syn_linear_timeouts

    def retransmit_interval(self, round_trip: float, attempt: int, segments: int = 1) -> float:
        """Seconds from try ``attempt`` (1 is the first send) of unacknowledged bytes to the next.

        After the first send comes a tail loss probe, as Linux sends: after
        the worst delayed ACK when one segment is out, after twice the round
        trip (at least C{probe_min}) when more are; then the retransmission
        timeout, doubling each try.
        """
        rto = round_trip + self.rto_min
        if attempt == 1:
            probe = max(2 * round_trip, self.probe_min)
            if segments == 1:
                probe += self.delayed_ack
            return float(min(probe, rto))
        return float(min(rto * 2 ** (attempt - 2), self.rto_max))

    def fin_wait_timeout(self, round_trip: float) -> float:
        """Seconds a closed side, its FIN acknowledged, waits for the peer's FIN, then is dropped.

        C{fin_timeout}, but at least three and a half retransmission timeouts,
        as Linux's C{tcp_fin_time} has it (measured across a veth pair with
        C{tcp_fin_timeout} 0: dropped 0.79 to 0.82 s after the close, its RTO
        0.204 s; with 2, at 2.08 s).
        """
        return max(self.fin_timeout, 3.5 * (round_trip + self.rto_min))

    def describe(self) -> dict[str, object]:
        """The settings by name, for reports."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


class Lane:
    """Where a socket's packets are on the wire: none arrives before one sent earlier."""

    def __init__(self) -> None:
        self.time = 0.0
        """When the last packet sent in this lane arrives."""


class Listening(Protocol):
    """What the kernel needs of a listening socket to hand it a SYN."""

    def syn(self, client: Any) -> None:
        """A SYN from ``client`` (an endpoint) arrived."""


class Kernel:
    """The TCP all simulated hosts share: the wire, the ports in use, and who listens where."""

    def __init__(self, settings: KernelSettings, links: Links, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.links = links
        self.timeline = Timeline()
        self._clock = clock
        self._listeners: dict[tuple[str, int], Listening] = {}
        self._bound: set[tuple[str, int]] = set()
        self.connection_made: Callable[[Any], Any] = lambda client: None
        """Called with a client's endpoint as it starts connecting; returns the record to keep."""
        self._free_ports = count(40000)  # ports given to a bind to port 0
        self._client_ports = count(50000)  # ports given to a connect

    @property
    def now(self) -> float:
        """The simulated time."""
        return self._clock()

    # the wire

    def carry(
        self,
        source: str,
        destination: str,
        arrive: Callable[[], object],
        what: str,
        held: Callable[[], bool] = lambda: False,
        lane: Lane | None = None,
        size: int = 0,
    ) -> bool:
        """Send a packet from host ``source`` to ``destination``; ``arrive`` runs when it lands.

        The packet is lost (``arrive`` never runs; return False) if the link is
        cut, or ``held`` says so, when it leaves or when it would arrive.
        Packets sent in one ``lane`` (a socket's) arrive in the order they left,
        each after the bandwidth lets its ``size`` bytes through.
        """
        if held() or not self.links.passes(source, destination):
            return False
        time = self.now + self.links.latency(source, destination)
        if lane is not None:
            time = max(time, lane.time) + self.links.transmission(source, destination, size)
            lane.time = time

        def land() -> None:
            if not held() and self.links.passes(source, destination):
                arrive()

        self.timeline.at(time, land, what)
        return True

    def later(self, seconds: float, action: Callable[[], object], what: str) -> KernelEvent:
        """Run ``action`` after ``seconds``, on the kernel's own account (a timer)."""
        return self.timeline.at(self.now + seconds, action, what)

    def round_trip(self, host: str, other: str) -> float:
        """Seconds for a packet to go from ``host`` to ``other`` and back."""
        return self.links.latency(host, other) + self.links.latency(other, host)

    # ports and listeners

    def bind(self, host: str, port: int, listening: bool) -> int:
        """Take ``host``:``port`` (a free port when 0) for a socket; return the port."""
        if port == 0:
            ports = self._free_ports if listening else self._client_ports
            port = next(port for port in ports if (host, port) not in self._bound)
        elif (host, port) in self._bound:
            raise OSError(98, f"Address already in use: {host}:{port}")
        self._bound.add((host, port))
        return port

    def unbind(self, host: str, port: int) -> None:
        """Give ``host``:``port`` back."""
        self._bound.discard((host, port))

    def listen(self, host: str, port: int, listener: Listening) -> None:
        """Hand SYNs to ``host``:``port`` to ``listener``."""
        self._listeners[(host, port)] = listener

    def unlisten(self, host: str, port: int) -> None:
        """Stop handing SYNs to ``host``:``port`` to anyone."""
        self._listeners.pop((host, port), None)

    def listener(self, host: str, port: int) -> Listening | None:
        """The socket taking connections to ``host``:``port``, wildcards included.

        As on Linux by default, C{0.0.0.0} takes every IPv4 address and C{::}
        every address of both families.
        """
        wildcards = (host, "::") if is_ipv6(host) else (host, "0.0.0.0", "::")
        for interface in wildcards:
            if (interface, port) in self._listeners:
                return self._listeners[(interface, port)]
        return None
