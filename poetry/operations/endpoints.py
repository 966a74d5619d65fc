"""Parse the endpoint strings a server is told to listen on (``--listen``, twistd's options)."""

from __future__ import annotations

import ipaddress
import re
from socket import AF_UNIX

from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.endpoints import AdoptedStreamServerEndpoint, serverFromString
from twisted.internet.interfaces import IStreamServerEndpoint

from poetry.core.address import DEFAULT_HOST, Address
from poetry.core.errors import UsageError
from poetry.operations.adopted import InheritedUNIXServerEndpoint
from poetry.operations.internals import adopted_parts
from poetry.operations.workers import address_family


def loopback_listen(port: int) -> str:
    """Return the endpoint string for TCP ``port`` on 127.0.0.1 (a server's default)."""
    return f"tcp:{port}:interface={DEFAULT_HOST}"


_LOOPBACK = {"tcp": "127.0.0.1", "tcp6": "\\:\\:1"}
_UNESCAPED_COLON = re.compile(r"(?<!\\):")
_INTERFACE_VALUE = re.compile(r"(?<=:interface=)(.*?)(?=:\w+=|$)")

DEFAULT_BACKLOG = 4096
"""The listen backlog of server commands unless the endpoint string sets its own.

Twisted's default, 50, is too small for a burst: with 2,000 clients connecting
at once on Linux, the kernel's SYN cookies left hundreds of them believing
they were connected while the server never saw them (a poetry server speaks
first, so they hung until their own timeout). The kernel caps the value at
C{net.core.somaxconn}.
"""

_BACKLOG_KINDS = ("tcp", "tcp6", "unix")


def _escape_interface(text: str) -> str:
    r"""Escape the colons of an ``interface=`` value, so a plain IPv6 address can be given.

    Twisted's endpoint syntax wants ``interface=\:\:1``; ``interface=::1`` is
    accepted too. The value runs up to the next ``:name=`` parameter or the end.
    """

    def escape(value: re.Match[str]) -> str:
        return _UNESCAPED_COLON.sub(r"\\:", value.group(1))

    return _INTERFACE_VALUE.sub(escape, text)


def listen_description(text: str) -> str:
    """Return the endpoint description to listen on for ``text``.

    A bare port number means TCP on 127.0.0.1; a ``tcp``/``tcp6`` endpoint that
    gives no interface, named or by position, is bound to loopback (give
    ``interface=0.0.0.0`` to listen on every interface). An IPv6 interface may
    be given with plain colons after ``interface=``.
    """
    if text.isdigit():
        text = f"tcp:{text}"
    text = _escape_interface(text)
    tcp = _tcp_port_and_interface(text)
    if tcp is not None and tcp[1] is None:
        text = f"{text}:interface={_LOOPBACK[text.partition(':')[0]]}"
    return text


def _tcp_port_and_interface(description: str) -> tuple[str, str | None] | None:
    """Return the port and interface, as given, of a ``tcp``/``tcp6`` description (else None).

    The interface is named (``interface=``) or the second positional part (Twisted's
    ``tcp:PORT:INTERFACE``); it is None if the description gives none.
    """
    kind, *parts = (part.replace("\\:", ":") for part in _UNESCAPED_COLON.split(description))
    if kind not in _LOOPBACK:
        return None
    positional = [part for part in parts if "=" not in part]
    named = dict(part.split("=", 1) for part in parts if "=" in part)
    port = named.get("port", positional[0] if positional else "0")
    return port, named.get("interface", positional[1] if len(positional) > 1 else None)


