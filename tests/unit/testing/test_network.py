"""Tests for L{poetry.testing.network}: the network a user's test makes, its faults and its time.

Each test is written the way a user of the simulator would write one, from
the package's documentation: a real service and a real client, one fault,
and what the client then sees.
"""

from __future__ import annotations

import socket
import warnings
from typing import Any

from twisted.internet.defer import CancelledError, TimeoutError
from twisted.internet.endpoints import HostnameEndpoint, connectProtocol
from twisted.internet.error import (
    CannotListenError,
    ConnectionDone,
    ConnectionRefusedError,
    DNSLookupError,
)
from twisted.internet.error import TimeoutError as ConnectTimeoutError
from twisted.internet.interfaces import IReactorFDSet, IReactorTCP, IReactorTime
from twisted.internet.protocol import ClientFactory, Factory, Protocol
from zope.interface.verify import verifyObject

from poetry.core.client import get_poetry
from poetry.core.errors import PartialPoemError
from poetry.core.server import PoetryServerFactory
from poetry.core.slow_server import SlowPoetryFactory
from poetry.testing import KernelSettings, MemoryPoetryNetwork, NetworkDidNotSettle
from poetry.testing import network as network_module
from poetry.testing.kits import Recorder
from tests.support import MUTATING, POEM
from tests.support.peers import RecordingProtocol, dropping_server
from tests.support.simulated import CLIENT_HOST, PORT, SERVER_HOST, SimulatedTestCase

TICK = 1.0
"""Seconds between the slow server's chunks in these tests."""


class SimulatedNetworkTestCase(SimulatedTestCase):
    """Helpers for serving txpoetry's servers and fetching from them."""

    def slow(self, chunk: int = 10) -> None:
        """Serve the slow server (``chunk`` bytes a second) in the server process."""
        self.serve(SlowPoetryFactory(POEM, chunk, TICK, self.server.reactor))

    def fetch(self, **kwargs: object) -> object:
        """Start fetching the poem from the server host, in the client process."""
        return get_poetry(self.client.reactor, SERVER_HOST, PORT, **kwargs)  # type: ignore[arg-type]


