"""Tests for L{poetry.operations.workers}: processes sharing one socket, restarted with backoff."""

from __future__ import annotations

import argparse
import ctypes
import io
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import ensureDeferred
from twisted.internet.endpoints import AdoptedStreamServerEndpoint
from twisted.internet.error import (
    AlreadyListened,
    CannotListenError,
    ProcessDone,
    ProcessTerminated,
)
from twisted.internet.protocol import Factory, ProcessProtocol
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor, MemoryReactorClock, StringTransport
from twisted.logger import capturedLogs, formatEvent
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.cli import build_parser
from poetry.commands.servers import ServerCommand, proxy, serve, worker_argv
from poetry.core.errors import UsageError
from poetry.operations import workers
from poetry.operations.adopted import InheritedUNIXServerEndpoint
from poetry.operations.endpoints import leaving_inherited_paths, server_endpoint
from poetry.operations.workers import (
    MAX_RESTART_DELAY,
    WORKER_ENVIRONMENT,
    WorkerPool,
    address_family,
    family_name,
    how_it_ended,
    is_worker,
    restart_delay,
)
from tests.support import (
    begin_shutdown,
    captured_events,
    connect_server,
)


class FakeProcess:
    """A worker's process transport: its pid and the signals sent to it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.signals: list[str] = []

    def signalProcess(self, name: str) -> None:
        """Record the signal."""
        self.signals.append(name)


class FakeSpawner:
    """Start workers as L{FakeProcess}es; remember each with its protocol and arguments."""

    def __init__(self) -> None:
        self.started: list[tuple[ProcessProtocol, FakeProcess, list[str], int]] = []

    def __call__(self, worker: ProcessProtocol, argv: Sequence[str], descriptor: int) -> Any:
        """Start one."""
        process = FakeProcess(100 + len(self.started))
        self.started.append((worker, process, list(argv), descriptor))
        return process

    def end(self, index: int, reason: Exception) -> None:
        """End the ``index``-th worker started, for ``reason``."""
        self.started[index][0].processEnded(Failure(reason))


PR_SET_PDEATHSIG = 1
"""The C{prctl} option that sets the signal a process gets when its parent dies (Linux)."""


def killed() -> ProcessTerminated:
    """A worker killed by SIGKILL."""
    return ProcessTerminated(signal=9)


class WorkerPoolTests(SynchronousTestCase):
    """The pool keeps its workers running, restarts the dead with a backoff, and stops them."""

    def setUp(self) -> None:
        """Two workers on descriptor 7."""
        self.clock = Clock()
        self.spawner = FakeSpawner()
        self.pool = WorkerPool(self.clock, self.spawner, ["-m", "poetry"], 7, 2)
        self.pool.start()

    def test_starts_each_worker_with_the_descriptor(self) -> None:
        """Each worker is started with the arguments and the listening descriptor."""
        self.assertEqual(
            [(argv, fd) for _, _, argv, fd in self.spawner.started],
            [(["-m", "poetry"], 7)] * 2,
        )
        self.assertEqual(sorted(self.pool.running), [0, 1])
        self.stop_all()

    def test_dead_worker_restarted_after_a_delay(self) -> None:
        """A worker that dies is logged and started again after the first delay."""
        with capturedLogs() as events:
            self.spawner.end(0, killed())
        self.assertEqual(
            [formatEvent(e) for e in events],
            ["worker 0 (pid 100) ended: killed by signal 9; starting it again in 0.5 s"],
        )
        self.clock.advance(0.49)  # just short of the first restart delay
        self.assertEqual(len(self.spawner.started), 2)
        self.clock.advance(0.01)  # the restart delay
        self.assertEqual(len(self.spawner.started), 3)
        self.assertEqual(self.pool.running[0][1].pid, 102)
        self.stop_all()

    def test_death_logged(self) -> None:
        """A worker's death is logged with its index, pid, how it ended and the restart delay."""
        with captured_events() as events:
            self.spawner.end(1, killed())
        [death] = events.named("worker-restarted")
        self.assertEqual(
            (death["index"], death["pid"], death["why"], death["delay"]),
            (1, 101, "killed by signal 9", 0.5),
        )
        self.clock.advance(0.5)  # the restart delay
        self.stop_all()

    def test_start_logged(self) -> None:
        """A worker started again is logged with its index and its new pid."""
        self.spawner.end(0, killed())
        with captured_events() as events:
            self.clock.advance(0.5)  # the restart delay
        self.assertEqual(
            [(e["index"], e["pid"]) for e in events.named("worker-started")], [(0, 102)]
        )
        self.stop_all()

    def test_crash_loop_backs_off(self) -> None:
        """Each death in a row doubles the delay; one after a stable run starts afresh."""
        delays = []
        for _ in range(3):
            with capturedLogs() as events:
                self.spawner.end(-1 if len(self.spawner.started) > 2 else 0, killed())
            delays.append(events[0]["delay"])
            self.clock.advance(events[0]["delay"])  # the restart delay
        self.clock.advance(10)  # the last one has been up long enough
        with capturedLogs() as events:
            self.spawner.end(-1, killed())
        delays.append(events[0]["delay"])
        self.clock.advance(events[0]["delay"])  # the next restart delay
        self.assertEqual(delays, [0.5, 1.0, 2.0, 0.5])
        self.stop_all()

    def test_stable_run_measured_from_the_workers_start(self) -> None:
        """A worker restarted late in the pool's life that dies at once is in a crash loop."""
        self.clock.advance(100)  # both workers have been up long enough
        delays = []
        for _ in range(2):
            with captured_events() as events:
                self.spawner.end(-1 if len(self.spawner.started) > 2 else 0, killed())
            [death] = events.named("worker-restarted")
            delays.append(death["delay"])
            self.clock.advance(death["delay"])  # the restart delay
        self.assertEqual(delays, [0.5, 1.0])
        self.stop_all()

    def test_stop_terminates_and_waits(self) -> None:
        """Stopping sends each worker SIGTERM and fires once every one has ended."""
        stopped = self.pool.stop()
        self.assertEqual([p.signals for _, p, _, _ in self.spawner.started], [["TERM"], ["TERM"]])
        self.spawner.end(0, ProcessDone(0))
        self.assertNoResult(stopped)
        with capturedLogs() as events:
            self.spawner.end(1, ProcessDone(0))
        self.successResultOf(stopped)
        self.assertEqual(events, [])  # an ordinary end, no restart

    def test_second_signal_passed_on(self) -> None:
        """Ending the grace period sends each running worker another SIGTERM."""
        stopped = self.pool.stop()
        self.spawner.end(0, ProcessDone(0))
        self.pool.end_grace()
        self.assertEqual(
            [p.signals for _, p, _, _ in self.spawner.started], [["TERM"], ["TERM"] * 2]
        )
        self.spawner.end(1, ProcessDone(0))
        self.successResultOf(stopped)

    def test_no_restart_once_stopping(self) -> None:
        """A restart pending when the pool stops never happens."""
        self.spawner.end(0, killed())
        stopped = self.pool.stop()
        self.spawner.end(1, ProcessDone(0))
        self.successResultOf(stopped)
        self.clock.advance(MAX_RESTART_DELAY)  # the longest restart delay
        self.assertEqual(len(self.spawner.started), 2)

    def stop_all(self) -> None:
        """Stop the pool and end its workers."""
        stopped = self.pool.stop()
        for index in list(self.pool.running):
            self.pool.running[index][0].processEnded(Failure(ProcessDone(0)))
        self.successResultOf(stopped)


