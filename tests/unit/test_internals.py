"""Tests for L{poetry.operations.internals}: the Twisted internals txpoetry relies on still hold.

Each test runs Twisted's own TCP and UNIX port and connection code (no real
socket: a L{FakeSocket} stands where the kernel's would) and fails on a
Twisted that renames or changes what txpoetry relies on.
"""

from __future__ import annotations

import os
import socket
import struct

from twisted.internet import tcp, unix
from twisted.internet.endpoints import AdoptedStreamServerEndpoint
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from poetry.operations import internals
from tests.support.fakes import FakeSocket

RESET = (socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class TCPPortTests(SynchronousTestCase):
    """A real C{tcp.Port}, listening on a fake socket with connections waiting."""

    def setUp(self) -> None:
        """A port listening on a fake socket with five connections waiting."""
        self.reactor = MemoryReactorClock()
        null = os.open(os.devnull, os.O_RDONLY)  # Twisted 25.5 sets close-on-exec on accepted fds
        self.addCleanup(os.close, null)
        waiting = [FakeSocket(descriptor=null) for _ in range(5)]
        self.listening = FakeSocket(waiting=waiting, descriptor=null)
        factory = Factory.forProtocol(Protocol)
        self.port = tcp.Port(0, factory, interface="127.0.0.1", reactor=self.reactor)
        self.port.createInternetSocket = lambda: self.listening  # type: ignore[method-assign]
        self.port.startListening()

    def accepted(self) -> list[tcp.Server]:
        """The connections the port has accepted (each is read by the reactor)."""
        return [reader for reader in self.reactor.getReaders() if reader is not self.port]

    def test_listening_socket(self) -> None:
        """The socket a TCP port listens on is C{port.socket}."""
        self.assertIs(internals.listening_socket(self.port), self.listening)

    def test_accept_batch(self) -> None:
        """Readable, the port accepts at most C{numberAccepts} connections."""
        internals.set_accept_batch(self.port, 2)
        self.port.doRead()
        self.assertEqual(len(self.accepted()), 2)

    def test_port_sizes_next_batch(self) -> None:
        """After a full batch the next may take 20 more; after a short one, as many as it took."""
        internals.set_accept_batch(self.port, 2)
        self.port.doRead()
        self.assertEqual(self.port.numberAccepts, 22)
        self.port.doRead()  # the other three
        self.assertEqual(self.port.numberAccepts, 3)

    def test_pause_and_resume(self) -> None:
        """A paused port is not read (nothing accepted); a resumed one is read again."""
        internals.pause_accepting(self.port)
        self.assertNotIn(self.port, self.reactor.getReaders())
        internals.resume_accepting(self.port)
        self.assertIn(self.port, self.reactor.getReaders())

    def test_transport_reactor(self) -> None:
        """An accepted connection's transport knows the port's reactor."""
        self.port.doRead()
        self.assertIs(internals.transport_reactor(self.accepted()[0]), self.reactor)

    def test_orderly_close_shuts_down_then_closes(self) -> None:
        """A connection's clean close is C{shutdown(2)}, then C{close()}: the FIN goes first."""
        internals.set_accept_batch(self.port, 1)
        connection = self.listening.waiting[0]
        self.port.doRead()
        [transport] = self.accepted()
        transport.loseConnection()
        transport.connectionLost(Failure(ConnectionDone()))
        self.assertEqual(connection.calls, [("shutdown", 2), ("close",)])

    def test_abort_resets(self) -> None:
        """An aborted connection gets C{SO_LINGER} 0, then is closed: a reset."""
        internals.set_accept_batch(self.port, 1)
        connection = self.listening.waiting[0]
        self.port.doRead()
        [transport] = self.accepted()
        transport.abortConnection()
        self.reactor.advance(0)  # Twisted loses an aborted connection on its next turn
        self.assertEqual(connection.calls, [("setsockopt", *RESET), ("close",)])

    def test_port_closes_in_order(self) -> None:
        """A TCP port that stops listening shuts its socket down, then closes it."""
        self.port.stopListening()
        self.reactor.advance(0)  # a port stops listening on the reactor's next turn
        self.assertEqual(self.listening.calls, [("shutdown", 2), ("close",)])


class NoSuchAttributeTests(SynchronousTestCase):
    """What a port or transport without the internals (a fake's) gets."""

    def test_no_accept_batch(self) -> None:
        """A port that does not batch its accepts is left alone."""
        port = object()
        internals.set_accept_batch(port, 3)
        self.assertFalse(hasattr(port, "numberAccepts"))

    def test_no_socket_no_reactor(self) -> None:
        """No listening socket, no reactor: None."""
        self.assertIsNone(internals.listening_socket(object()))
        self.assertIsNone(internals.transport_reactor(object()))


class AdoptedTests(SynchronousTestCase):
    """Sockets inherited from another process."""

    def test_adopted_parts(self) -> None:
        """An adopted-socket endpoint keeps its reactor, descriptor and family."""
        reactor = MemoryReactorClock()
        endpoint = AdoptedStreamServerEndpoint(reactor, 7, socket.AF_UNIX)
        self.assertEqual(internals.adopted_parts(endpoint), (reactor, 7, socket.AF_UNIX))

    def stopped(self, port_type: type[unix.Port], adopt: object) -> tuple[FakeSocket, list[bytes]]:
        """Adopt a fake UNIX socket as ``port_type``, listen, stop; return it and paths removed."""
        listening = FakeSocket(socket.AF_UNIX, "/run/poetry.sock")
        self.patch(socket, "fromfd", lambda fd, family, kind: listening)
        removed: list[bytes] = []
        self.patch(os, "unlink", removed.append)
        self.patch(os, "chmod", lambda path, mode: None)
        reactor = MemoryReactorClock()
        port = adopt(reactor, 7, Factory.forProtocol(Protocol))  # type: ignore[operator]
        self.assertIsInstance(port, port_type)
        port.startListening()
        port.stopListening()
        reactor.advance(0)  # the port's connectionLost, on the reactor's next turn
        return listening, removed

    def test_plain_unix_port_shuts_down_and_unlinks(self) -> None:
        """Twisted's own adopted UNIX port shuts the socket down and removes its path."""
        listening, removed = self.stopped(unix.Port, unix.Port._fromListeningDescriptor)
        self.assertEqual(listening.calls, [("shutdown", 2), ("close",)])
        self.assertEqual(removed, [b"/run/poetry.sock"])

    def test_inherited_unix_port_only_closes(self) -> None:
        """An inherited UNIX port closes its copy only: no shutdown, the path left alone."""
        listening, removed = self.stopped(internals.InheritedUNIXPort, internals.adopt_unix_port)
        self.assertEqual(listening.calls, [("close",)])
        self.assertEqual(removed, [])
