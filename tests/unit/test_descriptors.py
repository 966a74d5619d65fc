"""Tests for L{poetry.operations.descriptors} and L{poetry.core.closing}: budget and closes."""

from __future__ import annotations

import resource
import socket
import struct

from twisted.internet.address import UNIXAddress
from twisted.internet.protocol import Factory
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.closing import end_poem, poem_delivered
from poetry.operations import descriptors
from poetry.operations.descriptors import DESCRIPTOR_RESERVE, connection_budget, reset_unserved
from poetry.testing import MemoryPoetryNetwork
from tests.support import FakeListeningPort
from tests.support.fakes import FakeSocket


class WithHandle:
    """A transport with a system handle, that records how it was closed."""

    def __init__(self, handle: FakeSocket) -> None:
        self._handle = handle
        self.write_closed = self.closed = False

    def getHandle(self) -> FakeSocket:
        """Return the handle."""
        return self._handle

    def loseWriteConnection(self) -> None:
        """Record a half-close."""
        self.write_closed = True

    def loseConnection(self) -> None:
        """Record a close."""
        self.closed = True


class BudgetTests(SynchronousTestCase):
    """The budget is the soft descriptor limit less what is open and a reserve."""

    def limit(self, soft: int, open_now: int = 10) -> None:
        """Pretend the soft limit is ``soft`` with ``open_now`` descriptors open."""
        self.patch(resource, "getrlimit", lambda _: (soft, resource.RLIM_INFINITY))
        self.patch(descriptors, "open_descriptors", lambda: open_now)

    def test_budget(self) -> None:
        """Soft limit 1024 with 10 open leaves 1024 - 10 - the reserve."""
        self.limit(1024)
        self.assertEqual(connection_budget(), 1024 - 10 - DESCRIPTOR_RESERVE)

    def test_at_least_one(self) -> None:
        """However tight the limit, one connection is allowed."""
        self.limit(20, open_now=19)
        self.assertEqual(connection_budget(), 1)

    def test_unlimited(self) -> None:
        """No soft limit means no budget."""
        self.limit(resource.RLIM_INFINITY)
        self.assertIsNone(connection_budget())

    def test_open_descriptors(self) -> None:
        """The running process has at least its three standard descriptors open."""
        self.assertGreaterEqual(descriptors.open_descriptors(), 3)


class LingerTests(SynchronousTestCase):
    """Unserved connections reset; served ones close the ordinary way; only on TCP."""

    def test_delivered_poem_closes_ordinarily(self) -> None:
        """Once the poem is delivered, a TCP connection gets the ordinary linger back and closes."""
        handle = FakeSocket(socket.AF_INET)
        transport = WithHandle(handle)
        poem_delivered(transport)
        self.assertEqual(
            handle.options, [(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 0, 0))]
        )
        self.assertTrue(transport.closed)

    def test_not_tcp(self) -> None:
        """A UNIX socket's linger, or a transport with no handle, is left alone."""
        handle = FakeSocket(socket.AF_UNIX)
        poem_delivered(WithHandle(handle))
        self.assertEqual(handle.options, [])

    def test_end_poem_half_closes(self) -> None:
        """Ending a poem half-closes: the close waits for Twisted's buffer to drain."""
        transport = WithHandle(FakeSocket(socket.AF_INET))
        end_poem(transport)
        self.assertEqual((transport.write_closed, transport.closed), (True, False))

    def test_end_poem_without_half_close(self) -> None:
        """A transport that cannot half-close is closed at once."""
        transport = StringTransport()
        end_poem(transport)
        self.assertTrue(transport.disconnecting)

    def test_ports_without_descriptor(self) -> None:
        """A listening port that is not TCP, or has no descriptor (in memory), is left alone.

        The option on a real listening socket is checked on real processes
        (C{tests/integration/test_integrity.py}, C{test_emfile_is_a_reset}).
        """
        network = MemoryPoetryNetwork()
        reset_unserved(network.serve("127.0.0.1", 10000, Factory()))
        reset_unserved(FakeListeningPort())
        unix = FakeListeningPort()
        self.patch(unix, "getHost", lambda: UNIXAddress("/tmp/poetry.sock"))
        reset_unserved(unix)
