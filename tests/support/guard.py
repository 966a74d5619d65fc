"""The unit tier's determinism guard.

Installed by ``tests/unit/__init__.py``, so it is active wherever the unit tier
runs (``trial``, ``trial -j``, ``pytest``), it makes any attempt by unit-tier
code to open a network socket (``socket`` or ``_socket``), resolve a name,
sleep, wait with a timeout (``select``, ``threading.Event.wait``), start a
process, or use the global reactor fail loudly with L{DeterminismError}; it
refuses a read of real time (``time.time``, ``time.monotonic``, ...) made
directly by test code or by txpoetry's own code under test (not one made by
Twisted's logger stamping an event); it refuses a L{twisted.internet.task.Clock}
made outside a test (one made at module level would be shared by every test);
and it fails every unit test that leaves a delayed call pending on any
L{twisted.internet.task.Clock} it made, and every C{async def} test method of a
C{SynchronousTestCase} (which would otherwise pass without running).

It tells unit-tier code from everything else by the call stack: a forbidden
call is refused only when a frame of a ``tests.unit`` module is on the stack.
The integration tier, trial's own machinery and the test runner are left alone,
so ``trial tests.unit tests.integration`` in one process still works.
"""

from __future__ import annotations

import _socket
import inspect
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import wraps
from importlib.abc import MetaPathFinder
from typing import Any

from twisted.internet import task
from twisted.trial.unittest import SynchronousTestCase, TestCase

UNIT_TIER = "tests.unit"
"""The package whose code must stay deterministic."""

UNDER_TEST = "poetry"
"""The package under test: its own reads of real time are refused in the unit tier too."""

REAL_TIME = ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns")
"""Functions of the C{time} module that read real time."""

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


def numeric_only(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap C{getaddrinfo} so that the unit tier may only parse numeric addresses with it.

    Twisted turns an IPv6 literal into a socket address with a numeric-only
    C{getaddrinfo} (C{AI_NUMERICHOST}), which asks no resolver.
    """
    refused = forbidden("use the network (socket.getaddrinfo)", original)

    @wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        flags = kwargs.get("flags", args[5] if len(args) > 5 else 0)
        if flags & socket.AI_NUMERICHOST:
            return original(*args, **kwargs)
        return refused(*args, **kwargs)

    guarded.__guarded__ = True  # type: ignore[attr-defined]
    return guarded


def called_directly_by_tested_code() -> bool:
    """Whether the caller of the guarded function is test code or code under test."""
    caller = sys._getframe(2).f_globals.get("__name__", "")
    return caller.startswith((UNIT_TIER + ".", UNDER_TEST + ".")) or caller == UNDER_TEST


def forbidden_real_time(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a real-time read so that test code or code under test calling it raises.

    Reads by libraries on their own account (Twisted's logger stamping an
    event, the test runner timing a test) are left alone.
    """

    @wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if called_directly_by_tested_code() and in_unit_tier():
            raise DeterminismError(
                f"the unit tier must not read real time (time.{name}): take a clock"
                " (twisted.internet.task.Clock) as a parameter instead"
            )
        return original(*args, **kwargs)

    guarded.__guarded__ = True  # type: ignore[attr-defined]
    return guarded


def importer() -> str:
    """Return the module whose code is running the import in progress."""
    frame = sys._getframe(1)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen importlib")
        or frame.f_globals.get("__name__") == __name__
    ):
        frame = frame.f_back
    return "" if frame is None else frame.f_globals.get("__name__", "")


class _ReactorImportGuard(MetaPathFinder):
    """Refuse to import (and so install) the global reactor from unit-tier code.

    Twisted's own code may import it in the unit tier (a C{LoopingCall}
    names it as its default clock before being given another); using it is
    still refused (L{guard_reactor}).
    """

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        """Raise on ``twisted.internet.reactor`` imported by unit-tier code."""
        if name == "twisted.internet.reactor" and importer().startswith(UNIT_TIER + "."):
            raise DeterminismError("the unit tier must not import the global reactor")
        return None


def guard_reactor(reactor: Any) -> None:
    """Wrap the methods of the global ``reactor`` that the unit tier must not call."""
    for name in REACTOR_METHODS:
        method = getattr(reactor, name, None)
        if method is not None and not getattr(method, "__guarded__", False):
            setattr(reactor, name, forbidden(f"use the global reactor ({name})", method))


_clocks: list[task.Clock] = []
_running_tests = 0


