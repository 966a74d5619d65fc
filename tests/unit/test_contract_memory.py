"""The contract behaviours (``tests/support/contracts.py``) on the in-memory network.

What the in-memory network cannot show, and the real class in
``tests/integration/test_contract_tcp.py`` does: bytes arrive in the packets they
were written in (real TCP splits and joins them); producers are never paused (no
send buffer fills); a refusal is the network's answer, not the kernel's; connects
complete only when flushed, so "cancel while connecting" is exact here and a race
there.

What ``poetry.testing`` models after real TCP under Twisted, so that the same
tests pass in both tiers: an abort resets on the reactor's next turn, and a
process that exits before then leaves a FIN (``test_shutdown_past_grace_is_a_reset``);
a half-close reaches a half-closeable protocol and closes any other
(``test_half_closing_client_gets_whole_poem``); a declining factory accepts and
closes at once (``test_declined_connection_is_an_error``). In the TCP tier the
process cannot really exit: its harness closes what the stopped service left
open the way the kernel does at exit (a FIN), before the reactor turns again.

Integration-only (``tests/integration/test_integrity.py``, real processes): a
real process exit after SIGTERM, under the command and under twistd; the
file-descriptor limit and Twisted's EMFILE recovery; listen-backlog overflow
under a burst of connects.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, TypeVar

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.address import Address
from poetry.graceful import GracefulServerService
from poetry.testing import MemoryPoetryNetwork
from tests.support.contracts import PoetryContract

T = TypeVar("T")


def driven(
    test: Callable[[Any], Coroutine[Any, Any, None]],
) -> Callable[[Any], None]:
    """Make an async contract test run to completion synchronously, or fail."""

    @wraps(test)
    def run(self: Any) -> None:
        outcome: list[object] = []
        Deferred.fromCoroutine(test(self)).addBoth(outcome.append)
        if not outcome:
            raise AssertionError("the test waited for something the in-memory network never did")
        if isinstance(outcome[0], Failure):
            outcome[0].raiseException()

    return run


class InMemoryContractTests(PoetryContract, SynchronousTestCase):
    """The contract on L{MemoryPoetryNetwork}, with time moved only by the test."""

    def setUp(self) -> None:
        """Make a fresh network."""
        self.network = MemoryPoetryNetwork()
        self.reactor = self.network.reactor

    def listen(self, factory: IProtocolFactory) -> IListeningPort:
        """Serve on a free port of the memory network."""
        return self.network.serve("127.0.0.1", 0, factory)

    def unused_address(self) -> Address:
        """Port 1 of loopback: nothing listens there on the memory network."""
        return Address("127.0.0.1", 1)

    async def elapse(self, seconds: float) -> None:
        """Advance the fake clock exactly, timer by timer."""
        self.network.advance(seconds)  # every timer due by then, each at its own time

    async def wait(self, d: Deferred[T]) -> T:
        """Move bytes until quiet; ``d`` must have fired by then."""
        self.network.flush()
        return await d

    def kill_process(self, service: GracefulServerService, port: IListeningPort) -> None:
        """The network exits the process listening on ``port``; its timers are dropped too."""
        self.network.exit_process(port)
        service.tracker.watch(None)
        for call in self.reactor.getDelayedCalls():
            call.cancel()  # one reactor plays every process: the dead one's timers go with it


for _name, _test in vars(PoetryContract).items():
    if _name.startswith("test_"):
        setattr(InMemoryContractTests, _name, driven(_test))
