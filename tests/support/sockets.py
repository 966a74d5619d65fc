"""Real sockets for the integration tier."""

from __future__ import annotations

import socket
from collections.abc import Callable

from twisted.internet.protocol import ServerFactory
from twisted.trial.unittest import TestCase


def listen_on_free_port(case: TestCase, factory: ServerFactory) -> int:
    """Listen with ``factory`` on a free loopback port of the real reactor until ``case`` ends.

    Returns the port number the kernel chose.
    """
    from twisted.internet import reactor

    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    case.addCleanup(port.stopListening)
    return int(port.getHost().port)  # type: ignore[attr-defined]


def refusing_port(add_cleanup: Callable[..., object]) -> int:
    """Return a loopback port held bound, not listening, until cleanup: connects are refused.

    A port freed by closing a listener can be taken again at once, by another
    process's listener or as the source port of a connection to itself (a TCP
    self-connect), and a test expecting a refusal then waits for a poem that never
    comes. A bound port can be neither.
    """
    holder = socket.socket()
    add_cleanup(holder.close)
    holder.bind(("127.0.0.1", 0))
    return int(holder.getsockname()[1])


def read_to_end(client: socket.socket) -> tuple[bytes, str]:
    """Read a connected ``client`` to its end, then close it; return the bytes and the end.

    The end is ``EOF`` (a clean close) or ``reset``. A blocking read, for a thread.
    """
    with client:
        client.settimeout(30)  # generous: the machine may be busy
        received = b""
        try:
            while data := client.recv(65536):
                received += data
        except ConnectionResetError:
            return received, "reset"
        return received, "EOF"


def connected(family: int, address: object) -> socket.socket:
    """Return a blocking client connected to ``address`` (reads time out after 30 s)."""
    client = socket.socket(family, socket.SOCK_STREAM)
    client.settimeout(30)  # generous: the machine may be busy
    client.connect(address)
    return client


def read_all(family: int, address: object) -> tuple[bytes, str]:
    """Connect to ``address``, read to the end; return the bytes and how it ended."""
    return read_to_end(connected(family, address))
