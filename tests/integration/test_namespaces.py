"""L{poetry.testing.namespaces}: real Twisted sockets on two hosts joined by a veth pair."""

from __future__ import annotations

import os
import subprocess
import threading
import time

from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.error import ConnectionRefusedError, TimeoutError
from twisted.internet.interfaces import IListeningPort
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure
from twisted.trial.unittest import TestCase

from poetry.core.client import get_poetry
from poetry.core.server import PoetryServerFactory
from poetry.testing.namespaces import (
    TABLE,
    Direction,
    NamespacePair,
    NamespacesUnavailable,
    namespaces_unavailable,
    remove_stale_namespaces,
)
from tests.support import POEM

QUIET = 0.3
"""How long a test waits to see that bytes do not arrive (a drop holds them)."""

ARRIVAL = 5.0
"""The longest a test waits for bytes a healed drop lets through (a retransmission or two)."""


class Collector(Protocol):
    """Keep what arrives; C{made} fires on connection, C{arrived(n)} once C{n} bytes are here."""

    def __init__(self) -> None:
        self.received = b""
        self.made: Deferred[Collector] = Deferred()
        self.lost: Deferred[None] = Deferred()
        self._waiting: list[tuple[int, Deferred[bytes]]] = []

    def connectionMade(self) -> None:
        """Say the connection is made."""
        self.made.callback(self)

    def dataReceived(self, data: bytes) -> None:
        """Keep the bytes; fire whoever waited for this many."""
        self.received += data
        ready = [(n, d) for n, d in self._waiting if len(self.received) >= n]
        for entry in ready:
            self._waiting.remove(entry)
            entry[1].callback(self.received)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Say the connection is gone."""
        self.lost.callback(None)

    def arrived(self, count: int) -> Deferred[bytes]:
        """Return a Deferred that fires with the bytes once ``count`` of them have arrived."""
        waiting: Deferred[bytes] = Deferred()
        self._waiting.append((count, waiting))
        return waiting.addTimeout(ARRIVAL, reactor)


class Collecting(Factory):
    """A factory of L{Collector}s that hands each accepted one to C{accepted}."""

    def __init__(self) -> None:
        self.accepted: list[Deferred[Collector]] = []

    def buildProtocol(self, addr: object) -> Collector:
        """Build a collector; remember when it is made."""
        collector = Collector()
        self.accepted.append(collector.made)
        return collector


def host_state() -> tuple[str, list[str]]:
    """The host namespace's nftables ruleset and link names, which no pair may change."""
    ruleset = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    return ruleset, sorted(line.split(":")[1].strip() for line in links.splitlines())


def sysctl_on_host(name: str) -> int:
    """The host namespace's value of the sysctl ``name`` (read only)."""
    with open("/proc/sys/" + name.replace(".", "/")) as setting:
        return int(setting.read())


def net_namespace() -> int:
    """The calling thread's network namespace (its inode)."""
    return os.stat("/proc/thread-self/ns/net").st_ino


