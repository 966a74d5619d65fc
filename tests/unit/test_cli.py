"""Tests for the command line, run on memory reactors without starting any reactor."""

from __future__ import annotations

import io
import signal
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.error import (
    CannotListenError,
    ConnectionDone,
    ConnectionLost,
)
from twisted.internet.protocol import Factory
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor, MemoryReactorClock, RaisingMemoryReactor
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from twisted.trial.unittest import SynchronousTestCase

from poetry import cli
from poetry.cli import build_parser, run_command
from poetry.core.address import parse_address
from poetry.core.catalog import bundled_names, load_poem
from poetry.core.client import get_poetry
from poetry.core.errors import UsageError
from poetry.operations.graceful import GracefulServerService
from poetry.operations.running import second_signal_ends_grace
from poetry.testing import MemoryPoetryNetwork
from tests.support import (
    POEM,
    FakeServerEndpoint,
    accept_client,
    begin_shutdown,
    netstring,
    refuse_client,
    serve_client,
)


class CommandRun:
    """One command parsed from ``argv`` and started on ``reactor``, with captured output."""

    def __init__(self, reactor: Any, argv: list[str]) -> None:
        self.out = io.BytesIO()
        self.err = io.StringIO()
        args = build_parser().parse_args(argv)
        self.result: Deferred[int] = ensureDeferred(args.run(reactor, args, self.out, self.err))


class ParserTests(SynchronousTestCase):
    """Bad command lines are reported in one line with exit status 2."""

    def setUp(self) -> None:
        """Start each test afresh."""
        self.stderr = io.StringIO()
        self.patch(sys, "stderr", self.stderr)

    def assertUsageError(self, argv: list[str]) -> str:
        """Assert ``argv`` exits with status 2 and one line on stderr; return the line."""
        error = self.assertRaises(SystemExit, build_parser().parse_args, argv)
        self.assertEqual(error.code, 2)
        lines = self.stderr.getvalue().splitlines()
        self.assertEqual(len(lines), 1, lines)
        return lines[0]

    def test_unknown_command(self) -> None:
        """An unknown command is a one-line usage error."""
        self.assertIn("invalid choice", self.assertUsageError(["recite"]))

    def test_no_command(self) -> None:
        """A command is required."""
        self.assertUsageError([])

    def test_get_needs_address(self) -> None:
        """C{get} needs at least one address."""
        self.assertUsageError(["get"])

    def test_extra_argument_names_the_command(self) -> None:
        """An argument a command does not take is reported under the command's name."""
        line = self.assertUsageError(["serve", "tyger", "ecstasy"])
        self.assertTrue(
            line.startswith("txpoetry serve: error: unrecognized arguments: ecstasy"), line
        )

    def test_unknown_option_names_the_command(self) -> None:
        """An option a command does not know is reported under the command's name."""
        line = self.assertUsageError(["get", "10000", "--bogus"])
        self.assertTrue(line.startswith("txpoetry get: error: unrecognized arguments: --bogus"))

    def test_version(self) -> None:
        """C{--version} prints the installed distribution's version and exits 0."""
        stdout = io.StringIO()
        self.patch(sys, "stdout", stdout)
        error = self.assertRaises(SystemExit, build_parser().parse_args, ["--version"])
        self.assertEqual(error.code, 0)
        self.assertEqual(stdout.getvalue(), f"txpoetry {version('txpoetry')}\n")

    def test_version_when_not_installed(self) -> None:
        """Without installed metadata, C{--version} says the version is unknown."""

        def not_installed(name: str) -> str:
            raise PackageNotFoundError(name)

        self.patch(cli, "version", not_installed)
        self.assertIn("version unknown", cli.distribution_version.__wrapped__())  # not the cached

    def test_get_help_names_address_forms(self) -> None:
        """C{get --help} names every form an address may take, IPv6 included."""
        stdout = io.StringIO()
        self.patch(sys, "stdout", stdout)
        error = self.assertRaises(SystemExit, build_parser().parse_args, ["get", "--help"])
        self.assertEqual(error.code, 0)
        self.assertIn("ADDRESS HOST:PORT, [IPV6]:PORT or PORT", " ".join(stdout.getvalue().split()))

    def test_max_bytes_must_be_positive(self) -> None:
        """A C{--max-bytes} of zero or a non-number is a usage error."""
        for bad in ["0", "-1", "4MiB"]:
            self.stderr.truncate(0)
            self.stderr.seek(0)
            self.assertIn("whole number", self.assertUsageError(["get", "1", "--max-bytes", bad]))

    def test_timeout_must_be_positive(self) -> None:
        """A zero, negative or non-numeric timeout is a usage error."""
        for bad in ["0", "-1", "soon", "nan"]:
            self.stderr.truncate(0)
            self.stderr.seek(0)
            self.assertIn("positive number", self.assertUsageError(["get", "1", "--timeout", bad]))


