"""The parts of Twisted that txpoetry relies on beyond its documented interfaces, in one place.

Each is used only through this module, and C{tests/unit/test_internals.py}
fails on a Twisted that changes one of them:

 - a TCP port accepts a batch of at most C{port.numberAccepts} connections
   each time it is readable, and sets the next batch size itself afterwards
   (L{set_accept_batch}; the connection limit depends on it);
 - a port stops and resumes accepting with C{stopReading} / C{startReading}
   (L{pause_accepting}, L{resume_accepting}; not part of C{IListeningPort});
 - a TCP port's listening socket is C{port.socket} (L{listening_socket});
 - a connection's transport knows its reactor as C{transport.reactor}
   (L{transport_reactor});
 - an C{AdoptedStreamServerEndpoint} keeps its reactor, descriptor and
   address family as C{reactor}, C{fileno} and C{addressFamily}
   (L{adopted_parts});
 - a port or connection closes its socket with C{_SocketCloser._closeSocket}:
   an orderly close is C{shutdown(2)} then C{close()}, the shutdown skipped
   when C{_shouldShutdown} is false, an abortive one sets C{SO_LINGER} 0
   then closes; a UNIX port removes its path in C{connectionLost} before the
   TCP port's clean-up (L{InheritedUNIXPort}, L{adopt_unix_port}). Because
   the FIN leaves with C{shutdown}, before any reset C{close()} might send, a
   connection whose poem is out closes cleanly whatever its C{SO_LINGER}.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import tcp, unix
from twisted.internet.endpoints import AdoptedStreamServerEndpoint
from twisted.internet.interfaces import IProtocolFactory
from twisted.python.failure import Failure


def set_accept_batch(port: Any, size: int) -> None:
    """Let ``port``'s next accept loop take at most ``size`` connections (if it batches accepts)."""
    if hasattr(port, "numberAccepts"):
        port.numberAccepts = size


def pause_accepting(port: Any) -> None:
    """Stop ``port`` accepting: new clients wait in the listen backlog."""
    port.stopReading()


def resume_accepting(port: Any) -> None:
    """Let ``port`` accept again."""
    port.startReading()


def listening_socket(port: Any) -> Any:
    """Return the socket ``port`` listens on, or None for a port that has none (a fake's)."""
    return getattr(port, "socket", None)


def transport_reactor(transport: Any) -> Any:
    """Return the reactor ``transport``'s connection runs on, or None if it does not say."""
    return getattr(transport, "reactor", None)


def adopted_parts(endpoint: AdoptedStreamServerEndpoint) -> tuple[Any, int, int]:
    """Return the reactor, descriptor and address family of an adopted-socket endpoint."""
    return endpoint.reactor, endpoint.fileno, endpoint.addressFamily


class InheritedUNIXPort(unix.Port):
    """A UNIX listening port on an inherited socket: the socket and its path are its owner's.

    Stopping closes this process's copy only: no C{shutdown()}, which would
    stop the socket for every process sharing it (systemd's copy, the other
    workers'), as Twisted already does for an inherited TCP socket, and the
    path is left in place.
    """

    _shouldShutdown = False

    def connectionLost(self, reason: Failure) -> None:
        """Close the socket; do not remove its path."""
        tcp.Port.connectionLost(self, reason)


def adopt_unix_port(reactor: Any, fileno: int, factory: IProtocolFactory) -> InheritedUNIXPort:
    """Return an L{InheritedUNIXPort} on the listening descriptor ``fileno``, not yet listening."""
    return InheritedUNIXPort._fromListeningDescriptor(reactor, fileno, factory)