class HelperTests(SynchronousTestCase):
    """Delays, address families, how a process ended, and becoming a worker."""

    def test_restart_delay(self) -> None:
        """The delay doubles with each death in a row, up to a maximum."""
        self.assertEqual([restart_delay(n) for n in (1, 2, 3)], [0.5, 1.0, 2.0])
        self.assertEqual(restart_delay(100), MAX_RESTART_DELAY)

    def test_family_names(self) -> None:
        """A port's address family is named for ``adopted:``, and named families are known."""

        class Port:
            def __init__(self, host: object) -> None:
                self.host = host

            def getHost(self) -> object:
                return self.host

        names = [
            family_name(Port(host))  # type: ignore[arg-type]
            for host in (
                IPv4Address("TCP", "127.0.0.1", 1),
                IPv6Address("TCP", "::1", 1),
                UNIXAddress(b"/tmp/s"),
            )
        ]
        self.assertEqual(names, ["INET", "INET6", "UNIX"])
        self.assertRaises(ValueError, family_name, Port(object()))  # type: ignore[arg-type]
        self.assertEqual(
            [address_family(n) for n in names], [socket.AF_INET, socket.AF_INET6, socket.AF_UNIX]
        )
        self.assertRaises(ValueError, address_family, "IPX")

    def test_how_it_ended(self) -> None:
        """A process ended by a signal, or with a status."""
        self.assertEqual(how_it_ended(Failure(killed())), "killed by signal 9")
        self.assertEqual(how_it_ended(Failure(ProcessTerminated(3))), "exited with status 3")

    def test_how_any_other_failure_ended(self) -> None:
        """A failure that is not a process's end is described too, with no status known."""
        self.assertEqual(how_it_ended(Failure(ValueError())), "exited with status None")

    def test_unshareable_port_named(self) -> None:
        """A port that cannot be shared is named in the error."""

        class Port:
            def getHost(self) -> object:
                return "somewhere else"

        with self.assertRaises(ValueError) as raised:
            family_name(Port())  # type: ignore[arg-type]
        self.assertIn("somewhere else", str(raised.exception))

    def test_is_worker(self) -> None:
        """A worker knows it is one from its environment."""
        self.assertFalse(is_worker())
        os.environ[WORKER_ENVIRONMENT] = "42"
        self.addCleanup(os.environ.pop, WORKER_ENVIRONMENT)
        self.assertTrue(is_worker())


