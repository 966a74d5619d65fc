"""Tests for L{poetry.core.tally}, and the busy servers that count with it instead of logging."""

from __future__ import annotations

import argparse

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor, MemoryReactorClock, StringTransport
from twisted.logger import Logger, LogLevel, capturedLogs, formatEvent
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.client import get_poetry
from poetry.core.proxy import PoemCache, ProxyFactory
from poetry.core.server import PoetryServerFactory
from poetry.core.tally import Tally, counted
from poetry.operations.recipes import POETRY, PROXY
from tests.support import POEM, captured_events, connect_server, serve_client


def tally(clock: Clock, each: bool = False, what: str = "poems served") -> Tally:
    """Return a tally of ``what`` on ``clock``, over periods of 10 s."""
    return Tally(clock, what, Logger(namespace="poetry.test"), 10.0, each)


class TallyTests(SynchronousTestCase):
    """A tally logs one summary line per busy period, written by the first event after it."""

    def test_counts_are_summarised_after_the_period(self) -> None:
        """Events in one period are summarised, with their bytes, by the first event after it."""
        clock = Clock()
        counter = tally(clock)
        with capturedLogs() as events:
            counter.count(5)
            clock.advance(9.9)  # just short of a tally period
            counter.count(7)
            self.assertEqual(events, [])
            clock.advance(0.1)  # the period that began at 0 is over
            counter.count(11)
            clock.advance(10)  # and so is the one that began with that event
            counter.count(1)
        self.assertEqual(
            [formatEvent(e) for e in events],
            ["poems served: 2 (12 bytes) in 10.0 s", "poems served: 1 (11 bytes) in 10.0 s"],
        )
        self.assertEqual(events[0]["log_level"].name, "info")

    def test_flush_logs_what_is_counted(self) -> None:
        """A flush logs the counts so far, and starts afresh."""
        clock = Clock()
        counter = tally(clock)
        counter.count(5)
        clock.advance(3)  # three seconds of counting, within the period
        with capturedLogs() as events:
            counter.flush()
            counter.flush()
        self.assertEqual([formatEvent(e) for e in events], ["poems served: 1 (5 bytes) in 3.0 s"])

    def test_idle_logs_nothing(self) -> None:
        """With nothing counted, a flush logs nothing, and the next period starts at its event."""
        clock = Clock()
        counter = tally(clock)
        with capturedLogs() as events:
            counter.flush()
            clock.advance(100)  # long past the period
            counter.count(1)
            clock.advance(4)  # four seconds into the period that event began
            counter.flush()
        self.assertEqual([formatEvent(e) for e in events], ["poems served: 1 (1 bytes) in 4.0 s"])

    def test_period_runs_from_its_first_event(self) -> None:
        """A period begun late on the clock is not over until its length has passed since then."""
        clock = Clock()
        counter = tally(clock)
        clock.advance(100)  # the first event comes long after the clock's start
        with captured_events() as events:
            counter.count(1)
            clock.advance(9.9)  # just short of a period since that event
            counter.count(1)
            self.assertEqual(events.named("tally"), [])
            clock.advance(0.1)  # the period that began with the first event is over
            counter.count(1)
        [summary] = events.named("tally")
        self.assertEqual((summary["count"], summary["seconds"]), (2, 10.0))

    def test_size_defaults_to_no_bytes(self) -> None:
        """An event counted without a size is counted with no bytes."""
        counter = tally(Clock())
        counter.count()
        with captured_events() as events:
            counter.flush()
        [summary] = events.named("tally")
        self.assertEqual((summary["count"], summary["bytes"]), (1, 0))


class ServerTallyTests(SynchronousTestCase):
    """With a tally, the fast server counts poems served instead of logging each at info."""

    def serve(self, factory: PoetryServerFactory) -> list[dict[str, object]]:
        """Serve one client to a clean close; return the events logged meanwhile."""
        with capturedLogs() as events:
            connect_server(factory)  # wired to its transport: it hears its own clean close
        return list(events)

    def test_counted_not_logged(self) -> None:
        """A poem served is counted; no event is logged for it."""
        clock = Clock()
        factory = PoetryServerFactory(POEM, tally(clock))
        self.assertEqual(self.serve(factory), [])
        clock.advance(10)  # a whole period
        events = self.serve(factory)
        self.assertEqual([e["count"] for e in events], [1])

    def test_each_at_debug_when_asked(self) -> None:
        """A tally that asks for each event gets the connection and the poem logged at debug."""
        factory = PoetryServerFactory(POEM, tally(Clock(), each=True))
        events = self.serve(factory)
        self.assertEqual(
            [(e["log_level"].name, e["log_format"].split(" ")[0]) for e in events],
            [("debug", "connection"), ("debug", "poem")],
        )

    def test_stop_flushes_then_logs_each(self) -> None:
        """Stopping the factory logs the summary; poems served after that are logged at info."""
        factory = PoetryServerFactory(POEM, tally(Clock()))
        self.serve(factory)
        with capturedLogs() as events:
            factory.doStart()
            factory.doStop()
        self.assertEqual([e["count"] for e in events], [1])
        late = self.serve(factory)
        self.assertEqual(
            [(e["log_level"].name, e.get("size")) for e in late if "size" in e],
            [("info", len(POEM))],
        )

    def test_gone_early_still_logged(self) -> None:
        """A client gone early is logged at info even with a tally."""
        factory = PoetryServerFactory(POEM, tally(Clock()))
        protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 5000))
        protocol.makeConnection(StringTransport())
        with capturedLogs() as events:
            protocol.connectionLost(Failure(ConnectionLost()))
        self.assertEqual([e["log_level"].name for e in events], ["info"])


