"""Run a server command as N worker processes sharing one listening socket.

The parent listens (so the address is bound, and announced, once), stops
reading from its port so that it never accepts a connection itself, and starts
the workers: each is the same command with ``--listen adopted:FD:FAMILY``,
the listening socket's descriptor inherited as FD, which it adopts with
C{IReactorSocket.adoptStreamPort} (see L{poetry.operations.endpoints.server_endpoint}). The
kernel hands each new connection to one of the workers that are accepting.

The parent owns the signals. A worker ignores SIGINT, so that a Ctrl-C, which
the terminal sends to the whole process group, reaches it only as the
parent's SIGTERM, and not as a second signal; the first SIGTERM stops it
gracefully, a second ends its grace period. The parent stops listening first
(so that the socket closes with the last worker's copy), passes each SIGTERM
on, and exits once every worker has. A worker that dies is logged and started
again after a delay that doubles with each death in a row (from
L{FIRST_RESTART_DELAY} to L{MAX_RESTART_DELAY}), so that a crash loop does not
spin; one that has run for L{STABLE_AFTER} seconds starts the count afresh.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IListeningPort, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

FIRST_RESTART_DELAY = 0.5
"""Seconds before a worker that died is started again, the first time in a row."""

MAX_RESTART_DELAY = 30.0
"""The longest wait before starting a worker again."""

STABLE_AFTER = 10.0
"""A worker that ran this many seconds before dying is restarted after the first delay."""

WORKER_ENVIRONMENT = "TXPOETRY_WORKER_OF"
"""Set, to the parent's process id, in each worker's environment."""

_FAMILIES = {"INET": socket.AF_INET, "INET6": socket.AF_INET6, "UNIX": socket.AF_UNIX}


def family_name(port: IListeningPort) -> str:
    """Return the address family of ``port`` as ``adopted:`` endpoints name it."""
    host = port.getHost()
    if isinstance(host, IPv6Address):
        return "INET6"
    if isinstance(host, IPv4Address):
        return "INET"
    if isinstance(host, UNIXAddress):
        return "UNIX"
    raise ValueError(f"cannot share a port listening on {host}")


def address_family(name: str) -> int:
    """Return the socket address family named ``name`` (INET, INET6 or UNIX)."""
    try:
        return _FAMILIES[name.upper()]
    except KeyError:
        raise ValueError(f"address family {name!r} is not one of INET, INET6, UNIX") from None


def restart_delay(deaths_in_a_row: int) -> float:
    """Seconds to wait before starting a worker that has died ``deaths_in_a_row`` times."""
    return min(MAX_RESTART_DELAY, FIRST_RESTART_DELAY * 2 ** max(0, deaths_in_a_row - 1))


def is_worker() -> bool:
    """Whether this process is a worker started by a parent of L{WorkerPool}."""
    return WORKER_ENVIRONMENT in os.environ


def become_worker() -> None:
    """Ignore SIGINT (the parent passes a Ctrl-C on as SIGTERM); die with the parent (Linux).

    A worker starts with SIGINT blocked (L{spawn_worker}): one that arrived
    meanwhile is dropped here, once ignored, instead of interrupting the start.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _terminate_with_parent(int(os.environ.get(WORKER_ENVIRONMENT, "0")))


def _terminate_with_parent(parent: int) -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (if it has not already)."""
    try:
        import ctypes

        libc = ctypes.CDLL(
            None,
            use_errno=True,  # pragma: no mutate (equivalent: errno is never read)
        )
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def how_it_ended(reason: Failure) -> str:
    """Say how a process ended: ``killed by signal N`` or ``exited with status N``."""
    ended = reason.value
    number = getattr(ended, "signal", None)
    if number is not None:
        return f"killed by signal {number}"
    return f"exited with status {getattr(ended, 'exitCode', None)}"


class WorkerProcess(ProcessProtocol):
    """One worker, as its parent sees it: it tells the pool when it has ended."""

    def __init__(self, pool: WorkerPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self.started = 0.0
        self.pid: int | None = None  # pragma: no mutate (equivalent: the pool sets it)

    def outReceived(self, data: bytes) -> None:
        """The worker's own ``listening on`` line: the parent has announced the address."""

    def processEnded(self, reason: Failure) -> None:
        """Tell the pool."""
        self.pool.ended(self, reason)