class AdoptedEndpointTests(SynchronousTestCase):
    """``adopted:FD:FAMILY`` listens on an inherited socket; a bad one is bad input."""

    def test_adopted(self) -> None:
        """The endpoint adopts the descriptor with its family."""
        endpoint = server_endpoint(MemoryReactor(), "adopted:7:INET6")
        assert isinstance(endpoint, AdoptedStreamServerEndpoint)
        self.assertEqual((endpoint.fileno, endpoint.addressFamily), (7, socket.AF_INET6))

    def test_adopted_on_the_given_reactor(self) -> None:
        """The endpoint adopts the descriptor on the reactor it was built for."""
        reactor = MemoryReactor()
        endpoint = server_endpoint(reactor, "adopted:7:INET")
        assert isinstance(endpoint, AdoptedStreamServerEndpoint)
        self.assertIs(endpoint.reactor, reactor)

    def test_adopted_unix_socket_keeps_its_path(self) -> None:
        """An inherited UNIX socket is adopted by an endpoint that leaves its path to its owner."""
        endpoint = server_endpoint(MemoryReactor(), "adopted:7:UNIX")
        assert isinstance(endpoint, InheritedUNIXServerEndpoint)
        self.assertEqual(endpoint.fileno, 7)

    def test_systemd_unix_socket_keeps_its_path(self) -> None:
        """A UNIX socket passed by systemd is adopted the same way; other families, unchanged."""
        reactor = MemoryReactor()
        unix = leaving_inherited_paths(AdoptedStreamServerEndpoint(reactor, 3, socket.AF_UNIX))
        assert isinstance(unix, InheritedUNIXServerEndpoint)
        self.assertEqual((unix.reactor, unix.fileno), (reactor, 3))
        inet = AdoptedStreamServerEndpoint(reactor, 3, socket.AF_INET)
        self.assertIs(leaving_inherited_paths(inet), inet)

    def test_inherited_unix_socket_listened_on_once(self) -> None:
        """A descriptor that is not open fails the listen; a second listen is refused."""
        endpoint = InheritedUNIXServerEndpoint(MemoryReactor(), -1)
        self.failureResultOf(endpoint.listen(Factory()), ValueError)
        self.failureResultOf(endpoint.listen(Factory()), AlreadyListened)

    def test_bad(self) -> None:
        """A descriptor that is not a number, or an unknown family, is a usage error."""
        for text in ("adopted:x:INET", "adopted:7:IPX", "adopted:7"):
            self.assertRaises(UsageError, server_endpoint, MemoryReactor(), text)

    def test_bad_descriptor_named(self) -> None:
        """The usage error for a descriptor that is not a number names it."""
        error = self.assertRaises(UsageError, server_endpoint, MemoryReactor(), "adopted:x:INET")
        self.assertIn("descriptor 'x' is not a number", str(error))

    def test_unknown_family_named(self) -> None:
        """The usage error for an unknown family names it."""
        with self.assertRaises(UsageError) as raised:
            server_endpoint(MemoryReactor(), "adopted:7:IPX")
        self.assertIn("family 'IPX'", str(raised.exception))


