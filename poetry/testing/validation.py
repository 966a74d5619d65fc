"""Checks on what a test hands the simulator: a clear error at once, never a fault that is inert.

A fault on a host spelled as a name, a port past 65535 or a latency of NaN
would otherwise be accepted and never match anything: the test would pass
without the fault it meant to put on the network.
"""

from __future__ import annotations

import math

from poetry.testing.names import is_ip, normalised


def ip_host(name: object) -> str:
    """``name``, an IP address, in its canonical spelling; C{ValueError} if it is not one."""
    if not isinstance(name, str) or not is_ip(name):
        raise ValueError(f"{name!r} is not an IP address: the network's hosts are IP addresses")
    return normalised(name)


def port_or_every(port: object) -> int | None:
    """``port``, if it is a port (0 to 65535) or None (every port); C{ValueError} if not."""
    if port is not None and (not whole(port) or not 0 <= port <= 65535):  # type: ignore[operator]
        raise ValueError(f"{port!r} is not a port (0 to 65535, or None for every port)")
    return port  # type: ignore[return-value]


def seconds(value: object, what: str) -> float:
    """``value``, if it is a time that can pass: finite, not negative; C{ValueError} if not."""
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number of seconds, not negative: {value!r}")
    return float(value)


def whole(value: object) -> bool:
    """Whether ``value`` is a whole number (an C{int}, not a C{bool})."""
    return isinstance(value, int) and not isinstance(value, bool)
