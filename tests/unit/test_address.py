"""Tests for L{poetry.core.address} and L{poetry.operations.endpoints}: addresses, endpoints."""

from __future__ import annotations

from twisted.internet.protocol import Factory
from twisted.internet.testing import MemoryReactor
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.address import Address, parse_address
from poetry.core.errors import UsageError
from poetry.operations.endpoints import (
    DEFAULT_BACKLOG,
    listen_description,
    listens_at,
    server_endpoint,
    with_default_backlog,
)


class ParseAddressTests(SynchronousTestCase):
    """Addresses are HOST:PORT, [IPV6]:PORT or PORT."""

    def test_host_and_port(self) -> None:
        """HOST:PORT gives that host and port."""
        self.assertEqual(parse_address("example.org:10001"), Address("example.org", 10001))

    def test_bare_port_is_loopback(self) -> None:
        """A bare port means 127.0.0.1."""
        self.assertEqual(parse_address("10000"), Address("127.0.0.1", 10000))

    def test_bracketed_ipv6(self) -> None:
        """A bracketed IPv6 host loses its brackets."""
        self.assertEqual(parse_address("[::1]:10000"), Address("::1", 10000))

    def test_lowest_and_highest_ports(self) -> None:
        """Ports 1 and 65535 are ports."""
        self.assertEqual(parse_address("example.org:1"), Address("example.org", 1))
        self.assertEqual(parse_address("[::1]:65535"), Address("::1", 65535))

    def test_formats_back(self) -> None:
        """An address prints as HOST:PORT, with brackets around an IPv6 host."""
        self.assertEqual(str(Address("::1", 7)), "[::1]:7")
        self.assertEqual(str(Address("localhost", 7)), "localhost:7")

    def assertBadAddress(self, text: str) -> str:
        """Assert ``text`` is refused as a bad address; return the message."""
        message = str(self.assertRaises(UsageError, parse_address, text))
        self.assertTrue(message.startswith(f"bad address {text!r}: "), message)
        return message

    def test_bad_ports(self) -> None:
        """Ports that are not numbers from 1 to 65535 are usage errors naming the port."""
        for text in ["0", "65536", "host:", "host:http", "[::1]:0", "[::1]:10]"]:
            error = self.assertRaises(UsageError, parse_address, text)
            self.assertIn("bad port", str(error), text)

    def test_not_an_address(self) -> None:
        """Text that is no address at all is a bad address, and the message names the forms."""
        for text in ["foo", "", "-1", "[::1]", "[::1]10", "[::1:10"]:
            self.assertIn("expected HOST:PORT, [IPV6]:PORT or PORT", self.assertBadAddress(text))

    def test_unbracketed_ipv6(self) -> None:
        """An IPv6 host without brackets is ambiguous and refused."""
        self.assertBadAddress("::1:10000")
        self.assertBadAddress("2001:db8::1:10000")

    def test_missing_host(self) -> None:
        """An address with an empty host is refused."""
        self.assertBadAddress(":10000")

    def test_bracketed_host_must_be_ipv6(self) -> None:
        """A bracketed host that is not an IPv6 address is refused, never looked up."""
        for host in ["zz", "127.0.0.1", "example.org"]:
            message = self.assertBadAddress(f"[{host}]:10")
            self.assertIn(f"{host!r} is not an IPv6 address", message)