class WorkerArgvTests(SynchronousTestCase):
    """A worker runs the same command with the same settings on the adopted socket."""

    def argv(self, command: ServerCommand, *args: str) -> list[str]:
        """Return the worker arguments for ``txpoetry COMMAND ARGS``."""
        parser = argparse.ArgumentParser()
        command.add_arguments(parser)
        parsed = parser.parse_args(list(args))
        parsed.command = command.NAME
        return worker_argv(command.recipe, parsed, "adopted:7:INET")

    def test_serve(self) -> None:
        """Poem, settings given and defaults, logging; no ``--workers``."""
        argv = self.argv(serve, "tyger", "--workers", "2", "--delay", "0.5", "--log-level", "warn")
        self.assertEqual(
            argv,
            ["-m", "poetry", "serve", "tyger", "--listen", "adopted:7:INET", "--delay", "0.5"]
            + ["--grace", "10.0", "--log-format", "text", "--log-level", "warn"],
        )

    def test_proxy(self) -> None:
        """An upstream address is passed on as it parses."""
        argv = self.argv(proxy, "--upstream", "[::1]:10000", "--workers", "2")
        self.assertIn("[::1]:10000", argv)
        self.assertNotIn("--workers", argv)


class PortStub:
    """A listening TCP port of the parent of workers: it can stop reading and has a descriptor."""

    def __init__(self) -> None:
        self.reading = True
        self.listening = True
        self.socket = None

    def getHost(self) -> IPv4Address:
        """Where it listens."""
        return IPv4Address("TCP", "127.0.0.1", 10000)

    def fileno(self) -> int:
        """Its descriptor."""
        return 9

    def stopReading(self) -> None:
        """Accept nothing."""
        self.reading = False

    def stopListening(self) -> None:
        """Close."""
        self.listening = False


class WorkersReactor(MemoryReactorClock):
    """A memory reactor whose TCP port is a L{PortStub} and which records processes spawned."""

    def __init__(self, refuse: bool = False) -> None:
        super().__init__()
        self.refuse = refuse
        self.port = PortStub()
        self.spawned: list[tuple[Any, ...]] = []
        self.protocols: list[Any] = []
        self.processes: list[FakeProcess] = []

    def listenTCP(self, port: int, factory: Any, backlog: int = 50, interface: str = "") -> Any:
        """Listen on the stub, or fail as an address in use does."""
        if self.refuse:
            raise CannotListenError(interface, port, OSError("in use"))
        self.factory = factory
        return self.port

    def spawnProcess(self, protocol: Any, executable: str, args: list[str], **kw: Any) -> Any:
        """Record the process; return its transport."""
        self.spawned.append((executable, args, kw["env"][WORKER_ENVIRONMENT], kw["childFDs"]))
        self.protocols.append(protocol)
        self.processes.append(FakeProcess(200 + len(self.spawned)))
        return self.processes[-1]


