"""The server commands (``serve``, ``transform``, ``proxy``): run one service until stopped.

Each is made from its service recipe, the same one its twistd plugin uses.
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from twisted.internet.defer import Deferred
from twisted.internet.error import CannotListenError
from twisted.internet.interfaces import IListeningPort

from poetry.address import listening_address
from poetry.errors import UsageError
from poetry.graceful import GracefulServerService
from poetry.logs import LOG_FORMATS, LOG_LEVELS
from poetry.recipes import POETRY, PROXY, TRANSFORM, ServiceRecipe


def add_log_format(parser: argparse.ArgumentParser) -> None:
    """Add ``--log-format`` and ``--log-level`` to a server command."""
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="log events on stderr as readable text or JSON lines (default %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="info",
        help="the least severe of txpoetry's events to log; debug adds one event per"
        " connection accepted (default %(default)s)",
    )


def listening_line(port: IListeningPort) -> bytes:
    """Return the ``listening on HOST:PORT`` line announcing ``port``."""
    return f"listening on {listening_address(port)}\n".encode()


async def start(
    reactor: Any, recipe: ServiceRecipe, settings: dict[str, Any]
) -> tuple[GracefulServerService, IListeningPort]:
    """Build and start ``recipe``'s service; return it and its listening port.

    A bad setting raises L{UsageError}; an address that cannot be bound raises
    L{CannotListenError}.
    """
    service = recipe.make_service(reactor, settings)
    try:
        service.startService()
    except OverflowError as error:
        raise UsageError(f"bad endpoint {settings['listen']!r}: {error}") from error
    assert service.listening is not None
    return service, await service.listening


async def serve_until_stopped(
    reactor: Any, recipe: ServiceRecipe, args: argparse.Namespace, out: IO[bytes], err: IO[str]
) -> int:
    """Run ``recipe``'s service until the reactor shuts down, then stop it gracefully.

    The real address is announced on ``out`` once listening and the reactor
    is running: by then the reactor handles SIGINT and SIGTERM, so whoever
    reads the line may signal at once. (Announced earlier, a signal could
    arrive before the reactor's handlers are installed: Python's default
    SIGINT handler would raise C{KeyboardInterrupt} in the middle of the
    reactor's start-up, which logs it and carries on, and the signal is lost.)
    A second SIGINT or SIGTERM during the grace period ends it at once.
    """
    try:
        service, port = await start(reactor, recipe, vars(args))
    except CannotListenError as error:
        err.write(f"txpoetry {args.command}: error: {error}\n")
        return 1
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.addSystemEventTrigger(
        "before", "shutdown", second_signal_ends_grace, reactor, service, signal.signal
    )
    await when_running(reactor)
    out.write(listening_line(port))
    out.flush()
    await Deferred()
    return 0


def when_running(reactor: Any) -> Deferred[None]:
    """Return a Deferred that fires once ``reactor`` runs (its signal handlers installed)."""
    running: Deferred[None] = Deferred()
    reactor.callWhenRunning(running.callback, None)
    return running


SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that stop a server: the first gracefully, a second at once."""


def second_signal_ends_grace(
    reactor: Any, service: GracefulServerService, install: Callable[..., object]
) -> None:
    """From the first SIGINT or SIGTERM on, make another one end the grace period at once.

    The reactor's own handlers would ask it to stop again, which it no longer
    can (a logged traceback each time), and the grace period would run its
    course. ``install`` is L{signal.signal}.
    """

    def end_grace(signum: int, frame: object) -> None:
        reactor.callFromThread(service.end_grace)

    for signum in SHUTDOWN_SIGNALS:
        install(signum, end_grace)


@dataclass(frozen=True)
class ServerCommand:
    """A command that runs one service, from its recipe, until the reactor stops."""

    NAME: str
    HELP: str
    recipe: ServiceRecipe

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the recipe's settings and ``--log-format``."""
        self.recipe.add_arguments(parser)
        add_log_format(parser)

    async def run(
        self, reactor: Any, args: argparse.Namespace, out: IO[bytes], err: IO[str]
    ) -> int:
        """Serve until the reactor stops."""
        return await serve_until_stopped(reactor, self.recipe, args, out, err)


serve = ServerCommand("serve", "serve a poem to every client that connects", POETRY)
transform = ServerCommand(
    "transform",
    "transform poems on request (cummingsify, shout, title-case, reverse-lines)",
    TRANSFORM,
)
proxy = ServerCommand(
    "proxy", "serve an upstream poetry server's poem, fetched once and cached", PROXY
)
