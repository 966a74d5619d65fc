"""Tests for the endpoints a server listens on besides TCP: ``unix:`` and ``systemd:``."""

from __future__ import annotations

from twisted.internet.address import UNIXAddress
from twisted.internet.testing import MemoryReactor
from twisted.trial.unittest import SynchronousTestCase

from poetry.address import address_name, server_endpoint
from poetry.commands.servers import listening_line
from poetry.errors import UsageError


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