class RunCommandTests(SynchronousTestCase):
    """C{run_command} turns a command's outcome into an exit status."""

    def setUp(self) -> None:
        """Start each test afresh."""
        self.stderr = io.StringIO()
        self.stdout = io.TextIOWrapper(io.BytesIO())
        self.patch(sys, "stderr", self.stderr)
        self.patch(sys, "stdout", self.stdout)

    def test_usage_error_exits_2_with_one_line(self) -> None:
        """A L{UsageError} from a command is one line on stderr and exit status 2."""
        args = build_parser().parse_args(["serve", "no-such-poem"])
        failure = self.failureResultOf(run_command(MemoryReactor(), args), SystemExit)
        self.assertEqual(failure.value.code, 2)
        [line] = self.stderr.getvalue().splitlines()
        self.assertTrue(line.startswith("txpoetry serve: error: no such poem"), line)

    def test_proxy_of_itself_exits_2(self) -> None:
        """A proxy whose upstream is its own address is a one-line usage error, exit 2."""
        args = build_parser().parse_args(["proxy", "--upstream", "localhost:10002"])
        reactor = MemoryReactor()
        failure = self.failureResultOf(run_command(reactor, args), SystemExit)
        self.assertEqual(failure.value.code, 2)
        [line] = self.stderr.getvalue().splitlines()
        self.assertIn("--upstream localhost:10002 is where this proxy listens", line)
        self.assertEqual(reactor.tcpServers, [])

    def test_closed_stdout_exits_2(self) -> None:
        """With stdout closed (C{sys.stdout} is None), a command exits 2 with one line on stderr."""
        self.patch(sys, "stdout", None)
        error = self.assertRaises(SystemExit, cli.main, ["poems"])
        self.assertEqual(error.code, 2)
        [line] = self.stderr.getvalue().splitlines()
        self.assertEqual(
            line,
            "txpoetry poems: error: standard output is closed (send it somewhere, e.g. >/dev/null)",
        )

    def test_success_exits_0(self) -> None:
        """A command returning 0 ends without C{SystemExit}."""
        args = build_parser().parse_args(["poems"])
        self.assertIsNone(self.successResultOf(run_command(MemoryReactor(), args)))

    def test_reader_gone_at_the_last_flush_exits_1(self) -> None:
        """A reader of stdout gone before the buffered output is flushed: exit 1, stdout dropped."""

        class ReaderGone(io.TextIOWrapper):
            def flush(self) -> None:
                raise BrokenPipeError(32, "Broken pipe")

        self.patch(sys, "stdout", ReaderGone(io.BytesIO()))
        discarded: list[bool] = []
        self.patch(cli, "discard_stdout", lambda: discarded.append(True))
        args = build_parser().parse_args(["poems"])
        failure = self.failureResultOf(run_command(MemoryReactor(), args), SystemExit)
        self.assertEqual((failure.value.code, discarded), (1, [True]))

    def test_failure_status_exits(self) -> None:
        """A command returning non-zero ends with that exit status."""
        reactor = MemoryReactorClock()
        args = build_parser().parse_args(["get", "10000"])
        d = run_command(reactor, args)
        refuse_client(reactor, 0)
        self.assertEqual(self.failureResultOf(d, SystemExit).value.code, 1)


