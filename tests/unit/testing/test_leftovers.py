"""Tests for L{poetry.testing.leftovers}: what a test left behind, said line by line."""

from __future__ import annotations

from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import SynchronousTestCase

from poetry.testing import MemoryPoetryNetwork
from poetry.testing.leftovers import assert_nothing_left, leftovers
from tests.support.peers import RecordingProtocol
from tests.support.simulated import SERVER_HOST, SimulatedTestCase


class Push:
    """A streaming producer that does nothing."""

    def pauseProducing(self) -> None:
        """Paused."""

    def resumeProducing(self) -> None:
        """Resumed."""

    def stopProducing(self) -> None:
        """Stopped."""


class LeftoverTests(SimulatedTestCase):
    """Each kind of thing left is named."""

    def test_nothing(self) -> None:
        """A fresh network has nothing left."""
        self.assertEqual(leftovers(MemoryPoetryNetwork()), [])
        assert_nothing_left(MemoryPoetryNetwork())

    def test_each_kind(self) -> None:
        """Open connections, pending attempts, timers, producers and kernel events are named."""
        self.leave()
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        server.transport.registerProducer(Push(), True)
        self.server.reactor.callLater(3, lambda: None)
        self.network.black_hole(SERVER_HOST)
        self.connect(RecordingProtocol(), timeout=5)
        self.network.flush()
        found = leftovers(self.network)
        for words in (
            "attempt",
            "open connection",
            "timer in process 'server'",
            "producer",
            "SYN retry",
        ):
            self.assertTrue([line for line in found if words in line], (words, found))
        error = self.assertRaises(AssertionError, assert_nothing_left, self.network)
        self.assertIn("SYN retry", str(error))
        self.server.crash()
        self.client.crash()

    def test_said_one_a_line(self) -> None:
        """The failure says the test left things behind, then each thing on a line of its own."""
        self.network.black_hole(SERVER_HOST)
        sockets = [self.client_socket(), self.client_socket()]
        self.network.flush()  # the SYNs, swallowed
        error = self.assertRaises(AssertionError, assert_nothing_left, self.network)
        self.assertEqual(
            str(error),
            "the test left things behind on the network:\n"
            "  the kernel's SYN retry due at 1.0\n"
            "  the kernel's SYN retry due at 1.0",
        )
        for sock in sockets:
            sock.close()

    def test_dead_processes_producers_ignored(self) -> None:
        """A producer registered in a process that died is not counted: nothing runs there."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        server.transport.registerProducer(Push(), True)
        self.server.crash()
        self.network.flush()
        self.assertEqual(leftovers(self.network), [])


class EmptyTests(SynchronousTestCase):
    """A test that uses a network's services and closes them leaves nothing."""

    def test_closed_port(self) -> None:
        """A port listened on and stopped leaves nothing."""
        network = MemoryPoetryNetwork()
        port = network.serve("127.0.0.1", 0, Factory.forProtocol(Protocol))
        port.stopListening()
        network.flush()
        assert_nothing_left(network)
