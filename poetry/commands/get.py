"""``txpoetry get``: fetch poems from several servers at once."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import IO, Any, TypeVar

from twisted.internet.defer import CancelledError, Deferred, gatherResults
from twisted.python.failure import Failure

from poetry.core.address import ADDRESS_FORMS, parse_address
from poetry.core.errors import UsageError
from poetry.core.errors import describe_failure as describe_fetch_failure
from poetry.core.fetch_many import FetchOutcome, fetch_one
from poetry.core.progress import ProgressReport
from poetry.core.transform_client import transform_poem
from poetry.operations.recipes import MAX_BYTES
from poetry.operations.values import argument_type, positive_seconds

T = TypeVar("T")

NAME = "get"
HELP = "fetch poems from poetry servers and print them in the order given"

DEFAULT_TIMEOUT = 30.0
"""Seconds the command waits for each poem unless told otherwise."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the addresses, the transform, and the limits in time and size."""
    parser.add_argument(
        "addresses",
        nargs="+",
        metavar="ADDRESS",
        help=f"{ADDRESS_FORMS} (a bare PORT is on 127.0.0.1)",
    )
    parser.add_argument(
        "--transform", metavar="NAME", help="apply this transform to each poem fetched"
    )
    parser.add_argument(
        "--transform-server",
        type=argument_type(parse_address),
        metavar="ADDRESS",
        help=f"the transform service to use with --transform ({ADDRESS_FORMS})",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="show no progress on stderr while poems arrive"
    )
    parser.add_argument(
        "--timeout",
        type=argument_type(positive_seconds),
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help="give up on a server after S seconds (default %(default)s)",
    )
    MAX_BYTES.add_argument(parser)


class Interruption:
    """Cancel what the command waits for once the reactor begins to shut down.

    SIGINT (Ctrl-C) and SIGTERM stop the reactor, and stopping it drops every
    open connection, which a fetch would report as the server's fault. Told
    first, in the reactor's ``before shutdown`` phase, this cancels the work
    instead, so that each unfinished fetch is reported as interrupted.
    """

    def __init__(self, reactor: Any) -> None:
        self.happened = False
        self._waiting: list[Deferred[Any]] = []
        reactor.addSystemEventTrigger("before", "shutdown", self.interrupt)

    def guard(self, work: Deferred[T]) -> Deferred[T]:
        """Cancel ``work`` if the command is interrupted; return it."""
        self._waiting.append(work)
        return work

    def interrupt(self) -> None:
        """Cancel everything still waited for."""
        self.happened = True
        for work in self._waiting:
            work.cancel()


def describe_failure(failure: Failure) -> str:
    """Return a one-line reason for a failed fetch; one cancelled by a signal was interrupted."""
    if isinstance(failure.value, CancelledError):
        return "interrupted"
    return describe_fetch_failure(failure)


async def transform_all(
    reactor: Any,
    outcomes: list[FetchOutcome],
    args: argparse.Namespace,
    err: IO[str],
    interruption: Interruption,
) -> list[FetchOutcome]:
    """Transform every fetched poem at once; keep the original, with a warning, on failure."""

    async def transform(outcome: FetchOutcome) -> FetchOutcome:
        if outcome.poem is None:
            return outcome
        server = args.transform_server
        try:
            poem = await transform_poem(
                reactor,
                server.host,
                server.port,
                args.transform,
                outcome.poem,
                timeout=args.timeout,
            )
        except Exception as error:
            reason = describe_failure(Failure(error))
            err.write(f"{outcome.address}: transform failed ({reason}); printing the original\n")
            return outcome
        return replace(outcome, poem=poem)

    transforms = gatherResults([Deferred.fromCoroutine(transform(o)) for o in outcomes])
    transformed: list[FetchOutcome] = await interruption.guard(transforms)
    return transformed


async def run(reactor: Any, args: argparse.Namespace, out: IO[bytes], err: IO[str]) -> int:
    """Fetch every address concurrently; print poems in order and failures on ``err``.

    Progress goes to ``err`` unless ``--quiet``, an entry per address given
    (the same address given twice is fetched, and shown, twice). Returns 0 when every fetch
    succeeded and 1 otherwise. Stopped by a signal (SIGINT, SIGTERM), it
    reports each unfinished fetch as ``interrupted`` and returns 1.
    """
    addresses = [parse_address(text) for text in args.addresses]
    if (args.transform is None) != (args.transform_server is None):
        raise UsageError("--transform and --transform-server go together")
    interruption = Interruption(reactor)
    report = None if args.quiet else ProgressReport(err, addresses, live=err.isatty())
    fetches = [
        fetch_one(
            reactor,
            address,
            timeout=args.timeout,
            max_bytes=args.max_bytes,
            on_progress=None if report is None else report.listener(index),
        )
        for index, address in enumerate(addresses)
    ]
    outcomes: list[FetchOutcome] = await interruption.guard(gatherResults(fetches))
    if report is not None:
        report.finish()
    if args.transform is not None and not interruption.happened:
        outcomes = await transform_all(reactor, outcomes, args, err, interruption)
    status = 1 if interruption.happened else 0
    for outcome in outcomes:
        if outcome.failure is not None:
            err.write(f"{outcome.address}: {describe_failure(outcome.failure)}\n")
            status = 1
        elif outcome.poem is not None:
            out.write(outcome.poem)
    out.flush()
    return status
