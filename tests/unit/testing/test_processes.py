"""Tests for L{poetry.testing.processes}: processes own their timers and sockets, and die alone."""

from __future__ import annotations

import math
import socket

from twisted.internet.defer import TimeoutError
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.protocol import Factory, Protocol

from poetry.core.client import get_poetry
from poetry.core.slow_server import SlowPoetryFactory
from poetry.testing import RESET_LINGER
from tests.support import POEM
from tests.support.peers import RecordingProtocol, silent_server
from tests.support.simulated import CLIENT_HOST, PORT, SERVER_HOST, SimulatedTestCase


class CrashTests(SimulatedTestCase):
    """A process that dies ends its own timers and sockets, and nothing else."""

    def test_other_processes_timers_live_on(self) -> None:
        """The server's death leaves the client's timers running (one reactor per process)."""
        fired: list[bool] = []
        self.client.reactor.callLater(1, fired.append, True)
        self.server.crash()
        self.network.advance(1)
        self.assertEqual(fired, [True])

    def test_client_timeout_across_a_dead_server(self) -> None:
        """A client whose server died behind a partition gives up at its own timeout."""
        self.serve(silent_server())
        poem = get_poetry(self.client.reactor, SERVER_HOST, PORT, timeout=5)
        self.network.flush()
        self.network.partition(SERVER_HOST, CLIENT_HOST)
        self.server.crash()  # its kernel's FIN is dropped, and sent again in vain
        self.network.advance(5)  # the client's own timeout
        self.failureResultOf(poem, TimeoutError)
        self.leave()

    def test_its_own_timers_end(self) -> None:
        """A dead process's timers never fire, and are gone from the network."""
        fired: list[bool] = []
        self.server.reactor.callLater(1, fired.append, True)
        self.server.crash()
        self.network.advance(2)
        self.assertEqual(fired, [])
        self.assertEqual(self.network.pending(), [])

    def test_kernel_closes_with_a_fin_after_what_it_holds(self) -> None:
        """What the dying server's kernel held still arrives, then a FIN: a clean close.

        This is the trap in "a clean close means a whole poem": what Twisted
        still buffered in the process is lost, and the client cannot tell.
        """
        self.serve(SlowPoetryFactory(POEM, 10, 1.0, self.server.reactor))
        client = RecordingProtocol()
        self.connect(client)
        self.network.flush()  # connected: the first chunk is out
        self.server.crash()
        self.network.flush()
        self.assertEqual(client.events, [("data", POEM[:10]), ("lost", ConnectionDone)])

    def test_kernel_resets_where_linger_is_zero(self) -> None:
        """A dying process's socket set to C{SO_LINGER} 0 (or inheriting it) sends a reset."""
        port = self.serve(Factory.forProtocol(Protocol))
        port.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_LINGER)
        client = RecordingProtocol()
        self.connect(client)
        self.network.flush()
        self.server.crash()
        self.network.flush()
        self.assertEqual(client.events, [("lost", ConnectionLost)])

    def test_protocols_hear_nothing(self) -> None:
        """The dead process's protocols are never told: nothing more runs in it."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        self.server.crash()
        self.network.flush()
        self.assertEqual(server.events, [])
        self.assertEqual(client.events, [("lost", ConnectionDone)])

    def test_listening_socket_closed(self) -> None:
        """Once the server's process is dead, its port refuses connections."""
        self.serve(Factory.forProtocol(Protocol))
        self.server.crash()
        poem = get_poetry(self.client.reactor, SERVER_HOST, PORT)
        self.network.flush()
        self.failureResultOf(poem)
        self.assertEqual([a.outcome for a in self.network.attempts], ["refused"])

    def test_dead_process_opens_nothing(self) -> None:
        """A dead process cannot open a socket: its reactor says so."""
        self.server.crash()
        error = self.assertRaises(RuntimeError, self.serve, Factory.forProtocol(Protocol))
        self.assertIn("'server'", str(error))
        self.server.crash()  # dying twice changes nothing
        self.assertEqual(self.server.sockets, [])