class ServeWithWorkersTests(SynchronousTestCase):
    """``--workers N``: the parent listens, accepts nothing, and runs N workers on the socket."""

    def run_workers(self, reactor: WorkersReactor, *argv: str) -> Any:
        """Run ``serve --workers 2 ARGV`` on ``reactor``; return the run."""
        installed: dict[int, Any] = {}
        self.patch(signal, "signal", lambda signum, handler: installed.setdefault(signum, handler))
        self.installed = installed
        out, err = io.BytesIO(), io.StringIO()
        args = build_parser().parse_args(["serve", "--workers", "2", "--listen", "tcp:0", *argv])
        result = ensureDeferred(args.run(reactor, args, out, err))
        return result, out, err

    def test_parent_listens_and_starts_workers(self) -> None:
        """The address is announced once; each worker inherits the socket under its number."""
        reactor = WorkersReactor()
        result, out, _ = self.run_workers(reactor)
        self.assertEqual(out.getvalue(), b"")  # announced only once the reactor handles signals
        reactor.run()
        self.assertNoResult(result)
        self.assertEqual(out.getvalue(), b"listening on 127.0.0.1:10000\n")
        self.assertFalse(reactor.port.reading)
        self.assertEqual(len(reactor.spawned), 2)
        executable, args, parent, fds = reactor.spawned[0]
        self.assertEqual(
            (executable, args[:4]), (sys.executable, [sys.executable, "-m", "poetry", "serve"])
        )
        self.assertIn("adopted:9:INET", args)
        self.assertEqual((parent, fds), (str(os.getpid()), {0: "w", 1: "r", 2: 2, 9: 9}))

    def test_each_worker_reports_to_the_pool(self) -> None:
        """Each worker process is spawned with its own protocol, which tells the pool it ended."""
        reactor = WorkersReactor()
        self.run_workers(reactor)
        self.assertEqual(
            [(type(p), p.index) for p in reactor.protocols],
            [(workers.WorkerProcess, 0), (workers.WorkerProcess, 1)],
        )

    def test_parent_accepts_nothing(self) -> None:
        """Should the parent's port accept a connection anyway, it is reset."""
        reactor = WorkersReactor()
        self.run_workers(reactor)
        _, transport = connect_server(reactor.factory, StringTransport())
        self.assertEqual((transport.value(), transport.disconnected), (b"", True))

    def test_shutdown_stops_listening_and_terminates_workers(self) -> None:
        """On shutdown the parent closes its socket and sends each worker SIGTERM."""
        reactor = WorkersReactor()
        self.run_workers(reactor)
        self.assertEqual([p.signals for p in reactor.processes], [[], []])
        begin_shutdown(reactor)
        self.assertFalse(reactor.port.listening)
        self.assertEqual([p.signals for p in reactor.processes], [["TERM"], ["TERM"]])
        self.assertEqual(sorted(self.installed), sorted([signal.SIGINT, signal.SIGTERM]))

    def test_address_in_use(self) -> None:
        """An address that cannot be bound: one line, status 1, no worker."""
        reactor = WorkersReactor(refuse=True)
        result, _, err = self.run_workers(reactor)
        self.assertEqual(self.successResultOf(result), 1)
        self.assertIn("txpoetry serve: error:", err.getvalue())
        self.assertEqual(reactor.spawned, [])


