"""The unit tier's determinism guard.

Installed by ``tests/unit/__init__.py``, so it is active wherever the unit tier
runs (``trial``, ``trial -j``, ``pytest``), it makes any attempt by unit-tier
code to open a network socket, resolve a name, sleep, or use the global reactor
fail loudly with L{DeterminismError}; and it fails every unit test that
leaves a delayed call pending on any L{twisted.internet.task.Clock} it made.

It tells unit-tier code from everything else by the call stack: a forbidden
call is refused only when a frame of a ``tests.unit`` module is on the stack.
The integration tier, trial's own machinery and the test runner are left alone,
so ``trial tests.unit tests.integration`` in one process still works.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable
from functools import wraps
from importlib.abc import MetaPathFinder
from typing import Any

from twisted.internet import task
from twisted.trial.unittest import SynchronousTestCase

UNIT_TIER = "tests.unit"
"""The package whose code must stay deterministic."""

REACTOR_METHODS = (
    "run",
    "callLater",
    "callWhenRunning",
    "callInThread",
    "callFromThread",
    "listenTCP",
    "connectTCP",
    "listenUDP",
    "listenUNIX",
    "connectUNIX",
    "spawnProcess",
    "resolve",
    "addSystemEventTrigger",
)
"""Global reactor methods that the unit tier must not call."""


class DeterminismError(AssertionError):
    """Unit-tier code did something that is not deterministic."""


def in_unit_tier() -> bool:
    """Whether a frame of a unit-tier module is on the current call stack."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith(UNIT_TIER + "."):
            return True
        frame = frame.f_back
    return False


def forbidden(what: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``original`` so that calling it from the unit tier raises."""

    @wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if in_unit_tier():
            raise DeterminismError(
                f"the unit tier must not {what}: use the fakes in twisted.internet.testing"
                " and twisted.internet.task.Clock instead"
            )
        return original(*args, **kwargs)

    guarded.__guarded__ = True  # type: ignore[attr-defined]
    return guarded


class _ReactorImportGuard(MetaPathFinder):
    """Refuse to import (and so install) the global reactor from the unit tier."""

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        """Raise on ``twisted.internet.reactor`` imported from the unit tier."""
        if name == "twisted.internet.reactor" and in_unit_tier():
            raise DeterminismError("the unit tier must not import the global reactor")
        return None


def guard_reactor(reactor: Any) -> None:
    """Wrap the methods of the global ``reactor`` that the unit tier must not call."""
    for name in REACTOR_METHODS:
        method = getattr(reactor, name, None)
        if method is not None and not getattr(method, "__guarded__", False):
            setattr(reactor, name, forbidden(f"use the global reactor ({name})", method))


_clocks: list[task.Clock] = []


def _track_clocks() -> None:
    """Make every L{task.Clock} (and so every C{MemoryReactorClock}) register itself."""
    original = task.Clock.__init__

    @wraps(original)
    def registering_init(self: task.Clock, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _clocks.append(self)

    task.Clock.__init__ = registering_init  # type: ignore[method-assign]


def check_no_pending_calls() -> None:
    """Fail if any clock made during the test still has delayed calls."""
    pending = [call for clock in _clocks for call in clock.getDelayedCalls()]
    _clocks.clear()
    if pending:
        raise DeterminismError(f"the test left delayed calls pending: {pending}")


def _check_unit_tests() -> None:
    """Add the pending-call check to every unit-tier test as it starts."""
    original = SynchronousTestCase.run

    @wraps(original)
    def run(self: SynchronousTestCase, result: Any) -> Any:
        if type(self).__module__.startswith(UNIT_TIER + "."):
            if "twisted.internet.reactor" in sys.modules:  # installed since, by the runner
                guard_reactor(sys.modules["twisted.internet.reactor"])
            _clocks.clear()
            self.addCleanup(check_no_pending_calls)
        return original(self, result)

    SynchronousTestCase.run = run  # type: ignore[method-assign]


_installed = False


def install() -> None:
    """Install the guard for the rest of this process (once)."""
    global _installed
    if _installed:
        return
    _installed = True
    socket.socket = forbidden("open a socket", socket.socket)  # type: ignore[misc]
    for name in ("create_connection", "socketpair", "getaddrinfo", "gethostbyname"):
        setattr(socket, name, forbidden(f"use the network (socket.{name})", getattr(socket, name)))
    time.sleep = forbidden("sleep", time.sleep)
    if "twisted.internet.reactor" in sys.modules:
        guard_reactor(sys.modules["twisted.internet.reactor"])
    else:
        sys.meta_path.insert(0, _ReactorImportGuard())
    _track_clocks()
    _check_unit_tests()
