"""The transform service: one netstring request, one netstring reply, then close.

A request is ``<transform-name>.<poem>``. The reply is the transformed poem, or
``error: <reason>`` when the transform is unknown, the request has no ``.``, or
the transform fails. A malformed or oversized netstring, or a request that
does not arrive whole within the idle timeout, closes the connection with no
reply. A client that has not read its whole reply within the write timeout is
reset.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IHalfCloseableProtocol,
    IReactorTime,
    ITCPTransport,
)
from twisted.internet.protocol import ServerFactory, connectionDone
from twisted.logger import Logger
from twisted.protocols.basic import NetstringReceiver
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure
from zope.interface import implementer

from poetry.core.address import peer_name
from poetry.core.closing import end_poem, poem_delivered
from poetry.core.transforms import TRANSFORMS, Transform

DEFAULT_MAX_LENGTH = 1_000_000
"""The largest request accepted, in bytes (the netstring length limit)."""

DEFAULT_IDLE_TIMEOUT = 30.0
"""Seconds a client has to send its whole request."""

DEFAULT_WRITE_TIMEOUT = 30.0
"""Seconds a client has to read its whole reply, once it is sent."""

ERROR_PREFIX = b"error: "
"""How an error reply begins."""


_LEADING_DIGITS = re.compile(rb"[0-9]*")


def length_over_limit(head: bytes, max_length: int) -> bool:
    """Tell whether a request starting with ``head`` announces a length over ``max_length``.

    ``head`` is the start of what the client sent; a length with more digits
    than ``max_length`` has is over it whether or not its ``:`` has come.
    """
    digits = _LEADING_DIGITS.match(head)
    assert digits is not None
    length = digits.group()
    if not length or length.startswith(b"0"):
        return False
    return len(length) > len(str(max_length)) or int(length) > max_length


NAME_SHOWN = 40
"""How many bytes of an unknown transform's name an error reply or a log line echoes."""


def _escaped(character: str) -> str:
    r"""Return ``character`` as shown between single quotes (a byte not UTF-8 as ``\xNN``)."""
    if 0xDC80 <= ord(character) <= 0xDCFF:  # a byte that is not UTF-8 (surrogateescape)
        return f"\\x{ord(character) - 0xDC00:02x}"
    if character == "'":
        return "\\'"
    if character.isprintable() and character != "\\":
        return character
    return repr(character)[1:-1]


def shown_name(raw: bytes) -> str:
    """Return a transform name as it is echoed back: quoted, escaped, and cut short.

    At most L{NAME_SHOWN} bytes of it are shown (bytes that are not UTF-8
    escaped); a longer name is followed by ``...`` and its whole length, so a
    hostile request cannot make a reply or a log line larger than a few
    hundred characters.
    """
    head = raw[:NAME_SHOWN].decode("utf-8", "surrogateescape")
    shown = "'" + "".join(map(_escaped, head)) + "'"
    if len(raw) > NAME_SHOWN:
        return f"{shown}... ({len(raw)} bytes)"
    return shown


def error_reply(reason: str) -> bytes:
    """Return the reply that reports ``reason``."""
    return ERROR_PREFIX + reason.encode("utf-8", "backslashreplace")


