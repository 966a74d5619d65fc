"""The contract behaviours (``tests/support/contracts.py``) over real loopback TCP.

This class covers what the in-memory one cannot: the kernel splitting and
joining packets, real send buffers and flow control under a large poem, real
refusal by the kernel, real resets (an abort sends RST), and real connect races.
"""

from __future__ import annotations

import socket
from typing import Any, TypeVar

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionLost
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.internet.task import deferLater
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from poetry.address import Address
from poetry.graceful import GracefulServerService
from tests.support.contracts import PoetryContract

T = TypeVar("T")


class RealTCPContractTests(PoetryContract, TestCase):
    """The contract on loopback TCP with the real reactor and real time."""

    timeout = 30
    reactor = reactor

    def listen(self, factory: IProtocolFactory) -> IListeningPort:
        """Listen on a free loopback port until the test ends."""
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return port

    def unused_address(self) -> Address:
        """A loopback port held bound, not listening, until the test ends: connects are refused."""
        holder = socket.socket()
        self.addCleanup(holder.close)
        holder.bind(("127.0.0.1", 0))
        return Address("127.0.0.1", holder.getsockname()[1])

    async def elapse(self, seconds: float) -> None:
        """Let real time pass."""
        await deferLater(reactor, seconds, lambda: None)

    async def wait(self, d: Deferred[T]) -> T:
        """Wait for ``d`` on the real reactor."""
        return await d

    def keep_service(self, service: GracefulServerService) -> None:
        """Stop ``service`` when the test ends."""
        self.addCleanup(service.stopService)

    def kill_process(self, service: GracefulServerService, port: IListeningPort) -> None:
        """Close what ``service`` has open the way the kernel does when a process dies.

        The process running the test cannot die, so each connection still open
        has its descriptor closed at once (the kernel then sends a FIN, or a
        reset if the socket's C{SO_LINGER} is 0), before the reactor turns
        again. Only then are the protocols told, so that the test leaves nothing
        behind; the peers have seen what they would have seen. The real exit is
        tested on real processes in ``test_integrity.py``.
        """
        for protocol in list(service.tracker.protocols):
            close_like_exit(protocol.transport)


def close_like_exit(transport: Any) -> None:
    """Close a TCP transport's socket as process exit does, then tidy up the transport."""
    reactor.removeReader(transport)
    reactor.removeWriter(transport)
    transport.socket.close()  # the kernel's close: its SO_LINGER decides FIN or reset
    transport.connectionLost(Failure(ConnectionLost("the process died")))
