"""Run a service in a server process: start it, wait for the reactor, stop on signals.

What the ``txpoetry`` server commands and the ``twistd`` plugins share.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any, Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IListeningPort

from poetry.core.address import address_name
from poetry.core.errors import UsageError
from poetry.operations.graceful import GracefulServerService
from poetry.operations.recipes import ServiceRecipe


def listening_line(port: IListeningPort) -> bytes:
    """Return the ``listening on HOST:PORT`` (or ``unix:PATH``) line announcing ``port``."""
    return f"listening on {address_name(port.getHost())}\n".encode()


async def start(
    reactor: Any, recipe: ServiceRecipe, settings: dict[str, Any]
) -> tuple[GracefulServerService, IListeningPort]:
    """Build and start ``recipe``'s service; return it and its listening port.

    A bad setting raises L{UsageError}; an address that cannot be bound raises
    C{CannotListenError}.
    """
    service = recipe.make_service(reactor, settings)
    try:
        service.startService()
    except OverflowError as error:
        raise UsageError(f"bad endpoint {settings['listen']!r}: {error}") from error
    assert service.listening is not None
    return service, await service.listening


def when_running(reactor: Any) -> Deferred[None]:
    """Return a Deferred that fires once ``reactor`` runs (its signal handlers installed)."""
    running: Deferred[None] = Deferred()
    reactor.callWhenRunning(running.callback, None)
    return running


SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that stop a server: the first gracefully, a second at once."""


class EndsGrace(Protocol):
    """Whatever a second signal stops at once: a graceful service, or a pool of workers."""

    def end_grace(self) -> None:
        """End the grace period now."""


def second_signal_ends_grace(
    reactor: Any,
    service: EndsGrace,
    install: Callable[..., object],
    signals: tuple[int, ...] = SHUTDOWN_SIGNALS,
) -> None:
    """From the first SIGINT or SIGTERM on, make another one end the grace period at once.

    The reactor's own handlers would ask it to stop again, which it no longer
    can (a logged traceback each time), and the grace period would run its
    course. ``install`` is C{signal.signal}; ``signals``, those to handle.
    The parent of workers ends their grace periods by passing the signal on.
    """

    def end_grace(signum: int, frame: object) -> None:
        reactor.callFromThread(service.end_grace)

    for signum in signals:
        install(signum, end_grace)