def _check_tcp(description: str) -> None:
    """Raise C{ValueError} if a ``tcp``/``tcp6`` description has a bad port or interface.

    Caught here, they would otherwise surface only when listening starts.
    """
    tcp = _tcp_port_and_interface(description)
    if tcp is None:
        return
    port, interface = tcp
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"port {port!r} is not a number from 0 to 65535")
    if interface and not (isIPAddress(interface) or isIPv6Address(interface)):
        raise ValueError(f"interface {interface!r} is not an IP address")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return ``host`` as an IP address, or None if it is a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    """Tell whether connecting to ``host`` reaches this host's loopback (0.0.0.0 does)."""
    ip = _ip(host)
    return host == "localhost" if ip is None else ip.is_loopback or ip.is_unspecified


def listens_at(text: str, address: Address) -> bool:
    """Tell whether a server listening on endpoint ``text`` is the one reached at ``address``.

    True when the ports are the same (a free port, 0, never is) and the host
    is the interface listened on, or a loopback address or C{localhost} when
    it listens on loopback or on every interface.
    """
    tcp = _tcp_port_and_interface(listen_description(text))
    if tcp is None or not tcp[0].isdigit() or not 0 < int(tcp[0]) == address.port:
        return False
    interface = _ip(tcp[1]) if tcp[1] else None  # pragma: no mutate (equivalent: _ip("") is None)
    host = _ip(address.host)
    if interface is None:
        return False
    if interface == host:
        return True
    if interface.is_unspecified:
        return _is_loopback(address.host)
    return interface.is_loopback and address.host == "localhost"


def with_default_backlog(description: str) -> str:
    """Return ``description`` with L{DEFAULT_BACKLOG} unless it sets a backlog or takes none."""
    kind = description.partition(":")[0]
    if kind in _BACKLOG_KINDS and "backlog=" not in description:
        return f"{description}:backlog={DEFAULT_BACKLOG}"
    return description


def server_endpoint(reactor: object, text: str) -> IStreamServerEndpoint:
    """Build the server endpoint for ``text`` on ``reactor``, or raise L{UsageError}.

    A ``tcp``/``tcp6`` endpoint's port and interface are checked here, so that
    a port out of range or an interface that is not an IP address is bad input
    (exit status 2), before anything tries to listen. A TCP or UNIX endpoint
    gets a backlog of L{DEFAULT_BACKLOG} unless ``text`` gives one.
    """
    description = with_default_backlog(listen_description(text))
    try:
        if description.startswith("adopted:"):
            return adopted_endpoint(reactor, description)
        _check_tcp(description)
        return leaving_inherited_paths(serverFromString(reactor, description))
    except IndexError as error:  # systemd:index=N, and no descriptor N was passed
        raise UsageError(
            f"bad endpoint {text!r}: no such descriptor passed by systemd"
            " (LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES)"
        ) from error
    except (ValueError, TypeError, KeyError) as error:
        raise UsageError(f"bad endpoint {text!r}: {error}") from error


def adopted_endpoint(reactor: object, description: str) -> IStreamServerEndpoint:
    """Return the endpoint for ``adopted:FD:FAMILY``: a listening socket this process inherited.

    FAMILY is INET, INET6 or UNIX. The socket is adopted with
    C{IReactorSocket.adoptStreamPort} (the way workers share their parent's
    socket, see L{poetry.operations.workers}). Raises C{ValueError} on a bad description.
    """
    _, fd, family = description.split(":")
    if not fd.isdigit():
        raise ValueError(f"descriptor {fd!r} is not a number")
    return leaving_inherited_paths(
        AdoptedStreamServerEndpoint(reactor, int(fd), address_family(family))
    )


def leaving_inherited_paths(endpoint: IStreamServerEndpoint) -> IStreamServerEndpoint:
    """Return ``endpoint``, or, if it adopts an inherited UNIX socket, one that keeps its path.

    The process that bound the socket (a parent of workers, systemd) owns the
    path; see L{poetry.operations.adopted}.
    """
    if isinstance(endpoint, AdoptedStreamServerEndpoint):
        reactor, fileno, family = adopted_parts(endpoint)
        if family == AF_UNIX:
            return InheritedUNIXServerEndpoint(reactor, fileno)
    return endpoint
