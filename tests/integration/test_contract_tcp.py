"""The contract behaviours (``tests/support/contracts.py``) over real loopback TCP.

This class covers what the in-memory one cannot: the kernel splitting and
joining packets, real send buffers and flow control under a large poem, real
refusal by the kernel, real resets (an abort sends RST), and real connect races.
"""

from __future__ import annotations

import socket
from typing import TypeVar

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from poetry.address import Address
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