class WorkerSignalTests(SynchronousTestCase):
    """A worker ignores SIGINT (a Ctrl-C reaches it through its parent, as SIGTERM)."""

    def test_worker_handles_only_sigterm(self) -> None:
        """SIGINT is ignored from the start; on shutdown only SIGTERM ends the grace period."""
        installed: dict[int, Any] = {}
        self.patch(signal, "signal", lambda signum, handler: installed.__setitem__(signum, handler))
        masks: list[tuple[int, set[int]]] = []
        self.patch(signal, "pthread_sigmask", lambda how, mask: masks.append((how, set(mask))))
        self.patch(
            workers, "_terminate_with_parent", lambda parent: installed.setdefault(0, parent)
        )
        os.environ[WORKER_ENVIRONMENT] = "42"
        self.addCleanup(os.environ.pop, WORKER_ENVIRONMENT)
        reactor = MemoryReactorClock()
        args = build_parser().parse_args(["serve", "--listen", "tcp:0"])
        result = ensureDeferred(args.run(reactor, args, io.BytesIO(), io.StringIO()))
        self.assertEqual(installed, {signal.SIGINT: signal.SIG_IGN, 0: 42})
        self.assertEqual(masks, [(signal.SIG_UNBLOCK, {signal.SIGINT})])  # once ignored
        begin_shutdown(reactor)
        self.assertEqual(installed[signal.SIGINT], signal.SIG_IGN)
        self.assertIsNot(installed[signal.SIGTERM], signal.SIG_IGN)
        self.assertNoResult(result)

    def test_outside_a_worker_no_parent(self) -> None:
        """Without the parent's pid in the environment, there is no parent to die with (0)."""
        parents: list[int] = []
        self.patch(signal, "signal", lambda signum, handler: None)
        self.patch(workers, "_terminate_with_parent", parents.append)
        self.assertFalse(is_worker())
        workers.become_worker()
        self.assertEqual(parents, [0])


class FakeLibc:
    """The C library as C{ctypes} loads it: it records the C{prctl} calls made to it."""

    def __init__(self) -> None:
        self.prctl_calls: list[tuple[int, int]] = []

    def prctl(self, option: int, value: int) -> int:
        """Record the call; succeed."""
        self.prctl_calls.append((option, value))
        return 0


class TerminateWithParentTests(SynchronousTestCase):
    """A worker asks Linux for SIGTERM when its parent dies, and ends if it already has."""

    def setUp(self) -> None:
        """A fake C library, a parent of pid 42, and a record of the signals sent."""
        self.libc = FakeLibc()
        self.patch(ctypes, "CDLL", lambda name, use_errno=False: self.libc)
        self.parent = 42
        self.patch(os, "getppid", lambda: self.parent)
        self.kills: list[tuple[int, int]] = []
        self.patch(os, "kill", lambda pid, signum: self.kills.append((pid, signum)))

    def test_asks_for_sigterm_when_the_parent_dies(self) -> None:
        """The worker sets its parent-death signal to SIGTERM, and lives on with its parent."""
        workers._terminate_with_parent(42)
        self.assertEqual(self.libc.prctl_calls, [(PR_SET_PDEATHSIG, signal.SIGTERM)])
        self.assertEqual(self.kills, [])

    def test_parent_already_gone(self) -> None:
        """A worker whose parent died before it asked sends itself SIGTERM."""
        self.parent = 1  # the worker has been handed to init
        workers._terminate_with_parent(42)
        self.assertEqual(self.kills, [(os.getpid(), signal.SIGTERM)])

    def test_no_parent_known(self) -> None:
        """Without a parent's pid (0), the worker does not check for its parent."""
        self.parent = 1
        workers._terminate_with_parent(0)
        self.assertEqual(self.kills, [])

    def test_without_prctl(self) -> None:
        """Where the C library has no C{prctl} (not Linux), the worker carries on as it is."""
        self.patch(ctypes, "CDLL", lambda name, use_errno=False: object())
        self.parent = 1
        workers._terminate_with_parent(42)
        self.assertEqual(self.kills, [])