class PoemsCommandTests(SynchronousTestCase):
    """C{txpoetry poems} lists the bundled poems."""

    def test_lists_names(self) -> None:
        """Each bundled poem's name is printed on its own line."""
        run = CommandRun(MemoryReactor(), ["poems"])
        self.assertEqual(self.successResultOf(run.result), 0)
        self.assertEqual(run.out.getvalue().decode().splitlines(), bundled_names())


class ServeCommandTests(SynchronousTestCase):
    """C{txpoetry serve} listens where told and announces the address."""

    def test_listens_on_loopback_by_default(self) -> None:
        """With no endpoint, the server listens on port 10000 of 127.0.0.1."""
        reactor = MemoryReactor()
        run = CommandRun(reactor, ["serve"])
        self.assertNoResult(run.result)
        [(port, factory, _backlog, interface)] = reactor.tcpServers
        self.assertEqual((port, interface), (10000, "127.0.0.1"))
        self.assertEqual(factory.wrappedFactory.poem, load_poem("ecstasy"))

    def default_interface_and_port(self, argv: list[str]) -> tuple[str, int]:
        """Run a server command given no endpoint; return where it listens."""
        reactor = MemoryReactor()
        CommandRun(reactor, argv)
        [(port, _factory, _backlog, interface)] = reactor.tcpServers
        return interface, port

    def test_transform_default_port(self) -> None:
        """With no endpoint, the transform service listens on port 10001 of 127.0.0.1."""
        self.assertEqual(self.default_interface_and_port(["transform"]), ("127.0.0.1", 10001))

    def test_proxy_default_port(self) -> None:
        """With no endpoint, the caching proxy listens on port 10002 of 127.0.0.1."""
        self.assertEqual(
            self.default_interface_and_port(["proxy", "--upstream", "10000"]), ("127.0.0.1", 10002)
        )

    def test_announces_address(self) -> None:
        """Once listening, one line gives the real address: the poem is served there."""
        network = MemoryPoetryNetwork()
        run = CommandRun(network.reactor, ["serve", "tyger", "--listen", "tcp:0"])
        network.reactor.run()  # the reactor starts: the address is announced
        [line] = run.out.getvalue().decode().splitlines()
        address = parse_address(line.removeprefix("listening on "))
        self.assertNotEqual(address.port, 0)
        poem = get_poetry(network.reactor, address.host, address.port)
        network.flush()
        self.assertEqual(self.successResultOf(poem), load_poem("tyger"))
        begin_shutdown(network.reactor)
        network.flush()  # the server stops at once: nothing is in flight

    def test_announces_only_once_the_reactor_runs(self) -> None:
        """The address is announced once the reactor runs, when it handles SIGINT and SIGTERM."""
        reactor = MemoryReactor()
        run = CommandRun(reactor, ["serve", "--listen", "tcp:0"])
        self.assertEqual((len(reactor.tcpServers), run.out.getvalue()), (1, b""))
        reactor.run()  # runs the reactor's when-running calls
        self.assertTrue(run.out.getvalue().startswith(b"listening on "))
        self.assertNoResult(run.result)

    def test_unknown_poem(self) -> None:
        """An unknown poem is a usage error, and nothing listens."""
        reactor = MemoryReactor()
        run = CommandRun(reactor, ["serve", "no-such-poem"])
        self.failureResultOf(run.result, UsageError)
        self.assertEqual(reactor.tcpServers, [])

    def test_bad_endpoint(self) -> None:
        """A malformed endpoint string is a usage error."""
        run = CommandRun(MemoryReactor(), ["serve", "--listen", "tcp:abc"])
        self.failureResultOf(run.result, UsageError)

    def test_port_out_of_range(self) -> None:
        """A port the system cannot bind at all is a usage error."""
        run = CommandRun(RaisingMemoryReactor(OverflowError("port must be 0-65535")), ["serve"])
        self.failureResultOf(run.result, UsageError)

    def test_cannot_listen(self) -> None:
        """An address already in use gives one error line and exit status 1."""
        reactor = RaisingMemoryReactor(CannotListenError("127.0.0.1", 10000, OSError("in use")))
        run = CommandRun(reactor, ["serve"])
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(len(run.err.getvalue().splitlines()), 1)
        self.assertIn("10000", run.err.getvalue())


