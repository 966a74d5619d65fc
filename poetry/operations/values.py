"""Parsers for option values, shared by the command line and the twistd plugins.

Each raises ``ValueError`` with a one-line reason, which argparse (through
L{argument_type}) and ``twisted.python.usage`` both report as a usage error.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def positive_int(text: str) -> int:
    """Parse a whole number that is one or more."""
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"expected a whole number of 1 or more, got {text!r}")
    return int(text)


def _number(text: str) -> float:
    """Parse a finite number, or return NaN."""
    try:
        number = float(text)
    except ValueError:
        return math.nan
    return number if math.isfinite(number) else math.nan


def positive_seconds(text: str) -> float:
    """Parse a number of seconds greater than zero."""
    seconds = _number(text)
    if not seconds > 0:
        raise ValueError(f"expected a positive number of seconds, got {text!r}")
    return seconds


def non_negative_seconds(text: str) -> float:
    """Parse a number of seconds that is zero or more."""
    seconds = _number(text)
    if not seconds >= 0:
        raise ValueError(f"expected zero or more seconds, got {text!r}")
    return seconds


def argument_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """Adapt ``parse`` for argparse, so its reason is shown in the one-line error."""

    def parse_argument(text: str) -> T:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from error

    return parse_argument
