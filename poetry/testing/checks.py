"""The kits' checks: what a TCP transport, a poetry server and a poetry client must do.

Each check is an ``async`` method that reaches the world only through its
harness (L{poetry.testing.harnesses}); L{poetry.testing.kits} makes test
cases of them on each harness.

 - L{TransportChecks} checks transports themselves: close, abort, half-close,
   producer pause, and what the server's kernel keeps of a half-closed
   connection. txpoetry runs it on the simulator's transports and on the
   real kernel, so the simulator is verified, not assumed.
 - L{PoetryServerChecks} checks a poetry server (yours, or txpoetry's): give
   it C{server_factory(reactor)} and the C{poem} it serves.
 - L{PoetryClientChecks} checks a poetry client (yours, or txpoetry's): give
   it C{fetch(reactor, host, port)}, returning a C{Deferred} of the poem; it
   must take a clean close after the whole poem as the poem, and every other
   end (a reset, a clean close with no byte) as a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionAborted, ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IHalfCloseableProtocol, IProtocolFactory, IPushProducer
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.python.failure import Failure
from zope.interface import implementer


class Recorder(Protocol):
    """A protocol that keeps what it receives; C{ended} fires with it, or fails, at the end."""

    transport: Any

    def __init__(self, greeting: bytes = b"", half_close: bool = False, abort: bool = False):
        self.greeting = greeting
        self.half_close = half_close
        self.abort = abort
        self.received = b""
        self.ended: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        """Send the greeting; half-close, or reset at once, if asked to."""
        if self.greeting:
            self.transport.write(self.greeting)
        if self.half_close:
            self.transport.loseWriteConnection()
        if self.abort:
            self.transport.abortConnection()

    def dataReceived(self, data: bytes) -> None:
        """Keep the bytes."""
        self.received += data

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Fire C{ended}: the bytes on a clean close, the reason otherwise."""
        if reason.check(ConnectionDone):
            self.ended.callback(self.received)
        else:
            self.ended.errback(reason)


@implementer(IHalfCloseableProtocol)
class _ReplyAfterHalfClose(Protocol):
    """A server that answers once the client has half-closed, then closes."""

    transport: Any

    def readConnectionLost(self) -> None:
        """The client is done: reply and close."""
        self.transport.write(b"reply")
        self.transport.loseConnection()

    def writeConnectionLost(self) -> None:
        """Nothing to do."""


@implementer(IHalfCloseableProtocol)
class _Staying(Protocol):
    """A server that stays after the client half-closes, until it is told to close."""

    transport: Any

    def readConnectionLost(self) -> None:
        """The client is done sending: stay."""

    def writeConnectionLost(self) -> None:
        """Nothing to do."""


class _Closing(Protocol):
    """A server that sends ``payload``, then ends the connection with ``end``."""

    transport: Any

    def __init__(self, payload: bytes, end: str) -> None:
        self.payload, self.end = payload, end

    def connectionMade(self) -> None:
        """Send, then end."""
        self.transport.write(self.payload)
        getattr(self.transport, self.end)()


@implementer(IPushProducer)
class _Flood(Protocol):
    """A server that writes as a push producer until its transport pauses it.

    C{paused} fires once it is paused, C{resumed} once its transport resumes it.
    """

    LIMIT = 16 * 1024 * 1024
    transport: Any

    def __init__(self) -> None:
        self.paused: Deferred[int] = Deferred()
        self.resumed: Deferred[None] = Deferred()
        self.written = 0

    def connectionMade(self) -> None:
        """Register as a streaming producer and write until paused."""
        self.transport.registerProducer(self, True)
        while not self.paused.called and self.written < self.LIMIT:
            self.written += 16384
            self.transport.write(b"x" * 16384)

    def pauseProducing(self) -> None:
        """Stop writing: report how much was written."""
        if not self.paused.called:
            self.paused.callback(self.written)

    def resumeProducing(self) -> None:
        """The transport has drained: report it, and finish."""
        if not self.resumed.called:
            self.transport.unregisterProducer()
            self.transport.loseConnection()
            self.resumed.callback(None)

    def stopProducing(self) -> None:
        """Nothing to stop."""