class SecondSignalTests(SynchronousTestCase):
    """Once a server is stopping, a second SIGINT or SIGTERM ends its grace period at once."""

    def test_second_signal_handlers_installed_on_shutdown(self) -> None:
        """As shutdown begins, SIGINT and SIGTERM get a handler that ends the grace period."""
        installed: dict[int, Any] = {}
        self.patch(signal, "signal", lambda signum, handler: installed.setdefault(signum, handler))
        reactor = MemoryReactorClock()
        run = CommandRun(reactor, ["serve", "--listen", "tcp:0"])
        self.assertEqual(installed, {})
        begin_shutdown(reactor)
        self.assertEqual(sorted(installed), sorted([signal.SIGINT, signal.SIGTERM]))
        self.assertNoResult(run.result)

    def test_handler_ends_grace_from_reactor_thread(self) -> None:
        """The handler asks the reactor to end the grace period (a signal handler does no more)."""
        installed: dict[int, Any] = {}
        ended: list[str] = []
        service = GracefulServerService(FakeServerEndpoint(), Factory(), Clock())
        self.patch(service, "end_grace", lambda: ended.append("ended"))
        reactor = ThreadCallRecorder()
        second_signal_ends_grace(reactor, service, installed.__setitem__)
        installed[signal.SIGTERM](signal.SIGTERM, None)
        self.assertEqual(ended, [])
        reactor.run_calls()
        self.assertEqual(ended, ["ended"])


class ThreadCallRecorder:
    """A reactor that only keeps what C{callFromThread} is given, until told to run it."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def callFromThread(self, function: Any, *args: Any) -> None:
        """Keep the call for later."""
        self.calls.append((function, args))

    def run_calls(self) -> None:
        """Run the calls kept, as the reactor's thread would."""
        for function, args in self.calls:
            function(*args)


