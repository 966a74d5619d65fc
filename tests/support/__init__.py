"""Helpers shared by the test tiers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocol,
    IProtocolFactory,
    IStreamServerEndpoint,
)
from twisted.internet.task import Clock
from twisted.internet.testing import (
    MemoryReactor,
    StringTransport,
    StringTransportWithDisconnection,
)
from twisted.logger import LogEvent, capturedLogs
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase
from zope.interface import implementer

POEM = b"Sat we two, one another's best.\nOur hands were firmly cemented\n"
"""A short poem for tests that do not care which poem it is."""

MUTATING = "MUTANT_UNDER_TEST" in os.environ
"""Whether mutmut runs the suite: its trampolines are a frame between a caller and poetry's code.

A warning's C{stacklevel} then points at the trampoline, not at the caller.
"""


def netstring(payload: bytes) -> bytes:
    """Frame ``payload`` as a netstring."""
    return b"%d:%s," % (len(payload), payload)


def accept_client(reactor: MemoryReactor, index: int = -1) -> tuple[IProtocol, StringTransport]:
    """Complete the client connection recorded at ``index`` in ``reactor.tcpClients``.

    Builds the protocol from the recorded factory and connects it to a fresh
    L{StringTransport}, as a real reactor would once the TCP handshake is done.
    """
    host, port, factory, _timeout, _bind = reactor.tcpClients[index]
    protocol = factory.buildProtocol(IPv4Address("TCP", host, port))
    transport = StringTransport(peerAddress=IPv4Address("TCP", host, port))
    protocol.makeConnection(transport)
    return protocol, transport


def begin_shutdown(reactor: MemoryReactor) -> None:
    """Run the ``before shutdown`` triggers added to ``reactor``, as a real reactor's stop does.

    A real reactor stopped by SIGINT or SIGTERM runs these first, then drops
    every connection; a test can then drop the connections it holds itself.
    """
    for trigger, args, kwargs in reactor.triggers.get("before", {}).get("shutdown", []):
        trigger(*args, **kwargs)


def serve_client(reactor: MemoryReactor, poem: bytes, index: int = -1) -> None:
    """Complete the client connection at ``index``; the server sends ``poem`` and closes cleanly."""
    protocol, _ = accept_client(reactor, index)
    protocol.dataReceived(poem)
    protocol.connectionLost(Failure(ConnectionDone()))


def refuse_client(reactor: MemoryReactor, index: int = -1) -> None:
    """Refuse the client connection recorded at ``index``, as the kernel would (nobody listens)."""
    _host, _port, factory, _timeout, _bind = reactor.tcpClients[index]
    factory.clientConnectionFailed(reactor.connectors[index], Failure(ConnectionRefusedError()))


def assert_no_delayed_calls(testcase: SynchronousTestCase, clock: Clock) -> None:
    """Fail ``testcase`` if ``clock`` still has calls scheduled."""
    testcase.assertEqual(clock.getDelayedCalls(), [])


@implementer(IListeningPort)
class FakeListeningPort:
    """An L{IListeningPort} that remembers whether it is still listening."""

    def __init__(self, port: int = 10000) -> None:
        self.listening = False
        self.accepting = True
        self._address = IPv4Address("TCP", "127.0.0.1", port)

    def startListening(self) -> None:
        """Start listening (in name only)."""
        self.listening = True

    def stopListening(self) -> None:
        """Stop listening (in name only)."""
        self.listening = False

    def getHost(self) -> IPv4Address:
        """Return the address it pretends to listen on."""
        return self._address

    def stopReading(self) -> None:
        """Stop accepting (a TCP port's pause), in name only."""
        self.accepting = False

    def startReading(self) -> None:
        """Accept again, in name only."""
        self.accepting = True


@implementer(IStreamServerEndpoint)
class FakeServerEndpoint:
    """A server endpoint that hands out one L{FakeListeningPort} and keeps the factory."""

    def __init__(self) -> None:
        self.port = FakeListeningPort()
        self.factory: IProtocolFactory | None = None

    def listen(self, factory: IProtocolFactory) -> Deferred[IListeningPort]:
        """Start the fake port listening with ``factory``."""
        self.factory = factory
        self.port.startListening()
        return succeed(self.port)

    def connect(self) -> tuple[IProtocol, StringTransportWithDisconnection]:
        """Accept one connection on the listening factory; return its protocol and transport."""
        assert self.factory is not None and self.port.listening
        protocol, transport = connect_server(self.factory)
        assert isinstance(transport, StringTransportWithDisconnection)
        return protocol, transport


def connect_server(
    factory: IProtocolFactory, transport: StringTransport | None = None
) -> tuple[IProtocol, StringTransport]:
    """Connect a protocol built by a server ``factory`` to a fresh (or given) transport.

    A L{StringTransportWithDisconnection} (the default) is wired to the protocol,
    so the protocol hears its own clean close.
    """
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 54321))
    assert protocol is not None
    if transport is None:
        transport = StringTransportWithDisconnection()
    if isinstance(transport, StringTransportWithDisconnection):
        transport.protocol = protocol
    protocol.makeConnection(transport)
    return protocol, transport


class TimedTransport(StringTransportWithDisconnection):
    """A transport that records the clock time of every write."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.writes: list[tuple[float, bytes]] = []

    def write(self, data: bytes) -> None:
        """Keep ``data`` and when it was written."""
        self.writes.append((self.clock.seconds(), data))
        super().write(data)


class CapturedEvents:
    """The log events emitted while L{captured_events} was active, as they arrive.

    txpoetry's events are known by their ``event`` field (``poem-served``,
    ``cache-miss``, ...), never by their text: tests look them up by it.
    """

    def __init__(self, events: list[LogEvent]) -> None:
        self._events = events

    def named(self, name: str) -> list[LogEvent]:
        """Return the events whose ``event`` field is ``name``, in order."""
        return [event for event in self._events if event.get("event") == name]

    def names(self) -> list[str]:
        """Return the ``event`` field of every event that has one, in order."""
        return [event["event"] for event in self._events if "event" in event]


@contextmanager
def captured_events() -> Iterator[CapturedEvents]:
    """Capture the log events emitted inside the ``with`` block."""
    with capturedLogs() as events:
        yield CapturedEvents(events)
