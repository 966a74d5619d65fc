"""``unix:`` and ``systemd:`` endpoints on real processes.

A UNIX stream socket has no reset: closing it is all an abort can do, so a
client cut at shutdown sees an end of stream like any other. These tests pin
that down, as docs/operations.md says it.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile

from twisted.internet import reactor
from twisted.internet.defer import gatherResults
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import TestCase

from poetry.core.catalog import load_poem
from tests.support.processes import CommandProcess, spawn_txpoetry
from tests.support.sockets import connected, read_all, read_to_end

TYGER = load_poem("tyger")

SYSTEMD = 'LISTEN_FDS=1 LISTEN_FDNAMES=poetry LISTEN_PID=$$ exec "$0" -m poetry "$@"'
"""Run ``python -m poetry ARGS`` with descriptor 3 passed as systemd passes a socket."""


class UnixEndpointTests(TestCase):
    """``--listen unix:PATH`` serves, announces its path, and stops gracefully."""

    timeout = 60

    def setUp(self) -> None:
        """A fresh directory for the socket."""
        directory = tempfile.mkdtemp()
        self.path = os.path.join(directory, "poetry.sock")
        self.addCleanup(os.rmdir, directory)

    async def serve(self, *args: str) -> CommandProcess:
        """Start ``serve tyger --listen unix:PATH ARGS``; wait until it announces the path."""
        server = spawn_txpoetry(reactor, "serve", "tyger", "--listen", f"unix:{self.path}", *args)
        self.addCleanup(server.stop)
        line = await server.line_matching(rb"^listening on (.*)$")
        assert line is not None, server.err
        self.assertEqual(line.group(1).decode(), f"unix:{self.path}")
        return server

    async def test_serves_whole_poem(self) -> None:
        """A client gets the whole poem and an end of stream; SIGTERM stops with status 0."""
        server = await self.serve()
        self.assertEqual(await deferToThread(read_all, socket.AF_UNIX, self.path), (TYGER, "EOF"))
        self.assertEqual(await server.stop(), 0, server.err)
        self.assertFalse(os.path.exists(self.path))

    async def test_cut_at_shutdown_is_an_end_of_stream(self) -> None:
        """Past the grace period a UNIX client is cut with an end of stream: no reset exists."""
        server = await self.serve("--chunk-bytes", "10", "--delay", "0.2", "--grace", "0.1")
        client = connected(socket.AF_UNIX, self.path)
        start = await deferToThread(client.recv, 65536)  # mid-poem
        server.transport.signalProcess("TERM")
        rest, end = await deferToThread(read_to_end, client)
        self.assertEqual(end, "EOF")
        self.assertLess(len(start + rest), len(TYGER))  # the client can only tell by the length
        self.assertEqual(await server.ended, 0, server.err)

    async def test_workers_share_a_unix_socket(self) -> None:
        """``--workers 2`` on a UNIX socket: the poem, whole."""
        await self.serve("--workers", "2")
        self.assertEqual(await deferToThread(read_all, socket.AF_UNIX, self.path), (TYGER, "EOF"))

    async def test_workers_stop_gracefully_on_a_unix_socket(self) -> None:
        """SIGTERM mid-poem: every worker finishes its poems; the parent alone removes the path.

        A worker's adopted port used to remove the path too: the second to stop
        failed to, which ended its graceful stop at once (on a UNIX socket, a
        cut poem ends like a whole one), and the parent's lock file stayed.
        """
        server = await self.serve("--workers", "2", "--chunk-bytes", "400", "--delay", "0.1")
        both = await server.line_matching(rb"(?s)listening on unix:.*listening on unix:", True)
        assert both is not None, server.err  # each worker accepts (until then, clients wait)
        clients = [connected(socket.AF_UNIX, self.path) for _ in range(6)]
        starts = await gatherResults([deferToThread(client.recv, 65536) for client in clients])
        server.transport.signalProcess("TERM")  # every poem is under way
        ends = await gatherResults([deferToThread(read_to_end, client) for client in clients])
        for start, (rest, end) in zip(starts, ends, strict=True):
            self.assertEqual((start + rest, end), (TYGER, "EOF"))
        self.assertEqual(await server.ended, 0, server.err)
        self.assertNotIn(b"Traceback", server.err)
        self.assertEqual(os.listdir(os.path.dirname(self.path)), [])


class SystemdEndpointTests(TestCase):
    """``--listen systemd:...`` serves on the socket passed as systemd passes it."""

    timeout = 60

    def activate(self, listening: socket.socket, domain: str, *args: str) -> CommandProcess:
        """Run ``serve tyger ARGS`` on ``listening``, passed as descriptor 3 as systemd does."""
        argv = ["/bin/sh", "-c", SYSTEMD, sys.executable, "serve", "tyger"]
        argv += ["--listen", f"systemd:domain={domain}:index=0", *args]
        server = CommandProcess()
        reactor.spawnProcess(
            server,
            argv[0],
            argv,
            env=dict(os.environ),
            childFDs={0: "w", 1: "r", 2: "r", 3: listening.fileno()},
        )
        self.addCleanup(server.stop)
        return server

    async def test_socket_activation(self) -> None:
        """The passed socket serves the poem; past the grace period cut clients see a reset."""
        listening = socket.socket()
        self.addCleanup(listening.close)
        listening.bind(("127.0.0.1", 0))
        listening.listen(16)
        port = listening.getsockname()[1]
        server = self.activate(
            listening, "INET", "--chunk-bytes", "400", "--delay", "0.5", "--grace", "0.2"
        )
        line = await server.line_matching(rb"^listening on 127\.0\.0\.1:(\d+)$")
        assert line is not None, server.err
        self.assertEqual(int(line.group(1)), port)
        client = connected(socket.AF_INET, ("127.0.0.1", port))
        start = await deferToThread(client.recv, 65536)  # the first chunk is out
        server.transport.signalProcess("TERM")
        rest, end = await deferToThread(read_to_end, client)
        self.assertEqual(end, "reset")
        received = start + rest
        self.assertTrue(TYGER.startswith(received) and len(received) < len(TYGER), received)
        self.assertEqual(await server.ended, 0, server.err)

    async def test_socket_activation_keeps_a_unix_path(self) -> None:
        """A UNIX socket passed by systemd serves; stopping leaves socket and path to systemd."""
        directory = tempfile.mkdtemp()
        path = os.path.join(directory, "poetry.sock")
        listening = socket.socket(socket.AF_UNIX)
        self.addCleanup(os.rmdir, directory)
        self.addCleanup(os.unlink, path)
        self.addCleanup(listening.close)
        listening.bind(path)
        listening.listen(16)
        server = self.activate(listening, "UNIX")
        line = await server.line_matching(rb"^listening on (.*)$")
        assert line is not None, server.err
        self.assertEqual(await deferToThread(read_all, socket.AF_UNIX, path), (TYGER, "EOF"))
        self.assertEqual(await server.stop(), 0, server.err)
        self.assertTrue(os.path.exists(path))
        with socket.socket(socket.AF_UNIX) as later:  # the next activation's first client
            later.connect(path)  # queued on systemd's socket, not refused
