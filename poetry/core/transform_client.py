"""The transform client: send one netstring request, read one netstring reply."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime, ITCPTransport
from twisted.internet.protocol import connectionDone
from twisted.protocols.basic import NetstringReceiver
from twisted.python.failure import Failure

from poetry.core.client import DEFAULT_MAX_BYTES
from poetry.core.connecting import connect_and_wait, tcp_endpoint
from poetry.core.errors import TransformError
from poetry.core.transform_server import ERROR_PREFIX


class TransformClientProtocol(NetstringReceiver):
    """Send ``<name>.<poem>``; ``reply`` fires with the transformed poem.

    An ``error:`` reply, a malformed reply, or a connection closed before the
    reply fails ``reply`` with L{TransformError}; cancelling ``reply`` aborts
    the connection.
    """

    transport: ITCPTransport

    def __init__(self, name: str, poem: bytes, max_length: int = DEFAULT_MAX_BYTES) -> None:
        self._request = name.encode() + b"." + poem
        self.MAX_LENGTH = max_length
        self.reply: Deferred[bytes] = Deferred(lambda _: self.transport.abortConnection())

    def connectionMade(self) -> None:
        """Send the request."""
        self.sendString(self._request)

    def stringReceived(self, reply: bytes) -> None:
        """Deliver the reply, or its error, then close."""
        if self.reply.called:
            return
        self.transport.loseConnection()
        if reply.startswith(ERROR_PREFIX):
            reason = reply[len(ERROR_PREFIX) :].decode("utf-8", "backslashreplace")
            self.reply.errback(TransformError(reason))
        else:
            self.reply.callback(reply)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Fail the reply if the connection ended without one."""
        if not self.reply.called:
            problem = "malformed reply" if self.brokenPeer else "connection closed without a reply"
            self.reply.errback(TransformError(f"{problem}: {reason.getErrorMessage()}"))


def transform_poem(
    reactor: Any,
    host: str,
    port: int,
    name: str,
    poem: bytes,
    *,
    timeout: float | None = None,
) -> Deferred[bytes]:
    """Ask the transform service at ``host``:``port`` to apply ``name`` to ``poem``.

    Fails with L{TransformError} when the service answers with an error or no
    reply, with the connection error when it cannot connect, and with
    C{twisted.internet.defer.TimeoutError} after ``timeout`` seconds.
    """
    protocol = TransformClientProtocol(name, poem)
    return connect_and_wait(
        tcp_endpoint(reactor, host, port), protocol, protocol.reply, IReactorTime(reactor), timeout
    )