class MovingTests(SimulatedNetworkTestCase):
    """Nothing moves until the test says; time moves for everything at once."""

    def test_nothing_moves_until_flushed(self) -> None:
        """A connection attempt waits for the test to flush."""
        self.serve(PoetryServerFactory(POEM))
        poem = self.fetch()
        self.assertNoResult(poem)
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_flush_never_moves_time(self) -> None:
        """Flushing delivers what is written now; paced chunks wait for the clock."""
        self.slow()
        poem = self.fetch()
        self.network.flush()
        self.assertEqual(self.network.now, 0)
        self.assertNoResult(poem)
        self.network.advance(len(POEM) // 10 * TICK)  # one tick per remaining chunk
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_reactor_advance_moves_the_network(self) -> None:
        """A process's own C{reactor.advance} moves bytes as well as time."""
        self.slow()
        poem = self.fetch()
        self.client.reactor.advance(len(POEM) // 10 * TICK)
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_each_arrival_at_its_own_time(self) -> None:
        """Within one long advance, each chunk arrives at its own time, after the latency."""
        arrivals: list[float] = []

        class Timed(Protocol):
            def dataReceived(self, data: bytes) -> None:
                arrivals.append(self.transport.reactor.seconds())

        self.serve(SlowPoetryFactory(POEM, len(POEM) // 4 + 1, 0.25, self.server.reactor))
        self.network.set_latency(SERVER_HOST, CLIENT_HOST, 0.125)
        self.connect(Timed())
        self.network.advance(2)
        # accepted after SYN, SYN-ACK and ACK (0.375); each chunk 0.125 after it is sent
        self.assertEqual(arrivals, [0.5, 0.75, 1.0, 1.25])
        self.leave()

    def test_endless_chatter_names_the_connection(self) -> None:
        """When peers never stop talking, the error names the connections still open.

        (A smaller round limit than the network's own: the behaviour is the same, sooner.)
        """
        self.patch(network_module, "MAX_ROUNDS", 200)

        class Echo(Protocol):
            def connectionMade(self) -> None:
                self.transport.write(b"ping")

            def dataReceived(self, data: bytes) -> None:
                self.transport.write(data)

        self.serve(Factory.forProtocol(Echo))
        self.connect(Echo())
        error = self.assertRaises(NetworkDidNotSettle, self.network.flush)
        self.assertIn(f"{CLIENT_HOST}:50000", str(error))
        self.leave()

    def test_timer_loop_at_one_instant_does_not_hang(self) -> None:
        """A timer that sets itself again for now never lets flush settle: it says so, not hang."""
        self.patch(network_module, "MAX_ROUNDS", 50)

        def again() -> None:
            self.server.reactor.callLater(0, again)

        self.server.reactor.callLater(0, again)
        self.assertRaises(NetworkDidNotSettle, self.network.flush)
        self.server.crash()

    def test_something_due_that_never_runs_fails(self) -> None:
        """A timer due that no flush runs fails the advance, naming its time, instead of hanging."""
        self.client.reactor.run_due = lambda: False  # type: ignore[method-assign]
        self.client.reactor.callLater(1, lambda: None)
        error = self.assertRaises(NetworkDidNotSettle, self.network.advance, 2)
        self.assertIn("due at 1.0 never runs", str(error))
        self.client.crash()

    def test_due_within_a_nanosecond_of_the_end(self) -> None:
        """What is due a nanosecond past the end of an advance is due by it (floats drift)."""
        ran: list[float] = []
        self.network.kernel.later(1.000000001, lambda: ran.append(self.network.now), "a timer")
        self.network.advance(1)
        self.assertEqual(ran, [1.000000001])

    def test_timers_checked_as_twisted_checks_them(self) -> None:
        """A negative delay is refused as Twisted refuses it; a dead process runs nothing."""
        self.assertRaises(AssertionError, self.client.reactor.callLater, -1, lambda: None)
        self.server.crash()
        error = self.assertRaises(RuntimeError, self.server.reactor.callLater, 1, lambda: None)
        self.assertIn("'server'", str(error))

    def test_pending_lists_timers_and_kernel_events(self) -> None:
        """C{pending} lists what is still due: processes' timers, then the kernel's own."""
        call = self.server.reactor.callLater(5, lambda: None)
        self.network.black_hole(SERVER_HOST)
        self.connect(RecordingProtocol(), timeout=10)
        self.network.flush()
        pending = self.network.pending()
        self.assertIs(pending[0], call)
        self.assertEqual(
            [getattr(p, "what", None) for p in pending[1:]], [None, "SYN retry"]
        )  # the connector's timeout, then the SYN retry
        self.server.crash()
        self.client.crash()
        self.assertEqual(self.network.pending(), [])


class ConnectionFaultTests(SimulatedNetworkTestCase):
    """A live connection can be reset by either side, and held."""

    def test_reset_by_the_server(self) -> None:
        """A connection reset by the server's side fails the fetch with what had arrived."""
        self.slow()
        poem = self.fetch()
        self.network.advance(TICK)  # two chunks are in
        [connection] = self.network.connections
        connection.reset()
        self.network.flush()  # the abort resets on the reactor's next turn
        self.assertEqual(self.failureResultOf(poem, PartialPoemError).value.partial, POEM[:20])

    def test_reset_by_the_client(self) -> None:
        """A reset from the client's side: the server sees a reset, the client an abort."""
        server, client = RecordingProtocol(), RecordingProtocol()
        self.pair(server, client)
        self.network.connections[0].reset(side="client")
        self.network.flush()
        self.assertEqual([e[1].__name__ for e in server.events], ["ConnectionLost"])
        self.assertEqual([e[1].__name__ for e in client.events], ["ConnectionAborted"])

    def test_hold_and_release(self) -> None:
        """A held connection delivers nothing until released, then at the next retransmission."""
        self.slow()
        poem = self.fetch()
        self.network.flush()  # connected: the first chunk is in
        self.network.connections[0].hold()
        self.network.advance(10 * TICK)  # every chunk written, none delivered
        self.assertNoResult(poem)
        self.network.connections[0].release()
        self.network.advance(4)  # the next retransmission, at 12.8 s after the second chunk
        self.assertEqual(self.successResultOf(poem), POEM)


class AddressFaultTests(SimulatedNetworkTestCase):
    """Addresses can refuse, swallow attempts, or be cut off from each other."""

    def test_refuse_where_a_service_listens(self) -> None:
        """A refused address refuses even with a service on it, until restored."""
        self.serve(PoetryServerFactory(POEM))
        self.network.refuse(SERVER_HOST, PORT)
        refused = self.fetch()
        self.network.flush()
        self.failureResultOf(refused, ConnectionRefusedError)
        self.network.restore(SERVER_HOST, PORT)
        poem = self.fetch()
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_black_hole_deferred_timeout(self) -> None:
        """A fetch into a black hole hangs until its own timeout, which stops the attempt."""
        self.serve(PoetryServerFactory(POEM))
        self.network.black_hole(SERVER_HOST)
        poem = self.fetch(timeout=5)
        self.network.advance(4.9)  # just short of the fetch's 5-second timeout
        self.assertNoResult(poem)
        self.network.advance(0.1)  # the fetch's timeout
        self.failureResultOf(poem, TimeoutError)
        self.assertEqual([a.outcome for a in self.network.attempts], ["cancelled"])

    def test_black_hole_connector_timeout(self) -> None:
        """An attempt into a black hole fails with C{TimeoutError} at the connector's timeout."""
        self.network.black_hole(SERVER_HOST, PORT)
        failures: list[object] = []

        class Recording(ClientFactory):
            def clientConnectionFailed(self, connector: object, reason: object) -> None:
                failures.append(reason)

        self.client.reactor.connectTCP(SERVER_HOST, PORT, Recording(), timeout=3)
        self.network.advance(2.9)  # just short of the connector's 3-second timeout
        self.assertEqual(failures, [])
        self.network.advance(0.1)  # the connector's timeout
        [reason] = failures
        self.assertTrue(reason.check(ConnectTimeoutError))  # type: ignore[attr-defined]
        self.assertEqual([a.outcome for a in self.network.attempts], ["timed out"])

    def test_restored_black_hole_connects_at_the_next_syn(self) -> None:
        """Once a black hole is restored, the attempt's next SYN gets through."""
        self.serve(PoetryServerFactory(POEM))
        self.network.black_hole(SERVER_HOST, PORT)
        poem = self.fetch()
        self.network.advance(0.5)
        self.network.restore(SERVER_HOST, PORT)
        self.network.advance(0.4)
        self.assertNoResult(poem)
        self.network.advance(0.1)  # the first SYN retry, at 1 s
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_partition_and_heal(self) -> None:
        """Across a partition bytes wait and attempts hang; after it heals, all arrives."""
        self.slow()
        cut = self.fetch()
        self.network.flush()  # connected; the first chunk is in
        self.network.partition(CLIENT_HOST, SERVER_HOST)
        hanging = self.fetch()
        self.network.advance(10 * TICK)  # every chunk written; the connect's SYNs swallowed
        self.assertNoResult(cut)
        self.assertNoResult(hanging)
        self.network.heal(CLIENT_HOST, SERVER_HOST)
        self.network.advance(10 * TICK)  # the retransmissions, and the second client's poem
        self.assertEqual((self.successResultOf(cut), self.successResultOf(hanging)), (POEM, POEM))

    def test_latency(self) -> None:
        """With latency between two hosts, the poem arrives two round trips after the connect."""
        self.serve(PoetryServerFactory(POEM))
        self.network.set_latency(CLIENT_HOST, SERVER_HOST, 0.25)
        poem = self.fetch()
        self.network.advance(0.99)  # SYN, SYN-ACK, ACK, then the poem: four trips of 0.25 s
        self.assertNoResult(poem)
        self.network.advance(0.01)
        self.assertEqual(self.successResultOf(poem), POEM)
        self.network.advance(1)  # the client's FIN and the acknowledgements

    def test_negative_latency(self) -> None:
        """A negative latency is refused, with its value."""
        error = self.assertRaises(ValueError, self.network.set_latency, "a", "b", -0.5)
        self.assertIn("-0.5", str(error))

    def test_source_address(self) -> None:
        """A client bound to an address connects from it: a partition there applies."""
        self.serve(PoetryServerFactory(POEM))
        self.network.partition("10.0.0.9", SERVER_HOST)
        self.connect(Recorder(), timeout=1, bindAddress=("10.0.0.9", 0))
        self.network.advance(1)  # the connector gives up
        self.assertEqual(
            [(a.source, a.outcome) for a in self.network.attempts], [("10.0.0.9", "timed out")]
        )


class ServiceTests(SimulatedNetworkTestCase):
    """Services listen on the network: ports, addresses, refusal."""

    def test_refused_where_nothing_listens(self) -> None:
        """An address with no service refuses the connection."""
        poem = self.fetch()
        self.network.flush()
        self.failureResultOf(poem, ConnectionRefusedError)

    def test_stop_serving(self) -> None:
        """After C{stop_serving} (on the reactor's next turn), new connections are refused."""
        network = self.network
        network.serve("127.0.0.1", PORT, PoetryServerFactory(POEM))
        stopped = network.stop_serving("127.0.0.1", PORT)
        network.flush()
        self.successResultOf(stopped)
        poem = get_poetry(network.reactor, "127.0.0.1", PORT)
        network.flush()
        self.failureResultOf(poem, ConnectionRefusedError)
        error = self.assertRaises(ValueError, network.stop_serving, "127.0.0.1", PORT)
        self.assertIn(f"127.0.0.1:{PORT}", str(error))

    def test_port_zero_gets_free_ports(self) -> None:
        """Listening on port 0 gives each service its own port."""
        first = self.server.reactor.listenTCP(0, PoetryServerFactory(b"one"), interface=SERVER_HOST)
        second = self.server.reactor.listenTCP(
            0, PoetryServerFactory(b"two"), interface=SERVER_HOST
        )
        ports = [first.getHost().port, second.getHost().port]
        self.assertNotEqual(ports[0], ports[1])
        poems = [get_poetry(self.client.reactor, SERVER_HOST, p) for p in ports]
        self.network.flush()
        self.assertEqual([self.successResultOf(p) for p in poems], [b"one", b"two"])

    def test_wildcard_interface(self) -> None:
        """A service listening on every interface is reached at any address."""
        self.server.reactor.listenTCP(PORT, PoetryServerFactory(POEM))
        poem = get_poetry(self.client.reactor, "10.1.2.3", PORT)
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_address_taken(self) -> None:
        """Two services cannot share an address: Twisted's own error names it."""
        self.serve(PoetryServerFactory(POEM))
        error = self.assertRaises(CannotListenError, self.serve, PoetryServerFactory(POEM))
        self.assertIn(f"{SERVER_HOST}:{PORT}", str(error))

    def test_bind_port_out_of_range(self) -> None:
        """Listening on a port past 65535 fails as Python's socket module fails it."""
        self.assertRaises(
            OverflowError, self.network.reactor.listenTCP, 65536, Factory(), interface=SERVER_HOST
        )

    def test_bind_to_a_name(self) -> None:
        """Listening on a name rather than an address fails to resolve, as it would here."""
        error = self.assertRaises(
            CannotListenError,
            self.network.reactor.listenTCP,
            PORT,
            Factory(),
            interface="poetry.invalid",
        )
        self.assertIsInstance(error.socketError, socket.gaierror)

    def test_cancelled_attempt_never_connects(self) -> None:
        """An attempt cancelled before the flush never reaches the service."""
        self.serve(PoetryServerFactory(POEM))
        poem = self.fetch()
        poem.cancel()  # type: ignore[attr-defined]
        self.network.flush()
        self.failureResultOf(poem, CancelledError)
        self.assertEqual(self.network.open_connections, 0)

    def test_abort_is_a_reset(self) -> None:
        """A server that aborts is seen by the client as a reset, with the partial poem."""
        self.serve(dropping_server(b"part", self.server.reactor, 1))
        poem = self.fetch()
        self.network.advance(1)  # the server resets
        self.assertEqual(self.failureResultOf(poem, PartialPoemError).value.partial, b"part")

    def test_reactor_provides(self) -> None:
        """Each process's reactor is a TCP reactor, a clock and a descriptor set."""
        for interface in (IReactorTCP, IReactorTime, IReactorFDSet):
            self.assertTrue(verifyObject(interface, self.client.reactor))


class RecordTests(SimulatedNetworkTestCase):
    """The network records every attempt, and every connection made."""

    def test_attempts_and_their_outcomes(self) -> None:
        """Each attempt is recorded when it starts, with how and when it ended."""
        self.serve(PoetryServerFactory(POEM))
        self.network.advance(2)
        poem = self.fetch()
        refused = get_poetry(self.client.reactor, SERVER_HOST, PORT + 1)
        cancelled = self.fetch()
        cancelled.cancel()  # type: ignore[attr-defined]
        self.network.flush()
        self.successResultOf(poem)
        self.failureResultOf(refused, ConnectionRefusedError)
        self.failureResultOf(cancelled, CancelledError)
        self.assertEqual(
            [(a.time, a.port, a.source, a.outcome, a.ended) for a in self.network.attempts],
            [
                (2.0, PORT, CLIENT_HOST, "connected", 2.0),
                (2.0, PORT + 1, CLIENT_HOST, "refused", 2.0),
                (2.0, PORT, CLIENT_HOST, "cancelled", 2.0),
            ],
        )
        connection = self.network.attempts[0].connection
        assert connection is not None
        self.assertEqual(
            (connection.opened, connection.closed, connection.closed_at), (2.0, True, 2.0)
        )
        self.assertEqual(connection.listening, (SERVER_HOST, PORT))

    def test_unknown_name(self) -> None:
        """An unknown name fails as a DNS error does, and is recorded so."""
        poem = get_poetry(self.client.reactor, "poems.invalid", PORT)
        self.network.flush()
        self.failureResultOf(poem, DNSLookupError)
        self.assertEqual([a.outcome for a in self.network.attempts], ["no such host"])

    def test_hostname_endpoint(self) -> None:
        """C{HostnameEndpoint} resolves through the hosts table; an unknown name fails."""
        self.network.hosts.add("poems.example", SERVER_HOST)
        self.serve(PoetryServerFactory(POEM))
        client = Recorder()
        connectProtocol(HostnameEndpoint(self.client.reactor, "poems.example", PORT), client)
        self.network.advance(1)  # the endpoint's attempts are staggered in time
        self.assertEqual(self.successResultOf(client.ended), POEM)
        unknown = HostnameEndpoint(self.client.reactor, "poems.invalid", PORT).connect(Factory())
        self.network.flush()
        self.failureResultOf(unknown, DNSLookupError)


class RefusedInputTests(SimulatedNetworkTestCase):
    """What no network could be told is refused at once, with what was wrong."""

    def test_time_moves_forward(self) -> None:
        """Advancing by a negative, infinite or NaN time is refused; the clock stays."""
        for bad in (-1, float("inf"), float("nan")):
            self.assertRaises(ValueError, self.network.advance, bad)
        self.assertEqual(self.network.now, 0.0)
        error = self.assertRaises(ValueError, self.network.advance, -1)
        self.assertEqual(
            str(error), "time to advance must be a finite number of seconds, not negative: -1"
        )

    def test_settings_are_kernel_settings(self) -> None:
        """A network made with settings that are not L{KernelSettings} says so."""
        error = self.assertRaises(TypeError, MemoryPoetryNetwork, {"receive_buffer": 10})
        self.assertEqual(str(error), "settings is a KernelSettings, not {'receive_buffer': 10}")

    def test_settings_given(self) -> None:
        """A network made with settings runs its kernels with them."""
        settings = KernelSettings(receive_buffer=10)
        network = MemoryPoetryNetwork(settings)
        self.assertIs(network.kernel.settings, settings)
        self.assertIs(network.settings, settings)

    def test_process_at_an_ip_address(self) -> None:
        """A process is started at an IP address; a name is refused."""
        self.assertRaises(ValueError, self.network.process, "server", "server.example")


class DeprecatedTests(SimulatedNetworkTestCase):
    """The old in-memory transports' names still work, with a warning."""

    def test_exit_process(self) -> None:
        """C{exit_process} closes a port's connections as a death would, and warns."""
        network = MemoryPoetryNetwork()
        port = network.serve("127.0.0.1", PORT, Factory.forProtocol(Protocol))
        client = RecordingProtocol()
        network.reactor.connectTCP("127.0.0.1", PORT, ClientFactory.forProtocol(lambda: client))
        network.flush()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            network.exit_process(port)
        network.flush()
        self.assertEqual(
            [(w.category, str(w.message)) for w in caught],
            [
                (
                    DeprecationWarning,
                    "MemoryPoetryNetwork.exit_process is deprecated: run the server in its own"
                    " process (network.process(...)) and call its crash()",
                )
            ],
        )
        if not MUTATING:
            self.assertEqual([w.filename for w in caught], [__file__])  # it points at its user
        self.assertEqual([e[1].__name__ for e in client.events], ["ConnectionDone"])

    def test_exit_process_ends_its_ports_connections_only(self) -> None:
        """C{exit_process} of one port leaves another port's connections open."""
        network = MemoryPoetryNetwork()
        ending = network.serve("127.0.0.1", PORT, Factory.forProtocol(Protocol))
        network.serve("127.0.0.1", PORT + 1, Factory.forProtocol(Protocol))
        clients = [RecordingProtocol(), RecordingProtocol()]
        for port, client in zip((PORT, PORT + 1), clients, strict=True):
            network.reactor.connectTCP(
                "127.0.0.1", port, ClientFactory.forProtocol(lambda c=client: c)
            )
        network.flush()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            network.exit_process(ending)
        network.flush()
        self.assertEqual([c.events for c in clients], [[("lost", ConnectionDone)], []])

    def test_exit_process_protocols_hear_nothing(self) -> None:
        """At C{exit_process}, a server reading and writing hears nothing more."""
        network, server, client, port = self.exiting()
        client.transport.pauseProducing()
        server.transport.write(b"x" * 8_000_000)  # more than the kernels take: Twisted buffers
        network.flush()
        self.exit(network, port)
        client.transport.resumeProducing()
        network.flush()
        self.assertEqual((server.events, client.events[-1][0]), ([], "lost"))

    def test_exit_process_before_an_abort_leaves(self) -> None:
        """An abort waiting for the reactor's next turn dies with the port: the kernel sends a FIN.

        The process's other timers are not the port's: they stay.
        """
        network, server, client, port = self.exiting()
        server.transport.abortConnection()
        timer = network.reactor.callLater(1, lambda: None)
        self.exit(network, port)
        network.flush()
        self.assertEqual((server.events, client.events), ([], [("lost", ConnectionDone)]))
        self.assertTrue(timer.active())
        timer.cancel()

    def exiting(self) -> tuple[MemoryPoetryNetwork, RecordingProtocol, RecordingProtocol, Any]:
        """A network with a server and a client connected to it; return them and the port."""
        network = MemoryPoetryNetwork()
        server, client = RecordingProtocol(), RecordingProtocol()
        port = network.serve("127.0.0.1", PORT, Factory.forProtocol(lambda: server))
        network.reactor.connectTCP("127.0.0.1", PORT, ClientFactory.forProtocol(lambda: client))
        network.flush()
        return network, server, client, port

    def exit(self, network: MemoryPoetryNetwork, port: Any) -> None:
        """Call the deprecated C{exit_process} on ``port``, its warning silenced."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            network.exit_process(port)

    def test_exit_process_of_a_stopped_port(self) -> None:
        """C{exit_process} of a port that stopped listening (its socket gone) does nothing more."""
        network = MemoryPoetryNetwork()
        port = network.serve("127.0.0.1", PORT, Factory.forProtocol(Protocol))
        port.stopListening()
        network.flush()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            network.exit_process(port)
        self.assertEqual(network.reactor.getReaders(), [])

    def test_old_names(self) -> None:
        """The old transports' names (C{MemoryTransport}, C{buffer_size}, ...) warn."""
        import poetry.testing
        import poetry.testing.transport

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for name in ("MemoryTransport", "SocketOptions", "BUFFER_SIZE", "RESET"):
                getattr(poetry.testing, name)
            self.assertEqual(self.network.buffer_size, 65536)
            poetry.testing.transport.MemoryTransport  # noqa: B018 (the old module's name)
        self.assertEqual([w.category for w in caught], [DeprecationWarning] * 6)
        if not MUTATING:
            self.assertEqual({w.filename for w in caught}, {__file__})  # each points at its user
        self.assertEqual(
            [str(w.message) for w in caught[:2]],
            [
                "poetry.testing.MemoryTransport is deprecated: transports are Twisted's own:"
                " twisted.internet.tcp",
                "poetry.testing.SocketOptions is deprecated: use poetry.testing.KernelSocket",
            ],
        )
        self.assertEqual(
            str(caught[-1].message),
            "poetry.testing.transport.MemoryTransport is deprecated: transports are Twisted's"
            " own: twisted.internet.tcp",
        )
        error = self.assertRaises(AttributeError, getattr, poetry.testing, "NoSuchName")
        self.assertEqual(str(error), "module has no attribute 'NoSuchName'")


class StallAndBandwidthTests(SimulatedNetworkTestCase):
    """A connection can stall as it is made; a slow link lets a fault cut one write."""

    def test_stall_before_the_first_byte(self) -> None:
        """A stalled connection is made for the client, and nothing moves until its release."""
        self.serve(PoetryServerFactory(POEM))
        self.network.stall(SERVER_HOST, PORT)
        client = RecordingProtocol()
        self.connect(client)
        self.network.advance(5)
        [connection] = self.network.connections
        self.assertIsNotNone(connection.opened)
        self.assertIsNone(connection.server)  # never accepted: the handshake is stalled
        self.assertEqual(client.events, [])
        connection.release()
        self.network.advance(3)  # the server's SYN-ACK retry, at 7 s
        self.assertEqual(client.events, [("data", POEM), ("lost", ConnectionDone)])

    def test_partition_cuts_a_write_on_a_slow_link(self) -> None:
        """On a slow link, a partition begun mid-write lets only its first segments through."""
        self.network.set_bandwidth(SERVER_HOST, CLIENT_HOST, 100)  # 100 bytes a second
        self.network.fragment(sizes=[10])
        server, client = Protocol(), RecordingProtocol()
        self.pair(server, client)
        server.transport.write(b"x" * 50)
        self.network.advance(0.25)  # two segments of 10 bytes have arrived
        self.network.partition(SERVER_HOST, CLIENT_HOST)
        self.network.advance(0.5)
        self.assertEqual(b"".join(e[1] for e in client.events), b"x" * 20)  # type: ignore[misc]
        self.network.heal(SERVER_HOST, CLIENT_HOST)
        self.network.advance(2)
        self.assertEqual(b"".join(e[1] for e in client.events), b"x" * 50)  # type: ignore[misc]
        self.assertRaises(ValueError, self.network.set_bandwidth, "a", "b", 0)
        self.network.set_bandwidth(SERVER_HOST, CLIENT_HOST, None)
        self.leave()
