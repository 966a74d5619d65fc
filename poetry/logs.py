"""Where the servers' structured log events go: readable text or JSON lines."""

from __future__ import annotations

from typing import IO

from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    jsonFileLogObserver,
    textFileLogObserver,
)

LOG_FORMATS = ("text", "json")
"""The names accepted by ``--log-format``."""

LOG_LEVELS = ("debug", "info", "warn", "error")
"""The names accepted by ``--log-level``: the least severe of txpoetry's events shown."""


def log_observer(stream: IO[str], log_format: str = "text") -> ILogObserver:
    """Return an observer writing events to ``stream`` as text, or as JSON lines."""
    if log_format == "json":
        return jsonFileLogObserver(stream)
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
