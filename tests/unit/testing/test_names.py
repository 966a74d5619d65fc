"""Tests for L{poetry.testing.names}: one hosts table for C{connectTCP} and C{HostnameEndpoint}."""

from __future__ import annotations

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.protocol import ClientFactory
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.client import get_poetry
from poetry.core.server import PoetryServerFactory
from poetry.testing import HostsResolver, HostsTable
from poetry.testing.kits import Recorder
from poetry.testing.names import is_ip, is_ipv6, normalised
from tests.support import POEM
from tests.support.simulated import PORT, SERVER_HOST, SimulatedTestCase


class Receiver:
    """A resolution receiver that keeps what it is told."""

    def __init__(self) -> None:
        self.began: list[object] = []
        self.resolved: list[object] = []

    def resolutionBegan(self, resolution: object) -> None:
        """Keep the resolution."""
        self.began.append(resolution)

    def addressResolved(self, address: object) -> None:
        """Keep the address."""
        self.resolved.append(address)

    def resolutionComplete(self) -> None:
        """Done."""


class HostsTests(SimulatedTestCase):
    """Names reach services through the hosts table."""

    def test_name_in_hosts_table(self) -> None:
        """A name added to the hosts table reaches the service at its address."""
        self.network.hosts.add("poems.example", SERVER_HOST)
        self.serve(PoetryServerFactory(POEM))
        poem = get_poetry(self.client.reactor, "poems.example", PORT)
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)

    def test_localhost(self) -> None:
        """C{localhost} is 127.0.0.1 (and ::1)."""
        self.network.serve("127.0.0.1", PORT, PoetryServerFactory(POEM))
        poem = get_poetry(self.network.reactor, "localhost", PORT)
        self.network.flush()
        self.assertEqual(self.successResultOf(poem), POEM)
        self.assertEqual(HostsTable().lookup("LocalHost"), ["127.0.0.1", "::1"])

    def test_ipv6_spellings(self) -> None:
        """A long IPv6 spelling reaches a service listening on the short one, from ::1."""
        self.network.serve("::1", PORT, PoetryServerFactory(POEM))
        client = Recorder()
        factory = ClientFactory.forProtocol(lambda: client)
        self.network.reactor.connectTCP("0:0:0:0:0:0:0:1", PORT, factory)
        self.network.flush()
        self.assertEqual(self.successResultOf(client.ended), POEM)
        self.assertEqual(self.network.attempts[0].source, "::1")

    def test_wildcards(self) -> None:
        """C{::} takes both families; C{0.0.0.0} takes IPv4 only, as on Linux by default."""
        self.network.serve("::", PORT, PoetryServerFactory(b"both"))
        self.network.serve("0.0.0.0", PORT + 1, PoetryServerFactory(b"four"))
        clients = []
        for port in (PORT, PORT + 1):
            for host in ("10.1.2.3", "::1"):
                clients.append(Recorder())
                factory = ClientFactory.forProtocol(lambda c=clients[-1]: c)
                self.network.reactor.connectTCP(host, port, factory)
        self.network.flush()
        self.assertEqual([c.received for c in clients[:3]], [b"both", b"both", b"four"])
        self.assertEqual(self.network.connections, [])
        self.assertEqual([a.outcome for a in self.network.attempts][3], "refused")
        for client in clients[:3]:
            self.successResultOf(client.ended)

    def test_bad_hosts_entry(self) -> None:
        """A hosts entry needs IP addresses, and the error names the entry."""
        error = self.assertRaises(ValueError, self.network.hosts.add, "poems.example", "nowhere")
        self.assertIn("'poems.example'", str(error))
        self.assertRaises(ValueError, self.network.hosts.add, "poems.example")


class SpellingTests(SynchronousTestCase):
    """Addresses have one canonical spelling; names are matched without regard to case."""

    def test_spellings_normalised(self) -> None:
        """An empty interface is every IPv4 address; brackets and case do not matter."""
        self.assertEqual(normalised(""), "0.0.0.0")
        self.assertEqual(normalised("[::0001]"), "::1")
        self.assertEqual(normalised("Poems.Example"), "poems.example")

    def test_bracketed_ipv6(self) -> None:
        """A bracketed IPv6 address is an IPv6 address; an IPv4 address is not."""
        self.assertTrue(is_ip("[::1]"))
        self.assertTrue(is_ipv6("[::1]"))
        self.assertFalse(is_ipv6("127.0.0.1"))
        self.assertFalse(is_ip("poems.example"))


class ResolverTests(SynchronousTestCase):
    """The resolver answers from the table, at once."""

    def test_filters_address_types(self) -> None:
        """The resolver gives only the address types asked for."""
        receiver = Receiver()
        HostsResolver(HostsTable()).resolveHostName(receiver, "localhost", 80, [IPv6Address])
        self.assertEqual(receiver.resolved, [IPv6Address("TCP", "::1", 80)])

    def test_resolution_names_the_host(self) -> None:
        """The resolver begins with a resolution naming the host; the port defaults to 0."""
        receiver = Receiver()
        resolution = HostsResolver(HostsTable()).resolveHostName(receiver, "127.0.0.1")
        self.assertEqual(receiver.began, [resolution])
        self.assertEqual(resolution.name, "127.0.0.1")  # type: ignore[attr-defined]
        resolution.cancel()  # nothing to cancel: resolutions finish at once
        self.assertEqual(receiver.resolved, [IPv4Address("TCP", "127.0.0.1", 0)])