class ListenDescriptionTests(SynchronousTestCase):
    """Server endpoints default to loopback unless an interface is named."""

    def test_tcp_without_interface_is_loopback(self) -> None:
        """tcp:PORT listens on 127.0.0.1."""
        self.assertEqual(listen_description("tcp:0"), "tcp:0:interface=127.0.0.1")

    def test_tcp6_without_interface_is_loopback(self) -> None:
        """tcp6:PORT listens on ::1."""
        self.assertEqual(listen_description("tcp6:0"), "tcp6:0:interface=\\:\\:1")

    def test_tcp_with_other_parameters_is_loopback(self) -> None:
        """tcp:PORT with other parameters but no interface listens on 127.0.0.1."""
        self.assertEqual(
            listen_description("tcp:0:backlog=5"), "tcp:0:backlog=5:interface=127.0.0.1"
        )

    def test_bare_port(self) -> None:
        """A bare port number is TCP on 127.0.0.1."""
        self.assertEqual(listen_description("8000"), "tcp:8000:interface=127.0.0.1")

    def test_named_interface_kept(self) -> None:
        """An explicit interface is kept."""
        self.assertEqual(listen_description("tcp:0:interface=0.0.0.0"), "tcp:0:interface=0.0.0.0")

    def test_ipv6_interface_escaped(self) -> None:
        """A plain IPv6 interface has its colons escaped for Twisted's endpoint syntax."""
        self.assertEqual(listen_description("tcp:0:interface=::1"), "tcp:0:interface=\\:\\:1")

    def test_ipv6_interface_before_other_parameters(self) -> None:
        """Only the interface's own colons are escaped, not those between parameters."""
        self.assertEqual(
            listen_description("tcp6:0:interface=fe80::1%lo:backlog=5"),
            "tcp6:0:interface=fe80\\:\\:1%lo:backlog=5",
        )

    def test_escaped_interface_kept(self) -> None:
        """An interface already escaped the Twisted way is left as it is."""
        self.assertEqual(listen_description("tcp:0:interface=\\:\\:1"), "tcp:0:interface=\\:\\:1")

    def test_listens_on_plain_ipv6_interface(self) -> None:
        """C{tcp:0:interface=::1} listens on ::1."""
        reactor = MemoryReactor()
        server_endpoint(reactor, "tcp:0:interface=::1").listen(Factory())
        [(_port, _factory, _backlog, interface)] = reactor.tcpServers
        self.assertEqual(interface, "::1")

    def test_positional_interface_kept(self) -> None:
        """An interface given by position, Twisted's C{tcp:PORT:INTERFACE}, is listened on."""
        reactor = MemoryReactor()
        server_endpoint(reactor, "tcp:7:10.0.0.1").listen(Factory())
        [(port, _factory, _backlog, interface)] = reactor.tcpServers
        self.assertEqual((port, interface), (7, "10.0.0.1"))

    def test_other_endpoints_untouched(self) -> None:
        """Non-TCP endpoints are passed through."""
        self.assertEqual(listen_description("unix:/tmp/poetry.sock"), "unix:/tmp/poetry.sock")

    def test_interface_not_an_address(self) -> None:
        """An interface that is not an IP address is a usage error, before listening."""
        error = self.assertRaises(
            UsageError, server_endpoint, MemoryReactor(), "tcp:0:interface=foo"
        )
        self.assertIn("interface 'foo' is not an IP address", str(error))

    def test_doubled_equals_sign(self) -> None:
        """C{interface==ADDRESS} is refused naming the value, which starts with the second '='."""
        error = self.assertRaises(
            UsageError, server_endpoint, MemoryReactor(), "tcp:7:interface==10.0.0.1"
        )
        self.assertIn("interface '=10.0.0.1' is not an IP address", str(error))

    def test_highest_port(self) -> None:
        """Port 65535 may be listened on."""
        reactor = MemoryReactor()
        server_endpoint(reactor, "tcp:65535").listen(Factory())
        [(port, _factory, _backlog, _interface)] = reactor.tcpServers
        self.assertEqual(port, 65535)

    def test_port_out_of_range(self) -> None:
        """A TCP port over 65535 is a usage error, before listening."""
        for text in ["tcp:65536", "tcp6:port=70000", "99999"]:
            error = self.assertRaises(UsageError, server_endpoint, MemoryReactor(), text)
            self.assertIn("is not a number from 0 to 65535", str(error), text)

    def test_bad_endpoints(self) -> None:
        """Unknown endpoint types, bad ports and unknown options are usage errors."""
        for text in ["foo:1", "tcp:abc", "tcp:80:bogus=1", ""]:
            error = self.assertRaises(UsageError, server_endpoint, MemoryReactor(), text)
            self.assertIn("bad endpoint", str(error), text)