class GetCommandTests(SynchronousTestCase):
    """C{txpoetry get} fetches concurrently and prints in argument order."""

    def setUp(self) -> None:
        """Start each test afresh."""
        self.reactor = MemoryReactorClock()

    def test_fetches_all_concurrently_in_order(self) -> None:
        """All connections start at once; poems print in argument order, not arrival order."""
        run = CommandRun(self.reactor, ["get", "--quiet", "10001", "localhost:10002"])
        self.assertEqual(
            [(h, p) for h, p, *_ in self.reactor.tcpClients],
            [("127.0.0.1", 10001), ("localhost", 10002)],
        )
        first, _ = accept_client(self.reactor, 0)
        serve_client(self.reactor, b"second\n", 1)
        first.dataReceived(b"first\n")
        self.assertNoResult(run.result)
        first.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(self.successResultOf(run.result), 0)
        self.assertEqual(run.out.getvalue(), b"first\nsecond\n")
        self.assertEqual(run.err.getvalue(), "")

    def test_failure_reported_per_address(self) -> None:
        """A failed fetch is one stderr line naming its address; the others still print."""
        run = CommandRun(self.reactor, ["get", "--quiet", "10001", "10002"])
        refuse_client(self.reactor, 0)
        serve_client(self.reactor, POEM, 1)
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(run.out.getvalue(), POEM)
        [line] = run.err.getvalue().splitlines()
        self.assertTrue(line.startswith("127.0.0.1:10001: Connection was refused"), line)

    def test_timeout(self) -> None:
        """A server that never answers is reported as timed out after C{--timeout} seconds."""
        run = CommandRun(self.reactor, ["get", "--quiet", "10001", "--timeout", "2.5"])
        accept_client(self.reactor)
        self.reactor.advance(2.5)  # the --timeout deadline
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(run.err.getvalue(), "127.0.0.1:10001: timed out after 2.5 seconds\n")

    def test_max_bytes(self) -> None:
        """A server sending more than C{--max-bytes} is reported as over the limit; exit 1."""
        run = CommandRun(self.reactor, ["get", "--quiet", "10001", "--max-bytes", "4"])
        protocol, transport = accept_client(self.reactor)
        protocol.dataReceived(POEM)
        self.assertTrue(transport.disconnecting)
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(run.err.getvalue(), "127.0.0.1:10001: poem exceeds the limit of 4 bytes\n")

    def test_progress_lines_when_not_a_terminal(self) -> None:
        """Without C{--quiet}, stderr that is not a terminal gets a line per state change."""
        run = CommandRun(self.reactor, ["get", "10001", "10002"])
        first, _ = accept_client(self.reactor, 0)
        second, _ = accept_client(self.reactor, 1)
        first.dataReceived(POEM[:5])
        first.dataReceived(POEM[5:])
        first.connectionLost(Failure(ConnectionDone()))
        second.connectionLost(Failure(ConnectionLost()))
        self.assertEqual(self.successResultOf(run.result), 1)
        progress, failure = run.err.getvalue().splitlines()[:3], run.err.getvalue().splitlines()[3:]
        self.assertEqual(
            progress,
            [
                "127.0.0.1:10001: 5 bytes",
                f"127.0.0.1:10001: done, {len(POEM)} bytes",
                "127.0.0.1:10002: failed after 0 bytes",
            ],
        )
        self.assertEqual(len(failure), 1)
        self.assertTrue(failure[0].startswith("127.0.0.1:10002: connection lost after 0 bytes"))

    def test_interrupted_fetch(self) -> None:
        """Stopped mid-poem (Ctrl-C), each unfinished fetch is reported interrupted; exit 1."""
        run = CommandRun(self.reactor, ["get", "--quiet", "10001", "10002"])
        first, first_transport = accept_client(self.reactor, 0)
        serve_client(self.reactor, POEM, 1)
        first.dataReceived(POEM[:5])
        begin_shutdown(self.reactor)
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(run.err.getvalue(), "127.0.0.1:10001: interrupted\n")
        self.assertEqual(run.out.getvalue(), POEM)
        self.assertTrue(first_transport.disconnecting)

    def test_interrupted_transform(self) -> None:
        """Stopped while transforming, the original is printed with a warning; exit 1."""
        run = self.get_hi_to_shout()
        accept_client(self.reactor, 1)
        begin_shutdown(self.reactor)
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(run.out.getvalue(), b"hi")
        self.assertEqual(
            run.err.getvalue(),
            "127.0.0.1:10001: transform failed (interrupted); printing the original\n",
        )

    def test_no_transform_once_interrupted(self) -> None:
        """Stopped while fetching, no transform is asked for, even of the poems that came."""
        argv = ["get", "--quiet", "10001", "10003", "--transform", "shout"]
        run = CommandRun(self.reactor, [*argv, "--transform-server", "10002"])
        serve_client(self.reactor, b"hi", 0)
        begin_shutdown(self.reactor)
        self.assertEqual(self.successResultOf(run.result), 1)
        self.assertEqual(len(self.reactor.tcpClients), 2)
        self.assertEqual(run.out.getvalue(), b"hi")

    def test_repeated_address_fetched_twice(self) -> None:
        """An address given twice is fetched twice, with progress for each fetch."""
        run = CommandRun(self.reactor, ["get", "10001", "10001"])
        for index in (0, 1):
            serve_client(self.reactor, POEM, index)
        self.assertEqual(self.successResultOf(run.result), 0)
        self.assertEqual(run.out.getvalue(), POEM * 2)
        done = f"127.0.0.1:10001: done, {len(POEM)} bytes"
        self.assertEqual(run.err.getvalue().splitlines().count(done), 2)

    def get_hi_to_shout(self) -> CommandRun:
        """Run C{get --transform shout} and let the poetry server send C{hi}."""
        run = CommandRun(
            self.reactor,
            ["get", "--quiet", "10001", "--transform", "shout", "--transform-server", "10002"],
        )
        serve_client(self.reactor, b"hi", 0)
        return run

    def test_transform_applied(self) -> None:
        """With C{--transform}, each fetched poem is sent to the transform service."""
        run = self.get_hi_to_shout()
        self.assertEqual(self.reactor.tcpClients[1][:2], ("127.0.0.1", 10002))
        transform, transport = accept_client(self.reactor, 1)
        self.assertEqual(transport.value(), netstring(b"shout.hi"))
        transform.dataReceived(netstring(b"HI"))
        self.assertEqual(self.successResultOf(run.result), 0)
        self.assertEqual(run.out.getvalue(), b"HI")

    def test_transform_failure_falls_back(self) -> None:
        """When the transform service fails, the original poem is printed, with a warning."""
        run = self.get_hi_to_shout()
        refuse_client(self.reactor, 1)
        self.assertEqual(self.successResultOf(run.result), 0)
        self.assertEqual(run.out.getvalue(), b"hi")
        [warning] = run.err.getvalue().splitlines()
        self.assertTrue(warning.startswith("127.0.0.1:10001: transform failed ("), warning)
        self.assertTrue(warning.endswith("printing the original"), warning)

    def test_transform_needs_server(self) -> None:
        """C{--transform} without C{--transform-server} is a usage error."""
        run = CommandRun(self.reactor, ["get", "10001", "--transform", "shout"])
        self.failureResultOf(run.result, UsageError)

    def test_bad_address_connects_nowhere(self) -> None:
        """A bad address is a usage error before any connection starts."""
        run = CommandRun(self.reactor, ["get", "10001", "host:99999"])
        self.failureResultOf(run.result, UsageError)
        self.assertEqual(self.reactor.tcpClients, [])


