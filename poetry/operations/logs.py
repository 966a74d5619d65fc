"""Where the servers' structured log events go: readable text or JSON lines."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import IO, Any

from twisted.logger import (
    FileLogObserver,
    FilteringLogObserver,
    ILogObserver,
    LogEvent,
    LogLevel,
    LogLevelFilterPredicate,
    formatEvent,
    globalLogBeginner,
    textFileLogObserver,
)

LOG_FORMATS = ("text", "json")
"""The names accepted by ``--log-format``."""

LOG_LEVELS = ("debug", "info", "warn", "error")
"""The names accepted by ``--log-level``: the least severe of txpoetry's events shown."""


JSON_LINE_KEYS = ("time", "level", "namespace", "message")
"""The keys every JSON line has (``traceback`` too when the event carries a failure)."""


def _json_value(value: Any) -> bool:
    """Tell whether ``value`` can be written as strict JSON (no NaN or infinity)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def json_line(event: LogEvent) -> str:
    """Format ``event`` as one line holding one JSON object.

    The object has ``time`` (ISO 8601, UTC, microseconds), ``level`` (its name),
    ``namespace`` and ``message`` (the event rendered with
    C{twisted.logger.formatEvent}), ``traceback`` when the event carries a
    failure, and then the event's own fields that JSON can hold. Twisted's
    ``log_*`` internals, and fields whose values JSON cannot hold, are left out;
    so is an own field that has one of the keys above.
    """
    when = event.get("log_time")
    record: dict[str, Any] = {
        "time": None
        if when is None
        else datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="microseconds"),
        "level": getattr(event.get("log_level"), "name", None),
        "namespace": event.get("log_namespace"),
        "message": formatEvent(event),
    }
    failure = event.get("log_failure")
    if failure is not None:
        record["traceback"] = failure.getTraceback()
    for key, value in event.items():
        if not key.startswith("log_") and key not in record and _json_value(value):
            record[key] = value
    return json.dumps(record, allow_nan=False) + "\n"


def log_observer(stream: IO[str], log_format: str = "text") -> ILogObserver:
    """Return an observer writing events to ``stream`` as text, or as JSON lines."""
    if log_format == "json":
        return FileLogObserver(stream, json_line)
    return textFileLogObserver(stream)


def service_log_observer(
    stream: IO[str], log_format: str = "text", level: str = "info"
) -> ILogObserver:
    """Return an observer of txpoetry's events (``level`` and up) and everyone's warnings."""
    levels = LogLevelFilterPredicate(defaultLogLevel=LogLevel.warn)
    levels.setLogLevelForNamespace("poetry", LogLevel.levelWithName(level))
    return FilteringLogObserver(log_observer(stream, log_format), [levels])


def start_logging(stream: IO[str], log_format: str = "text", level: str = "info") -> None:
    """Send this process's service log events to ``stream`` (command-line entry points only)."""
    observer = service_log_observer(stream, log_format, level)
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)