Spawn = Callable[[ProcessProtocol, Sequence[str], int], Any]
"""Start a worker: its process protocol, its argv, the descriptor it inherits; the transport."""


class WorkerPool:
    """Keep ``count`` workers running until stopped; start again those that die.

    ``spawn`` starts one (see L{spawn_worker}).
    """

    _log = Logger()

    def __init__(
        self,
        clock: IReactorTime,
        spawn: Spawn,
        argv: Sequence[str],
        descriptor: int,
        count: int,
    ) -> None:
        self._clock = clock
        self._spawn = spawn
        self._argv = list(argv)
        self._descriptor = descriptor
        self.count = count
        self.running: dict[int, tuple[WorkerProcess, Any]] = {}
        self._deaths = [0] * count
        self._restarts: dict[int, IDelayedCall] = {}
        self._stopping = False
        self._stopped: list[Deferred[None]] = []

    def start(self) -> None:
        """Start every worker."""
        for index in range(self.count):
            self._start(index)

    def _start(self, index: int) -> None:
        """Start worker ``index``."""
        self._restarts.pop(index, None)
        worker = WorkerProcess(self, index)
        worker.started = self._clock.seconds()
        transport = self._spawn(worker, self._argv, self._descriptor)
        worker.pid = transport.pid
        self.running[index] = (worker, transport)
        self._log.info(
            "worker {index} started (pid {pid})",  # pragma: no mutate (log text)
            event="worker-started",
            index=index,
            pid=worker.pid,
        )

    def ended(self, worker: WorkerProcess, reason: Failure) -> None:
        """A worker has ended: when stopping, count it out; otherwise log it and start it again."""
        del self.running[worker.index]
        if self._stopping:
            if not self.running:
                stopped, self._stopped = self._stopped, []
                for d in stopped:
                    d.callback(None)
            return
        if self._clock.seconds() - worker.started >= STABLE_AFTER:
            self._deaths[worker.index] = 0
        self._deaths[worker.index] += 1
        delay = restart_delay(self._deaths[worker.index])
        self._log.warn(
            "worker {index} (pid {pid}) ended: {why};"  # pragma: no mutate (log text)
            " starting it again in {delay} s",  # pragma: no mutate (log text)
            event="worker-restarted",
            index=worker.index,
            pid=worker.pid,
            why=how_it_ended(reason),
            delay=delay,
        )
        self._restarts[worker.index] = self._clock.callLater(delay, self._start, worker.index)

    def signal_all(self, name: str = "TERM") -> None:
        """Send signal ``name`` to every running worker."""
        for _, transport in self.running.values():
            transport.signalProcess(name)

    def end_grace(self) -> None:
        """Pass a second signal on: each worker ends its grace period at once."""
        self.signal_all()

    def stop(self) -> Deferred[None]:
        """Start no more workers; SIGTERM the running ones; fire once every one has ended."""
        self._stopping = True
        for call in self._restarts.values():
            call.cancel()
        self._restarts.clear()
        if not self.running:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._stopped.append(d)
        self.signal_all()
        return d


def spawn_worker(reactor: Any) -> Spawn:
    """Return a L{Spawn} that starts workers as child processes of this one on ``reactor``.

    A worker gets this process's environment with L{WORKER_ENVIRONMENT} set,
    shares its stderr (where the logs go), and inherits the listening socket's
    descriptor under the same number. It starts with SIGINT blocked, until it
    ignores it (L{become_worker}): Twisted gives a child the default action
    for a signal its parent ignores, but keeps the parent's mask, so a Ctrl-C
    while a worker starts does not interrupt it with a traceback.
    """

    def spawn(worker: ProcessProtocol, argv: Sequence[str], descriptor: int) -> Any:
        environment = {**os.environ, WORKER_ENVIRONMENT: str(os.getpid())}
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return reactor.spawnProcess(
                worker,
                sys.executable,
                [sys.executable, *argv],
                env=environment,
                childFDs={0: "w", 1: "r", 2: 2, descriptor: descriptor},
            )
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    return spawn
