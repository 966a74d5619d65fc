"""Tests for L{poetry.operations.recipes} and L{poetry.twistd}: one set of options, two fronts."""

from __future__ import annotations

import argparse
import io
import signal
import sys

from twisted.application.service import IServiceMaker
from twisted.internet.testing import MemoryReactor, MemoryReactorClock, StringTransport
from twisted.plugin import IPlugin
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from poetry.core.catalog import load_poem
from poetry.core.errors import UsageError
from poetry.core.server import PoetryServerFactory
from poetry.core.slow_server import SlowPoetryFactory
from poetry.core.transform_server import TransformFactory
from poetry.operations.graceful import GracefulServerService
from poetry.operations.recipes import POETRY, PROXY, TRANSFORM, normalized
from poetry.twistd import RecipeServiceMaker
from tests.support import accept_client, begin_shutdown, connect_server


def twistd_options(*argv: str) -> usage.Options:
    """Parse ``argv`` with the poetry plugin's twistd options."""
    options = POETRY.usage_options()()
    options.parseOptions(list(argv))
    return options


class TwistdOptionsTests(SynchronousTestCase):
    """The twistd plugin's options mirror the command line's."""

    def test_defaults_match_command_line(self) -> None:
        """With no arguments, twistd and the command line agree on every default."""
        parser = argparse.ArgumentParser()
        POETRY.add_arguments(parser)
        command_line = vars(parser.parse_args([]))
        twistd = normalized(twistd_options())
        self.assertEqual({key: twistd[key] for key in command_line}, command_line)

    def test_poem_and_settings(self) -> None:
        """The poem is a positional argument; settings are parsed by type."""
        options = twistd_options("--listen", "tcp:0", "--grace", "2.5", "tyger")
        self.assertEqual(
            (options["poem"], options["listen"], options["grace"]), ("tyger", "tcp:0", 2.5)
        )

    def test_slow_settings(self) -> None:
        """The slow-mode settings are parsed by type under their option names."""
        options = normalized(twistd_options("--chunk-bytes", "5", "--delay", "0.5"))
        self.assertEqual((options["chunk_bytes"], options["delay"]), (5, 0.5))

    def test_bad_value(self) -> None:
        """A bad value is a twistd usage error."""
        self.assertRaises(usage.UsageError, twistd_options, "--grace", "-1")

    def test_extra_arguments(self) -> None:
        """More than one poem is a usage error."""
        self.assertRaises(usage.UsageError, twistd_options, "tyger", "ecstasy")


class CommandLineSettingsTests(SynchronousTestCase):
    """The command line reports a bad setting in one line."""

    def test_bad_grace(self) -> None:
        """A negative grace period is refused with the reason."""
        parser = argparse.ArgumentParser()
        POETRY.add_arguments(parser)
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        self.assertRaises(SystemExit, parser.parse_args, ["--grace", "-1"])
        self.assertIn("expected zero or more seconds", stderr.getvalue())


