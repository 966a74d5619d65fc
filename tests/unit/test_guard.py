"""The determinism guard really fires: each forbidden thing fails loudly in the unit tier."""

from __future__ import annotations

import socket
import time

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from tests.support.guard import DeterminismError, check_no_pending_calls


class DeterminismGuardTests(SynchronousTestCase):
    """Sockets, name lookups, sleeping and the global reactor are refused."""

    def test_socket(self) -> None:
        """Opening a socket fails."""
        self.assertRaises(DeterminismError, socket.socket)  # guard

    def test_create_connection(self) -> None:
        """Connecting with C{socket.create_connection} fails before touching the network."""
        self.assertRaises(DeterminismError, socket.create_connection, ("127.0.0.1", 9))  # guard

    def test_name_lookup(self) -> None:
        """Resolving a name fails."""
        self.assertRaises(DeterminismError, socket.getaddrinfo, "localhost", 80)

    def test_sleep(self) -> None:
        """Sleeping fails, without sleeping."""
        self.assertRaises(DeterminismError, time.sleep, 10)  # guard

    def test_global_reactor(self) -> None:
        """The global reactor cannot be imported (pytest) or, if trial installed it, used."""
        try:
            from twisted.internet import reactor  # guard
        except DeterminismError:
            return
        self.assertRaises(DeterminismError, reactor.callLater, 0, lambda: None)
        self.assertRaises(DeterminismError, reactor.listenTCP, 0, None)

    def test_pending_calls_detected(self) -> None:
        """A clock left with a delayed call fails the check run after every unit test."""
        clock = Clock()
        call = clock.callLater(1, lambda: None)
        self.assertRaises(DeterminismError, check_no_pending_calls)
        call.cancel()
