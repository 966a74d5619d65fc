"""The server commands (``serve``, ``transform``, ``proxy``): run one service until stopped.

Each is made from its service recipe, the same one its twistd plugin uses.
"""

from __future__ import annotations

import argparse
import signal
from dataclasses import dataclass
from typing import IO, Any

from twisted.internet.defer import Deferred, gatherResults, maybeDeferred
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import Factory

from poetry.operations.descriptors import reset_unserved
from poetry.operations.logs import LOG_FORMATS, LOG_LEVELS
from poetry.operations.recipes import POETRY, PROXY, TRANSFORM, ServiceRecipe
from poetry.operations.running import (
    SHUTDOWN_SIGNALS,
    listening_line,
    second_signal_ends_grace,
    start,
    when_running,
)
from poetry.operations.tracking import ConnectionTracker
from poetry.operations.values import argument_type, positive_int
from poetry.operations.workers import (
    Spawn,
    WorkerPool,
    become_worker,
    family_name,
    is_worker,
    spawn_worker,
)


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


def add_workers(parser: argparse.ArgumentParser) -> None:
    """Add ``--workers`` to a server command."""
    parser.add_argument(
        "--workers",
        type=argument_type(positive_int),
        default=None,
        metavar="N",
        help="serve from N worker processes sharing the listening socket (default: this"
        " process alone)",
    )


def worker_argv(recipe: ServiceRecipe, args: argparse.Namespace, listen: str) -> list[str]:
    """Return the arguments (after the interpreter) that start one worker of ``args``'s command.

    The same command and settings, listening on ``listen``, without ``--workers``.
    """
    argv = ["-m", "poetry", args.command]
    if recipe.poem_argument:
        argv.append(args.poem)
    for setting in recipe.all_settings:
        value = listen if setting.name == "listen" else getattr(args, setting.key)
        if value is not None:
            argv += [f"--{setting.name}", str(value)]
    return [*argv, "--log-format", args.log_format, "--log-level", args.log_level]


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
    A second SIGINT or SIGTERM during the grace period ends it at once. With
    ``--workers``, this process runs the workers instead (L{serve_with_workers}).
    A worker ignores SIGINT, and ends its grace period on a second SIGTERM.
    """
    if getattr(args, "workers", None):
        return await serve_with_workers(reactor, recipe, args, out, err, spawn_worker(reactor))
    signals: tuple[int, ...] = SHUTDOWN_SIGNALS
    if is_worker():
        become_worker()
        signals = (signal.SIGTERM,)
    try:
        service, port = await start(reactor, recipe, vars(args))
    except CannotListenError as error:
        err.write(f"txpoetry {args.command}: error: {error}\n")
        return 1
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)
    reactor.addSystemEventTrigger(
        "before", "shutdown", second_signal_ends_grace, reactor, service, signal.signal, signals
    )
    await when_running(reactor)
    out.write(listening_line(port))
    out.flush()
    await Deferred()
    return 0


async def serve_with_workers(
    reactor: Any,
    recipe: ServiceRecipe,
    args: argparse.Namespace,
    out: IO[bytes],
    err: IO[str],
    spawn: Spawn,
) -> int:
    """Listen, announce the address, and run ``args.workers`` workers on the socket until stopped.

    This process accepts nothing itself. On shutdown it stops listening, sends
    each worker SIGTERM (and a second one on a second signal), and finishes
    once every worker has ended.
    """
    service = recipe.make_service(reactor, vars(args))  # bad settings are refused here, once
    try:
        port: Any = await service.endpoint.listen(ConnectionTracker(Factory(), max_connections=0))
    except CannotListenError as error:
        err.write(f"txpoetry {args.command}: error: {error}\n")
        return 1
    port.stopReading()  # the workers accept; this process never does
    reset_unserved(port)
    descriptor = port.fileno()
    listen = f"adopted:{descriptor}:{family_name(port)}"
    pool = WorkerPool(reactor, spawn, worker_argv(recipe, args, listen), descriptor, args.workers)
    pool.start()

    def stop() -> Deferred[list[object]]:
        return gatherResults([pool.stop(), maybeDeferred(port.stopListening)])

    reactor.addSystemEventTrigger("before", "shutdown", stop)
    reactor.addSystemEventTrigger(
        "before", "shutdown", second_signal_ends_grace, reactor, pool, signal.signal
    )
    await when_running(reactor)
    out.write(listening_line(port))
    out.flush()
    await Deferred()
    return 0


@dataclass(frozen=True)
class ServerCommand:
    """A command that runs one service, from its recipe, until the reactor stops."""

    NAME: str
    HELP: str
    recipe: ServiceRecipe

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the recipe's settings, ``--log-format`` and ``--workers``."""
        self.recipe.add_arguments(parser)
        add_log_format(parser)
        add_workers(parser)

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