class TransportChecks:
    """What a TCP transport under Twisted does when a connection ends or a reader stalls."""

    async def test_close_sends_queued_then_fin(self: Any) -> None:
        """Bytes written before C{loseConnection} all arrive, then a clean close."""
        payload = b"poem " * 10_000
        port = self.listen(Factory.forProtocol(lambda: _Closing(payload, "loseConnection")))
        client = Recorder()
        await self.connect(port, client)
        self.assertEqual(await self.wait(client.ended), payload)

    async def test_abort_is_a_reset(self: Any) -> None:
        """C{abortConnection} is seen by the peer as a lost connection, never a clean close."""
        port = self.listen(Factory.forProtocol(lambda: _Closing(b"cut", "abortConnection")))
        client = Recorder()
        await self.connect(port, client)
        with self.assertRaises(ConnectionLost):
            await self.wait(client.ended)

    async def test_half_close_heard(self: Any) -> None:
        """A half-closeable server hears the client's half-close and can still answer."""
        port = self.listen(Factory.forProtocol(_ReplyAfterHalfClose))
        client = Recorder(b"request", half_close=True)
        await self.connect(port, client)
        self.assertEqual(await self.wait(client.ended), b"reply")

    async def test_half_close_ends_plain_protocol(self: Any) -> None:
        """A server that cannot be half-closed takes the client's half-close as the end."""
        lost: list[Failure] = []

        class Plain(Protocol):
            def connectionLost(self, reason: Failure = connectionDone) -> None:
                lost.append(reason)

        port = self.listen(Factory.forProtocol(Plain))
        client = Recorder(half_close=True)
        await self.connect(port, client)
        self.assertEqual(await self.wait(client.ended), b"")
        self.assertTrue(lost[0].check(ConnectionDone))

    async def test_server_side_waits_in_close_wait(self: Any) -> None:
        """The server's side is in CLOSE-WAIT after the client's half-close; gone once it closes."""
        served: list[_Staying] = []

        def stay() -> _Staying:
            served.append(_Staying())
            return served[-1]

        port = self.listen(Factory.forProtocol(stay))
        client = Recorder(half_close=True)
        await self.connect(port, client)
        await self.elapse(0.1)  # the client's FIN arrives, and is acknowledged
        self.assertEqual(await self.server_sockets(port), ["CLOSE-WAIT"])
        served[0].transport.loseConnection()
        self.assertEqual(await self.wait(client.ended), b"")
        await self.elapse(0.1)  # the client acknowledges the server's FIN
        self.assertEqual(await self.server_sockets(port), [])

    async def test_producer_paused_by_reader_that_does_not_read(self: Any) -> None:
        """A reader that stops reading pauses the writer's producer; reading again resumes it."""
        server = _Flood()
        port = self.listen(Factory.forProtocol(lambda: server))
        client = Recorder()
        await self.connect(port, client)
        client.transport.pauseProducing()  # the client stops reading
        written = await self.wait(server.paused)
        self.assertLess(written, _Flood.LIMIT)
        client.transport.resumeProducing()
        await self.wait(server.resumed)
        self.assertEqual(len(await self.wait(client.ended)), written)


class PoetryServerChecks:
    """What every poetry server must do: a clean close after the whole poem, and only then.

    Subclasses give C{poem} and C{server_factory}, and C{seconds_per_poem}
    if the server takes time to send it (a slow server).
    """

    poem: bytes = b""
    seconds_per_poem: float = 0.0

    def server_factory(self, reactor: Any) -> IProtocolFactory:
        """Return the factory of the server under test, on ``reactor``."""
        raise NotImplementedError

    async def fetch(self: Any, client: Recorder) -> bytes:
        """Connect ``client`` to a fresh server, let the poem be sent; return what arrived."""
        port = self.listen(self.server_factory(self.server_reactor))
        await self.connect(port, client)
        await self.elapse(self.seconds_per_poem)
        poem: bytes = await self.wait(client.ended)
        return poem

    async def test_serves_whole_poem(self: Any) -> None:
        """A client gets the whole poem, then a clean close."""
        self.assertEqual(await self.fetch(Recorder()), self.poem)

    async def test_half_closing_client_gets_whole_poem(self: Any) -> None:
        """A client that closes its own side at once still gets the whole poem."""
        self.assertEqual(await self.fetch(Recorder(half_close=True)), self.poem)

    async def test_client_bytes_ignored(self: Any) -> None:
        """A client that sends a request line gets the same poem."""
        self.assertEqual(await self.fetch(Recorder(b"GET / HTTP/1.0\r\n\r\n")), self.poem)

    async def test_many_clients_at_once(self: Any) -> None:
        """Several clients connected at once each get the whole poem."""
        port = self.listen(self.server_factory(self.server_reactor))
        clients = [Recorder() for _ in range(5)]
        for client in clients:
            await self.connect(port, client)
        await self.elapse(self.seconds_per_poem)
        for client in clients:
            self.assertEqual(await self.wait(client.ended), self.poem)

    async def test_client_leaving_early(self: Any) -> None:
        """A client that resets at once does not stop the server serving the next one."""
        port = self.listen(self.server_factory(self.server_reactor))
        leaving = Recorder(abort=True)
        await self.connect(port, leaving)
        with self.assertRaises(ConnectionAborted):
            await self.wait(leaving.ended)
        staying = Recorder()
        await self.connect(port, staying)
        await self.elapse(self.seconds_per_poem)
        self.assertEqual(await self.wait(staying.ended), self.poem)


class PoetryClientChecks:
    """What every poetry client must do: a poem only on a clean close after some bytes.

    Subclasses give C{fetch(reactor, host, port)}.
    """

    poem = b"Tyger Tyger, burning bright,\nIn the forests of the night;\n"

    def fetch(self, reactor: Any, host: str, port: int) -> Deferred[bytes]:
        """Start the client under test fetching from ``host``:``port``; return its result."""
        raise NotImplementedError

    async def outcome(self: Any, server: Callable[[], Protocol]) -> bytes:
        """Serve ``server`` protocols; return the client's poem (or raise its failure)."""
        port = self.listen(Factory.forProtocol(server))
        address: Any = port.getHost()
        result = self.as_client(lambda: self.fetch(self.reactor, address.host, address.port))
        poem: bytes = await self.wait(result)
        return poem

    async def test_whole_poem(self: Any) -> None:
        """A poem followed by a clean close is the poem."""
        poem = self.poem * 1000
        self.assertEqual(await self.outcome(lambda: _Closing(poem, "loseConnection")), poem)

    async def test_reset_is_a_failure(self: Any) -> None:
        """Part of a poem then a reset is a failure, never a poem."""
        with self.assertRaises(Exception):  # noqa: B017 (any failure will do; success will not)
            await self.outcome(lambda: _Closing(self.poem[:9], "abortConnection"))

    async def test_clean_close_without_bytes_is_a_failure(self: Any) -> None:
        """A clean close before any byte is a failure: an empty poem is no poem."""
        with self.assertRaises(Exception):  # noqa: B017 (any failure will do; success will not)
            await self.outcome(lambda: _Closing(b"", "loseConnection"))
