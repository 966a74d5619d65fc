"""Tests for L{poetry.logs}: readable text or JSON lines."""

from __future__ import annotations

import io
import json

from twisted.logger import Logger, LogLevel
from twisted.trial.unittest import SynchronousTestCase

from poetry.logs import log_observer, service_log_observer


def emit(log_format: str) -> str:
    """Log one 'poem served' event through an observer of ``log_format``; return the output."""
    stream = io.StringIO()
    log = Logger(namespace="poetry.server", observer=log_observer(stream, log_format))
    log.emit(LogLevel.info, "poem served to {peer} ({size} bytes)", peer="127.0.0.1:5", size=42)
    return stream.getvalue()


def emit_through_service_filter(namespace: str, level: LogLevel, shown: str = "info") -> str:
    """Log one event through the command-line service filter; return what got through."""
    stream = io.StringIO()
    log = Logger(namespace=namespace, observer=service_log_observer(stream, "text", shown))
    log.emit(level, "something happened")
    return stream.getvalue()


class LogObserverTests(SynchronousTestCase):
    """Events are written as one readable line, or as one JSON object per line."""

    def test_text(self) -> None:
        """The text format renders the message with its fields filled in."""
        line = emit("text")
        self.assertIn("[poetry.server#info] poem served to 127.0.0.1:5 (42 bytes)", line)

    def test_json_keeps_fields(self) -> None:
        """The JSON format keeps each field as data, one object per line."""
        [line] = emit("json").strip("\x1e").splitlines()
        event = json.loads(line.strip("\x1e"))
        self.assertEqual((event["peer"], event["size"]), ("127.0.0.1:5", 42))
        self.assertEqual(event["log_namespace"], "poetry.server")


class ServiceLogFilterTests(SynchronousTestCase):
    """The command line shows txpoetry's events and only the warnings of everything else."""

    def test_own_info_shown(self) -> None:
        """Info events from txpoetry's modules are shown."""
        self.assertIn(
            "something happened", emit_through_service_filter("poetry.proxy", LogLevel.info)
        )

    def test_others_info_hidden(self) -> None:
        """Twisted's own info chatter is hidden."""
        self.assertEqual(emit_through_service_filter("twisted.internet.base", LogLevel.info), "")

    def test_others_warnings_shown(self) -> None:
        """Warnings from anywhere are shown."""
        self.assertIn("something", emit_through_service_filter("twisted.internet", LogLevel.warn))

    def test_own_debug_hidden_by_default(self) -> None:
        """Txpoetry's debug events (one per connection) are hidden at the default level."""
        self.assertEqual(emit_through_service_filter("poetry.server", LogLevel.debug), "")

    def test_own_debug_shown_when_asked(self) -> None:
        """At level debug, txpoetry's debug events are shown."""
        shown = emit_through_service_filter("poetry.server", LogLevel.debug, "debug")
        self.assertIn("something happened", shown)

    def test_others_debug_hidden_at_debug(self) -> None:
        """The level applies to txpoetry's events only, not to Twisted's own chatter."""
        self.assertEqual(
            emit_through_service_filter("twisted.internet", LogLevel.debug, "debug"), ""
        )
