"""Run the ``txpoetry`` command line in real child processes (integration tier only)."""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessDone, ProcessTerminated
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure


class CommandProcess(ProcessProtocol):
    """A child process: its output so far, the lines awaited, and its exit status."""

    def __init__(self) -> None:
        self.out = b""
        self.err = b""
        self.ended: Deferred[int] = Deferred()
        self.running = True
        self._awaited: list[tuple[re.Pattern[bytes], bool, Deferred[re.Match[bytes] | None]]] = []

    def line_matching(
        self, pattern: bytes, stderr: bool = False
    ) -> Deferred[re.Match[bytes] | None]:
        """Fire with the first line of stdout (or stderr) matching ``pattern``.

        Fires with None if the child exits first.
        """
        d: Deferred[re.Match[bytes] | None] = Deferred()
        self._awaited.append((re.compile(pattern, re.MULTILINE), stderr, d))
        self._check_awaited()
        return d

    def _check_awaited(self) -> None:
        """Fire the awaited lines that have now appeared in complete lines of output."""
        for awaited in list(self._awaited):
            pattern, stderr, d = awaited
            output = self.err if stderr else self.out
            match = pattern.search(output[: output.rfind(b"\n") + 1])
            if match is not None or not self.running:
                self._awaited.remove(awaited)
                d.callback(match)

    def outReceived(self, data: bytes) -> None:
        """Keep stdout and look for the awaited lines."""
        self.out += data
        self._check_awaited()

    def errReceived(self, data: bytes) -> None:
        """Keep stderr and look for the awaited lines."""
        self.err += data
        self._check_awaited()

    def processEnded(self, reason: Failure) -> None:
        """Fire C{ended} with the exit status (or C{-signal} when killed by a signal)."""
        self.running = False
        self._check_awaited()
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


WITHOUT_HYPOTHESIS = ["-p", "no:hypothesispytest"]
"""pytest arguments that leave out hypothesis's plugin: a module that does not use it starts
in 0.7 s instead of 1.8 s."""


def spawn(reactor: Any, argv: list[str], path: str | None = None) -> CommandProcess:
    """Start ``argv`` as a child of ``reactor``, with this process's environment, in ``path``.

    Less ``PYTHONUNBUFFERED``: a child's stdout is buffered, as in a user's
    shell, whatever the machine running the tests sets (an unbuffered stdout
    once hid a reader gone being reported at exit with status 120). The
    child runs in the current directory unless ``path`` names another.
    """
    process = CommandProcess()
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    reactor.spawnProcess(process, argv[0], argv, env=env, path=path)
    return process


def spawn_txpoetry(reactor: Any, *args: str) -> CommandProcess:
    """Start ``python -m poetry ARGS...`` as a child of ``reactor``."""
    return spawn(reactor, [sys.executable, "-m", "poetry", *args])


def spawn_twistd(reactor: Any, *args: str) -> CommandProcess:
    """Start ``twistd -n --pidfile= ARGS...`` from this Python's environment."""
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    return spawn(reactor, [twistd, "--nodaemon", "--pidfile=", *args])