class RecipeServiceMakerTests(SynchronousTestCase):
    """The twistd plugin builds the same service as the command line."""

    def setUp(self) -> None:
        """Make the poetry plugin on a memory reactor."""
        self.reactor = MemoryReactor()
        self.maker = RecipeServiceMaker(POETRY, self.reactor)

    def test_provides_plugin_interfaces(self) -> None:
        """The plugin provides L{IServiceMaker} and L{IPlugin}."""
        self.assertTrue(verifyObject(IServiceMaker, self.maker))
        self.assertTrue(verifyObject(IPlugin, self.maker))
        self.assertEqual(self.maker.tapname, "poetry")

    def test_makes_listening_service(self) -> None:
        """The service it makes listens where told with the chosen poem once started."""
        service = self.maker.makeService(twistd_options("--listen", "tcp:1234", "tyger"))
        self.assertIsInstance(service, GracefulServerService)
        service.startService()
        [(port, factory, _, interface)] = self.reactor.tcpServers
        self.assertEqual((port, interface), (1234, "127.0.0.1"))
        self.assertEqual(factory.wrappedFactory.poem, load_poem("tyger"))

    def test_second_signal_handlers_installed_on_shutdown(self) -> None:
        """Under twistd too, shutting down gives SIGINT and SIGTERM a handler to end the grace."""
        installed: dict[int, object] = {}
        self.patch(signal, "signal", lambda signum, handler: installed.setdefault(signum, handler))
        reactor = MemoryReactorClock()
        RecipeServiceMaker(POETRY, reactor).makeService(twistd_options("--listen", "tcp:0"))
        begin_shutdown(reactor)
        self.assertEqual(sorted(installed), sorted([signal.SIGINT, signal.SIGTERM]))

    def test_bad_poem_exits_2(self) -> None:
        """An unknown poem exits with status 2 and one line on stderr."""
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        error = self.assertRaises(
            SystemExit, self.maker.makeService, twistd_options("no-such-poem")
        )
        self.assertEqual(error.code, 2)
        self.assertEqual(len(stderr.getvalue().splitlines()), 1)

    def test_bad_interface_exits_2(self) -> None:
        """An interface that is not an IP address exits with status 2 and one line, no traceback."""
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        options = twistd_options("--listen", "tcp:0:interface=foo")
        error = self.assertRaises(SystemExit, self.maker.makeService, options)
        self.assertEqual(error.code, 2)
        [line] = stderr.getvalue().splitlines()
        self.assertIn("twistd poetry: error: bad endpoint", line)


class PoetryRecipeModeTests(SynchronousTestCase):
    """The poetry recipe serves all at once unless pacing is asked for."""

    def factory_for(self, *argv: str) -> object:
        """Return the protocol factory that the command line ``argv`` would serve with."""
        parser = argparse.ArgumentParser()
        POETRY.add_arguments(parser)
        service = POETRY.make_service(MemoryReactor(), vars(parser.parse_args(list(argv))))
        return service.tracker.wrappedFactory

    def test_fast_by_default(self) -> None:
        """Without pacing settings the poem is served all at once."""
        self.assertIsInstance(self.factory_for(), PoetryServerFactory)

    def test_delay_zero_is_fast(self) -> None:
        """A delay of 0 is the fast server."""
        self.assertIsInstance(self.factory_for("--delay", "0"), PoetryServerFactory)

    def test_chunk_bytes_with_delay_zero_refused(self) -> None:
        """A chunk size with a delay of 0 could not take effect: it is a usage error."""
        error = self.assertRaises(
            UsageError, self.factory_for, "--delay", "0", "--chunk-bytes", "3"
        )
        self.assertIn("--chunk-bytes has no effect with --delay 0", str(error))

    def test_chunk_alone_is_slow_at_tutorial_pace(self) -> None:
        """A chunk size alone means slow mode at one chunk a second."""
        factory = self.factory_for("--chunk-bytes", "3")
        assert isinstance(factory, SlowPoetryFactory)
        self.assertEqual((factory.chunk_bytes, factory.pacer.interval), (3, 1.0))

    def test_delay_alone_is_slow_with_tutorial_chunks(self) -> None:
        """A delay alone means slow mode with 10-byte chunks."""
        factory = self.factory_for("--delay", "0.5")
        assert isinstance(factory, SlowPoetryFactory)
        self.assertEqual((factory.chunk_bytes, factory.pacer.interval), (10, 0.5))


