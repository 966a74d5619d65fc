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


def log_observer(stream: IO[str], log_format: str = "text") -> ILogObserver:
    """Return an observer writing events to ``stream`` as text, or as JSON lines."""
    if log_format == "json":
        return jsonFileLogObserver(stream)
    return textFileLogObserver(stream)


def service_log_observer(stream: IO[str], log_format: str = "text") -> ILogObserver:
    """Return an observer of txpoetry's events (info and up) and everyone's warnings."""
    levels = LogLevelFilterPredicate(defaultLogLevel=LogLevel.warn)
    levels.setLogLevelForNamespace("poetry", LogLevel.info)
    return FilteringLogObserver(log_observer(stream, log_format), [levels])


def start_logging(stream: IO[str], log_format: str = "text") -> None:
    """Send this process's service log events to ``stream`` (command-line entry points only)."""
    observer = service_log_observer(stream, log_format)
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)