class NamespacePairTests(TestCase):
    """Two hosts joined by a veth pair carry real TCP; fault rules act on it."""

    skip = namespaces_unavailable()
    timeout = 20

    def setUp(self) -> None:
        """Make a pair for the test, destroyed after it."""
        self.pair = NamespacePair()
        self.addCleanup(self.pair.destroy)

    def listen(self) -> tuple[Collecting, int]:
        """Listen in the server host; return the factory and the port."""
        factory = Collecting()
        with self.pair.inside("server"):
            port: IListeningPort = reactor.listenTCP(0, factory, interface=self.pair.server_address)
        self.addCleanup(port.stopListening)
        return factory, port.getHost().port

    def connect(self, port: int, timeout: float = 10) -> Deferred[Collector]:
        """Connect a L{Collector} from the client host to the server's ``port``."""
        endpoint = TCP4ClientEndpoint(reactor, self.pair.server_address, port, timeout=timeout)
        with self.pair.inside("client"):
            connecting: Deferred[Collector] = connectProtocol(endpoint, Collector())
        return connecting.addCallback(self._abort_at_cleanup)

    def _abort_at_cleanup(self, collector: Collector) -> Collector:
        """Have cleanup abort the connection and wait for its loss (a drop may hold a FIN)."""

        def abort() -> Deferred[None]:
            if collector.transport is not None and not collector.lost.called:
                collector.transport.abortConnection()
            return collector.lost

        self.addCleanup(abort)
        return collector

    async def connected(self) -> tuple[Collector, Collector]:
        """Return the server's and the client's end of a fresh connection."""
        factory, port = self.listen()
        client = await self.connect(port)
        server = self._abort_at_cleanup(await factory.accepted[0])
        return server, client

    async def test_poem_crosses(self) -> None:
        """A poetry client in the client host gets the whole poem from the server host."""
        with self.pair.inside("server"):
            port = reactor.listenTCP(
                0, PoetryServerFactory(POEM), interface=self.pair.server_address
            )
        self.addCleanup(port.stopListening)
        with self.pair.inside("client"):
            poem = get_poetry(reactor, self.pair.server_address, port.getHost().port, timeout=10)
        self.assertEqual(await poem, POEM)

    async def test_connect_keeps_namespace(self) -> None:
        """A connectTCP socket made inside the block connects from the client host after it."""
        server, client = await self.connected()
        self.assertEqual(server.transport.getPeer().host, self.pair.client_address)
        self.assertEqual(client.transport.getHost().host, self.pair.client_address)

    def test_inside_returns_on_error(self) -> None:
        """The thread is back in its own namespace after a block that raised."""
        home = net_namespace()
        with self.assertRaises(ZeroDivisionError), self.pair.inside("client"):
            self.assertNotEqual(net_namespace(), home)
            1 / 0  # noqa: B018 (the error the block ends with)
        self.assertEqual(net_namespace(), home)

    async def test_drop_both_holds_until_clear(self) -> None:
        """Bytes sent during a drop both ways do not arrive; after clear() they do."""
        server, client = await self.connected()
        self.pair.drop("both")
        client.transport.write(b"up")
        server.transport.write(b"down")
        await deferLater(reactor, QUIET)
        self.assertEqual((server.received, client.received), (b"", b""))
        self.pair.clear()
        self.assertEqual(
            await gatherResults([server.arrived(2), client.arrived(4)]), [b"up", b"down"]
        )

    async def test_drop_to_server(self) -> None:
        """A drop to the server stops the client's bytes only; the server's still arrive."""
        await self.assert_one_way("to_server")

    async def test_drop_to_client(self) -> None:
        """A drop to the client stops the server's bytes only; the client's still arrive."""
        await self.assert_one_way("to_client")

    async def assert_one_way(self, direction: Direction) -> None:
        """Both ends send during a drop in ``direction``: only the other way's bytes arrive."""
        server, client = await self.connected()
        self.pair.drop(direction)
        client.transport.write(b"up")
        server.transport.write(b"down")
        held, reached = (server, client) if direction == "to_server" else (client, server)
        sent = {server: b"down", client: b"up"}
        self.assertEqual(await reached.arrived(len(sent[held])), sent[held])
        await deferLater(reactor, QUIET)
        self.assertEqual(held.received, b"")

    async def test_drop_one_connection(self) -> None:
        """A drop with the client's port holds that connection; another one goes on."""
        factory, port = self.listen()
        held, free = await gatherResults([self.connect(port), self.connect(port)])
        await gatherResults(factory.accepted)
        self.pair.drop("both", port=held.transport.getHost().port)
        held.transport.write(b"held")
        free.transport.write(b"free")
        servers = {}
        for accepted in factory.accepted:
            collector = self._abort_at_cleanup(await accepted)
            servers[collector.transport.getPeer().port] = collector
        self.assertEqual(await servers[free.transport.getHost().port].arrived(4), b"free")
        await deferLater(reactor, QUIET)
        self.assertEqual(servers[held.transport.getHost().port].received, b"")

    async def test_black_hole_times_out(self) -> None:
        """A connect into a black hole is not answered: it fails at the caller's timeout."""
        _, port = self.listen()
        self.pair.black_hole(port)
        started = time.monotonic()
        with self.assertRaises(TimeoutError):
            await self.connect(port, timeout=1)
        self.assertGreaterEqual(time.monotonic() - started, 0.9)

    async def test_black_hole_spares_established(self) -> None:
        """A black hole lets an established connection go on."""
        server, client = await self.connected()
        self.pair.black_hole(client.transport.getPeer().port)
        client.transport.write(b"up")
        self.assertEqual(await server.arrived(2), b"up")

    async def test_refuse(self) -> None:
        """A connect to a refused port fails with ConnectionRefusedError, a server listening."""
        _, port = self.listen()
        self.pair.refuse(port)
        with self.assertRaises(ConnectionRefusedError):
            await self.connect(port)

    async def test_clear_one_kind(self) -> None:
        """clear(kind) removes that kind of rule only."""
        _, port = self.listen()
        self.pair.refuse(port)
        self.pair.black_hole(port + 1)
        self.pair.clear("refuse")
        rules = self.pair.rules("server")
        self.assertNotIn("reject", rules)
        self.assertIn(f"dport {port + 1}", rules)
        await self.connect(port)

    def test_destroy_leaves_nothing(self) -> None:
        """destroy() removes both namespaces, their links and tables; the host is unchanged."""
        before = host_state()
        pair = NamespacePair()
        pair.drop("both")
        pair.refuse(1)
        names = list(pair.names.values())
        self.assertTrue(all(os.path.exists(f"/var/run/netns/{name}") for name in names))
        pair.destroy()
        pair.destroy()
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        self.assertEqual([name for name in names if name in listed], [])
        self.assertEqual(host_state(), before)
        self.assertNotIn(TABLE, before[0])

    def test_sysctls(self) -> None:
        """A pair's sysctls are set in both its namespaces, and go with them; the host's stay."""
        host = sysctl_on_host("net.ipv4.tcp_fin_timeout")
        with NamespacePair({"net.ipv4.tcp_fin_timeout": host + 1}) as pair:
            for side in ("server", "client"):
                set_there = pair.run(side, "sysctl", "-n", "net.ipv4.tcp_fin_timeout")
                self.assertEqual(int(set_there), host + 1)
            self.assertEqual(sysctl_on_host("net.ipv4.tcp_fin_timeout"), host)
        self.assertEqual(sysctl_on_host("net.ipv4.tcp_fin_timeout"), host)

    def test_only_a_namespace_s_own_sysctls(self) -> None:
        """A sysctl that is not a network namespace's own (not net.*) is refused, nothing made."""
        before = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        with self.assertRaises(ValueError):
            NamespacePair({"vm.swappiness": 10})
        after = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        self.assertEqual(after, before)

    def test_destroy_while_held(self) -> None:
        """destroy() removes the tables and links even of namespaces something still holds open."""
        pair = NamespacePair()
        held = [os.open(f"/var/run/netns/{name}", os.O_RDONLY) for name in pair.names.values()]
        for fd in held:
            self.addCleanup(os.close, fd)
        pair.destroy()
        for fd in held:
            inside = ["nsenter", f"--net=/proc/{os.getpid()}/fd/{fd}"]
            ruleset = subprocess.run([*inside, "nft", "list", "ruleset"], capture_output=True)
            links = subprocess.run([*inside, "ip", "-o", "link"], capture_output=True, text=True)
            self.assertEqual((ruleset.returncode, ruleset.stdout), (0, b""))
            names = [line.split(":")[1].strip() for line in links.stdout.splitlines()]
            self.assertEqual(names, ["lo"])

    def test_remove_stale(self) -> None:
        """remove_stale_namespaces() deletes the namespaces of a dead process, not of a live one."""
        dead = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True)
        stale = f"txpoetry-{int(dead.stdout)}-1-000000-server"
        subprocess.run(["ip", "netns", "add", stale], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "delete", stale], capture_output=True)
        self.assertEqual(remove_stale_namespaces(), [stale])
        self.assertFalse(os.path.exists(f"/var/run/netns/{stale}"))
        self.assertTrue(os.path.exists(f"/var/run/netns/{self.pair.names['server']}"))

    def test_context_manager(self) -> None:
        """A pair used in a with block is destroyed at its end; inside() then fails."""
        with NamespacePair() as pair:
            self.assertIn(TABLE, pair.rules("client"))
        with self.assertRaises(FileNotFoundError), pair.inside("server"):
            pass
        with self.assertRaises(NamespacesUnavailable):
            pair.drop("both")

    async def test_names_unique(self) -> None:
        """Two pairs made at once, in two threads, have their own names and networks."""
        made: list[NamespacePair] = []
        lock = threading.Lock()

        def make() -> None:
            pair = NamespacePair()
            self.addCleanup(pair.destroy)
            with lock:
                made.append(pair)

        await gatherResults([deferToThread(make), deferToThread(make)])
        first, second = made
        self.assertEqual(set(first.names.values()) & set(second.names.values()), set())
        self.assertNotEqual(first.server_address, second.server_address)
        self.assertEqual(len({*first.names.values(), *second.names.values()}), 4)