class ProcessTests(SimulatedTestCase):
    """Processes have names, addresses and reactors of their own."""

    def test_connects_from_its_address(self) -> None:
        """A process's connections come from its host's address."""
        self.serve(Factory.forProtocol(Protocol))
        client = RecordingProtocol()
        self.connect(client)
        self.network.flush()
        self.assertEqual(client.transport.getHost().host, CLIENT_HOST)
        self.assertEqual(self.network.attempts[0].source, CLIENT_HOST)
        self.assertIn(CLIENT_HOST, repr(self.client))
        self.leave()

    def test_listed_with_the_dead(self) -> None:
        """The network lists every process it started, in order, dead ones included."""
        self.server.crash()
        self.assertEqual(
            [(p.name, p.alive) for p in self.network.processes],
            [("main", True), ("server", False), ("client", True)],
        )
        self.assertIn("dead", repr(self.server))

    def test_repr(self) -> None:
        """A process shows its name, its address (localhost if it has none) and its death."""
        self.assertEqual(repr(self.client), "<SimulatedProcess 'client' at 10.0.0.2>")
        self.network.main.crash()
        self.assertEqual(repr(self.network.main), "<SimulatedProcess 'main' at localhost, dead>")

    def test_pending_attempt_ends_with_its_process(self) -> None:
        """A connection attempt under way when its process dies is recorded as ended then."""
        self.network.black_hole(SERVER_HOST)
        self.connect(RecordingProtocol())
        self.network.advance(2)
        self.client.crash()
        [attempt] = self.network.attempts
        self.assertEqual((attempt.outcome, attempt.ended), ("ended with its process", 2.0))
        self.network.advance(200)  # its SYNs, sent until its kernel gives up

    def test_time_passes_for_all(self) -> None:
        """Advancing any process's reactor moves the whole network's clock."""
        self.client.reactor.advance(3)
        self.assertEqual(
            (self.network.now, self.server.reactor.seconds(), self.client.reactor.seconds()),
            (3.0, 3.0, 3.0),
        )

    def test_timeout_on_its_own_clock(self) -> None:
        """A client's timeout in its own process fires on time."""
        self.network.black_hole(SERVER_HOST)
        poem = get_poetry(self.client.reactor, SERVER_HOST, PORT, timeout=2)
        self.network.advance(1.9)
        self.assertNoResult(poem)
        self.network.advance(0.1)
        self.failureResultOf(poem, TimeoutError)


class AbortThenDeathTests(SimulatedTestCase):
    """The trap that hid cut poems: an abort asked for, and the process gone before its turn."""

    def test_death_before_the_abort_is_a_clean_close(self) -> None:
        """A process that dies before its abort's turn leaves its kernel to close: a FIN.

        A real reactor resets an aborted connection only on its next turn;
        if the process exits first, the peer sees a clean close on a cut poem.
        """
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        server.transport.write(b"half a po")
        self.network.flush()
        server.transport.abortConnection()
        self.server.crash()
        self.network.flush()
        self.assertEqual(client.events, [("data", b"half a po"), ("lost", ConnectionDone)])
        self.assertEqual(server.events, [])


class ManyTimersTests(SimulatedTestCase):
    """A crash ends every timer of its process, however many."""

    def test_every_timer_cancelled(self) -> None:
        """Five timers set, the process crashes: none is left, none fires."""
        fired: list[int] = []
        for n in range(5):
            self.server.reactor.callLater(n + 1, fired.append, n)
        self.server.crash()
        self.assertEqual(self.server.reactor.getDelayedCalls(), [])
        self.network.advance(10)
        self.assertEqual(fired, [])


class ClockStepTests(SimulatedTestCase):
    """A process's wall clock can be stepped, as NTP steps it; Twisted's timers follow it."""

    def test_step_back_delays_timers(self) -> None:
        """A timer set before the clock steps back 10 s fires 10 s later, on the network's clock."""
        fired: list[float] = []
        self.server.reactor.callLater(1, lambda: fired.append(self.network.now))
        self.server.step_clock(-10)
        self.assertEqual(self.server.reactor.seconds(), -10.0)
        self.network.advance(10.9)
        self.assertEqual(fired, [])
        self.network.advance(0.1)
        self.assertEqual(fired, [11.0])

    def test_timer_due_after_steps_fires_despite_rounding(self) -> None:
        """A timer set on a stepped clock fires when due, though the clocks' sum rounds below it.

        Found by the explorer: after two steps back, 0.95 s + 0.1 s on the
        process's clock, less its offset, then plus it, rounds a hair below
        the timer's time, and time stood still with the timer never due. Nor
        may it run early: code that sets a timer again for the time left (a
        lingering deadline) would then spin at one instant.
        """
        reactor = self.server.reactor
        fired: list[bool] = []
        self.network.advance(0.95)
        self.server.step_clock(-1)
        self.server.step_clock(-1)
        call = reactor.callLater(0.1, lambda: fired.append(reactor.seconds() >= call.getTime()))
        self.network.advance(1)
        self.assertEqual(fired, [True])  # and not early: Twisted's code would set it again

    def test_timer_set_a_hair_ahead_on_a_stepped_clock_fires(self) -> None:
        """A timer set during a flush for a hair after now, on a stepped clock, still fires.

        Found by the explorer (a pacer's next tick, on an upstream whose clock
        stepped back): by the network's clock the timer is due at once, by
        its process's a hair later; the clocks are set again and it runs.
        """
        reactor = self.server.reactor
        fired: list[bool] = []

        def set_a_hair_ahead() -> None:
            now = reactor.seconds()
            reactor.callLater(math.nextafter(now, math.inf) - now, fired.append, True)

        self.network.advance(1.053)
        self.server.step_clock(-1)
        reactor.callLater(0, set_a_hair_ahead)
        self.network.advance(1)
        self.assertEqual(fired, [True])

    def test_step_forward_brings_timers_in(self) -> None:
        """A step forward fires a timer at once if its time has come."""
        fired: list[float] = []
        self.server.reactor.callLater(5, lambda: fired.append(self.network.now))
        self.server.step_clock(5)
        self.network.flush()
        self.assertEqual(fired, [0.0])
        self.assertEqual(self.client.reactor.seconds(), 0.0)  # other processes keep their time
