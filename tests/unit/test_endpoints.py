"""Tests for the endpoints a server listens on besides TCP: ``unix:`` and ``systemd:``."""

from __future__ import annotations

from twisted.internet.address import HostnameAddress, UNIXAddress
from twisted.internet.testing import MemoryReactor
from twisted.trial.unittest import SynchronousTestCase

from poetry.core.address import address_name, listening_address
from poetry.core.errors import UsageError
from poetry.operations.endpoints import server_endpoint
from poetry.operations.running import listening_line


class UnixPort:
    """A port listening on a UNIX socket."""

    def getHost(self) -> UNIXAddress:
        """Its path."""
        return UNIXAddress(b"/run/poetry.sock")


class EndpointNameTests(SynchronousTestCase):
    """A UNIX socket is named ``unix:PATH`` in logs and in the ``listening on`` line."""

    def test_unix_address_name(self) -> None:
        """The path, as bytes or text, after ``unix:``."""
        self.assertEqual(address_name(UNIXAddress(b"/run/poetry.sock")), "unix:/run/poetry.sock")
        self.assertEqual(address_name(UNIXAddress("/run/p.sock")), "unix:/run/p.sock")

    def test_unnamed_unix_socket(self) -> None:
        """The client's end of a UNIX connection, which has no path, is named as unnamed."""
        self.assertEqual(address_name(UNIXAddress(None)), "unix:(unnamed)")

    def test_undecodable_unix_path(self) -> None:
        """Bytes of a path that are not UTF-8 are replaced, not an error."""
        self.assertEqual(address_name(UNIXAddress(b"/run/\xffp.sock")), "unix:/run/\ufffdp.sock")

    def test_other_address_name(self) -> None:
        """An address neither TCP nor UNIX is named as Twisted prints it."""
        address = HostnameAddress(b"example.org", 7)
        self.assertEqual(address_name(address), str(address))

    def test_listening_address_needs_tcp(self) -> None:
        """The TCP address of a port listening on a UNIX socket is a type error naming it."""
        error = self.assertRaises(TypeError, listening_address, UnixPort())
        self.assertIn("not listening on TCP: UNIXAddress(", str(error))

    def test_listening_line(self) -> None:
        """The server announces a UNIX socket by its path (it used to crash: not TCP)."""
        self.assertEqual(listening_line(UnixPort()), b"listening on unix:/run/poetry.sock\n")  # type: ignore[arg-type]


class SystemdEndpointTests(SynchronousTestCase):
    """``systemd:`` without the descriptor it names is bad input, said in one line."""

    def test_no_descriptor(self) -> None:
        """No descriptor passed to this process: a usage error naming systemd's variables."""
        error = self.assertRaises(
            UsageError, server_endpoint, MemoryReactor(), "systemd:domain=INET:index=0"
        )
        self.assertIn("LISTEN_FDS", str(error))

    def test_no_descriptor_message(self) -> None:
        """The usage error is one line: the endpoint, and the variables systemd passes."""
        error = self.assertRaises(
            UsageError, server_endpoint, MemoryReactor(), "systemd:domain=INET:index=0"
        )
        self.assertEqual(
            str(error),
            "bad endpoint 'systemd:domain=INET:index=0': no such descriptor passed by systemd"
            " (LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES)",
        )
