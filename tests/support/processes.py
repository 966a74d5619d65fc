"""Run the ``txpoetry`` command line in real child processes (integration tier only)."""

from __future__ import annotations

import os
import sys
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessDone, ProcessTerminated
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure


class CommandProcess(ProcessProtocol):
    """One ``python -m poetry`` child: its output so far, first line, and exit status.

    C{first_line} fires with the whole output if the child exits before a full line.
    """

    def __init__(self) -> None:
        self.out = b""
        self.err = b""
        self.first_line: Deferred[bytes] = Deferred()
        self.ended: Deferred[int] = Deferred()
        self.running = True

    def outReceived(self, data: bytes) -> None:
        """Keep stdout; fire C{first_line} once the first line is complete."""
        self.out += data
        if b"\n" in self.out and not self.first_line.called:
            self.first_line.callback(self.out.split(b"\n", 1)[0])

    def errReceived(self, data: bytes) -> None:
        """Keep stderr."""
        self.err += data

    def processEnded(self, reason: Failure) -> None:
        """Fire C{ended} with the exit status (or C{-signal} when killed by a signal)."""
        self.running = False
        if not self.first_line.called:
            self.first_line.callback(self.out)
        value = reason.value
        if isinstance(value, ProcessDone):
            self.ended.callback(0)
        elif isinstance(value, ProcessTerminated) and value.exitCode is not None:
            self.ended.callback(value.exitCode)
        else:
            self.ended.callback(-(value.signal or 0))

    def stop(self) -> Deferred[int]:
        """Send SIGTERM if still running; return C{ended}."""
        if self.running:
            self.transport.signalProcess("TERM")
        return self.ended


def spawn_txpoetry(reactor: Any, *args: str) -> CommandProcess:
    """Start ``python -m poetry ARGS...`` as a child of ``reactor``."""
    process = CommandProcess()
    argv = [sys.executable, "-m", "poetry", *args]
    reactor.spawnProcess(process, sys.executable, argv, env=dict(os.environ))
    return process
