"""A clean close means a whole poem, on real processes: what no in-memory test can show.

Each test runs a real ``txpoetry`` (or ``twistd``) process and real clients on
loopback, and checks that every client ends with either the whole poem and a
clean close, or an error it can see (a reset): never a clean close on a cut or
empty poem. Process exit, kernel buffers, file-descriptor limits and the
listen backlog exist only here.
"""

from __future__ import annotations

import errno
import signal
import socket
import struct
import sys
import time
from collections.abc import Awaitable, Callable

from twisted.internet import reactor
from twisted.internet.defer import Deferred, DeferredList, ensureDeferred, gatherResults
from twisted.internet.endpoints import connectProtocol
from twisted.internet.error import ConnectError, ConnectionDone, ConnectionLost
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Protocol, connectionDone
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from poetry.core.catalog import load_poem
from poetry.core.client import get_poetry
from poetry.core.connecting import tcp_endpoint
from poetry.testing.kits import Recorder
from tests.support import netstring
from tests.support.processes import CommandProcess, spawn, spawn_twistd, spawn_txpoetry
from tests.support.sockets import read_to_end

TYGER = load_poem("tyger")

SLOW_TYGER = ("--listen", "tcp:0", "--chunk-bytes", "10", "--delay", "0.2", "tyger")
"""A slow server's arguments: Blake's Tyger, ten bytes every 0.2 s."""

SLOW_LONG_GRACE = ("--grace", "30", *SLOW_TYGER)
"""The same slow server, with a grace period of 30 s."""


def outcome(poem: bytes) -> Callable[[bytes | Failure], str]:
    """Name how a client's connection ended, given the poem it should have got.

    ``whole``: the poem and a clean close. ``reset``: the connection was reset,
    after connecting or while connecting. ``ended while connecting``: the
    connection ended before Twisted had seen its connect complete, and the
    client's connect failed; the protocol was never connected, so no poem,
    whole or cut, was ever reported. (Twisted's epoll reactor reports a hang-up
    without readable data on a connecting socket as C{ConnectionDone}: a reset
    racing the reactor's poll of a socket still connecting does that.) Anything
    else is named as it is, and fails the tests that list what they accept.
    """

    def name(result: bytes | Failure) -> str:
        if isinstance(result, Failure):
            if result.check(ConnectionLost):
                return "reset"
            if result.check(ConnectError):
                if "reset by peer" in str(result.value):
                    return "reset"
                cause = result.value.args[0] if result.value.args else None
                if isinstance(cause, Failure) and cause.check(ConnectionDone, ConnectionLost):
                    return "ended while connecting"
            return f"error: {result!r}"
        if result == poem:
            return "whole"
        return f"CLEAN CLOSE AFTER {len(result)} OF {len(poem)} BYTES"

    return name


class Client(Recorder):
    """A L{Recorder} whose C{receiving} fires at its first bytes, or at its end if none came."""

    def __init__(self, half_close: bool = False) -> None:
        super().__init__(b"", half_close=half_close)
        self.receiving: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        """Keep the bytes; the poem is under way."""
        super().dataReceived(data)
        self.stopped_waiting()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """End, having received something or not."""
        self.stopped_waiting()
        super().connectionLost(reason)

    def connect_failed(self, reason: Failure) -> None:
        """The connection was never made: end with ``reason``."""
        self.stopped_waiting()
        self.ended.errback(reason)

    def stopped_waiting(self) -> None:
        """Fire C{receiving}, once."""
        if not self.receiving.called:
            self.receiving.callback(None)


def connect_clients(port: int, count: int, half_close: bool = False) -> list[Client]:
    """Connect ``count`` clients to ``port`` on loopback, all at once; return them."""
    clients = [Client(half_close=half_close) for _ in range(count)]
    for client in clients:
        connecting = connectProtocol(tcp_endpoint(reactor, "127.0.0.1", port), client)
        connecting.addErrback(client.connect_failed)
    return clients


async def receiving(clients: list[Client]) -> None:
    """Wait until every client has its first bytes (or has ended without any)."""
    await gatherResults([client.receiving for client in clients])


async def outcomes(clients: list[Client], poem: bytes) -> list[str]:
    """Wait for every client to end; name how each ended."""
    ended = await DeferredList([client.ended for client in clients], consumeErrors=True)
    return [outcome(poem)(value) for _ok, value in ended]


async def stopped_listening(port: int) -> None:
    """Wait until nothing listens on ``port`` (a connect is refused), for at most 5 s.

    A connect made before that is reset at once (the server may see a client
    gone early). The bound: a port freed may be taken by another listener.
    """
    for _ in range(500):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if probe.connect_ex(("127.0.0.1", port)) == errno.ECONNREFUSED:
                return
        await deferLater(reactor, 0.01, lambda: None)


