"""``txpoetry get``: fetch poems from several servers at once."""

from __future__ import annotations

import argparse
from typing import IO, Any

from twisted.internet.defer import TimeoutError
from twisted.python.failure import Failure

from poetry.address import parse_address
from poetry.fetch_many import fetch_many
from poetry.progress import ProgressReport

NAME = "get"
HELP = "fetch poems from poetry servers and print them in the order given"

DEFAULT_TIMEOUT = 30.0
"""Seconds the command waits for each poem unless told otherwise."""


def positive_seconds(text: str) -> float:
    """Parse a positive number of seconds for ``--timeout``."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the addresses and the timeout."""
    parser.add_argument("addresses", nargs="+", metavar="ADDRESS", help="HOST:PORT or PORT")
    parser.add_argument(
        "--quiet", action="store_true", help="show no progress on stderr while poems arrive"
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help="give up on a server after S seconds (default %(default)s)",
    )


def describe_failure(failure: Failure) -> str:
    """Return a one-line reason for a failed fetch."""
    if isinstance(failure.value, TimeoutError):
        return f"timed out after {failure.value.args[0]} seconds"
    return failure.getErrorMessage()


async def run(reactor: Any, args: argparse.Namespace, out: IO[bytes], err: IO[str]) -> int:
    """Fetch every address concurrently; print poems in order and failures on ``err``.

    Progress goes to ``err`` unless ``--quiet``. Returns 0 when every fetch
    succeeded and 1 otherwise.
    """
    addresses = [parse_address(text) for text in args.addresses]
    report = None if args.quiet else ProgressReport(err, addresses, live=err.isatty())
    outcomes = await fetch_many(reactor, addresses, timeout=args.timeout, on_progress=report)
    if report is not None:
        report.finish()
    status = 0
    for outcome in outcomes:
        if outcome.failure is not None:
            err.write(f"{outcome.address}: {describe_failure(outcome.failure)}\n")
            status = 1
        elif outcome.poem is not None:
            out.write(outcome.poem)
    out.flush()
    return status
