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

from twisted.internet import fdesc
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import AlreadyListened
from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IStreamServerEndpoint
from zope.interface import implementer

from poetry.operations.internals import adopt_unix_port


@implementer(IStreamServerEndpoint)
class InheritedUNIXServerEndpoint:
    """Listen, once, on the inherited UNIX listening socket ``fileno``, leaving its path alone.

    Like C{AdoptedStreamServerEndpoint}, the descriptor is closed once the port
    has its own copy.
    """

    def __init__(self, reactor: Any, fileno: int) -> None:
        self.reactor = reactor
        self.fileno = fileno
        self._used = False

    def listen(self, factory: IProtocolFactory) -> Deferred[IListeningPort]:
        """Start listening with ``factory`` on the inherited socket."""
        if self._used:
            return fail(AlreadyListened())
        self._used = True
        try:
            fdesc.setNonBlocking(self.fileno)
            port = adopt_unix_port(self.reactor, self.fileno, factory)
            port.startListening()
            os.close(self.fileno)
        except Exception:
            return fail()
        return succeed(port)
