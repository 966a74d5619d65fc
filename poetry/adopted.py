"""Listen on a UNIX socket another process bound and owns: a worker's parent, or systemd.

Twisted adopts an inherited UNIX listening socket as a C{twisted.internet.unix.Port},
which, when it stops listening, shuts the socket down and removes its path, as if it
had bound it (an inherited TCP socket is only closed).
For an inherited socket that is wrong: the owner removes the path (or, for
systemd, keeps it to activate the service again). With several workers it was
worse: the first worker to stop removed the path, the others failed to, and the
failure ended their graceful stops before their clients had their poems.
"""

from __future__ import annotations

import os
from typing import Any

from twisted.internet import fdesc, tcp, unix
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import AlreadyListened
from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IStreamServerEndpoint
from twisted.python.failure import Failure
from zope.interface import implementer


class InheritedUNIXPort(unix.Port):
    """A UNIX listening port on an inherited socket: the socket and its path are its owner's.

    Stopping closes this process's copy only: no C{shutdown()}, which would
    stop the socket for every process sharing it (systemd's copy, the other
    workers'), as Twisted already does for an inherited TCP socket.
    """

    _shouldShutdown = False

    def connectionLost(self, reason: Failure) -> None:
        """Close the socket; do not remove its path."""
        tcp.Port.connectionLost(self, reason)


@implementer(IStreamServerEndpoint)
class InheritedUNIXServerEndpoint:
    """Listen, once, on the inherited UNIX listening socket ``fileno``, leaving its path alone.

    Like C{AdoptedStreamServerEndpoint}, the descriptor is closed once the port
    has its own copy.
    """

    def __init__(self, reactor: Any, fileno: int) -> None:
        self.reactor = reactor
        self.fileno = fileno
        self._used = False  # pragma: no mutate (a flag: None is as false)

    def listen(self, factory: IProtocolFactory) -> Deferred[IListeningPort]:
        """Start listening with ``factory`` on the inherited socket."""
        if self._used:
            return fail(AlreadyListened())
        self._used = True
        try:
            fdesc.setNonBlocking(self.fileno)
            port = InheritedUNIXPort._fromListeningDescriptor(self.reactor, self.fileno, factory)
            port.startListening()
            os.close(self.fileno)
        except Exception:
            return fail()
        return succeed(port)