@implementer(IHalfCloseableProtocol)
class TransformProtocol(NetstringReceiver, TimeoutMixin):
    """Answer the first request on a connection, then close it.

    A client may close its own side once its request is sent (a half-close)
    and still get the reply; closing it before the request is whole leaves a
    truncated request, which gets no reply.
    """

    transport: ITCPTransport
    _log = Logger()

    def __init__(
        self,
        transforms: Mapping[str, Transform],
        max_length: int,
        idle_timeout: float,
        clock: IReactorTime,
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    ) -> None:
        self._transforms = transforms
        self.MAX_LENGTH = max_length
        self._idle_timeout = idle_timeout
        self._write_timeout = write_timeout
        self._clock = clock
        self._finished = False
        self._reply_size: int | None = None
        self._head = b""

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:
        """Schedule the idle timeout on the injected clock."""
        return self._clock.callLater(period, func)

    def connectionMade(self) -> None:
        """Start the clock on the request."""
        self.setTimeout(self._idle_timeout)

    def dataReceived(self, data: bytes) -> None:
        """Parse the request; ignore anything after it; log a malformed or too long one.

        NetstringReceiver drops the connection in both cases without saying
        which; the start of the request (kept here, a few bytes) tells them apart.
        """
        if self._finished:
            return
        if len(self._head) <= len(str(self.MAX_LENGTH)):
            self._head += data[: len(str(self.MAX_LENGTH)) + 1]
        super().dataReceived(data)
        if self.brokenPeer and not self._finished:
            self._finish()
            peer = peer_name(self.transport)
            if length_over_limit(self._head, self.MAX_LENGTH):
                self._log.warn(
                    "request from {peer} longer than {limit} "  # pragma: no mutate (log text)
                    "bytes: connection closed",  # pragma: no mutate (log text)
                    event="request-too-long",
                    peer=peer,
                    limit=self.MAX_LENGTH,
                )
            else:
                self._log.warn(
                    "malformed request from {peer}: connection "  # pragma: no mutate (log text)
                    "closed",  # pragma: no mutate (log text)
                    event="request-malformed",
                    peer=peer,
                )

    def stringReceived(self, request: bytes) -> None:
        """Answer the first request, then close; the client has the write timeout to read it.

        The connection is lost (C{connectionLost}) once the reply is flushed
        and closed: a client that has not read it by then is reset, so that it
        cannot hold the reply in memory for as long as it stays connected.
        """
        if self._finished:
            return
        self._finish()
        reply = self._answer(request)
        self.sendString(reply)
        end_poem(self.transport)
        self._reply_size = len(str(len(reply))) + 1 + len(reply) + 1  # framed: "N:" reply ","
        self.setTimeout(self._write_timeout)

    def _answer(self, request: bytes) -> bytes:
        """Return the reply to ``request``."""
        raw_name, dot, poem = request.partition(b".")
        name = raw_name.decode("utf-8", "backslashreplace")
        peer = peer_name(self.transport)
        if not dot:
            self._log.warn(
                "request without a '.' from {peer}",  # pragma: no mutate (log text)
                event="request-without-dot",
                peer=peer,
            )
            return error_reply("request has no '.' between transform name and poem")
        transform = self._transforms.get(name)
        if transform is None:
            shown = shown_name(raw_name)
            self._log.warn(
                "unknown transform {name} asked by {peer}",  # pragma: no mutate (log text)
                event="unknown-transform",
                name=shown,
                peer=peer,
            )
            return error_reply(f"unknown transform {shown}")
        try:
            result = transform(poem)
        except Exception as error:
            self._log.failure(
                "transform {name!r} failed for {peer}",  # pragma: no mutate (log text)
                event="transform-failed",
                name=name,
                peer=peer,
            )
            return error_reply(f"transform {name!r} failed: {error}")
        self._log.info(
            "transformed {size} bytes with {name!r} for {peer}",  # pragma: no mutate (log text)
            event="poem-transformed",
            size=len(poem),
            name=name,
            peer=peer,
        )
        return result

    def _finish(self) -> None:
        """Stop listening to this client and stop its clock."""
        self._finished = True
        self.setTimeout(None)

    def timeoutConnection(self) -> None:
        """Reset a client that did not send its whole request, or read its reply, in time."""
        self._finished = True
        peer = peer_name(self.transport)
        if self._reply_size is None:
            self._log.warn(
                "no complete request from {peer} in {timeout} s: "  # pragma: no mutate (log text)
                "connection aborted",  # pragma: no mutate (log text)
                event="request-timed-out",
                peer=peer,
                timeout=self._idle_timeout,
            )
        else:
            self._log.warn(
                "client {peer} has not read its reply ({size} "  # pragma: no mutate (log text)
                "bytes) in {timeout} s:"  # pragma: no mutate (log text)
                " connection aborted",  # pragma: no mutate (log text)
                event="reply-unread",
                peer=peer,
                size=self._reply_size,
                timeout=self._write_timeout,
            )
        self.transport.abortConnection()

    def readConnectionLost(self) -> None:
        """The client sends no more: reset if its request is not whole (it never will be)."""
        if not self._finished:
            self._finish()
            self._log.warn(
                "client {peer} closed its side before sending a "  # pragma: no mutate (log text)
                "whole request:"  # pragma: no mutate (log text)
                " connection reset",  # pragma: no mutate (log text)
                event="request-half-closed",
                peer=peer_name(self.transport),
            )
            self.transport.abortConnection()

    def writeConnectionLost(self) -> None:
        """The reply is all in the kernel's hands: close cleanly."""
        poem_delivered(self.transport)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Stop the clock (the reply, if any, is flushed); log a request cut short by the client."""
        self.setTimeout(None)
        if not self._finished:
            self._finish()
            self._log.warn(
                "client {peer} left before sending a whole request",  # pragma: no mutate (log text)
                event="client-left-early",
                peer=peer_name(self.transport),
            )


class TransformFactory(ServerFactory):
    """Build transform protocols with shared limits on one clock."""

    noisy = False

    def __init__(
        self,
        clock: IReactorTime,
        transforms: Mapping[str, Transform] = TRANSFORMS,
        max_length: int = DEFAULT_MAX_LENGTH,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    ) -> None:
        self.clock = clock
        self.transforms = transforms
        self.max_length = max_length
        self.idle_timeout = idle_timeout
        self.write_timeout = write_timeout

    def buildProtocol(self, addr: IAddress | None) -> TransformProtocol:
        """Build a protocol that answers one request."""
        protocol = TransformProtocol(
            self.transforms, self.max_length, self.idle_timeout, self.clock, self.write_timeout
        )
        protocol.factory = self
        return protocol