class ProxyTallyTests(SynchronousTestCase):
    """With a tally, the proxy counts cache hits instead of logging each at info."""

    def setUp(self) -> None:
        """A proxy with a tally on a memory reactor, its cache warmed by one client."""
        self.reactor = MemoryReactorClock()
        self.cache = PoemCache(
            lambda: get_poetry(self.reactor, "127.0.0.1", 10000, timeout=10),
            self.reactor,
            tally=tally(self.reactor, what="cache hits"),
        )
        self.factory = ProxyFactory(self.cache)
        connect_server(self.factory)
        serve_client(self.reactor, POEM)

    def test_hits_counted(self) -> None:
        """Hits are counted and summarised when the factory stops; later hits logged each."""
        with capturedLogs() as events:
            connect_server(self.factory)
            connect_server(self.factory)
        self.assertEqual([e for e in events if "cache hit" in e["log_format"]], [])
        with capturedLogs() as events:
            self.factory.doStart()
            self.factory.doStop()
            self.factory.doStart()
            self.factory.doStop()  # a second stop: nothing left to summarise
            connect_server(self.factory)
        self.assertEqual(
            [formatEvent(e) for e in events],
            [f"cache hits: 2 ({2 * len(POEM)} bytes) in 0.0 s", "cache hit"],
        )

    def test_each_hit_at_debug_when_asked(self) -> None:
        """A tally that asks for each event gets each hit logged at debug."""
        assert self.cache.tally is not None
        self.cache.tally.each = True
        with capturedLogs() as events:
            connect_server(self.factory)
        self.assertEqual(
            [(e["log_level"].name, e["log_format"]) for e in events], [("debug", "cache hit")]
        )


class RecipeTallyTests(SynchronousTestCase):
    """The fast server and the proxy made by their recipes keep a tally; debug asks for each."""

    def factory_for(self, recipe: object, *argv: str) -> object:
        """Return the protocol factory that the command line ``argv`` would serve with."""
        parser = argparse.ArgumentParser()
        recipe.add_arguments(parser)  # type: ignore[attr-defined]
        parser.add_argument("--log-level", default="info")
        settings = vars(parser.parse_args(list(argv)))
        return recipe.make_service(MemoryReactor(), settings).tracker.wrappedFactory  # type: ignore[attr-defined]

    def test_serve_tally(self) -> None:
        """The fast server counts poems served; each is logged too only at debug level."""
        quiet = self.factory_for(POETRY)
        loud = self.factory_for(POETRY, "--log-level", "debug")
        assert isinstance(quiet, PoetryServerFactory) and isinstance(loud, PoetryServerFactory)
        assert quiet.tally is not None and loud.tally is not None
        self.assertEqual(
            (quiet.tally.what, quiet.tally.each, loud.tally.each), ("poems served", False, True)
        )

    def test_proxy_tally(self) -> None:
        """The proxy counts cache hits."""
        factory = self.factory_for(PROXY, "--upstream", "10000")
        assert isinstance(factory, ProxyFactory) and factory.cache.tally is not None
        self.assertEqual(factory.cache.tally.what, "cache hits")


class CountedTests(SynchronousTestCase):
    """An ordinary event is logged at info, or counted, and then logged at debug if asked."""

    def test_without_tally(self) -> None:
        """Without a tally, each event is logged at info level."""
        self.assertEqual(counted(None, 10), LogLevel.info)

    def test_with_tally(self) -> None:
        """With a tally, the event is counted, and logged at debug only when each is asked for."""
        quiet = Tally(Clock(), "poems served", Logger())
        self.assertIsNone(counted(quiet, 10))
        loud = Tally(Clock(), "poems served", Logger(), each=True)
        self.assertEqual(counted(loud, 10), LogLevel.debug)
        with captured_events() as events:
            quiet.flush()
        [summary] = events.named("tally")
        self.assertEqual((summary["count"], summary["bytes"]), (1, 10))
