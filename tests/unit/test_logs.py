"""Tests for L{poetry.operations.logs}: readable text or JSON lines."""

from __future__ import annotations

import ast
import functools
import io
import json
import os
from pathlib import Path
from typing import Any

from twisted.logger import Logger, LogLevel
from twisted.python.failure import Failure
from twisted.trial.unittest import SkipTest, SynchronousTestCase

import poetry
from poetry.core.server import PoetryServerFactory
from poetry.operations.logs import json_line, log_observer, service_log_observer
from tests.support import captured_events, connect_server

LEVEL_METHODS = {"debug", "info", "warn", "error", "critical", "failure"}
"""The methods of L{twisted.logger.Logger} that emit an event."""


@functools.cache
def log_calls() -> list[tuple[Path, ast.Call]]:
    """Return each call of a ``_log`` logger's level methods in poetry/'s source (parsed once)."""
    if "MUTANT_UNDER_TEST" in os.environ:
        raise SkipTest("reads poetry/'s source, which mutmut rewrites into its mutants")
    calls = []
    for path in sorted(Path(poetry.__file__).parent.rglob("*.py")):
        source = path.read_text()
        if "_log" not in source:  # no logger to check: not worth parsing
            continue
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LEVEL_METHODS
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "_log"
            ):
                calls.append((path, node))
    return calls


def emit(log_format: str) -> str:
    """Log one 'poem served' event through an observer of ``log_format``; return the output."""
    stream = io.StringIO()
    log = Logger(namespace="poetry.server", observer=log_observer(stream, log_format))
    log.emit(LogLevel.info, "poem served to {peer} ({size} bytes)", peer="127.0.0.1:5", size=42)
    return stream.getvalue()


def json_record(**fields: Any) -> dict[str, Any]:
    """Log one event with ``fields`` through the JSON observer; return the one object written."""
    stream = io.StringIO()
    log = Logger(namespace="poetry.server", observer=log_observer(stream, "json"))
    log.emit(LogLevel.warn, "served {size} bytes", **fields)
    [line] = stream.getvalue().splitlines()
    record: dict[str, Any] = json.loads(line)
    return record


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

    def test_json_one_object_per_line(self) -> None:
        """The JSON format writes one JSON object per line, with nothing before it."""
        output = emit("json")
        self.assertTrue(output.endswith("\n"))
        [line] = output.splitlines()
        self.assertIsInstance(json.loads(line), dict)

    def test_json_keeps_fields(self) -> None:
        """The event's own fields are kept as data."""
        record = json.loads(emit("json"))
        self.assertEqual((record["peer"], record["size"]), ("127.0.0.1:5", 42))

    def test_json_rendered_message(self) -> None:
        """The message is the event rendered with its fields filled in."""
        self.assertEqual(json_record(size=42)["message"], "served 42 bytes")

    def test_json_level_and_namespace(self) -> None:
        """The level is given by name, with the namespace the event was logged in."""
        record = json_record(size=1)
        self.assertEqual((record["level"], record["namespace"]), ("warn", "poetry.server"))

    def test_json_time_is_iso_8601_utc(self) -> None:
        """The time is the event's time in ISO 8601, in UTC, to the microsecond."""
        event = {"log_time": 1.5, "log_level": LogLevel.info, "log_format": "tick"}
        record = json.loads(json_line(event))
        self.assertEqual(record["time"], "1970-01-01T00:00:01.500000+00:00")

    def test_json_leaves_out_internals(self) -> None:
        """Twisted's C{log_*} keys (the logger, the format, ...) are not written."""
        record = json_record(size=1)
        self.assertEqual([key for key in record if key.startswith("log_")], [])

    def test_json_leaves_out_what_json_cannot_hold(self) -> None:
        """Fields JSON cannot hold (objects, bytes, NaN) are left out; the others stay."""
        record = json_record(size=1, peer=object(), poem=b"\xff", ratio=float("nan"), ok=True)
        self.assertEqual(sorted(record), ["level", "message", "namespace", "ok", "size", "time"])

    def test_json_failure_traceback(self) -> None:
        """An event logged with a failure carries its traceback."""
        stream = io.StringIO()
        log = Logger(namespace="poetry.transform_server", observer=log_observer(stream, "json"))
        log.failure("transform failed", Failure(RuntimeError("out of ink")))
        record = json.loads(stream.getvalue())
        self.assertEqual(record["message"], "transform failed")
        self.assertIn("RuntimeError: out of ink", record["traceback"])


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


class EventNameTests(SynchronousTestCase):
    """Each of txpoetry's log events is known by its ``event`` field, not by its text."""

    def test_every_log_call_names_its_event(self) -> None:
        """Every call of a logger's level methods in poetry/ passes an ``event=`` field."""
        unnamed = [
            f"{path.name}:{node.lineno}"
            for path, node in log_calls()
            if "event" not in {keyword.arg for keyword in node.keywords}
        ]
        self.assertEqual(unnamed, [])

    def test_every_event_listed_in_the_commands_reference(self) -> None:
        """Each event name that poetry/ logs is listed in docs/commands.md, for operators."""
        readme = (Path(poetry.__file__).parents[1] / "docs" / "commands.md").read_text()
        names = {
            keyword.value.value
            for _, node in log_calls()
            for keyword in node.keywords
            if keyword.arg == "event" and isinstance(keyword.value, ast.Constant)
        }
        self.assertTrue(names)
        self.assertEqual(sorted(n for n in names if f"`{n}`" not in readme), [])

    def test_event_name_in_json_line(self) -> None:
        """A server's event keeps its name in its JSON line, for filtering."""
        with captured_events() as events:
            connect_server(PoetryServerFactory(b"a poem\n"))
        [served] = events.named("poem-served")
        self.assertEqual(json.loads(json_line(served))["event"], "poem-served")