class IntegrityTests(TestCase):
    """Every early end of a poem is a reset that the client really sees."""

    timeout = 60

    def started(self, process: CommandProcess) -> CommandProcess:
        """Make sure ``process`` is stopped and reaped when the test ends."""
        self.addCleanup(process.stop)
        return process

    async def port_of(self, process: CommandProcess, stream: str = "out") -> int:
        """Wait for ``process`` to announce its port; return it."""
        match = await process.line_matching(
            rb"listening on 127\.0\.0\.1:(\d+)$", stderr=stream == "err"
        )
        self.assertIsNotNone(match, process.err)
        assert match is not None
        return int(match.group(1))

    async def cut_clients(
        self, server: CommandProcess, end: Callable[[CommandProcess, int], Awaitable[object]]
    ) -> list[str]:
        """Connect 5 clients; once each is mid-poem, ``end`` the server; name how each ended."""
        port = await self.port_of(server)
        clients = connect_clients(port, 5)
        await receiving(clients)
        await end(server, port)
        return await outcomes(clients, TYGER)

    async def test_sigterm_past_grace_resets_cut_clients(self) -> None:
        """SIGTERM to a slow server: clients cut when the grace period ends see a reset."""
        server = self.started(spawn_txpoetry(reactor, "serve", "--grace", "0.1", *SLOW_TYGER))
        self.assertEqual(await self.cut_clients(server, terminate), ["reset"] * 5)
        self.assertEqual(await server.ended, 0, server.err)

    async def sigterm_twice(self, server: CommandProcess) -> list[str]:
        """Send a slow ``server`` with clients mid-poem SIGTERM, then again in the grace period.

        Returns how each client's connection ended, once the server has ended
        well within its 30-second grace period, with no traceback.
        """
        started = reactor.seconds()

        async def twice(process: CommandProcess, port: int) -> None:
            process.transport.signalProcess("TERM")
            await stopped_listening(port)  # the first is handled: the grace period has begun
            process.transport.signalProcess("TERM")

        ends = await self.cut_clients(server, twice)
        await server.ended
        self.assertLess(reactor.seconds() - started, 10)
        self.assertNotIn(b"Traceback", server.out + server.err)
        self.assertNotIn(b"critical", server.out + server.err)
        return ends

    async def test_second_sigterm_ends_grace_at_once(self) -> None:
        """A second SIGTERM in the grace period resets cut clients at once, quietly; status 0."""
        server = self.started(spawn_txpoetry(reactor, "serve", *SLOW_LONG_GRACE))
        self.assertEqual(await self.sigterm_twice(server), ["reset"] * 5)
        self.assertEqual(await server.ended, 0, server.err)

    async def test_twistd_second_sigterm_ends_grace_at_once(self) -> None:
        """Under twistd too, a second SIGTERM resets cut clients at once, with no traceback."""
        server = self.started(spawn_twistd(reactor, "poetry", *SLOW_LONG_GRACE))
        self.assertEqual(await self.sigterm_twice(server), ["reset"] * 5)
        self.assertEqual(await server.ended, -15, server.err)  # twistd re-raises SIGTERM

    async def test_twistd_sigterm_past_grace_resets_cut_clients(self) -> None:
        """The same under twistd: cut clients see a reset, not a clean close."""
        server = self.started(spawn_twistd(reactor, "poetry", "--grace", "0.1", *SLOW_TYGER))
        self.assertEqual(await self.cut_clients(server, terminate), ["reset"] * 5)

    async def test_death_by_any_signal_resets_cut_clients(self) -> None:
        """A server killed mid-poem (SIGKILL, SIGHUP, SIGQUIT) leaves each client a reset.

        Nothing in the process runs: the kernel closes its sockets, and until a
        poem is all in the kernel's hands the socket is set to reset on close.
        """

        async def killed(number: int) -> list[str]:
            server = self.started(spawn_txpoetry(reactor, "serve", *SLOW_TYGER))

            async def kill(process: CommandProcess, port: int) -> None:
                process.transport.signalProcess(number)

            ends = await self.cut_clients(server, kill)
            await server.ended
            return ends

        numbers = (signal.SIGKILL, signal.SIGHUP, signal.SIGQUIT)  # at once: each its own server
        ends = await gatherResults([ensureDeferred(killed(number)) for number in numbers])
        self.assertEqual(list(ends), [["reset"] * 5] * len(numbers))

    async def test_chatty_slow_reader_gets_whole_poem(self) -> None:
        """A client that sends a request line, then reads slowly, gets the whole poem and a FIN.

        Closing a socket with unread bytes makes the kernel send a reset: the
        server reads (and ignores) what the client sends until the poem is out.
        """
        server = self.started(spawn_txpoetry(reactor, "serve", "--listen", "tcp:0", "ecstasy"))
        port = await self.port_of(server)
        for half_close in (False, True):
            received, end = await deferToThread(read_slowly, port, b"GET /poem\n", half_close)
            self.assertEqual((received, end), (load_poem("ecstasy"), "EOF"), half_close)

    async def test_client_not_reading_large_reply_is_reset(self) -> None:
        """A transform client that never reads its 32 MB reply is reset at the write timeout.

        The reply is far larger than the kernel's socket buffers, so the server
        still holds most of it; the reset frees it.
        """
        server = self.started(
            spawn_txpoetry(
                reactor,
                "transform",
                "--listen",
                "tcp:0",
                "--max-length",
                "40000000",
                "--write-timeout",
                "0.2",
            )  # fmt: skip
        )
        port = await self.port_of(server)
        client = Recorder(netstring(b"shout." + b"x" * 32_000_000))
        await connectProtocol(tcp_endpoint(reactor, "127.0.0.1", port), client)
        client.transport.pauseProducing()  # the client reads nothing
        await server.line_matching(rb"has not read its reply", stderr=True)
        client.transport.resumeProducing()
        ended = await DeferredList([client.ended], consumeErrors=True)
        self.assertEqual(outcome(b"")(ended[0][1]), "reset")
        self.assertLess(len(client.received), 32_000_000)

    async def test_half_closing_clients_get_whole_poem(self) -> None:
        """Clients that shut down their write side get the whole poem from slow server and proxy."""
        slow = self.started(
            spawn_txpoetry(
                reactor,
                "serve",
                "--listen",
                "tcp:0",
                "--chunk-bytes",
                "300",
                "--delay",
                "0.05",
                "tyger",
            )  # fmt: skip
        )
        slow_port = await self.port_of(slow)
        proxy = self.started(
            spawn_txpoetry(reactor, "proxy", "--listen", "tcp:0", "--upstream", str(slow_port))
        )
        proxy_port = await self.port_of(proxy)
        clients = connect_clients(slow_port, 3, half_close=True)
        clients += connect_clients(proxy_port, 3, half_close=True)  # a cold cache first
        self.assertEqual(await outcomes(clients, TYGER), ["whole"] * 6)

    async def test_empty_or_endless_poem_file_refused(self) -> None:
        """C{serve} refuses an empty file and C{/dev/zero} in one line, with status 2."""
        empty = self.mktemp()
        open(empty, "wb").close()
        for path in [empty, "/dev/zero"]:
            server = self.started(spawn_txpoetry(reactor, "serve", "--listen", "tcp:0", path))
            self.assertEqual(await server.ended, 2, path)
            self.assertEqual(len(server.err.splitlines()), 1, server.err)

    async def test_fd_limit_clients_wait_or_reset(self) -> None:
        """Under a small fd limit, clients beyond it wait in the backlog, or see a reset.

        Twisted accepts a burst in batches, and a batch may go past the limit
        before the server pauses: those clients are reset. None gets a clean
        close on an empty or cut poem; the server warns once and serves the
        waiting clients as connections close, and goes on serving.
        """
        server = self.started(limited_server(48, "--chunk-bytes", "400", "--delay", "0.05"))
        port = await self.port_of(server)
        ends = await outcomes(connect_clients(port, 80), TYGER)
        self.assertEqual(set(ends) - {"whole", "reset", "ended while connecting"}, set(), ends)
        self.assertGreater(ends.count("whole"), 20)
        self.assertIn(b"new clients wait in the listen backlog", server.err)
        self.assertEqual(await get_poetry(reactor, "127.0.0.1", port, timeout=10), TYGER)

    async def test_clients_that_never_close_do_not_stall_the_limit(self) -> None:
        """Clients that keep their side open after the poem are closed in time and forgotten.

        At its connection limit the server waits for connections to end; one
        whose client never closes is closed after the lingering time, and the
        next clients waiting in the backlog are served.
        """
        server = self.started(
            spawn_txpoetry(reactor, "serve", "--listen", "tcp:0", "--max-connections", "2", "tyger")
        )
        port = await self.port_of(server)
        clients = [HalfOpenRecorder() for _ in range(4)]
        for client in clients:
            connectProtocol(tcp_endpoint(reactor, "127.0.0.1", port), client)
        poems = await DeferredList([client.poem for client in clients], consumeErrors=True)
        self.assertEqual([value for _ok, value in poems], [TYGER] * 4, server.err)
        for client in clients:
            client.transport.abortConnection()

    async def test_clients_queued_after_a_short_batch_wait_for_room(self) -> None:
        """Clients queued while the server holds one connection wait for room; none is reset.

        After a batch of one accept, Twisted's port grows its next batch by 20:
        the tracker limits it to the room again before the port next accepts.
        Stopping the server (SIGSTOP) lets five clients queue in the backlog,
        to be accepted in one batch when it goes on.
        """
        server = self.started(
            spawn_txpoetry(
                reactor,
                "serve",
                "tyger",
                "--listen",
                "tcp:0",
                "--max-connections",
                "2",
                "--chunk-bytes",
                "800",
                "--delay",
                "0.2",
            )
        )
        port = await self.port_of(server)
        first = socket.create_connection(("127.0.0.1", port), timeout=30)
        start = await deferToThread(first.recv, 65536)  # accepted, alone in its batch
        server.transport.signalProcess(signal.SIGSTOP)  # 0.2 s before the first poem's end
        queued = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        server.transport.signalProcess(signal.SIGCONT)
        ends = await gatherResults([deferToThread(read_to_end, c) for c in [first, *queued]])
        ends[0] = (start + ends[0][0], ends[0][1])
        self.assertEqual(ends, [(TYGER, "EOF")] * 6, server.err)

    async def test_emfile_is_a_reset(self) -> None:
        """Past the real fd limit (a limit set too high), Twisted's own closes are resets.

        Twisted closes connections it cannot accept; the listening socket's
        linger makes each of those a reset. Nobody gets a clean close on an
        empty poem, and the server goes on serving.
        """
        server = self.started(
            limited_server(40, "--chunk-bytes", "400", "--delay", "0.1", "--max-connections", "500")
        )
        port = await self.port_of(server)
        ends = await outcomes(connect_clients(port, 100), TYGER)
        self.assertEqual(set(ends) - {"whole", "reset", "ended while connecting"}, set(), ends)
        self.assertEqual(await get_poetry(reactor, "127.0.0.1", port, timeout=10), TYGER)

    async def test_burst_of_2000_connects_all_served(self) -> None:
        """2,000 clients connecting at once to the fast server all get the poem (backlog 4096)."""
        server = self.started(spawn_txpoetry(reactor, "serve", "--listen", "tcp:0", "tyger"))
        port = await self.port_of(server)
        results = [get_poetry(reactor, "127.0.0.1", port, timeout=20) for _ in range(2000)]
        ended = await DeferredList(results, consumeErrors=True)
        self.assertEqual([value == TYGER for _ok, value in ended].count(True), 2000)


