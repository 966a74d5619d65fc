"""Deprecated: the simulator's old transport module; its names moved (see L{poetry.testing})."""

from __future__ import annotations

from typing import Any

from poetry.testing import _deprecated_name


def __getattr__(name: str) -> Any:
    """Give a moved name, with a deprecation warning."""
    return _deprecated_name(name, f"poetry.testing.transport.{name}")
