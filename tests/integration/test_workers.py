"""``--workers``: real worker processes on one socket keep every integrity rule, and signals.

Each test runs ``txpoetry serve --workers 2`` as a real process tree: the
parent listens and accepts nothing, the workers serve.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sys

from twisted.internet import reactor
from twisted.trial.unittest import TestCase

from poetry.core.catalog import load_poem
from poetry.core.client import get_poetry
from poetry.operations.workers import spawn_worker
from tests.integration.test_integrity import SLOW_TYGER, connect_clients, outcomes, receiving
from tests.support.processes import CommandProcess, spawn

TYGER = load_poem("tyger")

IN_OWN_GROUP = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.setsid();"
    " os.execv(sys.executable, [sys.executable, '-m', 'poetry', *sys.argv[1:]])"
)
"""Run ``python -m poetry ARGS`` as the leader of its own process group, SIGINT as a shell has it.

So that a test can send a signal to the whole group, as a terminal's Ctrl-C does.
"""


def spawn_workers(*args: str) -> CommandProcess:
    """Start ``txpoetry serve --workers 2 ARGS`` in its own process group."""
    return spawn(reactor, [sys.executable, "-c", IN_OWN_GROUP, "serve", "--workers", "2", *args])


class WorkerTests(TestCase):
    """Two workers behind one parent: graceful stop, resets, Ctrl-C, restarts."""

    timeout = 60

    def started(self, process: CommandProcess) -> CommandProcess:
        """Make sure ``process`` (and so its workers) is stopped and reaped when the test ends."""
        self.addCleanup(process.stop)
        return process

    async def port_of(self, process: CommandProcess) -> int:
        """Wait until ``process`` has announced its port and both workers listen; return it."""
        match = await process.line_matching(rb"listening on 127\.0\.0\.1:(\d+)$")
        assert match is not None, process.err
        both = rb"(?s)(GracefulServerService#info\] listening.*){2}"
        self.assertIsNotNone(await process.line_matching(both, stderr=True), process.err)
        return int(match.group(1))

    async def test_sigterm_past_grace_resets_cut_clients(self) -> None:
        """SIGTERM to the parent: every worker's cut clients see a reset when grace ends; exit 0."""
        server = self.started(spawn_workers("--grace", "0.1", *SLOW_TYGER))
        clients = connect_clients(await self.port_of(server), 8)
        await receiving(clients)
        server.transport.signalProcess("TERM")
        self.assertEqual(await outcomes(clients, TYGER), ["reset"] * 8)
        self.assertEqual(await server.ended, 0, server.err)
        # Which worker accepts is the kernel's choice (idle, one may take them all): at least one.
        self.assertGreaterEqual(server.err.count(b"grace period over"), 1, server.err)
        self.assertNotIn(b"Traceback", server.err)

    async def test_ctrl_c_is_not_a_second_signal(self) -> None:
        """SIGINT to the whole group (Ctrl-C): workers stop gracefully; poems in flight finish."""
        slow = ("--listen", "tcp:0", "--chunk-bytes", "400", "--delay", "0.1", "--grace", "30")
        server = self.started(spawn_workers(*slow, "tyger"))
        clients = connect_clients(await self.port_of(server), 4)
        await receiving(clients)
        os.killpg(server.transport.pid, signal.SIGINT)
        self.assertEqual(await outcomes(clients, TYGER), ["whole"] * 4)
        self.assertEqual(await server.ended, 0, server.err)
        self.assertNotIn(b"grace period", server.err)

    async def test_worker_starts_with_sigint_blocked(self) -> None:
        """A worker process starts with SIGINT blocked; its parent's own mask is left as it was."""
        holder = socket.socket()
        self.addCleanup(holder.close)
        child = CommandProcess()
        script = (
            "import signal; print(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))"
        )
        spawn_worker(reactor)(child, ["-c", script], holder.fileno())
        self.assertEqual(await child.ended, 0, child.err)
        self.assertEqual(child.out, b"True\n")
        self.assertNotIn(signal.SIGINT, signal.pthread_sigmask(signal.SIG_BLOCK, []))

    async def test_ctrl_c_while_workers_start(self) -> None:
        """Ctrl-C just as the server is up, its workers still starting: no traceback, status 0."""
        server = self.started(spawn_workers("--listen", "tcp:0", "tyger"))
        await server.line_matching(rb"listening on 127\.0\.0\.1:(\d+)$")
        os.killpg(server.transport.pid, signal.SIGINT)
        self.assertEqual(await server.ended, 0, server.err)
        self.assertNotIn(b"Traceback", server.err)

    async def test_dead_worker_restarted(self) -> None:
        """A worker killed is logged and started again; clients are served all along."""
        server = self.started(spawn_workers("--listen", "tcp:0", "tyger"))
        port = await self.port_of(server)
        match = re.search(rb"worker 0 started \(pid (\d+)\)", server.err)
        assert match is not None, server.err
        os.kill(int(match.group(1)), signal.SIGKILL)
        self.assertEqual(await get_poetry(reactor, "127.0.0.1", port, timeout=10), TYGER)
        restarted = await server.line_matching(
            rb"worker 0 started \(pid (?!%s)" % match.group(1), stderr=True
        )
        self.assertIsNotNone(restarted, server.err)
        self.assertIn(b"worker 0 (pid %s) ended: killed by signal 9" % match.group(1), server.err)
        self.assertEqual(await get_poetry(reactor, "127.0.0.1", port, timeout=10), TYGER)