def _track_clocks() -> None:
    """Make every L{task.Clock} (and so every C{MemoryReactorClock}) register itself.

    A clock made by unit-tier code outside any test (at module level) is refused.
    """
    original = task.Clock.__init__

    @wraps(original)
    def registering_init(self: task.Clock, *args: Any, **kwargs: Any) -> None:
        if not _running_tests and in_unit_tier():
            raise DeterminismError(
                "a Clock made outside a test would be shared by every test: make it in the test"
                " or in setUp"
            )
        original(self, *args, **kwargs)
        _clocks.append(self)

    task.Clock.__init__ = registering_init  # type: ignore[method-assign]


def check_no_pending_calls() -> None:
    """Fail if any clock made during the test still has delayed calls."""
    pending = [call for clock in _clocks for call in clock.getDelayedCalls()]
    _clocks.clear()
    if pending:
        raise DeterminismError(f"the test left delayed calls pending: {pending}")


def refuse_coroutine_test(case: SynchronousTestCase) -> None:
    """Make an ``async def`` test method of a L{SynchronousTestCase} fail instead of passing.

    C{SynchronousTestCase} calls the method and drops the coroutine it returns
    unawaited: the test passes without running, with only a C{RuntimeWarning}.
    """
    name = case._testMethodName
    if isinstance(case, TestCase) or not inspect.iscoroutinefunction(getattr(case, name, None)):
        return

    def refused() -> None:
        raise DeterminismError(
            f"{name} is an async def test: SynchronousTestCase never awaits it, so it would"
            " pass without running; write it as a plain def and check Deferreds with"
            " successResultOf / failureResultOf / assertNoResult"
        )

    setattr(case, name, refused)


def _check_unit_tests() -> None:
    """Add the pending-call check to every unit-tier test as it starts."""
    original = SynchronousTestCase.run

    @wraps(original)
    def run(self: SynchronousTestCase, result: Any) -> Any:
        global _running_tests
        if type(self).__module__.startswith(UNIT_TIER + "."):
            if "twisted.internet.reactor" in sys.modules:  # installed since, by the runner
                guard_reactor(sys.modules["twisted.internet.reactor"])
            _clocks.clear()
            self.addCleanup(check_no_pending_calls)
            refuse_coroutine_test(self)
        _running_tests += 1
        try:
            return original(self, result)
        finally:
            _running_tests -= 1

    SynchronousTestCase.run = run  # type: ignore[method-assign]


def guard_socket_classes() -> None:
    """Refuse to make a socket in the unit tier, below the classes: they stay classes.

    C{socket.socket} keeps its identity (so C{isinstance(s, socket.socket)}
    works everywhere); its C{__init__} is guarded. C{_socket.socket}, a C type
    whose methods cannot be replaced, is replaced in its module by a subclass
    with a guarded C{__init__}, which C{socket.socket.__init__} calls too.
    """
    socket.socket.__init__ = forbidden(  # type: ignore[method-assign]
        "open a socket", socket.socket.__init__
    )
    raw = _socket.socket
    raw_init = forbidden("open a socket (_socket.socket)", raw.__init__)

    class GuardedSocket(raw):  # type: ignore[misc, valid-type]
        """C{_socket.socket}, refused in the unit tier."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raw_init(self, *args, **kwargs)

    GuardedSocket.__name__ = GuardedSocket.__qualname__ = "socket"
    GuardedSocket.__module__ = "_socket"
    _socket.socket = GuardedSocket  # type: ignore[misc]


_installed = False


def install() -> None:
    """Install the guard for the rest of this process (once)."""
    global _installed
    if _installed:
        return
    _installed = True
    guard_socket_classes()
    for name in ("create_connection", "socketpair", "gethostbyname"):
        setattr(socket, name, forbidden(f"use the network (socket.{name})", getattr(socket, name)))
    socket.getaddrinfo = numeric_only(socket.getaddrinfo)
    time.sleep = forbidden("sleep", time.sleep)
    for name in REAL_TIME:
        setattr(time, name, forbidden_real_time(name, getattr(time, name)))
    for module, name in ((select, "select"), (select, "poll"), (threading.Event, "wait")):
        setattr(module, name, forbidden(f"wait on real time ({name})", getattr(module, name)))
    subprocess.Popen.__init__ = forbidden(  # type: ignore[method-assign]
        "start a process", subprocess.Popen.__init__
    )
    if "twisted.internet.reactor" in sys.modules:
        guard_reactor(sys.modules["twisted.internet.reactor"])
    else:
        sys.meta_path.insert(0, _ReactorImportGuard())
    _track_clocks()
    _check_unit_tests()