async def terminate(server: CommandProcess, port: int) -> None:
    """Send ``server`` SIGTERM."""
    server.transport.signalProcess("TERM")


@implementer(IHalfCloseableProtocol)
class HalfOpenRecorder(Protocol):
    """A client that keeps its own side open after the poem: C{poem} fires at the server's FIN."""

    def __init__(self) -> None:
        self.received = b""
        self.poem: Deferred[bytes] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        """Keep the bytes."""
        self.received += data

    def readConnectionLost(self) -> None:
        """The poem is complete; this side stays open."""
        self.poem.callback(self.received)

    def writeConnectionLost(self) -> None:
        """Not used."""

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Fail the poem if the connection ended before the server's FIN."""
        if not self.poem.called:
            self.poem.errback(reason)


def read_slowly(port: int, request: bytes, half_close: bool) -> tuple[bytes, str]:
    """Send ``request`` (then half-close), read with a small buffer, slowly; return what came.

    Runs in a thread: it is a plain blocking client, as many real ones are.
    """
    with socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        client.settimeout(30)  # generous: the machine may be busy
        client.connect(("127.0.0.1", port))
        client.sendall(request)
        if half_close:
            client.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while data := client.recv(512):
                received += data
                time.sleep(0.005)  # a slow reader: the server's writes back up
        except ConnectionResetError:
            return received, "reset"
        return received, "EOF"


def limited_server(descriptors: int, *args: str) -> CommandProcess:
    """Start ``serve tyger`` on a free port with a soft limit of ``descriptors`` open files."""
    command = f'ulimit -n {descriptors} && exec "$0" -m poetry serve --listen tcp:0 "$@" tyger'
    return spawn(reactor, ["/bin/sh", "-c", command, sys.executable, *args])
