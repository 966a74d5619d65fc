"""Where the servers' structured log events go: readable text or JSON lines."""

from __future__ import annotations

from typing import IO

from twisted.logger import (
    ILogObserver,
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


def start_logging(stream: IO[str], log_format: str = "text") -> None:
    """Send every log event of this process to ``stream`` (command-line entry points only)."""
    globalLogBeginner.beginLoggingTo([log_observer(stream, log_format)], redirectStandardIO=False)