class BacklogTests(SynchronousTestCase):
    """Server endpoints get a backlog that survives a burst of connections."""

    def listened_backlog(self, text: str) -> int:
        """Listen on the endpoint for ``text``; return the backlog the reactor was asked for."""
        reactor = MemoryReactor()
        server_endpoint(reactor, text).listen(Factory())
        [(_port, _factory, backlog, _interface)] = reactor.tcpServers
        return int(backlog)

    def test_default_backlog(self) -> None:
        """With no backlog given, a TCP endpoint listens with L{DEFAULT_BACKLOG}."""
        self.assertEqual(self.listened_backlog("tcp:0"), DEFAULT_BACKLOG)
        self.assertEqual(self.listened_backlog("8000"), DEFAULT_BACKLOG)

    def test_backlog_given(self) -> None:
        """A backlog in the endpoint string is kept."""
        self.assertEqual(self.listened_backlog("tcp:0:backlog=10"), 10)

    def test_unix_backlog(self) -> None:
        """A UNIX endpoint gets the default backlog too; other kinds are left as they are."""
        self.assertEqual(
            with_default_backlog("unix:/tmp/poetry.sock"),
            f"unix:/tmp/poetry.sock:backlog={DEFAULT_BACKLOG}",
        )
        self.assertEqual(
            with_default_backlog("systemd:domain=INET:index=0"), "systemd:domain=INET:index=0"
        )


class ListensAtTests(SynchronousTestCase):
    """L{listens_at} recognises a server's own address, however either is written."""

    def test_bare_port_and_loopback_address(self) -> None:
        """A bare port to listen on is reached at 127.0.0.1 and at localhost on that port."""
        self.assertTrue(listens_at("10002", Address("127.0.0.1", 10002)))
        self.assertTrue(listens_at("tcp:10002", Address("localhost", 10002)))

    def test_port_one(self) -> None:
        """Port 1, the lowest, is a port like any other."""
        self.assertTrue(listens_at("tcp:1", Address("127.0.0.1", 1)))

    def test_other_port(self) -> None:
        """Another port is another server."""
        self.assertFalse(listens_at("10002", Address("127.0.0.1", 10003)))

    def test_every_interface(self) -> None:
        """Listening on every interface, it is reached at loopback and at 0.0.0.0."""
        for host in ["127.0.0.1", "::1", "localhost", "0.0.0.0", "::"]:
            self.assertTrue(listens_at("tcp:7:interface=0.0.0.0", Address(host, 7)), host)
        self.assertFalse(listens_at("tcp:7:interface=0.0.0.0", Address("example.org", 7)))

    def test_ipv6_written_differently(self) -> None:
        """An IPv6 interface matches the same address written another way."""
        self.assertTrue(listens_at("tcp6:7:interface=::1", Address("0:0::1", 7)))

    def test_other_interface(self) -> None:
        """A server on one interface is not the one at another address, nor at localhost."""
        self.assertFalse(listens_at("tcp:7:interface=10.0.0.1", Address("10.0.0.2", 7)))
        self.assertFalse(listens_at("tcp:7:interface=10.0.0.1", Address("localhost", 7)))
        self.assertTrue(listens_at("tcp:7:interface=10.0.0.1", Address("10.0.0.1", 7)))
        self.assertFalse(listens_at("tcp:7", Address("127.0.0.2", 7)))
        self.assertFalse(listens_at("tcp:7", Address("10.0.0.1", 7)))

    def test_positional_interface(self) -> None:
        """An interface given by position is the one listened on, not loopback."""
        self.assertTrue(listens_at("tcp:7:10.0.0.1", Address("10.0.0.1", 7)))
        self.assertFalse(listens_at("tcp:7:10.0.0.1", Address("127.0.0.1", 7)))

    def test_interface_not_an_address(self) -> None:
        """An interface that is not an IP address (refused when listening) is no address."""
        self.assertFalse(listens_at("tcp:7:interface=foo", Address("127.0.0.1", 7)))

    def test_free_port_and_other_endpoints(self) -> None:
        """A free port (0), and an endpoint that is not TCP, are never a given address."""
        self.assertFalse(listens_at("tcp:0", Address("127.0.0.1", 0)))
        self.assertFalse(listens_at("unix:/tmp/poetry.sock", Address("127.0.0.1", 7)))
