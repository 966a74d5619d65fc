"""The ``txpoetry`` command line: parse arguments, then run one command on the reactor."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, NoReturn

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.task import react
from twisted.python.failure import Failure

from poetry.commands import demo, get, poems
from poetry.commands.servers import proxy, serve, transform
from poetry.core.errors import UsageError
from poetry.operations.logs import start_logging

COMMANDS = (serve, transform, proxy, get, poems, demo)
"""The commands, each with ``NAME``, ``HELP``, ``add_arguments`` and ``run``."""


DISTRIBUTION = "txpoetry"
"""The name txpoetry is installed under, whose version ``--version`` prints."""


@functools.cache
def distribution_version() -> str:
    """Return the installed version of txpoetry (or say it is not installed); looked up once."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "(version unknown: not installed)"


class _Parser(argparse.ArgumentParser):
    """An argument parser that reports a usage error in one line, exit status 2.

    An error is reported under the name of the command it concerns
    (``txpoetry serve: error: ...``), arguments left over included.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command_parsers: dict[str, argparse.ArgumentParser] = {}

    def error(self, message: str) -> NoReturn:
        """Print one line naming the problem and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: None = None
    ) -> argparse.Namespace:
        """Parse ``args``; report arguments left over by the command that did not take them."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = self.command_parsers.get(getattr(parsed, "command", ""), self)
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for every ``txpoetry`` command."""
    parser = _Parser(prog="txpoetry", description="Twisted poetry services and clients.")
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {distribution_version()}",
        help="print the installed version of txpoetry and exit",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
        parser.command_parsers[command.NAME] = sub
    return parser


def discard_stdout() -> None:
    """Point stdout at the null device, so nothing more is written to a closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def run_command(reactor: Any, args: argparse.Namespace) -> Deferred[None]:
    """Run the parsed command on ``reactor``; its exit status becomes ``SystemExit``.

    A L{UsageError} is printed as one line on stderr with exit status 2. A
    reader of stdout that went away (``txpoetry get ... | head``) ends the
    command quietly with exit status 1.
    """
    result = ensureDeferred(args.run(reactor, args, sys.stdout.buffer, sys.stderr))

    def flushed(status: int) -> int:
        # Hand stdout's buffer to its reader now, where a reader gone is handled below,
        # not at the interpreter's exit, where it would be exit status 120 and a message.
        sys.stdout.flush()
        return status

    def exit_with(status: int) -> None:
        if status:
            raise SystemExit(status)

    def usage_error(failure: Failure) -> None:
        if failure.check(BrokenPipeError):
            discard_stdout()
            raise SystemExit(1)
        failure.trap(UsageError)
        print(f"txpoetry {args.command}: error: {failure.value}", file=sys.stderr)
        raise SystemExit(2)

    return result.addCallback(flushed).addCallbacks(exit_with, usage_error)


def refuse_closed_stdout(command: str) -> None:
    """Exit with status 2 and one line on stderr if stdout is closed (``txpoetry ... >&-``).

    Python then has no ``sys.stdout``; worse, the next file or socket opened
    would take descriptor 1, and what the command prints would go there.
    """
    if sys.stdout is None:
        print(
            f"txpoetry {command}: error: standard output is closed"
            " (send it somewhere, e.g. >/dev/null)",
            file=sys.stderr,
        )
        raise SystemExit(2)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``txpoetry`` console script."""
    args = build_parser().parse_args(argv)
    refuse_closed_stdout(args.command)
    if getattr(args, "log_format", None):
        start_logging(sys.stderr, args.log_format, args.log_level)
    react(run_command, (args,))