class DemoCommandTests(SynchronousTestCase):
    """C{txpoetry demo} runs every service, uses each, and stops them."""

    def report_line(self, run: CommandRun, label: str) -> str:
        """Return the line of the demo's report that starts with ``label``."""
        [line] = [x for x in run.out.getvalue().decode().splitlines() if x.startswith(label)]
        return line

    def test_slow_server_serves_chosen_poem(self) -> None:
        """The slow server serves the poem the demo was given, not a fixed one."""
        network = MemoryPoetryNetwork()
        run = CommandRun(network.reactor, ["demo", "sonnet18"])
        network.advance(1)  # long enough for the slow server's whole poem
        self.assertEqual(self.successResultOf(run.result), 0)
        line = self.report_line(run, "slow server")
        self.assertIn(f" {len(load_poem('sonnet18'))} bytes in ", line)
        self.assertTrue(line.endswith("as expected"), line)

    def test_poem_from_file_paced_in_two_seconds(self) -> None:
        """A long poem given by path is served by every service, the slow one within 2 s."""
        path = FilePath(self.mktemp())
        path.setContent(POEM * 2000)
        network = MemoryPoetryNetwork()
        run = CommandRun(network.reactor, ["demo", path.path])
        network.advance(2)  # SLOW_MAX_CHUNKS chunks of the slow server, SLOW_DELAY apart
        self.assertEqual(self.successResultOf(run.result), 0)
        self.assertIn(f" {len(POEM) * 2000} bytes in ", self.report_line(run, "slow server"))

    def test_uses_every_service(self) -> None:
        """The demo reports each service's result as expected, prints the poem and exits 0."""
        network = MemoryPoetryNetwork()
        run = CommandRun(network.reactor, ["demo", "sonnet18"])
        network.advance(1)  # long enough for the slow server's whole poem
        self.assertEqual(self.successResultOf(run.result), 0)
        report = run.out.getvalue().decode()
        self.assertEqual(report.count("as expected"), 5, report)
        self.assertTrue(run.out.getvalue().endswith(load_poem("sonnet18").lower()))
        self.assertEqual(network.open_connections, 0)
