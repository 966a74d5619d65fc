"""Helpers shared by the test tiers."""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IProtocol
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor, StringTransport
from twisted.trial.unittest import SynchronousTestCase

POEM = b"Sat we two, one another's best.\nOur hands were firmly cemented\n"
"""A short poem for tests that do not care which poem it is."""


def accept_client(reactor: MemoryReactor, index: int = -1) -> tuple[IProtocol, StringTransport]:
    """Complete the client connection recorded at ``index`` in ``reactor.tcpClients``.

    Builds the protocol from the recorded factory and connects it to a fresh
    L{StringTransport}, as a real reactor would once the TCP handshake is done.
    """
    host, port, factory, _timeout, _bind = reactor.tcpClients[index]
    protocol = factory.buildProtocol(IPv4Address("TCP", host, port))
    transport = StringTransport(peerAddress=IPv4Address("TCP", host, port))
    protocol.makeConnection(transport)
    return protocol, transport


def assert_no_delayed_calls(testcase: SynchronousTestCase, clock: Clock) -> None:
    """Fail ``testcase`` if ``clock`` still has calls scheduled."""
    testcase.assertEqual(clock.getDelayedCalls(), [])
