"""Addresses to connect to: parse ``HOST:PORT`` as given on the command line, and name them."""

from __future__ import annotations

from typing import NamedTuple

from twisted.internet.abstract import isIPv6Address
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.interfaces import IAddress, IListeningPort, ITransport

from poetry.core.errors import UsageError

DEFAULT_HOST = "127.0.0.1"
"""The host of an address given as a bare port."""


class Address(NamedTuple):
    """A TCP host and port to connect to."""

    host: str
    port: int

    def __str__(self) -> str:
        """Format as HOST:PORT, bracketing an IPv6 host."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_port(text: str) -> int:
    """Return ``text`` as a TCP port number from 1 to 65535, or raise L{UsageError}."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise UsageError(f"bad port {text!r}: expected a number from 1 to 65535")
    return int(text)


ADDRESS_FORMS = "HOST:PORT, [IPV6]:PORT or PORT"
"""The forms an address to connect to may take, as help and error messages name them."""


def parse_address(text: str) -> Address:
    """Parse ``HOST:PORT``, ``[IPV6]:PORT`` or a bare ``PORT`` (on 127.0.0.1).

    Raises L{UsageError} naming what is wrong: the port, a bracketed host that
    is not an IPv6 address, or the shape of the whole.
    """
    if text.isdigit():
        return Address(DEFAULT_HOST, parse_port(text))
    if text.startswith("["):
        host, closing, rest = text[1:].partition("]")
        if closing and rest.startswith(":"):
            if not isIPv6Address(host):
                raise UsageError(f"bad address {text!r}: {host!r} is not an IPv6 address")
            return Address(host, parse_port(rest[1:]))
    else:
        host, colon, port = text.rpartition(":")
        if colon and host and ":" not in host:
            return Address(host, parse_port(port))
    raise UsageError(f"bad address {text!r}: expected {ADDRESS_FORMS}")


def listening_address(port: IListeningPort) -> Address:
    """Return the TCP address that ``port`` is listening on."""
    address = port.getHost()
    if not isinstance(address, IPv4Address | IPv6Address):
        raise TypeError(f"not listening on TCP: {address}")
    return Address(address.host, address.port)


def address_name(address: IAddress) -> str:
    """Name ``address`` as HOST:PORT, a UNIX socket as ``unix:PATH`` (else as Twisted prints it).

    A UNIX socket without a path (a client's end, as a server sees its peer) is
    ``unix:(unnamed)``, not ``unix:None``.
    """
    if isinstance(address, IPv4Address | IPv6Address):
        return str(Address(address.host, address.port))
    if isinstance(address, UNIXAddress):
        if address.name is None:  # the client's end of a UNIX connection has no path
            return "unix:(unnamed)"
        return f"unix:{address.name.decode(errors='replace')}"
    return str(address)


def peer_name(transport: ITransport) -> str:
    """Name the other end of ``transport`` for logs."""
    return address_name(transport.getPeer())