class ServiceRecipeTests(SynchronousTestCase):
    """Every service has a twistd plugin built from the same recipe as its command."""

    def test_tapnames(self) -> None:
        """The plugins are called poetry, poetry-transform and poetry-proxy."""
        self.assertEqual(
            [RecipeServiceMaker(r).tapname for r in (POETRY, TRANSFORM, PROXY)],
            ["poetry", "poetry-transform", "poetry-proxy"],
        )

    def test_twistd_default_ports_differ(self) -> None:
        """Under twistd too, each service listens on its own port by default."""
        defaults = [recipe.usage_options()()["listen"] for recipe in (POETRY, TRANSFORM, PROXY)]
        self.assertEqual(
            defaults,
            [f"tcp:{port}:interface=127.0.0.1" for port in (10000, 10001, 10002)],
        )

    def test_transform_settings(self) -> None:
        """The transform plugin builds a transform service with the limits given."""
        reactor = MemoryReactor()
        options = TRANSFORM.usage_options()()
        options.parseOptions(["--max-length", "500", "--idle-timeout", "2", "--write-timeout", "3"])
        factory = RecipeServiceMaker(TRANSFORM, reactor).makeService(options).tracker.wrappedFactory
        assert isinstance(factory, TransformFactory)
        self.assertEqual(
            (factory.max_length, factory.idle_timeout, factory.write_timeout), (500, 2.0, 3.0)
        )

    def test_proxy_needs_upstream(self) -> None:
        """The proxy plugin refuses to start without an upstream."""
        options = PROXY.usage_options()()
        self.assertRaises(usage.UsageError, options.parseOptions, [])

    def test_proxy_bad_upstream(self) -> None:
        """A bad upstream address is a usage error naming the problem."""
        options = PROXY.usage_options()()
        error = self.assertRaises(usage.UsageError, options.parseOptions, ["--upstream", "x:0"])
        self.assertIn("bad port", str(error))

    def test_twistd_proxy_of_itself_exits_2(self) -> None:
        """Under twistd too, an upstream that is the proxy's own address exits 2 in one line."""
        stderr = io.StringIO()
        self.patch(sys, "stderr", stderr)
        options = PROXY.usage_options()()
        options.parseOptions(["--listen", "tcp:7000", "--upstream", "127.0.0.1:7000"])
        maker = RecipeServiceMaker(PROXY, MemoryReactor())
        error = self.assertRaises(SystemExit, maker.makeService, options)
        self.assertEqual(error.code, 2)
        [line] = stderr.getvalue().splitlines()
        self.assertIn("is where this proxy listens", line)

    def test_proxy_limits(self) -> None:
        """The proxy's C{--max-bytes} limits the upstream poem; C{--failure-ttl} holds failures."""
        reactor = MemoryReactorClock()
        options = PROXY.usage_options()()
        options.parseOptions(["--upstream", "10.0.0.1:7", "--max-bytes", "4", "--failure-ttl", "2"])
        factory = RecipeServiceMaker(PROXY, reactor).makeService(options).tracker.wrappedFactory
        _, first = connect_server(factory, StringTransport())
        upstream, upstream_transport = accept_client(reactor)
        upstream.dataReceived(b"12345")
        self.assertTrue(upstream_transport.disconnecting)
        self.assertTrue(first.disconnected)
        reactor.advance(1.999)  # just short of the 2-second --failure-ttl
        _, second = connect_server(factory, StringTransport())
        self.assertTrue(second.disconnected)
        reactor.advance(0.001)  # the failure is forgotten
        connect_server(factory, StringTransport())
        self.assertEqual(len(reactor.tcpClients), 2)
        reactor.advance(30)  # the default upstream timeout

    def test_proxy_fetches_upstream_once(self) -> None:
        """The proxy plugin's service fetches from the upstream given, shared by clients."""
        reactor = MemoryReactorClock()
        options = PROXY.usage_options()()
        options.parseOptions(["--upstream", "10.0.0.1:7"])
        factory = RecipeServiceMaker(PROXY, reactor).makeService(options).tracker.wrappedFactory
        connect_server(factory, StringTransport())
        connect_server(factory, StringTransport())
        self.assertEqual([c[:2] for c in reactor.tcpClients], [("10.0.0.1", 7)])
        reactor.advance(30)  # the default upstream timeout
