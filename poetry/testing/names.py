"""One name-resolution story for the in-memory network: a hosts table.

C{connectTCP} and the resolver that C{HostnameEndpoint} uses both read it;
an unknown name fails as a DNS error does; IPv6 spellings are normalised.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
)
from zope.interface import implementer

Address = IPv4Address | IPv6Address


@functools.lru_cache(maxsize=1024)
def normalised(host: str) -> str:
    """Return an IP address in its one canonical spelling; a name unchanged (lower-cased).

    C{""} (Twisted's "every IPv4 interface") is C{0.0.0.0}. Remembered: the
    network asks for every segment it moves.
    """
    if host == "":
        return "0.0.0.0"
    try:
        return ipaddress.ip_address(_unbracketed(host)).compressed
    except ValueError:
        return host.lower()


def _unbracketed(host: str) -> str:
    """``host`` without the brackets of an IPv6 address in a URL (C{[::1]})."""
    return host.strip("[]")  # pragma: no mutate (an IP address neither begins nor ends with X)


@functools.lru_cache(maxsize=1024)
def is_ip(host: str) -> bool:
    """Whether ``host`` is an IP address (of either family), not a name (remembered)."""
    try:
        ipaddress.ip_address(_unbracketed(host))
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=1024)
def is_ipv6(host: str) -> bool:
    """Whether ``host`` is an IPv6 address (remembered)."""
    return is_ip(host) and ipaddress.ip_address(_unbracketed(host)).version == 6


def tcp_address(host: str, port: int) -> Address:
    """Return the Twisted address of ``host``:``port``, of the right family."""
    return IPv6Address("TCP", host, port) if is_ipv6(host) else IPv4Address("TCP", host, port)


class HostsTable:
    """Names and the addresses they resolve to, as an C{/etc/hosts} file gives them.

    C{localhost} resolves to C{127.0.0.1} and C{::1} unless told otherwise.
    """

    def __init__(self) -> None:
        self._names: dict[str, list[str]] = {"localhost": ["127.0.0.1", "::1"]}

    def add(self, name: str, *addresses: str) -> None:
        """Make ``name`` resolve to ``addresses``, in order (replacing what it had)."""
        if not addresses or not all(is_ip(a) for a in addresses):
            raise ValueError(f"{name!r} needs one or more IP addresses, got {addresses!r}")
        self._names[name.lower()] = [normalised(a) for a in addresses]

    def lookup(self, host: str) -> Sequence[str]:
        """Return the addresses of ``host`` (an IP address is its own); none if unknown."""
        if is_ip(host):
            return [normalised(host)]
        return list(self._names.get(host.lower(), []))


@implementer(IHostResolution)
class _Resolution:
    """A finished resolution: there is nothing left to cancel."""

    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:
        """Nothing to cancel: resolutions finish at once."""


@implementer(IHostnameResolver)
class HostsResolver:
    """The network's C{IHostnameResolver}: answers from its hosts table, at once."""

    def __init__(self, hosts: HostsTable) -> None:
        self._hosts = hosts

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",  # pragma: no mutate (the interface's; not read)
    ) -> IHostResolution:
        """Tell ``resolutionReceiver`` every address of ``hostName``; none for an unknown name."""
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        for address in self._hosts.lookup(hostName):
            resolved = tcp_address(address, portNumber)
            if addressTypes is None or type(resolved) in addressTypes:
                resolutionReceiver.addressResolved(resolved)
        resolutionReceiver.resolutionComplete()
        return resolution
